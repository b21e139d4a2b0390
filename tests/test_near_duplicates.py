"""Near-duplicate photos: a resized, re-encoded copy is found and lands in the same split as its original."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_flower_subset
from PIL import Image

from core.photos import datasets as data
from core.training import near_duplicates


def test_groups_join_similar_pairs_transitively_and_nothing_else():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(6, 64))
    features = np.vstack([base, base[0] + 0.01 * rng.normal(size=64), base[2] * 3.0])  # 6 ~ 0, 7 = 2 scaled
    chain = base[4] + 0.3 * rng.normal(size=64)  # close to 4 but not a copy
    features = np.vstack([features, chain])
    ids = near_duplicates.group_ids(features, threshold=0.92)
    assert ids[6] == ids[0] and ids[7] == ids[2]
    assert len({ids[i] for i in (0, 1, 2, 3, 5)}) == 5
    pairs = near_duplicates.similar_pairs(features, 0.92)
    assert {(i, j) for i, j, _ in pairs} >= {(0, 6), (2, 7)}
    assert all(s > 0.92 for *_, s in pairs)


def test_similar_pairs_in_blocks_equal_one_block():
    features = np.random.default_rng(1).normal(size=(50, 8))
    blocked, whole = near_duplicates.similar_pairs(features, 0.8, block=7), near_duplicates.similar_pairs(features, 0.8)
    assert blocked and [(i, j) for i, j, _ in blocked] == [(i, j) for i, j, _ in whole]
    np.testing.assert_allclose([s for *_, s in blocked], [s for *_, s in whole], rtol=1e-5)


def _dataset_with_a_twin(tmp_path):
    """Real flowers plus a half-size, quality-60 re-encoding of one daisy, under another name."""
    folder = make_flower_subset(tmp_path / "photos", classes=("daisy", "roses"), per_class=10)
    original = sorted((folder / "daisy").glob("*.jpg"))[0]
    with Image.open(original) as image:
        small = image.convert("RGB").resize((image.width // 2, image.height // 2), Image.BICUBIC)
        small.save(folder / "daisy" / "zz_resized_copy.jpg", quality=60)
    return folder, str(original.resolve()), str((folder / "daisy" / "zz_resized_copy.jpg").resolve())


def _split_of(dataset, path):
    return next(s for s in data.SPLITS if path in dataset.paths(s))


def test_the_split_keeps_a_resized_reencoded_copy_with_its_original(tmp_path):
    folder, original, copy = _dataset_with_a_twin(tmp_path)
    for seed in range(12):  # 70/15/15 at random would separate them in about half of the seeds
        dataset = data.load_folder(folder, seed)
        assert _split_of(dataset, original) == _split_of(dataset, copy)
        counts = dataset.counts()
        assert counts["train"]["daisy"] == round(11 * 0.7) and counts["val"]["daisy"] == round(11 * 0.15)


def test_keep_together_moves_a_separated_group_into_one_split(tmp_path):
    folder, original, copy = _dataset_with_a_twin(tmp_path)
    dataset = data.load_folder(folder, 0)
    # put the twins in different splits by hand (as a student's own split might)
    for split in data.SPLITS:
        dataset.splits[split] = [i for i in dataset.splits[split] if i.path not in (original, copy)]
    label = dataset.class_names.index("daisy")
    dataset.splits["train"].append(data.ImageItem(original, label))
    dataset.splits["test"].append(data.ImageItem(copy, label))
    before = {s: sorted(dataset.paths(s)) for s in data.SPLITS}
    labels_before = {item.path: item.label for s in data.SPLITS for item in dataset.splits[s]}

    found = near_duplicates.split_keeping_near_duplicates_together(dataset)

    assert [original, copy] in [sorted(g) for g in found.groups]
    assert _split_of(dataset, original) == _split_of(dataset, copy) == "train"
    after = {item.path: item.label for s in data.SPLITS for item in dataset.splits[s]}
    assert after == labels_before  # same photos, same labels: only where they sit changed
    moved = set(found.moved)
    assert copy in moved and moved <= {p for g in found.groups for p in g}
    for split in data.SPLITS:  # photos outside the groups did not move
        assert [p for p in before[split] if p not in moved] == [p for p in sorted(dataset.paths(split)) if p not in moved]
    assert "group" in found.words() and "moved" in found.words()


def test_the_copy_is_far_more_similar_than_other_photos(tmp_path):
    folder, original, copy = _dataset_with_a_twin(tmp_path)
    paths = sorted(str(p.resolve()) for p in folder.rglob("*.jpg"))
    thumbs = near_duplicates.thumbnails(paths)
    i, j = paths.index(original), paths.index(copy)
    assert thumbs[i] @ thumbs[j] > 0.99
    others = [thumbs[i] @ thumbs[m] for m in range(len(paths)) if m not in (i, j)]
    assert max(others) < near_duplicates.THUMB_THRESHOLD


def test_an_unreadable_photo_is_similar_to_nothing(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    assert near_duplicates.thumbnail(str(bad)) is None
    assert not near_duplicates.thumbnails([str(bad)]).any()


def test_split_folder_layouts_are_counted_not_moved(tmp_path):
    folder = make_flower_subset(tmp_path / "s", classes=("daisy", "roses"), per_class=10, layout="split")
    photo = sorted((folder / "train" / "daisy").glob("*.jpg"))[0]
    with Image.open(photo) as image:
        image.convert("RGB").resize((image.width // 2, image.height // 2)).save(folder / "test" / "daisy" / "twin.jpg")
    dataset = data.load_folder(folder, 0)
    found = near_duplicates.split_keeping_near_duplicates_together(dataset)
    assert len(found.groups) >= 1 and found.moved == []
    assert str((folder / "test" / "daisy" / "twin.jpg").resolve()) in dataset.paths("test")


@pytest.mark.parametrize("n", [0, 1])
def test_too_few_photos_find_no_groups(n):
    assert near_duplicates.group_ids(np.ones((n, 4))).tolist() == list(range(n))


def test_the_dataset_report_says_how_many_near_duplicate_groups_it_found(tmp_path):
    from core.photos.report import check_folder

    folder, _, _ = _dataset_with_a_twin(tmp_path)
    _, report, error = check_folder(folder, 0)
    assert error is None and (report.near_duplicate_groups, report.near_duplicate_photos) == (1, 2)
    said = [a for a in report.warnings if a.kind == "near-duplicates"]
    assert len(said) == 1 and said[0].message.startswith("1 group of near-duplicate photos (2 photos")
    plain = make_flower_subset(tmp_path / "plain", classes=("daisy", "roses"), per_class=10)
    _, report, _ = check_folder(plain, 0)
    assert report.near_duplicate_groups == 0 and not [a for a in report.warnings if a.kind == "near-duplicates"]
