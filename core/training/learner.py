"""A learner: the lesson's classifier on a pretrained base, trained one step at a time.

    learner = vision_learner(dataset, TrainConfig(...), callbacks)
    learner.fit_head()       # phase 1: the new head, base frozen           -> PhaseResult
    learner.fine_tune()      # phase 2: the top cfg.unfreeze base layers too -> PhaseResult
    learner.evaluate()       # the test photos                               -> Evaluation
    learner.predict(photo)   # one photo                                     -> Prediction
    learner.save(path)       # one .keras file                               -> Path
    learner.result()         # all of it as one TrainResult

Both phases train on cached freeze-boundary features (``CachedPhases`` here, ``core.training.feature_cache``) unless
``cfg.use_cache`` is off: then it is the lesson's own pipeline (``core.training.lesson_pipeline``), every photo
through the whole base on every epoch. The same seed gives the same losses either way (tested).

The student's model is built on a private copy of the base. The process-wide shared base only reads
photos for the feature cache and is never wired into a student's model, so nothing a student trains
stays attached to it (a model built on it would hang a node on it, and with it the whole model).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np

from core.export.bundle import save_trained_model
from core.inference.evaluate import evaluate_probabilities, misclassified
from core.inference.predict import Prediction, predict_photo
from core.models.bases import (
    base_spec,
    build_classifier,
    build_head,
    preprocessing_mode,
    private_copy,
    shared_base,
    trainable_counts,
    unfreeze_top,
)
from core.models.freeze_boundary import shared_pooled_front, split_base
from core.photos.datasets import Dataset, decode_split
from core.training.feature_cache import FeatureRequest, FeatureSet, cached_features
from core.training.lesson_pipeline import LessonPipeline
from core.training.loop import (
    PhaseRun,
    Preparation,
    ProgressTracker,
    StopRequested,
    fit_epochs,
    steps_per_epoch,
)
from core.training.optimizing import compile_phase
from core.training.results import PHASE1, PHASE2, Callbacks, EpochRecord, Evaluation, PhaseResult, TrainResult
from core.training.settings import TrainConfig

RANDOM_WEIGHTS_NOTE = "The base has random weights, not ImageNet ones: this is not transfer learning."


class Learner:
    def __init__(self, dataset: Dataset, cfg: TrainConfig, callbacks: Callbacks | None = None,
                 started: float | None = None):
        cfg.validate()
        dataset.check_testable()
        self._started = time.perf_counter() if started is None else started
        self.cfg = cfg
        self.dataset = dataset.copy()  # photos that fail to decode leave this copy, not the caller's dataset
        self.class_names = list(dataset.class_names)
        self.mode = preprocessing_mode(base_spec(cfg.base), cfg.preprocessing)
        self.shared_base, self.weights = shared_base(cfg.base, cfg.image_size, cfg.pretrained, cfg.seed)
        self.base = private_copy(self.shared_base)
        # the base layers phase 2 really unfreezes: none without a phase 2; the InputLayer has nothing to train
        self.unfreeze = min(cfg.unfreeze if cfg.epochs2 > 0 else 0, len(self.base.layers) - 1)
        self.head = build_head(len(self.class_names), cfg.head_units, cfg.dropout, cfg.seed)
        self.model = build_classifier(self.base, len(self.class_names), self.mode, head=self.head)
        self.base_counts = trainable_counts(self.base, self.unfreeze)
        self.notes: list[str] = [] if self.weights.pretrained else [RANDOM_WEIGHTS_NOTE]
        self.history: list[EpochRecord] = []
        self.timings: dict = {"load_data_and_model": time.perf_counter() - self._started}
        self.cache: dict = {}
        self.stopped = False
        steps = steps_per_epoch(len(self.dataset.splits["train"]), cfg.batch_size)
        self.tracker = ProgressTracker(
            {PHASE1: cfg.epochs1 * steps, PHASE2: (cfg.epochs2 if self.unfreeze else 0) * steps}, callbacks)
        self._runner = CachedPhases(self) if cfg.use_cache else LessonPipeline(self)
        self._prepared = False
        self._test: tuple[np.ndarray, np.ndarray] | None = None  # (probabilities, labels) after the last phase

    def prepare(self) -> dict:
        """Only the frozen work, no training: the features from the cache or read now and stored (a server warms
        its cache this way before a class). Returns the cache's states, e.g. ``{"pooled": "warm", "cut": "cold"}``."""
        self._prepare()
        return dict(self.cache)

    def fit_head(self) -> PhaseResult:
        """Phase 1: the new head on the frozen base, ``cfg.epochs1`` epochs at ``cfg.lr1``."""
        if self.stopped or not self._prepare():
            return PhaseResult(PHASE1, [], True, 0.0, None)
        return self._phase(PHASE1, self._runner.fit_head)

    def fine_tune(self) -> PhaseResult:
        """Phase 2: the top ``cfg.unfreeze`` base layers too, ``cfg.epochs2`` epochs at ``cfg.lr2``.
        Nothing happens after a Stop (one that came while phase 1 ended too: its epochs are the result) or with
        no phase 2."""
        self.stopped = self.stopped or (bool(self.unfreeze) and self.tracker.stop_requested())
        if self.stopped or not self.unfreeze:
            return PhaseResult(PHASE2, [], self.stopped, 0.0, None)
        try:
            return self._phase(PHASE2, self._runner.fine_tune)
        finally:
            self.base.trainable = False  # the model is for predicting now; its weights are what was trained

    def evaluate(self) -> Evaluation:
        """The test photos through what was trained so far."""
        if self._test is None:  # stopped while the frozen base was still reading photos: nothing trained yet
            x_test, y_test = decode_split(self.dataset, "test", self.cfg.image_size)
            probabilities = (self.model.predict(x_test, batch_size=64, verbose=0) if len(y_test)
                             else np.zeros((0, len(self.class_names))))
            self._test = probabilities, y_test
        probabilities, labels = self._test
        return Evaluation(evaluate_probabilities(probabilities, labels, self.class_names),
                          misclassified(probabilities, labels, self.dataset.paths("test"), self.class_names))

    def predict(self, image_uint8: np.ndarray, top_k: int = 3) -> Prediction:
        """One ``size x size x 3`` photo (``core.inference.predict.prepare_photo``) -> top k and an honest verdict."""
        return predict_photo(self.model, self.class_names, image_uint8, top_k)

    def save(self, path) -> Path:
        """One ``.keras`` file: raw pixels in, preprocessing inside, class names and settings in its metadata."""
        return save_trained_model(self.result(), path)

    def result(self) -> TrainResult:
        evaluation = self.evaluate()
        self.timings["total"] = time.perf_counter() - self._started
        return TrainResult(
            model=self.model, class_names=self.class_names, config=self.cfg, history=list(self.history),
            test=evaluation.metrics, misclassified=evaluation.misclassified, dataset_source=self.dataset.source,
            counts=self.dataset.counts(), skipped=[asdict(s) for s in self.dataset.skipped], timings=self.timings,
            cache=self.cache, stopped=self.stopped, weights=self.weights.description, notes=self.notes,
            base_counts=self.base_counts,
        )

    def _prepare(self) -> bool:
        """Features or decoded photos, once; False if a Stop came while the base was reading photos."""
        if not self._prepared:
            self._prepared = True
            try:
                done = self._runner.prepare()
            except StopRequested:
                self.stopped = True
                return False
            self.timings.update(done.timings)
            self.notes += done.notes
            self.cache.update(done.cache)
            self.dataset.drop(done.dropped)
        return True

    def _phase(self, phase: str, run) -> PhaseResult:
        start = time.perf_counter()
        outcome: PhaseRun = run()
        seconds = time.perf_counter() - start
        self.history += outcome.history
        self.stopped = outcome.stopped
        self._test = outcome.test_probabilities, outcome.test_labels
        accuracy = float((outcome.test_probabilities.argmax(1) == outcome.test_labels).mean())
        key = {PHASE1: "phase1", PHASE2: "phase2"}[phase]
        self.timings[key] = seconds
        self.timings.setdefault("phase_test_accuracy", {})[key] = accuracy
        return PhaseResult(phase, outcome.history, outcome.stopped, seconds, accuracy)


class CachedPhases:
    """Both phases on freeze-boundary features: phase 1 trains the head on pooled vectors, phase 2 the
    unfrozen top plus the head on the tensors that cross the boundary."""

    def __init__(self, learner: Learner):
        self.learner = learner
        cfg = learner.cfg
        # no unfreezing reads photos with the shared base (its front is built once); a cut runs on the private copy
        self.split = (split_base(learner.base, learner.unfreeze) if learner.unfreeze
                      else shared_pooled_front(learner.shared_base))
        self.request = FeatureRequest(cfg.base, learner.weights.identity, cfg.image_size, learner.mode,
                                      cfg.augment_ops if cfg.augmenting else None, cfg.aug_views, cfg.seed)
        self.features: FeatureSet | None = None

    def prepare(self) -> Preparation:
        learner = self.learner
        self.features = found = cached_features(learner.dataset, self.split, learner.model.get_layer("preprocess"),
                                                self.request, learner.tracker)
        cache = {**found.states, "cut_layers": found.cut_layers, "bytes_per_image": found.bytes_per_image}
        timings = {"extract_features": found.seconds} if found.seconds is not None else {}
        return Preparation(timings, found.notes, cache, found.dropped)

    def _view(self, outputs: list[int]):
        """``epoch -> inputs``: the cached augmented view of that epoch, or None without augmentation."""
        augmented, views = self.features.augmented, self.learner.cfg.aug_views
        if augmented is None:
            return None

        def view(epoch: int):
            picked = [augmented[f"aug{epoch % views}_{j}"] for j in outputs]
            return picked if len(picked) > 1 else picked[0]

        return view

    def fit_head(self) -> PhaseRun:
        cfg, features = self.learner.cfg, self.features
        pooled = features.pooled
        inputs = keras.Input(shape=(pooled["train_0"].shape[1],), name="pooled_features")
        x = inputs
        for layer in self.learner.head:
            x = layer(x)
        head = keras.Model(inputs, x, name="head_on_cached_features")
        trainer = compile_phase(head, cfg, cfg.lr1, len(features.labels("train")), cfg.epochs1)
        history, stopped = fit_epochs(
            trainer, (pooled["train_0"], features.labels("train")), (pooled["val_0"], features.labels("val")),
            phase=PHASE1, epochs=cfg.epochs1, first_epoch=1, batch_size=cfg.batch_size, seed=cfg.seed,
            tracker=self.learner.tracker, view_of_epoch=self._view([self.split.pooled_index]))
        probabilities = head.predict(pooled["test_0"], batch_size=256, verbose=0)  # cached test features, even after a stop
        return PhaseRun(history, stopped, probabilities, features.labels("test"))

    def _top_model(self) -> keras.Model:
        """The unfrozen top of the base plus the head, on the tensors that cross the freeze boundary."""
        inputs = [keras.Input(shape=tuple(t.shape[1:]), name=f"cut_{i}") for i, t in enumerate(self.split.crossing)]
        x = self.split.top(inputs if len(inputs) > 1 else inputs[0], training=False)  # BatchNorm in inference mode
        x = self.learner.model.get_layer("pool")(x)
        for layer in self.learner.head:
            x = layer(x)
        return keras.Model(inputs, x, name="top_and_head_on_cached_features")

    def fine_tune(self) -> PhaseRun:
        learner, cfg, features = self.learner, self.learner.cfg, self.features
        unfreeze_top(learner.base, learner.unfreeze)
        top = self._top_model()
        trainer = compile_phase(top, cfg, cfg.lr2, len(features.labels("train")), cfg.epochs2, learner.head)
        crossing = list(range(self.split.pooled_index))

        def inputs(split_name: str):
            picked = [features.cut[f"{split_name}_{j}"] for j in crossing]
            return picked if len(picked) > 1 else picked[0]

        history, stopped = fit_epochs(
            trainer, (inputs("train"), features.labels("train")), (inputs("val"), features.labels("val")),
            phase=PHASE2, epochs=cfg.epochs2, first_epoch=cfg.epochs1 + 1, batch_size=cfg.batch_size,
            seed=cfg.seed, tracker=learner.tracker, view_of_epoch=self._view(crossing))
        probabilities = top.predict(inputs("test"), batch_size=128, verbose=0)
        return PhaseRun(history, stopped, probabilities, features.labels("test"))


def vision_learner(dataset: Dataset, cfg: TrainConfig, callbacks: Callbacks | None = None,
                   started: float | None = None) -> Learner:
    """A learner for ``dataset`` on ``cfg.base`` (pretrained unless ``cfg.pretrained`` is off)."""
    return Learner(dataset, cfg, callbacks, started)

