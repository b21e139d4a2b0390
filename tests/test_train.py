"""Training through the engine: cached == uncached, determinism, the learner's steps, stopping, progress,
augmentation, the shared base left alone, the CLI round trip."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT, make_flower_subset

from core.inference import Prediction, load_trained_model
from core.photos import load_dataset
from core.training import (
    AugmentConfig,
    Callbacks,
    Evaluation,
    PhaseResult,
    TrainConfig,
    preview_augmentations,
    train,
    vision_learner,
)
from core.training import feature_cache as features
from core.training.results import EXTRACT, PHASE1, PHASE2

TINY = TrainConfig(epochs1=2, epochs2=2, unfreeze=19, image_size=96, batch_size=8, seed=5)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return str(make_flower_subset(tmp_path_factory.mktemp("tiny"), per_class=14))


def losses(result):
    return np.array([[r.loss, r.val_loss, r.accuracy, r.val_accuracy] for r in result.history])


@pytest.mark.slow
def test_cached_training_equals_the_lessons_uncached_pipeline(tiny_data):
    """K = 19 cuts MobileNetV2 inside a residual block: two tensors cross the boundary."""
    cfg = replace(TINY, data=tiny_data)
    cached = train(cfg)
    assert len(cached.cache["cut_layers"]) == 2
    uncached = train(replace(cfg, use_cache=False))
    assert [r.phase for r in cached.history] == [PHASE1, PHASE1, PHASE2, PHASE2]
    np.testing.assert_allclose(losses(cached), losses(uncached), rtol=1e-3, atol=1e-4)
    assert cached.test["confusion_matrix"] == uncached.test["confusion_matrix"]


@pytest.mark.slow
def test_same_seed_same_result_and_warm_cache(tiny_data):
    cfg = replace(TINY, data=tiny_data, seed=11)
    features.clear_memory()
    first = train(cfg)
    second = train(cfg)
    assert first.cache["pooled"] == "cold" and second.cache["pooled"] == "warm"
    np.testing.assert_array_equal(losses(first), losses(second))
    assert first.test == second.test
    different = train(replace(cfg, seed=12))
    assert not np.array_equal(losses(first), losses(different))


@pytest.mark.slow
def test_the_learner_step_by_step_is_train(tiny_data, tmp_path, flowers_dir):
    cfg = replace(TINY, data=tiny_data, seed=8)
    dataset = load_dataset(tiny_data, cfg.seed)
    before = (dataset.splits, list(dataset.skipped))
    learner = vision_learner(dataset, cfg)
    head = learner.fit_head()
    assert isinstance(head, PhaseResult) and head.phase == PHASE1 and not head.stopped
    assert [r.epoch for r in head.history] == [1, 2] and head.test_accuracy is not None
    tuned = learner.fine_tune()
    assert tuned.phase == PHASE2 and [r.epoch for r in tuned.history] == [3, 4]
    evaluation = learner.evaluate()
    assert isinstance(evaluation, Evaluation) and evaluation.accuracy == pytest.approx(tuned.test_accuracy)
    assert evaluation.metrics["n"] == sum(dataset.counts()["test"].values())
    assert (dataset.splits, dataset.skipped) == before  # the caller's dataset is not changed

    one_step = train(cfg, dataset=dataset)
    np.testing.assert_array_equal(losses(learner.result()), losses(one_step))
    assert learner.result().test == one_step.test

    from core.photos.images import load_array

    photo = load_array(sorted((flowers_dir / "roses").glob("*.jpg"))[0], 96)
    prediction = learner.predict(photo)
    assert isinstance(prediction, Prediction) and prediction.label in learner.class_names
    saved = learner.save(tmp_path / "model.keras")
    loaded = load_trained_model(saved)
    assert loaded.class_names == learner.class_names and loaded.image_size == 96
    np.testing.assert_allclose(loaded.model.predict(photo[None], verbose=0)[0],
                               learner.model.predict(photo[None], verbose=0)[0], atol=1e-5)


@pytest.mark.slow
def test_no_fine_tuning_means_no_phase_two(tiny_data):
    learner = vision_learner(load_dataset(tiny_data, 5), replace(TINY, data=tiny_data, epochs2=0))
    learner.fit_head()
    skipped = learner.fine_tune()
    assert skipped.history == [] and not skipped.ran and not skipped.stopped
    assert learner.result().base_counts["params_trainable"] == 0


@pytest.mark.slow
def test_stop_between_batches_keeps_what_was_trained(tiny_data):
    events = []

    def stop_after_a_few_batches():
        return sum(1 for e in events if e.stage == PHASE1) >= 3

    result = train(replace(TINY, data=tiny_data, epochs1=5),
                   Callbacks(on_progress=events.append, should_stop=stop_after_a_few_batches))
    assert result.stopped
    assert len(result.history) < 5 and all(r.phase == PHASE1 for r in result.history)
    assert result.test["n"] == sum(result.counts["test"].values()) > 0
    assert sum(sum(row) for row in result.test["confusion_matrix"]) == result.test["n"]
    assert result.model.predict(np.zeros((1, 96, 96, 3)), verbose=0).shape == (1, 3)


@pytest.mark.slow
def test_stop_while_the_base_reads_photos_still_gives_a_result(tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv("TLL_CACHE_DIR", str(tmp_path / "cold"))
    features.clear_memory()
    events = []
    result = train(replace(TINY, data=tiny_data, seed=31),
                   Callbacks(on_progress=events.append, should_stop=lambda: len(events) >= 2))
    assert result.stopped and result.history == []
    assert {e.stage for e in events} == {EXTRACT}
    assert result.test["n"] == sum(result.counts["test"].values()) > 0


@pytest.mark.slow
def test_progress_reports_a_growing_fraction_and_an_eta(tiny_data):
    events, epochs = [], []
    train(replace(TINY, data=tiny_data, seed=21), Callbacks(on_progress=events.append, on_epoch=epochs.append))
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert all(e.eta_seconds is not None and e.eta_seconds >= 0 for e in events)
    assert {e.stage for e in events} >= {EXTRACT, PHASE1, PHASE2}
    assert [r.epoch for r in epochs] == [1, 2, 3, 4]


@pytest.mark.slow
def test_phase_two_trains_only_the_top_k_layers(tiny_data):
    cfg = replace(TINY, data=tiny_data, unfreeze=10, seed=3)
    result = train(cfg)
    base = next(layer for layer in result.model.layers if layer.name.startswith("mobilenet"))
    from core.models.bases import build_base

    original, _ = build_base("mobilenet_v2", 96)
    changed = [mine.name for mine, theirs in zip(base.layers, original.layers)
               if any(not np.array_equal(a, b) for a, b in zip(mine.get_weights(), theirs.get_weights()))]
    top_names = {layer.name for layer in base.layers[-10:]}
    assert changed and set(changed) <= top_names


@pytest.mark.slow
def test_trainings_leave_the_shared_base_as_they_found_it(tiny_data):
    """A model wired into the shared base would hang a node on it and stay attached to it."""
    from core.models.bases import shared_base

    def node_counts():
        shared, _ = shared_base("mobilenet_v2", 96, True, TINY.seed)
        return (len(shared._inbound_nodes), len(shared._outbound_nodes),
                sum(len(layer._inbound_nodes) + len(layer._outbound_nodes) for layer in shared.layers))

    phase1_only = replace(TINY, data=tiny_data, epochs1=1, epochs2=0)
    train(phase1_only)  # builds the shared base and its one pooled front
    before = node_counts()
    for cfg in (phase1_only, replace(phase1_only, seed=6), replace(TINY, data=tiny_data, epochs1=1, epochs2=1),
                replace(phase1_only, use_cache=False)):
        train(cfg)
    assert node_counts() == before


@pytest.mark.slow
def test_augmentation_caches_views_and_trains(tiny_data, tmp_path, monkeypatch):
    cfg = replace(TINY, data=tiny_data, augment=True, aug_views=2, epochs2=1, seed=4)
    train(replace(cfg, augment=False))  # fills the plain caches: only the augmented views are missing now
    result = train(cfg)
    assert {k: result.cache[k] for k in ("pooled", "cut", "augmented")} == {
        "pooled": "warm", "cut": "warm", "augmented": "cold"}
    again = train(cfg)
    assert again.cache["augmented"] == "warm"
    np.testing.assert_array_equal(losses(result), losses(again))
    plain = train(replace(cfg, augment=False))
    assert not np.array_equal(losses(plain), losses(result))  # the views really are other pictures
    monkeypatch.setenv("TLL_CACHE_DIR", str(tmp_path / "empty-cache"))
    features.clear_memory()
    from_nothing = train(cfg)  # everything cold: must train exactly the same
    assert from_nothing.cache["pooled"] == "cold"
    np.testing.assert_allclose(losses(from_nothing), losses(result), rtol=1e-5)


@pytest.mark.slow
def test_bad_photos_are_skipped_in_a_run_cold_and_warm(tmp_path):
    folder = make_flower_subset(tmp_path / "d", per_class=10)
    good = next((folder / "tulips").glob("*.jpg")).read_bytes()
    (folder / "tulips" / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (folder / "roses" / "fake.jpg").write_text("not a photo")
    cfg = replace(TINY, data=str(folder), epochs2=0)
    cold = train(cfg)
    warm = train(cfg)
    assert warm.cache["pooled"] == "warm"
    for result in (cold, warm):
        assert any(s["path"].endswith("fake.jpg") for s in result.skipped)
    assert cold.skipped == warm.skipped and cold.counts == warm.counts  # the cache remembers what failed


@pytest.mark.slow
def test_cli_trains_saves_and_evaluate_reads_it_back(tiny_data, tmp_path):
    saved = tmp_path / "model.keras"
    env_python = [sys.executable, "-m"]
    run = subprocess.run(
        [*env_python, "core.train", "--data", tiny_data, "--epochs1", "1", "--epochs2", "1", "--unfreeze", "5",
         "--image-size", "96", "--batch-size", "8", "--save", str(saved)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert "epoch   1" in run.stderr and "epoch   2" in run.stderr
    assert summary["class_names"] == ["daisy", "roses", "tulips"] and saved.is_file()
    assert [h["phase"] for h in summary["history"]] == [PHASE1, PHASE2]
    run = subprocess.run([*env_python, "core.inference.evaluate", str(saved), tiny_data], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    evaluation = json.loads(run.stdout)
    assert evaluation["n"] == 42 and set(evaluation["per_class"]) == {"daisy", "roses", "tulips"}
    matrix = np.array(evaluation["confusion_matrix"])
    assert matrix.sum() == 42 and evaluation["accuracy"] == pytest.approx(np.trace(matrix) / 42)


def test_cli_refuses_bad_input_clearly(tmp_path):
    run = subprocess.run([sys.executable, "-m", "core.train", "--data", str(tmp_path / "missing")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Folder not found" in run.stderr


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["class", "split"])
def test_zipped_own_photos_train_end_to_end(tmp_path, layout):
    folder = make_flower_subset(tmp_path / "photos", classes=("daisy", "sunflowers"), per_class=10, layout=layout)
    archive = tmp_path / f"{layout}.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in folder.rglob("*.jpg"):
            handle.write(path, f"fruit_photos/{path.relative_to(folder)}")
        handle.writestr("__MACOSX/._junk.jpg", b"junk")
    result = train(replace(TINY, data=str(archive), epochs2=1, unfreeze=5))
    assert result.class_names == ["daisy", "sunflowers"]
    assert sum(result.counts["train"].values()) == (14 if layout == "class" else 12)  # 70% of 10, or the 6 put in train/
    assert result.test["n"] == sum(result.counts["test"].values()) > 0
    assert result.dataset_source == f"your photos from {archive.name}"


def test_augmentation_preview_makes_different_views_of_one_photo(flowers_dir):
    photo = str(next((flowers_dir / "tulips").glob("*.jpg")))
    views = preview_augmentations(photo, AugmentConfig(), 64, n=6)
    assert views.shape == (6, 64, 64, 3) and views.dtype == np.uint8
    assert len({v.tobytes() for v in views}) == 6
    flips_only = preview_augmentations(photo, AugmentConfig(rotation=False, zoom=False, shear=False), 64, n=8)
    from core.photos.images import load_array

    original = load_array(photo, 64)
    for view in flips_only:  # a flip-only augmentation is the photo or its mirror image, nothing else
        assert np.array_equal(view, original) or np.array_equal(view, original[:, ::-1])
    assert any(np.array_equal(v, original[:, ::-1]) for v in flips_only)  # 8 coin flips: a mirror among them
