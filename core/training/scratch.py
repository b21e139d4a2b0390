"""Kiran's baseline: the previous lesson's small CNN, trained from random weights on the same photos.

It is what transfer learning beats: ``epochs1 + epochs2`` epochs at ``lr1``, no pretrained knowledge.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import keras

from core.inference.evaluate import evaluate_probabilities, misclassified
from core.models.bases import preprocess_layer
from core.photos.datasets import SPLITS, Dataset, decode_split, load_dataset
from core.training.loop import Callbacks, ProgressTracker, fit_epochs, steps_per_epoch
from core.training.optimizing import compile_phase
from core.training.results import SCRATCH, TrainResult
from core.training.settings import TrainConfig

SCRATCH_WEIGHTS = "none: random start, trained from scratch"


def build_scratch_cnn(num_classes: int, image_size: int, seed: int = 42):
    """Three conv blocks (32, 64, 128 filters) → GAP → Dense(128) → Dropout(0.3) → softmax, seeded."""
    layers = keras.layers
    init = keras.initializers.GlorotUniform
    inputs = keras.Input(shape=(image_size, image_size, 3), name="pixels")
    x = preprocess_layer("lesson")(inputs)
    for i, filters in enumerate((32, 64, 128)):
        x = layers.Conv2D(filters, 3, activation="relu", padding="same", kernel_initializer=init(seed + i))(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(128, activation="relu", kernel_initializer=init(seed + 10), name="head_dense")(x)
    x = layers.Dropout(0.3, seed=seed, name="head_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_initializer=init(seed + 11), name="predictions")(x)
    return keras.Model(inputs, outputs, name="cnn_from_scratch")


def train_from_scratch(cfg: TrainConfig, callbacks: Callbacks | None = None,
                       dataset: Dataset | None = None) -> TrainResult:
    cfg.validate()
    t0 = time.perf_counter()
    dataset = (dataset or load_dataset(cfg.data, cfg.seed)).copy()  # decoding drops bad photos from this copy
    dataset.check_testable()
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (decode_split(dataset, s, cfg.image_size) for s in SPLITS)
    model = build_scratch_cnn(len(dataset.class_names), cfg.image_size, cfg.seed)
    epochs = cfg.epochs1 + cfg.epochs2
    tracker = ProgressTracker({SCRATCH: epochs * steps_per_epoch(len(y_train), cfg.batch_size)}, callbacks)
    trainer = compile_phase(model, cfg, cfg.lr1, len(y_train), epochs)
    history, stopped = fit_epochs(trainer, (x_train, y_train), (x_val, y_val), phase=SCRATCH, epochs=epochs,
                                  first_epoch=1, batch_size=cfg.batch_size, seed=cfg.seed, tracker=tracker)
    probabilities = model.predict(x_test, batch_size=64, verbose=0)
    return TrainResult(
        model=model, class_names=dataset.class_names, config=cfg, history=history,
        test=evaluate_probabilities(probabilities, y_test, dataset.class_names),
        misclassified=misclassified(probabilities, y_test, dataset.paths("test"), dataset.class_names),
        dataset_source=dataset.source, counts=dataset.counts(), skipped=[asdict(s) for s in dataset.skipped],
        timings={"total": time.perf_counter() - t0, "phase_test_accuracy": {}}, cache={}, stopped=stopped,
        weights=SCRATCH_WEIGHTS,
    )
