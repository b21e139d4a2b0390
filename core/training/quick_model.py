"""A flower model for students who have not trained one yet: the same learner, other settings.

The frozen ImageNet base plus a new head, phase 1 only (no fine-tuning), at 160 px: trained in seconds,
and near-instant on a repeat because the base's features are cached. The trained model is kept on disk
(keyed by its settings, the photos and the weight file), so a server restart loads it instead of training,
and ``python -m core.training.quick_model`` can make it before a class arrives (``make classroom`` does): the
server process itself then never trains.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from core.export.bundle import save_trained_model
from core.inference.predict import load_trained_model
from core.models.bases import base_spec
from core.photos.datasets import TF_FLOWERS, load_dataset
from core.training.learner import vision_learner
from core.training.settings import TrainConfig
from core.utils import paths as config

VERSION = 1  # bump when the quick model's recipe changes, so an old file is not reused


@dataclass
class QuickModel:
    model: object
    class_names: list[str]
    image_size: int
    summary_text: str  # what it is and how well it did, for the student
    test_accuracy: float = 0.0


def _config(seed: int, image_size: int, epochs1: int, data: str | None) -> TrainConfig:
    return TrainConfig(data=data or TF_FLOWERS, epochs1=epochs1, epochs2=0, unfreeze=0, image_size=image_size,
                       seed=seed)


def saved_path(cfg: TrainConfig, photos_fingerprint: str) -> Path:
    """Where the quick model for these settings, photos and weights lives on disk."""
    parts = {"v": VERSION, "config": cfg.to_dict(), "photos": photos_fingerprint,
             "weights": config.weight_file_identity(base_spec(cfg.base).weight_file)}
    key = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return config.cache_dir() / "quick_model" / f"{key}.keras"


def _load_saved(path: Path) -> QuickModel | None:
    about = path.with_suffix(".json")
    if not (path.is_file() and about.is_file()):
        return None
    try:
        loaded = load_trained_model(path)
        facts = json.loads(about.read_text())
        return QuickModel(loaded.model, loaded.class_names, loaded.image_size, facts["summary_text"],
                          float(facts["test_accuracy"]))
    except Exception:  # noqa: BLE001 - a damaged or half-written file: train again rather than fail the page
        return None


def _train(cfg: TrainConfig, dataset, path: Path) -> QuickModel:
    start = time.perf_counter()
    learner = vision_learner(dataset, cfg, started=start)
    learner.fit_head()
    result = learner.result()
    seconds = time.perf_counter() - start
    n_train = sum(result.counts.get("train", {}).values())
    n_test = sum(result.counts.get("test", {}).values())
    accuracy = float(result.test["accuracy"])
    summary = (
        f"{base_spec(cfg.base).name} with its ImageNet knowledge frozen, plus a new head trained for "
        f"{cfg.epochs1} epochs on {n_train:,} flower photos: phase 1 only, no fine-tuning, {cfg.image_size} px "
        f"photos. Trained in {seconds:.0f} seconds; it got {accuracy:.0%} of {n_test:,} test photos right "
        "(photos it never saw)."
    )
    quick = QuickModel(result.model, list(result.class_names), cfg.image_size, summary, accuracy)
    try:
        save_trained_model(result, path)
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps({"summary_text": summary, "test_accuracy": accuracy}))
        partial.replace(path.with_suffix(".json"))
    except OSError:
        pass  # a full or read-only disk: the model still works, it is only trained again next time
    return quick


def quick_default_model(seed: int = 42, image_size: int = 160, epochs1: int = 5, data: str | None = None) -> QuickModel:
    cfg = _config(seed, image_size, epochs1, data)
    dataset = load_dataset(cfg.data, cfg.seed)
    path = saved_path(cfg, dataset.fingerprint())
    return _load_saved(path) or _train(cfg, dataset, path)


def main() -> int:
    """Make (or check) the quick model on disk before students arrive."""
    start = time.perf_counter()
    try:
        quick = quick_default_model()
    except Exception as problem:  # noqa: BLE001 - printed for the teacher; the server starts anyway
        print(f"  The quick flower model could not be made: {problem}", flush=True)
        return 1
    print(f"  Quick flower model ready in {time.perf_counter() - start:.0f} s "
          f"({quick.test_accuracy:.0%} on its test photos).", flush=True)
    return 0


if __name__ == "__main__":
    config.quiet_tensorflow_logs()
    sys.exit(main())
