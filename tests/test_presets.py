"""The "best for small data" preset: the exact head, the saved model agreeing with it, the CLI round trip."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT, make_flower_subset

from core.training import TrainConfig, presets

TINY = presets.Preset("tiny", "test", "two members, two layers, two views",
                      (presets.Member("a", 1.0), presets.Member("b", 0.5)), ("l1", "l2"), ("plain", "flip"))


def synthetic(n_per_class=40, classes=3, seed=0):
    """Two views of separable features laid out as TINY's blocks: member a (3 + 2 columns), member b (2 + 1)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, 8)) * 3
    labels = np.repeat(np.arange(classes), n_per_class)
    base = centres[labels] + rng.normal(size=(len(labels), 8))
    views = [np.abs(base + 0.1 * rng.normal(size=base.shape)) for _ in range(2)]
    return views, labels, [[3, 2], [2, 1]]


def test_fit_head_learns_separable_classes_and_gives_probabilities():
    views, labels, widths = synthetic()
    head = presets.fit_head(TINY, views, labels, 3, widths)
    p = head.probabilities(views)
    assert p.shape == (120, 3) and np.allclose(p.sum(axis=1), 1)
    assert (p.argmax(1) == labels).mean() > 0.95
    assert head.temperature > 0 and head.weights.shape == (8, 3)


def test_the_temperature_keeps_confidence_honest_on_held_out_photos():
    views, labels, widths = synthetic(seed=1)
    head = presets.fit_head(TINY, [v[::2] for v in views], labels[::2], 3, widths)
    p = head.probabilities([v[1::2] for v in views])
    confidence, right = p.max(1), p.argmax(1) == labels[1::2]
    # calibrated within a few points: mean confidence close to the accuracy it achieves
    assert abs(confidence.mean() - right.mean()) < 0.1


def test_block_weights_give_each_layer_the_same_total_weight_times_its_member():
    weights = presets._block_weights(TINY, [[3, 2], [2, 1]])
    assert len(weights) == 8
    np.testing.assert_allclose((weights ** 2)[:3].sum(), 1.0)
    np.testing.assert_allclose((weights ** 2)[5:7].sum(), 0.25)


def test_unknown_preset_is_refused_clearly():
    with pytest.raises(ValueError, match="Unknown preset 'fast'"):
        presets.get("fast")


@pytest.fixture(scope="module")
def tiny_photos(tmp_path_factory):
    return make_flower_subset(tmp_path_factory.mktemp("preset"), classes=("daisy", "roses", "sunflowers"), per_class=8)


@pytest.mark.slow
def test_the_saved_model_answers_like_the_head_it_was_built_from(tiny_photos):
    from core.photos.cleaning import photo_probabilities
    from core.training import train

    result = train(TrainConfig(data=str(tiny_photos), preset="best", seed=3))
    assert result.config.preset == "best" and result.test["n"] >= 3
    test_paths = sorted(str(p) for p in tiny_photos.rglob("*.jpg"))
    probabilities, kept = photo_probabilities(result.model, test_paths, 224)
    assert probabilities.shape == (len(test_paths), 3) and np.allclose(probabilities.sum(1), 1, atol=1e-5)
    # the head's own test figures equal what the Keras model says about the same photos
    from core.photos.datasets import load_dataset

    dataset = load_dataset(str(tiny_photos), 3)
    test_set = [str(p) for p in dataset.paths("test")]
    model_p, _ = photo_probabilities(result.model, test_set, 224)
    labels = dataset.labels("test")
    loss = float(-np.log(np.clip(model_p[np.arange(len(labels)), labels], 1e-7, 1)).mean())
    assert loss == pytest.approx(result.test["loss"], rel=1e-3, abs=1e-4)


@pytest.mark.slow
def test_preset_cross_validation_tests_every_photo_once(tiny_photos):
    cfg = TrainConfig(data=str(tiny_photos), preset="best", seed=0)
    result = presets.crossval(presets.BEST, cfg, k=3)
    assert len(result.accuracies) == 3 and result.n == 24 and sum(result.fold_sizes) == 24
    summary = result.summary()
    assert summary["folds_mode"] == "preset best" and len(summary["folds"]) == 3


@pytest.mark.slow
def test_cli_round_trip_preset_then_evaluate(tiny_photos, tmp_path):
    model = tmp_path / "m.keras"
    run = subprocess.run([sys.executable, "-m", "core.train", "--preset", "best", "--data", str(tiny_photos),
                          "--save", str(model)], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout)
    assert summary["config"]["preset"] == "best" and summary["saved_to"] == str(model)
    low, high = summary["test_accuracy_interval"]
    assert low <= summary["test_accuracy"] <= high and summary["test_n"] == summary["test"]["n"]
    check = subprocess.run([sys.executable, "-m", "core.evaluate", str(model), str(tiny_photos)], cwd=ROOT,
                           capture_output=True, text=True, timeout=900)
    assert check.returncode == 0, check.stderr[-2000:]
    evaluated = json.loads(check.stdout)
    assert evaluated["n"] == 24 and evaluated["class_names"] == ["daisy", "roses", "sunflowers"]
    assert evaluated["accuracy"] > 1 / 3


def test_a_preset_config_round_trips_through_the_runner_dict():
    cfg = replace(TrainConfig(), preset="best")
    assert TrainConfig.from_dict(cfg.to_dict()).preset == "best"
