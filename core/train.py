"""``python -m core.train --help``: train one model headless. The command line lives in ``core.cli.train``,
the training in ``core.training`` (``from core.training import TrainConfig, train``)."""

from __future__ import annotations

import sys

from core.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
