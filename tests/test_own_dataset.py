"""A student's own dataset built on the My photos page (core/photos/own_dataset.py): names, shrinking, EXIF,
the budget, zips out and in, moving and removing. Photos are made here with Pillow (and pillow-heif)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.photos import load_dataset
from core.photos.images import HEIC_SUPPORTED
from core.photos.own_dataset import LONGEST_SIDE, OwnDataset, OwnDatasetError, class_name_problem

GPS_TAG, ORIENTATION_TAG = 0x8825, 0x0112


def photo(width: int = 800, height: int = 600, colour=(200, 40, 40), fmt: str = "JPEG", exif=None,
          seed: int = 0) -> bytes:
    """A photo with some texture (a flat colour would compress to nothing)."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.normal(0, 25, (height, width, 3)) + colour, 0, 255).astype("uint8")
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_TAG).update({1: "N", 2: (12.0, 58.0, 10.0), 3: "E", 4: (77.0, 35.0, 40.0)})
    return exif


@pytest.fixture()
def own(tmp_path) -> OwnDataset:
    return OwnDataset(tmp_path / "my_photos")


def stored(own: OwnDataset, name: str) -> list[Image.Image]:
    return [Image.open(p) for p in own.photos(name)]


@pytest.mark.parametrize("name, reason", [
    ("roses\u202e", "text-direction"),
    ("ro\u200bses", "zero-width space"),
    ("a\x07b", "control character"),
    ("", "Type a name"),
    ("train", "split folder"),
    ("Validation", "split folder"),
    ("a/b", "not allowed in folder names"),
    (".hidden", "dot"),
    ("x" * 41, "at most 40"),
])
def test_class_names_are_refused_with_the_reason(own, name, reason):
    assert reason in class_name_problem(name)
    with pytest.raises(OwnDatasetError, match=reason):
        own.add_class(name)
    assert own.classes() == []


def test_class_names_are_nfc_and_unique_whatever_the_case(own):
    assert own.add_class(" Rose\u0301 ") == "Rosé"
    with pytest.raises(OwnDatasetError, match="already a class"):
        own.add_class("ROSÉ")
    assert own.add_class("धान") == "धान"  # letters of any script are fine
    assert own.classes() == ["Rosé", "धान"]


def test_rename_and_delete_a_class(own):
    own.add_class("healthy")
    own.add_class("sick")
    own.add_photos("sick", [("a.jpg", photo())])
    with pytest.raises(OwnDatasetError, match="already a class"):
        own.rename_class("sick", "Healthy")
    own.rename_class("sick", "diseased")
    assert own.counts() == {"diseased": 1, "healthy": 0}
    assert own.delete_class("diseased") == 1
    assert own.classes() == ["healthy"]
    with pytest.raises(OwnDatasetError, match="no class called"):
        own.delete_class("diseased")


def test_photos_are_shrunk_upright_and_lose_their_exif(own):
    own.add_class("leaf")
    exif = gps_exif()
    exif[ORIENTATION_TAG] = 6  # the camera was turned: shown rotated 90 degrees
    report = own.add_photos("leaf", [("IMG_1.jpg", photo(4000, 3000, exif=exif))])
    assert len(report.added) == 1 and not report.skipped
    (image,) = stored(own, "leaf")
    assert image.format == "JPEG"
    assert image.size == (LONGEST_SIDE * 3 // 4, LONGEST_SIDE)  # upright: taller than wide
    exif_out = image.getexif()
    assert not exif_out.get_ifd(GPS_TAG) and ORIENTATION_TAG not in exif_out and 0x010F not in exif_out
    assert b"PhoneMaker" not in own.photos("leaf")[0].read_bytes()


def test_a_small_photo_is_not_enlarged(own):
    own.add_class("leaf")
    own.add_photos("leaf", [("small.png", photo(300, 200, fmt="PNG"))])
    assert stored(own, "leaf")[0].size == (300, 200)


@pytest.mark.skipif(not HEIC_SUPPORTED, reason="pillow-heif is not installed on this machine")
def test_an_iphone_heic_photo_is_stored_as_a_small_jpeg(own):
    own.add_class("leaf")
    report = own.add_photos("leaf", [("IMG_2.HEIC", photo(1200, 900, fmt="HEIF"))])
    assert report.added and not report.skipped
    (image,) = stored(own, "leaf")
    assert image.format == "JPEG" and max(image.size) == LONGEST_SIDE


def test_a_broken_photo_is_named_and_skipped_the_rest_kept(own):
    own.add_class("leaf")
    report = own.add_photos("leaf", [("good1.jpg", photo(seed=1)), ("broken.jpg", b"\xff\xd8 not really"),
                                     ("notes.txt", b"hello"), ("good2.jpg", photo(seed=2))])
    assert len(report.added) == 2
    assert {s.name: s.reason for s in report.skipped} == {
        "broken.jpg": "not an image Pillow can read", "notes.txt": "not an image file (by its name)"}
    assert own.counts() == {"leaf": 2}


def test_a_document_format_is_not_decoded_even_with_a_photo_name(own):
    own.add_class("leaf")
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
    report = own.add_photos("leaf", [("trick.jpg", eps)])
    assert not report.added and report.skipped[0].name == "trick.jpg"


def test_the_budget_stops_adding_with_a_clear_message(tmp_path):
    probe = OwnDataset(tmp_path / "probe")
    probe.add_class("leaf")
    probe.add_photos("leaf", [("p.jpg", photo(seed=10))])
    one_photo = probe.used_bytes()
    own = OwnDataset(tmp_path / "budget", budget_bytes=one_photo * 3 // 2)  # room for one photo, not two
    own.add_class("leaf")
    report = own.add_photos("leaf", [(f"p{i}.jpg", photo(seed=10 + i)) for i in range(3)])
    assert len(report.added) == 1
    assert report.full and "photo space is full" in report.full and "Remove some photos" in report.full
    assert [s.name for s in report.skipped] == ["p1.jpg", "p2.jpg"]
    assert all(s.reason == "not added: your photo space is full" for s in report.skipped)
    assert own.used_bytes() <= own.budget_bytes


def test_remove_and_move_a_photo(own):
    for name in ("a", "b"):
        own.add_class(name)
    own.add_photos("a", [("1.jpg", photo(seed=1)), ("2.jpg", photo(seed=2))])
    first, second = [p.name for p in own.photos("a")]
    own.move_photo("a", first, "b")
    assert own.counts() == {"a": 1, "b": 1}
    own.remove_photo("a", second)
    assert own.counts() == {"a": 0, "b": 1}
    with pytest.raises(OwnDatasetError, match="not in a any more"):
        own.remove_photo("a", second)
    with pytest.raises(OwnDatasetError, match="not one of your photos"):
        own.remove_photo("b", "../a/" + second)


def _three_classes(own: OwnDataset, per_class: int = 6) -> None:
    for i, name in enumerate(("healthy", "diseased", "unripe")):
        own.add_class(name)
        colour = [(40, 180, 40), (120, 80, 20), (200, 200, 40)][i]
        own.add_photos(name, [(f"{j}.jpg", photo(160, 120, colour, seed=100 * i + j)) for j in range(per_class)])


def test_the_zip_has_the_lessons_layout_and_the_train_pages_split(own):
    _three_classes(own)
    names = zipfile.ZipFile(io.BytesIO(own.zip_bytes(seed=7))).namelist()
    photos = [n for n in names if n.endswith(".jpg")]
    assert len(photos) == 18
    assert {n.split("/")[1] for n in photos} == {"train", "val", "test"}
    assert {n.split("/")[2] for n in photos} == {"healthy", "diseased", "unripe"}
    assert all(n.startswith("my_dataset/") for n in names)
    dataset = load_dataset(str(own.folder), 7)
    in_test = {p.split("/")[-1] for p in dataset.paths("test")}
    assert in_test == {n.split("/")[-1] for n in photos if n.split("/")[1] == "test"}


def test_a_single_class_zips_as_class_folders(own):
    own.add_class("only")
    own.add_photos("only", [("1.jpg", photo())])
    names = zipfile.ZipFile(io.BytesIO(own.zip_bytes())).namelist()
    assert [n for n in names if n.endswith(".jpg")][0].startswith("my_dataset/only/")


def test_a_downloaded_zip_opens_again_and_can_be_extended(own, tmp_path):
    _three_classes(own)
    again = OwnDataset(tmp_path / "again")
    again.add_class("Healthy")  # joins the zip's "healthy" (letter case aside)
    report = again.add_zip(io.BytesIO(own.zip_bytes()))
    assert again.counts() == {"diseased": 6, "Healthy": 6, "unripe": 6}
    assert sorted(report.classes_made) == ["diseased", "unripe"]
    again.add_photos("unripe", [("new.jpg", photo(seed=999))])
    assert again.counts()["unripe"] == 7


def test_a_zip_with_bad_class_names_and_loose_photos_is_opened_with_reasons(own, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cats/1.jpg", photo(seed=1))
        archive.writestr("dogs\u202e/2.jpg", photo(seed=2))
        archive.writestr("why?/3.jpg", photo(seed=3))
        archive.writestr("4.jpg", photo(seed=4))
    report = own.add_zip(io.BytesIO(buffer.getvalue()))
    assert own.counts() == {"cats": 1}
    reasons = {s.name: s.reason for s in report.skipped}
    assert reasons["4.jpg"] == "not inside a class folder"
    assert "class folder refused" in reasons["why?/3.jpg"] and "not allowed in folder names" in reasons["why?/3.jpg"]
    assert any("text-direction" in r for r in reasons.values())  # refused while unpacking, like any upload


def test_it_trains_like_an_upload_and_is_named_in_words(own):
    _three_classes(own, per_class=8)
    dataset = load_dataset(str(own.folder), 42)
    assert dataset.class_names == ["diseased", "healthy", "unripe"]
    assert sum(len(v) for v in dataset.splits.values()) == 24
    assert dataset.source == "the photos you collected on the My photos page"
    assert str(own.folder) not in dataset.source


def test_the_teachers_reset_of_a_student_removes_their_photos_and_no_one_elses():
    from core.classroom.runner import service
    from core.photos.own_dataset import IN_STUDENT_FOLDER

    store = service.store()
    kiran, _, _ = store.join("Kiran")
    sam, _, _ = store.join("Sam")
    datasets = {who.id: OwnDataset(store.student_folder(who.id) / IN_STUDENT_FOLDER) for who in (kiran, sam)}
    for own in datasets.values():
        own.add_class("leaf")
        own.add_photos("leaf", [("1.jpg", photo())])
    service.delete_student(kiran.id)
    assert not datasets[kiran.id].folder.exists()
    assert datasets[sam.id].counts() == {"leaf": 1}


def test_the_cleaning_loop_moves_and_removes_the_builders_photos(own):
    from core.photos import cleaning

    _three_classes(own, per_class=6)
    dataset = load_dataset(str(own.folder), 42)
    assert cleaning.owns_photos(dataset)
    first, second = dataset.splits["train"][0], dataset.splits["train"][1]
    target = next(name for name in dataset.class_names if name != dataset.class_names[first.label])
    cleaning.move_to_class(dataset, first.path, target)
    cleaning.remove_photo(dataset, second.path)
    counts = own.counts()
    assert sum(counts.values()) == 17 and counts[target] == 7
