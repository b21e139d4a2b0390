"""When two trainings are the same: a key from everything a run's numbers depend on.

Two runs with the same settings, the same photos (by content and split), the same seed, the same base weight file
and the same app and library versions give the same numbers (the determinism test shows it), so a class computes
each one once and the store hands the finished run's result and model file to whoever asks again.

The flowers are shared by the class: their runs are reused across students. A student's own photos are scoped to
that student, so another student's run on photos that happen to be identical is never handed over.
``TLL_REUSE_RUNS=0`` switches reuse off (every training is computed).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os

from core.models.bases import base_spec
from core.photos import TF_FLOWERS, Dataset, load_dataset
from core.training import TrainConfig
from core.utils.paths import weight_file_identity

REUSE_VARIABLE = "TLL_REUSE_RUNS"
# Bump when a change to the training code makes the same settings give other numbers: older runs are then not reused.
APP_VERSION = "2026.12.1"
REUSED_NOTE = "Same settings as an earlier run in this class: result reused."
# Settings that change how a run is computed, not what it computes (the cached and uncached paths give the same losses).
NOT_IN_KEY = ("data", "use_cache")
LIBRARIES = ("keras", "tensorflow-cpu", "tensorflow", "numpy")


def reuse_enabled() -> bool:
    return os.environ.get(REUSE_VARIABLE, "1").strip().lower() not in ("0", "false", "no", "off")


def library_versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def photos_identity(cfg: TrainConfig, student_id: str, dataset: Dataset) -> tuple[str, str]:
    """``(scope, content)``: "shared" for the class's flowers, the student's id for their own photos; the
    content is the dataset's fingerprint (every photo's bytes, label and split under this seed)."""
    scope = "shared" if cfg.data == TF_FLOWERS else f"student:{student_id}"
    return scope, dataset.fingerprint()


def key_from_parts(settings: dict, recipe: str, scope: str, photos: str, weights: str,
                   versions: dict[str, str] | None = None) -> str:
    parts = {
        "settings": {k: v for k, v in settings.items() if k not in NOT_IN_KEY},
        "recipe": recipe, "scope": scope, "photos": photos, "weights": weights,
        "app": APP_VERSION, "libraries": library_versions() if versions is None else versions,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def run_keys(cfg: TrainConfig, recipes: tuple[str, ...] | list[str], student_id: str,
             dataset: Dataset | None = None) -> dict[str, str]:
    """``{recipe: key}`` for one training on ``dataset`` (read from ``cfg.data`` if not given)."""
    scope, content = photos_identity(cfg, student_id, dataset or load_dataset(cfg.data, cfg.seed))
    weights = weight_file_identity(base_spec(cfg.base).weight_file) if cfg.pretrained else "random weights"
    settings = cfg.to_dict()
    return {recipe: key_from_parts(settings, recipe, scope, content, weights) for recipe in recipes}
