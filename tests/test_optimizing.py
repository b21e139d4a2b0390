"""Beyond the lesson's recipe: label smoothing, a cosine schedule, and discriminative learning rates."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import is_share_of

from core.training.settings import TrainConfig


def test_the_lesson_settings_compile_exactly_as_before():
    import keras

    from core.training.optimizing import compile_phase

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    trainer = compile_phase(model, TrainConfig(), 1e-3, n_train=100, epochs=5)
    assert trainer is model and model.loss == "sparse_categorical_crossentropy"
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_label_smoothing_is_the_cross_entropy_against_softened_targets():
    from core.training.optimizing import loss_function

    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], "float32")
    labels = np.array([0, 2])
    s = 0.3
    targets = np.full((2, 3), s / 3)
    targets[[0, 1], labels] += 1 - s
    expected = -(targets * np.log(probabilities)).sum(axis=1).mean()
    assert float(loss_function(s)(labels, probabilities)) == pytest.approx(expected, rel=1e-5)
    plain = -np.log(probabilities[[0, 1], labels]).mean()
    assert loss_function(0.0) == "sparse_categorical_crossentropy"
    assert expected != pytest.approx(plain, rel=1e-3)  # the smoothing changes the number


def test_cosine_schedule_falls_to_zero_over_the_phase():
    import keras

    from core.training.optimizing import compile_phase

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    compile_phase(model, replace(TrainConfig(), lr_schedule="cosine", batch_size=10), 1e-3, n_train=100, epochs=2)
    x, y = np.zeros((10, 4), "float32"), np.zeros(10, "int64")
    seen = []
    for _ in range(20):  # 100 photos in batches of 10, 2 epochs
        seen.append(float(model.optimizer.learning_rate))
        model.train_on_batch(x, y)
    assert seen[0] == pytest.approx(1e-3) and seen == sorted(seen, reverse=True)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)
    decay = model.optimizer.get_config()["learning_rate"]  # one cosine over the whole phase: 10 steps x 2 epochs
    assert decay["class_name"] == "CosineDecay" and decay["config"]["decay_steps"] == 20


def test_discriminative_rates_move_the_head_faster_than_the_unfrozen_layers():
    import keras

    from core.training.optimizing import compile_phase

    keras.utils.set_random_seed(0)
    base = keras.layers.Dense(8, activation="relu", name="unfrozen_base_layer")
    head = [keras.layers.Dense(3, activation="softmax", name="head")]
    inputs = keras.Input((6,))
    model = keras.Model(inputs, head[0](base(inputs)))
    trainer = compile_phase(model, replace(TrainConfig(), head_lr_factor=10.0), 1e-4, n_train=32, epochs=1,
                            head_layers=head)
    before_base, before_head = base.kernel.numpy().copy(), head[0].kernel.numpy().copy()
    rng = np.random.default_rng(0)
    logs = trainer.train_on_batch(rng.normal(size=(32, 6)).astype("float32"), rng.integers(0, 3, 32))
    assert set(logs) == {"loss", "accuracy"} and np.isfinite(logs["loss"])
    # Adam's first step moves each weight by about its learning rate, whatever the gradient's size
    moved_base = np.abs(base.kernel.numpy() - before_base).max()
    moved_head = np.abs(head[0].kernel.numpy() - before_head).max()
    assert moved_base == pytest.approx(1e-4, rel=0.05) and moved_head == pytest.approx(1e-3, rel=0.05)
    assert set(trainer.test_on_batch(np.zeros((4, 6), "float32"), np.zeros(4, "int64"))) == {"loss", "accuracy"}


@pytest.mark.parametrize("change, message", [
    ({"label_smoothing": 1.0}, "label smoothing"), ({"lr_schedule": "step"}, "schedule"),
    ({"head_lr_factor": 0.0}, "factor")])
def test_bad_options_are_refused_with_a_message(change, message):
    with pytest.raises(ValueError, match=message):
        replace(TrainConfig(), **change).validate()


def test_the_code_export_says_it_does_not_write_the_options_beyond_the_lesson():
    from core.lesson.codegen import emit_script

    assert "MobileNetV2" in emit_script(TrainConfig())
    with pytest.raises(ValueError, match="--head-lr-factor"):
        emit_script(replace(TrainConfig(), head_lr_factor=10.0))


@pytest.mark.slow
def test_a_fine_tuning_with_every_option_trains_and_tests(small_flowers):
    from core.training import train
    from core.training.results import PHASE2

    cfg = TrainConfig(data=str(small_flowers), epochs1=1, epochs2=2, unfreeze=5, image_size=96, batch_size=8,
                      label_smoothing=0.1, lr_schedule="cosine", head_lr_factor=10.0, lr2=1e-4)
    result = train(cfg)
    phases = [r.phase for r in result.history]
    assert phases.count(PHASE2) == 2 and all(np.isfinite(r.loss) for r in result.history)
    assert is_share_of(result.test["accuracy"], result.test["n"])
