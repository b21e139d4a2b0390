"""Training: cached == uncached, determinism, stopping, progress, augmentation, CLI round trip."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT, make_flower_subset

from core import features
from core.train import PHASE1, PHASE2, TrainConfig, train

TINY = TrainConfig(epochs1=2, epochs2=2, unfreeze=19, image_size=96, batch_size=8, seed=5)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return str(make_flower_subset(tmp_path_factory.mktemp("tiny"), per_class=14))


def losses(result):
    return np.array([[r.loss, r.val_loss, r.accuracy, r.val_accuracy] for r in result.history])


def test_cached_training_equals_the_lessons_uncached_pipeline(tiny_data):
    """K = 19 cuts MobileNetV2 inside a residual block: two tensors cross the boundary."""
    cfg = replace(TINY, data=tiny_data)
    cached = train(cfg)
    assert len(cached.cache["cut_layers"]) == 2
    uncached = train(replace(cfg, use_cache=False))
    assert [r.phase for r in cached.history] == [PHASE1, PHASE1, PHASE2, PHASE2]
    np.testing.assert_allclose(losses(cached), losses(uncached), rtol=1e-3, atol=1e-4)
    assert cached.test["confusion_matrix"] == uncached.test["confusion_matrix"]


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


def test_stop_between_batches_keeps_what_was_trained(tiny_data):
    events = []

    def stop_after_a_few_batches():
        return sum(1 for e in events if e.stage == PHASE1) >= 3

    result = train(replace(TINY, data=tiny_data, epochs1=5), on_progress=events.append,
                   should_stop=stop_after_a_few_batches)
    assert result.stopped
    assert len(result.history) < 5
    assert result.test["n"] == sum(result.counts["test"].values())
    assert 0.0 <= result.test["accuracy"] <= 1.0
    assert result.model.predict(np.zeros((1, 96, 96, 3)), verbose=0).shape == (1, 3)


def test_progress_reports_a_growing_fraction_and_an_eta(tiny_data):
    events, epochs = [], []
    train(replace(TINY, data=tiny_data, seed=21), on_progress=events.append, on_epoch=epochs.append)
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert all(e.eta_seconds is not None and e.eta_seconds >= 0 for e in events)
    assert {e.stage for e in events} >= {"features", PHASE1, PHASE2}
    assert [r.epoch for r in epochs] == [1, 2, 3, 4]


def test_phase_two_trains_only_the_top_k_layers(tiny_data):
    cfg = replace(TINY, data=tiny_data, unfreeze=10, seed=3)
    result = train(cfg)
    base = next(layer for layer in result.model.layers if layer.name.startswith("mobilenet"))
    from core.models import build_base

    original, _ = build_base("mobilenet_v2", 96)
    changed = [mine.name for mine, theirs in zip(base.layers, original.layers)
               if any(not np.array_equal(a, b) for a, b in zip(mine.get_weights(), theirs.get_weights()))]
    top_names = {layer.name for layer in base.layers[-10:]}
    assert changed and set(changed) <= top_names


def test_augmentation_caches_views_and_trains(tiny_data, tmp_path, monkeypatch):
    cfg = replace(TINY, data=tiny_data, augment=True, aug_views=2, epochs2=1, seed=4)
    train(replace(cfg, augment=False))  # fills the plain caches: only the augmented views are missing now
    result = train(cfg)
    assert {k: result.cache[k] for k in ("pooled", "cut", "augmented")} == {
        "pooled": "warm", "cut": "warm", "augmented": "cold"}
    again = train(cfg)
    assert again.cache["augmented"] == "warm"
    np.testing.assert_array_equal(losses(result), losses(again))
    monkeypatch.setenv("TLL_CACHE_DIR", str(tmp_path / "empty-cache"))
    features.clear_memory()
    from_nothing = train(cfg)  # everything cold: must train exactly the same
    assert from_nothing.cache["pooled"] == "cold"
    np.testing.assert_allclose(losses(from_nothing), losses(result), rtol=1e-5)
    assert result.test["n"] > 0


def test_bad_photos_are_skipped_in_a_run(tmp_path):
    folder = make_flower_subset(tmp_path / "d", per_class=10)
    (folder / "roses" / "fake.jpg").write_text("not a photo")
    result = train(replace(TINY, data=str(folder), epochs2=0))
    assert any(s["path"].endswith("fake.jpg") for s in result.skipped)


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
    run = subprocess.run([*env_python, "core.evaluate", str(saved), tiny_data], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    evaluation = json.loads(run.stdout)
    assert evaluation["n"] == 42 and 0 <= evaluation["accuracy"] <= 1
    assert set(evaluation["per_class"]) == {"daisy", "roses", "tulips"}
    assert np.array(evaluation["confusion_matrix"]).sum() == 42


def test_cli_refuses_bad_input_clearly(tmp_path):
    run = subprocess.run([sys.executable, "-m", "core.train", "--data", str(tmp_path / "missing")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Folder not found" in run.stderr


@pytest.mark.parametrize("layout", ["class", "split"])
def test_zipped_own_photos_train_end_to_end(tmp_path, layout):
    import zipfile

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
    assert "fruit_photos" in result.dataset_source or "photos from" in result.dataset_source


def test_augmentation_preview_makes_different_views_of_one_photo(flowers_dir):
    from core.train import AugmentConfig, preview_augmentations

    photo = str(next((flowers_dir / "tulips").glob("*.jpg")))
    views = preview_augmentations(photo, AugmentConfig(), 64, n=6)
    assert views.shape == (6, 64, 64, 3) and views.dtype == np.uint8
    assert len({v.tobytes() for v in views}) == 6
    flips_only = preview_augmentations(photo, AugmentConfig(rotation=False, zoom=False, shear=False), 64, n=8)
    from core.images import load_array

    original = load_array(photo, 64)
    for view in flips_only:  # a flip-only augmentation is the photo or its mirror image, nothing else
        assert np.array_equal(view, original) or np.array_equal(view, original[:, ::-1])
