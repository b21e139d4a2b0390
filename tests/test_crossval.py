"""k-fold cross-validation: disjoint folds covering every photo once, stratified, groups kept whole."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import is_share_of

from core.photos.datasets import Dataset, ImageItem
from core.training import Callbacks, TrainConfig, crossval


def toy_dataset(per_class=(23, 17, 30)) -> Dataset:
    items = [ImageItem(f"/photos/c{label}/{i:03d}.jpg", label) for label, n in enumerate(per_class) for i in range(n)]
    third = len(items) // 3
    return Dataset(["a", "b", "c"], {"train": items[:third], "val": items[third:2 * third], "test": items[2 * third:]},
                   "toy", "class-folders")


@pytest.mark.parametrize("k", [2, 5, 10])
def test_k_folds_are_disjoint_and_cover_every_photo_once(k):
    labels = np.array([0] * 23 + [1] * 17 + [2] * 30)
    folds = crossval.fold_ids(labels, k, seed=3)
    assert folds.shape == labels.shape and set(folds.tolist()) == set(range(k))
    tests = [np.flatnonzero(folds == f) for f in range(k)]
    assert sum(len(t) for t in tests) == len(labels)  # every photo is in exactly one test fold
    assert sorted(np.concatenate(tests).tolist()) == list(range(len(labels)))
    for cls in range(3):  # stratified: each class spread evenly
        per_fold = [(labels[t] == cls).sum() for t in tests]
        assert max(per_fold) - min(per_fold) <= 1
    assert max(len(t) for t in tests) - min(len(t) for t in tests) <= 1


def test_folds_depend_on_the_seed_and_repeat_with_it():
    labels = np.repeat(np.arange(4), 25)
    assert np.array_equal(crossval.fold_ids(labels, 5, seed=1), crossval.fold_ids(labels, 5, seed=1))
    assert not np.array_equal(crossval.fold_ids(labels, 5, seed=1), crossval.fold_ids(labels, 5, seed=2))


def test_near_duplicate_groups_stay_in_one_fold():
    labels = np.repeat(np.arange(3), 20)
    groups = np.arange(60)
    groups[[1, 2, 3]] = 1  # a group of three
    groups[[40, 41]] = 40
    folds = crossval.fold_ids(labels, 5, seed=0, groups=groups)
    assert len(set(folds[[1, 2, 3]].tolist())) == 1 and folds[40] == folds[41]
    assert sorted(np.bincount(folds).tolist()) == [12] * 5


def test_bad_fold_counts_are_refused_clearly():
    with pytest.raises(ValueError, match="at least 2 folds"):
        crossval.fold_ids([0, 1, 0, 1], 1)
    with pytest.raises(ValueError, match="cannot be split into 5 folds"):
        crossval.fold_ids([0, 1, 0], 5)


def test_fold_datasets_hold_each_photo_once_and_test_on_their_fold():
    dataset = toy_dataset()
    items = crossval.all_photos(dataset)
    folds = crossval.fold_ids([i.label for i in items], 5, seed=0)
    seen_in_test = []
    for fold in range(5):
        part = crossval.fold_dataset(dataset, items, folds, fold, seed=0)
        paths = {s: [i.path for i in part.splits[s]] for s in ("train", "val", "test")}
        assert not set(paths["train"]) & set(paths["val"]) and not set(paths["train"]) & set(paths["test"])
        assert not set(paths["val"]) & set(paths["test"])
        assert len(paths["train"]) + len(paths["val"]) + len(paths["test"]) == len(items)
        assert paths["test"] == [i.path for i, f in zip(items, folds) if f == fold]
        assert abs(len(paths["val"]) - 0.15 * len(items)) <= 3
        seen_in_test += paths["test"]
    assert sorted(seen_in_test) == sorted(i.path for i in items)


class FakeRun:
    def __init__(self, dataset, stopped=False):
        n = len(dataset.splits["test"])
        self.test = {"n": n, "accuracy": (n - 1) / n}
        self.stopped = stopped


def test_recipe_crossval_trains_once_per_fold_and_reports_progress():
    dataset = toy_dataset()
    seen, progress = [], []

    def trainer(cfg, callbacks, fold_data):
        seen.append(fold_data)
        callbacks.on_progress(crossval.Progress("head", 1.0, None, "done"))
        return FakeRun(fold_data)

    result = crossval.recipe_crossval(TrainConfig(), 5, Callbacks(on_progress=progress.append), dataset, trainer)
    assert len(seen) == 5 and result.n == 70 and result.correct == 65
    assert [p.fraction for p in progress] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    summary = result.summary()
    assert len(summary["folds"]) == 5 and summary["folds_mode"] == "recipe"
    assert summary["folds_mean"] == pytest.approx(np.mean(result.accuracies), abs=1e-4)
    assert summary["folds_sd"] == pytest.approx(np.std(result.accuracies, ddof=1), abs=1e-4)


def test_a_stop_keeps_the_finished_folds():
    dataset = toy_dataset()
    calls = []

    def trainer(cfg, callbacks, fold_data):
        calls.append(1)
        return FakeRun(fold_data, stopped=len(calls) == 3)

    result = crossval.recipe_crossval(TrainConfig(), 5, None, dataset, trainer)
    assert result.stopped and len(result.accuracies) == 2 and "Stopped early" in result.words()


@pytest.mark.slow
def test_head_crossval_on_real_photos(small_flowers):
    cfg = TrainConfig(data=str(small_flowers), image_size=96, epochs1=3, batch_size=8, seed=1)
    result = crossval.head_crossval(cfg, k=3)
    assert len(result.accuracies) == 3 and result.n == 36 and sum(result.fold_sizes) == 36
    assert all(is_share_of(a, size) for a, size in zip(result.accuracies, result.fold_sizes))
    assert result.mean > 1 / 3  # three classes: the head learned something
    again = crossval.head_crossval(cfg, k=3)
    assert again.accuracies == result.accuracies  # same seed, same folds, same heads
    other = crossval.head_crossval(replace(cfg, seed=2), k=3)
    assert other.n == 36
