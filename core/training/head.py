"""Training a classification head on pooled features held in memory: phase 1 of the lesson's recipe
(Dense → Dropout → softmax, Adam) without the base, for cross-validation and the small-data preset.

Seeded like the real phase 1 (``core.models.bases.build_classifier`` initialisers, our own shuffle per epoch),
so the same settings give the same fold accuracies.
"""

from __future__ import annotations

import numpy as np

from core.utils.lazy import LazyModule

keras = LazyModule("keras")  # cross-validation's module imports this one; a page importing it needs no TensorFlow


def build_head(feature_dim: int, n_classes: int, units: int, dropout: float, seed: int, label_smoothing: float = 0.0,
               l2: float = 0.0, lr: float = 1e-3):
    """The lesson's head on a ``feature_dim`` vector: Dense(units, relu) → Dropout → Dense(softmax);
    ``units = 0`` is a linear softmax layer (a "linear probe")."""
    init = keras.initializers.GlorotUniform
    regulariser = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=(feature_dim,), name="pooled_features")
    x = inputs
    if units:
        x = keras.layers.Dense(units, activation="relu", kernel_initializer=init(seed), kernel_regularizer=regulariser,
                               name="head_dense")(x)
        x = keras.layers.Dropout(dropout, seed=seed, name="head_dropout")(x)
    elif dropout:
        x = keras.layers.Dropout(dropout, seed=seed, name="head_dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", kernel_initializer=init(seed + 1),
                                 kernel_regularizer=regulariser, name="predictions")(x)
    model = keras.Model(inputs, outputs, name="head")
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss)
    return model


def fit_head(x_train: np.ndarray, y_train: np.ndarray, n_classes: int, *, epochs: int, lr: float, batch_size: int,
             units: int, dropout: float, seed: int, train_views: list[np.ndarray] | None = None,
             label_smoothing: float = 0.0, l2: float = 0.0, should_stop=None):
    """A trained head. With ``train_views`` (augmented copies of ``x_train``, row for row), epoch ``e``
    trains on view ``e mod len(views)``, as the cached recipe does."""
    model = build_head(x_train.shape[1], n_classes, units, dropout, seed, label_smoothing, l2, lr)
    targets = np.eye(n_classes, dtype=np.float32)[np.asarray(y_train)]
    n = len(y_train)
    for epoch in range(1, epochs + 1):
        x_epoch = train_views[epoch % len(train_views)] if train_views else x_train
        order = np.random.default_rng([seed, epoch]).permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            model.train_on_batch(x_epoch[batch], targets[batch])
            if should_stop and should_stop():
                return model
    return model


def predict(model, x: np.ndarray) -> np.ndarray:
    if len(x) == 0:
        return np.zeros((0, int(model.output_shape[-1])), np.float32)
    return np.asarray(model.predict(x, batch_size=512, verbose=0))


def fit_predict(x_train, y_train, x_test, n_classes: int, cfg, train_views=None) -> np.ndarray:
    """Phase 1 of ``cfg`` (a ``TrainConfig``) trained on ``x_train``; class probabilities of ``x_test``."""
    model = fit_head(x_train, y_train, n_classes, epochs=cfg.epochs1, lr=cfg.lr1, batch_size=cfg.batch_size,
                     units=cfg.head_units, dropout=cfg.dropout, seed=cfg.seed, train_views=train_views or None)
    return predict(model, x_test)
