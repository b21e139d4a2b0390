"""How a phase learns: its loss (optionally label-smoothed), its learning-rate schedule, and one learning rate
for the whole model or two (discriminative: the new head faster than the unfrozen pretrained layers).

Keras's ``compile`` gives one optimizer to the whole model, so the two-rate trainer keeps two Adams (one per
group of weights) and offers the two calls ``fit_epochs`` makes (``train_on_batch`` and ``test_on_batch``):
the training loop stays the same for every phase. Off by default, so runs match the lesson's code.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from core.training.loop import steps_per_epoch


def compile_for_training(model, learning_rate: float, jit_compile: bool = False, *, label_smoothing: float = 0.0,
                         decay_steps: int = 0) -> None:
    """Adam on sparse labels. ``decay_steps``: the rate falls along a cosine to 0 over that many batches."""
    model.compile(optimizer=keras.optimizers.Adam(schedule(learning_rate, decay_steps)),
                  loss=loss_function(label_smoothing), metrics=["accuracy"], jit_compile=jit_compile)


def compile_phase(model, cfg, learning_rate: float, n_train: int, epochs: int, head_layers=()):
    """``model`` ready for one phase of ``cfg`` -> what ``fit_epochs`` trains (the model itself, or a
    two-rate trainer when phase 2's head learns faster than the unfrozen layers: pass ``head_layers``)."""
    steps = steps_per_epoch(n_train, cfg.batch_size) * epochs if cfg.lr_schedule == "cosine" else 0
    if head_layers and cfg.head_lr_factor != 1:
        return TwoRateTrainer(model, head_layers, learning_rate, cfg.head_lr_factor,
                              label_smoothing=cfg.label_smoothing, decay_steps=steps)
    compile_for_training(model, learning_rate, cfg.jit_compile, label_smoothing=cfg.label_smoothing,
                         decay_steps=steps)
    return model


def schedule(learning_rate: float, decay_steps: int = 0):
    if decay_steps <= 0:
        return learning_rate
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)


def loss_function(label_smoothing: float = 0.0):
    """Cross-entropy on class numbers; with smoothing, the right answer's target is ``1 - s`` (the rest shared)."""
    if not label_smoothing:
        return "sparse_categorical_crossentropy"
    smoothed = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)

    def sparse_smoothed_crossentropy(y_true, y_pred):
        classes = keras.ops.shape(y_pred)[-1]
        return smoothed(keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), classes), y_pred)

    return sparse_smoothed_crossentropy


class TwoRateTrainer:
    """Phase 2 with two Adams: ``learning_rate`` for the unfrozen base layers, ``head_factor`` times it for the head."""

    def __init__(self, model: keras.Model, head_layers, learning_rate: float, head_factor: float, *,
                 label_smoothing: float = 0.0, decay_steps: int = 0):
        self.model = model
        head_ids = {id(v) for layer in head_layers for v in layer.trainable_weights}
        trainable = model.trainable_weights
        self.head = [v for v in trainable if id(v) in head_ids]
        self.base = [v for v in trainable if id(v) not in head_ids]
        self.base_optimizer = keras.optimizers.Adam(schedule(learning_rate, decay_steps))
        self.head_optimizer = keras.optimizers.Adam(schedule(learning_rate * head_factor, decay_steps))
        self.loss = keras.losses.get(loss_function(label_smoothing))
        self._train = tf.function(self._train_step, reduce_retracing=True)
        self._test = tf.function(self._test_step, reduce_retracing=True)

    def _scores(self, y, probabilities):
        loss = keras.ops.mean(self.loss(y, probabilities))
        right = keras.ops.equal(keras.ops.argmax(probabilities, axis=-1), keras.ops.cast(keras.ops.reshape(y, (-1,)), "int64"))
        return loss, keras.ops.mean(keras.ops.cast(right, "float32"))

    def _train_step(self, x, y):
        with tf.GradientTape() as tape:
            probabilities = self.model(x, training=True)
            loss, accuracy = self._scores(y, probabilities)
        gradients = tape.gradient(loss, self.base + self.head)
        if self.base:
            self.base_optimizer.apply(gradients[:len(self.base)], self.base)
        self.head_optimizer.apply(gradients[len(self.base):], self.head)
        return loss, accuracy

    def _test_step(self, x, y):
        return self._scores(y, self.model(x, training=False))

    def train_on_batch(self, x, y, return_dict: bool = True) -> dict:
        loss, accuracy = self._train(x, np.asarray(y))
        return {"loss": float(loss), "accuracy": float(accuracy)}

    def test_on_batch(self, x, y, return_dict: bool = True) -> dict:
        loss, accuracy = self._test(x, np.asarray(y))
        return {"loss": float(loss), "accuracy": float(accuracy)}
