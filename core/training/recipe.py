"""The lesson's whole recipe in one call: load the photos, fit the head, fine-tune, evaluate."""

from __future__ import annotations

import time

from core.photos.datasets import Dataset, load_dataset
from core.training.presets import train as train_preset
from core.training.results import Callbacks, TrainResult
from core.training.settings import TrainConfig


def train(cfg: TrainConfig, callbacks: Callbacks | None = None, dataset: Dataset | None = None) -> TrainResult:
    """Load the photos (unless given), fit the head, fine-tune the top ``cfg.unfreeze`` layers, evaluate; or
    the named preset of ``cfg.preset``. A Stop keeps what was trained so far."""
    from core.training.learner import vision_learner  # Keras loads when a training starts, not with train

    started = time.perf_counter()
    if cfg.preset:  # a named recipe offered beside the lesson's
        return train_preset(cfg, callbacks, dataset)
    learner = vision_learner(dataset or load_dataset(cfg.data, cfg.seed), cfg, callbacks, started)
    learner.fit_head()
    if callbacks and callbacks.on_phase1_done and learner.unfreeze and not learner.stopped:
        callbacks.on_phase1_done(learner.result())
    learner.fine_tune()
    return learner.result()
