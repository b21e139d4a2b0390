"""A flower model for students who have not trained one yet: the same learner, other settings.

The frozen ImageNet base plus a new head, phase 1 only (no fine-tuning), at 160 px: trained in seconds,
and near-instant on a repeat because the base's features are cached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from core.data import TF_FLOWERS, load_dataset
from core.learner import vision_learner
from core.models import base_spec
from core.train_config import TrainConfig


@dataclass
class QuickModel:
    model: object
    class_names: list[str]
    image_size: int
    summary_text: str  # what it is and how well it did, for the student
    test_accuracy: float = 0.0


def quick_default_model(seed: int = 42, image_size: int = 160, epochs1: int = 5, data: str | None = None) -> QuickModel:
    cfg = TrainConfig(data=data or TF_FLOWERS, epochs1=epochs1, epochs2=0, unfreeze=0, image_size=image_size,
                      seed=seed)
    start = time.perf_counter()
    learner = vision_learner(load_dataset(cfg.data, cfg.seed), cfg, started=start)
    learner.fit_head()
    result = learner.result()
    seconds = time.perf_counter() - start
    n_train = sum(result.counts.get("train", {}).values())
    n_test = sum(result.counts.get("test", {}).values())
    accuracy = float(result.test["accuracy"])
    summary = (
        f"{base_spec(cfg.base).name} with its ImageNet knowledge frozen, plus a new head trained for {epochs1} "
        f"epochs on {n_train:,} flower photos: phase 1 only, no fine-tuning, {image_size} px photos. Trained in "
        f"{seconds:.0f} seconds; it got {accuracy:.0%} of {n_test:,} test photos right (photos it never saw)."
    )
    return QuickModel(result.model, list(result.class_names), image_size, summary, accuracy)
