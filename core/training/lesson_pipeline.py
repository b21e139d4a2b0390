"""The lesson's own pipeline: whole photos through the whole model on every epoch (``use_cache=False``).

Slow (the frozen base runs on every photo in every epoch) and kept for two reasons: it is what the lesson
shows, and it is the reference the cached path is tested against (same seed, same losses).
"""

from __future__ import annotations

import time

import keras

from core.models.bases import unfreeze_top
from core.photos.datasets import SPLITS, decode_split
from core.training.augment import augmenter
from core.training.loop import PhaseRun, Preparation, fit_epochs
from core.training.optimizing import compile_phase
from core.training.results import PHASE1, PHASE2


class LessonPipeline:
    """Phase runner for a ``core.training.learner.Learner``: trains the learner's full model on decoded photos."""

    def __init__(self, learner):
        self.learner = learner
        self.arrays: dict = {}
        self.trainer = learner.model
        cfg = learner.cfg
        if cfg.augmenting:  # augmentation on the fly, in front of the model, as the lesson does it
            inputs = keras.Input(shape=(cfg.image_size, cfg.image_size, 3))
            self.trainer = keras.Model(inputs, learner.model(augmenter(cfg.augment_ops, cfg.seed)(inputs)))

    def prepare(self) -> Preparation:
        start = time.perf_counter()
        working = self.learner.dataset.copy()
        self.arrays = {s: decode_split(working, s, self.learner.cfg.image_size) for s in SPLITS}
        dropped = working.skipped[len(self.learner.dataset.skipped):]
        return Preparation(timings={"decode": time.perf_counter() - start}, dropped=dropped)

    def _fit(self, phase: str, learning_rate: float, epochs: int, first_epoch: int, head_layers=()) -> PhaseRun:
        cfg = self.learner.cfg
        trainer = compile_phase(self.trainer, cfg, learning_rate, len(self.arrays["train"][1]), epochs, head_layers)
        history, stopped = fit_epochs(
            trainer, self.arrays["train"], self.arrays["val"], phase=phase, epochs=epochs,
            first_epoch=first_epoch, batch_size=cfg.batch_size, seed=cfg.seed, tracker=self.learner.tracker)
        x_test, y_test = self.arrays["test"]
        return PhaseRun(history, stopped, self.learner.model.predict(x_test, batch_size=64, verbose=0), y_test)

    def fit_head(self) -> PhaseRun:
        cfg = self.learner.cfg
        return self._fit(PHASE1, cfg.lr1, cfg.epochs1, 1)

    def fine_tune(self) -> PhaseRun:
        cfg = self.learner.cfg
        unfreeze_top(self.learner.base, self.learner.unfreeze)
        return self._fit(PHASE2, cfg.lr2, cfg.epochs2, cfg.epochs1 + 1, self.learner.head)
