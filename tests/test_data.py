"""Datasets: layouts, the 70/15/15 split, labels, leakage, bad files, tf_flowers sources."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import make_flower_subset

from core.photos import datasets as data


def all_paths(dataset):
    return [item.path for split in data.SPLITS for item in dataset.splits[split]]


def test_class_folders_split_70_15_15_per_class(flowers_dir):
    dataset = data.load_dataset(data.TF_FLOWERS, seed=1)
    counts = dataset.counts()
    assert dataset.class_names == ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
    assert dataset.layout == "class-folders"
    assert "offline copy" in dataset.source
    for name in dataset.class_names:
        total = sum(counts[s][name] for s in data.SPLITS)
        expected_train = round(total * 0.70)
        assert counts["train"][name] == expected_train
        assert counts["val"][name] == round(total * 0.15)
        assert counts["test"][name] == total - expected_train - round(total * 0.15)


def test_no_photo_lands_in_two_splits_and_duplicates_are_dropped(tmp_path):
    folder = make_flower_subset(tmp_path / "d", per_class=20)
    # the same photo twice under different names: it must not end up in train and test
    photo = next((folder / "daisy").glob("*.jpg"))
    shutil.copy(photo, folder / "daisy" / "copy_of_first.jpg")
    dataset = data.load_folder(folder, seed=3)
    paths = all_paths(dataset)
    assert len(paths) == len(set(paths))
    digests = [data.file_digest(p) for p in paths]
    assert len(digests) == len(set(digests))
    assert any(s.reason.startswith("duplicate of") for s in dataset.skipped)


def test_split_is_deterministic_for_a_seed_and_changes_with_it(tmp_path):
    folder = make_flower_subset(tmp_path / "d", per_class=20)
    first = data.load_folder(folder, seed=7)
    again = data.load_folder(folder, seed=7)
    other = data.load_folder(folder, seed=8)
    assert first.splits == again.splits
    assert first.splits["test"] != other.splits["test"]
    assert sorted(all_paths(first)) == sorted(all_paths(other))


def test_labels_follow_folder_names_and_are_stable_across_splits(tmp_path):
    folder = make_flower_subset(tmp_path / "d", classes=("tulips", "daisy", "roses"), per_class=10, layout="split")
    dataset = data.load_folder(folder)
    assert dataset.layout == "split-folders"
    assert dataset.class_names == ["daisy", "roses", "tulips"]
    for split in data.SPLITS:
        for item in dataset.splits[split]:
            assert f"/{split}/{dataset.class_names[item.label]}/" in item.path


def test_zip_wrapping_folder_is_unwrapped(tmp_path):
    make_flower_subset(tmp_path / "outer" / "my_flowers", per_class=5)
    dataset = data.load_folder(tmp_path / "outer")
    assert dataset.class_names == ["daisy", "roses", "tulips"]


def test_bad_files_are_skipped_counted_and_never_crash(tmp_path):
    folder = make_flower_subset(tmp_path / "d", per_class=10)
    (folder / "roses" / "notes.jpg").write_text("this is not a photo")
    good = next((folder / "tulips").glob("*.jpg")).read_bytes()
    (folder / "tulips" / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (folder / "daisy" / "readme.txt").write_text("hello")
    (folder / "daisy" / ".DS_Store").write_bytes(b"\0\0")
    dataset = data.load_folder(folder, seed=0)
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in dataset.skipped}
    assert reasons["notes.jpg"] == "not an image Pillow can read"
    assert reasons["readme.txt"].startswith("not an image file")
    assert ".DS_Store" not in reasons  # system files are ignored silently
    n_before = sum(len(dataset.splits[s]) for s in data.SPLITS)
    decoded = {s: data.decode_split(dataset, s, 32) for s in data.SPLITS}
    n_after = sum(len(decoded[s][1]) for s in data.SPLITS)
    truncated_reasons = [s.reason for s in dataset.skipped if s.path.endswith("truncated.jpg")]
    # its header passes the quick check at listing time; decoding finds the body missing and drops it
    assert n_after == n_before - 1
    assert len(truncated_reasons) == 1 and truncated_reasons[0].startswith("cannot be decoded")
    for split, (images, labels) in decoded.items():
        assert images.shape == (len(labels), 32, 32, 3) and images.dtype == np.uint8
        assert len(labels) == len(dataset.splits[split])


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda root: (root / "only").mkdir(parents=True), "No class folders with photos"),
        (lambda root: make_flower_subset(root, classes=("daisy",), per_class=5), "Only one class"),
        (lambda root: (make_flower_subset(root, classes=("daisy", "roses"), per_class=5), (root / "empty").mkdir()),
         "no usable photos: empty"),
    ],
)
def test_datasets_that_cannot_train_are_refused_with_a_reason(tmp_path, build, message):
    root = tmp_path / "bad"
    root.mkdir()
    build(root)
    with pytest.raises(data.DatasetError, match=message):
        data.load_folder(root)


def test_tf_flowers_without_bundle_or_downloads_says_what_to_do(monkeypatch):
    monkeypatch.delenv("TLL_OFFLINE_BUNDLE")
    with pytest.raises(data.DatasetError, match="TLL_OFFLINE_BUNDLE"):
        data.load_tf_flowers()


def test_fingerprint_depends_on_content_not_location(tmp_path):
    a = data.load_folder(make_flower_subset(tmp_path / "a", per_class=6), seed=0)
    b = data.load_folder(make_flower_subset(tmp_path / "b", per_class=6), seed=0)
    assert a.fingerprint() == b.fingerprint()
    photo = next((tmp_path / "b" / "roses").glob("*.jpg"))
    photo.write_bytes(photo.read_bytes() + b"\0")
    c = data.load_folder(tmp_path / "b", seed=0)
    assert c.fingerprint() != a.fingerprint()


def test_a_copy_drops_photos_without_touching_the_original(tmp_path):
    dataset = data.load_folder(make_flower_subset(tmp_path / "d", per_class=6), seed=0)
    before = {s: list(items) for s, items in dataset.splits.items()}
    victim = dataset.splits["test"][0].path
    copy = dataset.copy()
    copy.drop([data.SkippedFile(victim, "cannot be decoded (test)")])
    assert victim not in copy.paths("test") and copy.skipped[-1].path == victim
    assert sum(len(items) for items in copy.splits.values()) == sum(len(items) for items in before.values()) - 1
    assert dataset.splits == before and all(s.path != victim for s in dataset.skipped)


def test_a_dataset_without_test_photos_cannot_start_a_training(tmp_path):
    dataset = data.load_folder(make_flower_subset(tmp_path / "one", classes=("daisy", "roses"), per_class=1))
    assert dataset.counts()["test"] == {"daisy": 0, "roses": 0}
    with pytest.raises(data.DatasetError, match="test split has no photos"):
        dataset.check_testable()
    data.load_folder(make_flower_subset(tmp_path / "three", classes=("daisy", "roses"), per_class=3)).check_testable()


def test_the_engine_refuses_a_training_it_could_not_test_with_a_message(tmp_path):
    from core.training import TrainConfig, train

    folder = make_flower_subset(tmp_path / "one", classes=("daisy", "roses"), per_class=1)
    with pytest.raises(data.DatasetError, match="test split has no photos"):
        train(TrainConfig(data=str(folder), epochs1=1, epochs2=0, unfreeze=0, image_size=96))
