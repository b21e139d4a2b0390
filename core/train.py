"""``python -m core.train --help``: train one model headless (the CLI lives in ``core.train_cli``).

The training itself is ``core.engine.train``; the names below are the old import path of the engine's
names, kept while callers move to ``core.engine``.
"""

from __future__ import annotations

import sys

from core.engine import (  # noqa: F401 - re-exported for callers of the old path
    AugmentConfig,
    Callbacks,
    EpochRecord,
    Progress,
    TrainConfig,
    TrainResult,
    augment_images,
    preview_augmentations,
    train,
    train_from_scratch,
)
from core.results import EXTRACT, PHASE1, PHASE2, SCRATCH  # noqa: F401
from core.train_cli import main, parse_args  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
