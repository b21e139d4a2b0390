"""Cleaning actions change the student's own photos and nothing else; the flowers are show-only.
The confidence-threshold curve is monotone in coverage."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from conftest import FLOWERS, make_flower_subset

from core.inference import threshold
from core.photos import cleaning
from core.photos import datasets as data


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) -> SHA-1 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def own_photos(tmp_path):
    return make_flower_subset(tmp_path / "upload", classes=("daisy", "roses", "tulips"), per_class=6)


def test_move_to_class_changes_only_that_photo(own_photos, tmp_path):
    dataset = data.load_folder(own_photos, seed=0)
    flowers_before = snapshot(FLOWERS / "daisy")
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("untouched")
    before = snapshot(own_photos)
    photo = dataset.paths("train")[0]
    old_name = str(Path(photo).resolve().relative_to(own_photos.resolve()))
    old_class = old_name.split("/")[0]
    new_class = next(c for c in dataset.class_names if c != old_class)

    target = cleaning.move_to_class(dataset, photo, new_class)

    after = snapshot(own_photos)
    new_name = str(target.relative_to(own_photos.resolve()))
    assert new_name == f"{new_class}/{Path(old_name).name}"
    assert after.pop(new_name) == before.pop(old_name)  # same bytes, new class folder
    assert after == before  # nothing else in the student's folder changed
    assert snapshot(FLOWERS / "daisy") == flowers_before and outside.read_text() == "untouched"
    reloaded = data.load_folder(own_photos, seed=0)
    labels = {str(Path(i.path).resolve()): i.label for s in data.SPLITS for i in reloaded.splits[s]}
    assert labels[str(target)] == reloaded.class_names.index(new_class)
    assert sum(len(reloaded.splits[s]) for s in data.SPLITS) == 18  # still 18 photos
    in_memory = {i.path: i.label for s in data.SPLITS for i in dataset.splits[s]}
    assert in_memory[str(target)] == dataset.class_names.index(new_class) and photo not in in_memory


def test_remove_takes_the_photo_out_and_can_put_it_back(own_photos):
    dataset = data.load_folder(own_photos, seed=0)
    before = snapshot(own_photos)
    photo = dataset.paths("test")[0]
    relative = str(Path(photo).resolve().relative_to(own_photos.resolve()))

    removed = cleaning.remove_photo(dataset, photo)

    after = snapshot(own_photos)
    assert relative not in after and after[f"{cleaning.REMOVED_FOLDER}/{relative}"] == before[relative]
    assert {k: v for k, v in after.items() if not k.startswith(".")} == {k: v for k, v in before.items() if k != relative}
    assert photo not in [i.path for s in data.SPLITS for i in dataset.splits[s]]
    reloaded = data.load_folder(own_photos, seed=0)
    assert sum(len(reloaded.splits[s]) for s in data.SPLITS) == 17  # the hidden folder is not read as a class
    assert reloaded.class_names == dataset.class_names

    cleaning.restore_photo(dataset, str(removed))
    assert snapshot(own_photos) == before


def test_the_flowers_are_show_only():
    dataset = data.load_folder(FLOWERS, seed=0)
    before = snapshot(FLOWERS / "roses")
    photo = next(p for p in dataset.paths("train") if "/roses/" in p)
    with pytest.raises(cleaning.CleaningError, match="shared flower photos"):
        cleaning.move_to_class(dataset, photo, "tulips")
    with pytest.raises(cleaning.CleaningError, match="shared flower photos"):
        cleaning.remove_photo(dataset, photo)
    assert snapshot(FLOWERS / "roses") == before
    assert not cleaning.owns_photos(dataset)


def test_paths_outside_the_upload_and_unknown_classes_are_refused(own_photos, tmp_path):
    dataset = data.load_folder(own_photos, seed=0)
    stranger = tmp_path / "stranger.jpg"
    stranger.write_bytes((FLOWERS / "daisy").iterdir().__next__().read_bytes())
    before = snapshot(own_photos)
    with pytest.raises(cleaning.CleaningError, match="not in your photo folder"):
        cleaning.remove_photo(dataset, str(stranger))
    with pytest.raises(cleaning.CleaningError, match="not in your photo folder"):
        cleaning.remove_photo(dataset, str(own_photos / ".." / "stranger.jpg"))
    with pytest.raises(cleaning.CleaningError, match="no class called"):
        cleaning.move_to_class(dataset, dataset.paths("train")[0], "cactus")
    assert stranger.is_file() and snapshot(own_photos) == before


def test_split_folder_layout_keeps_the_split(tmp_path):
    folder = make_flower_subset(tmp_path / "s", classes=("daisy", "roses"), per_class=10, layout="split")
    dataset = data.load_folder(folder, seed=0)
    photo = next(p for p in dataset.paths("val") if "/daisy/" in p)
    target = cleaning.move_to_class(dataset, photo, "roses")
    assert target.parent == (folder / "val" / "roses").resolve()


def test_rank_by_loss_puts_confident_mistakes_first():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.01, 0.99]])
    rows = cleaning.rank_by_loss(probabilities, [0, 1, 1, 0], ["a", "b", "c", "d"], ["train", "val", "test", "test"],
                                 ["x", "y"], [True, True, False, False])
    assert [r.path for r in rows] == ["d", "c", "b", "a"]
    assert rows[0].wrong and rows[0].predicted == "y" and rows[0].loss == pytest.approx(-np.log(0.01))
    assert not rows[-1].wrong


def test_threshold_curve_is_monotone_in_coverage():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(300, 5)) * 2
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    confidence = probabilities.max(1)  # right more often when confident, as a calibrated model is
    labels = np.where(rng.random(300) < confidence, probabilities.argmax(1), (probabilities.argmax(1) + 1) % 5)
    points = threshold.confidence_curve(probabilities, labels)
    coverage = [p.coverage for p in points]
    assert coverage[0] == 1.0 and all(a >= b for a, b in zip(coverage, coverage[1:]))
    assert all(a.correct >= b.correct for a, b in zip(points, points[1:]))
    assert points[0].accuracy == pytest.approx((probabilities.argmax(1) == labels).mean())
    assert points[80].accuracy > points[0].accuracy


def test_threshold_words_and_decision():
    points = threshold.confidence_curve([[0.9, 0.1], [0.55, 0.45], [0.3, 0.7]], [0, 1, 1])
    at = threshold.point_at_threshold(points, 0.6)
    assert (at.answered, at.correct) == (2, 2)
    assert "answer 2 of 3 test photos" in threshold.threshold_words(at) and "other 1" in threshold.threshold_words(at)
    assert threshold.answer_or_not_sure([0.55, 0.45], ["a", "b"], 0.6)[0] is False
    assert threshold.answer_or_not_sure([0.75, 0.25], ["a", "b"], 0.6) == (True, "a (75%, at or above your 60% threshold).")
    with pytest.raises(ValueError):
        threshold.confidence_curve([[0.5, 0.5]], [0, 1])
