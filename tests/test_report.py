"""The dataset report: counts, sizes, skipped files, warnings with advice, problems, CSV downloads;
and the photos it meets: every format, odd modes, EXIF rotation, truncated files, pixel bombs.

The corpus is built in tmp_path at test time from the shared flower photos: no binary fixtures.
"""

from __future__ import annotations

import functools
import shutil
import statistics
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import FLOWERS, make_flower_subset
from PIL import Image

from core.photos import datasets as data
from core.photos import images
from core.photos.datasets import Dataset, ImageItem, SkippedFile
from core.photos.report import Advice, check_folder, dataset_report, reason_group, report_to_csv, skipped_to_csv
from core.photos.upload import extract_zip

ORIENTATION = 0x0112
# Pillow warns about the 56-megapixel test image before core.photos.images refuses it; the warning is expected.
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


def flower(cls: str = "daisy", index: int = 0) -> Path:
    return sorted((FLOWERS / cls).glob("*.jpg"))[index]


def copy_photos(folder: Path, cls: str, count: int, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(flower(cls, start + i), folder)) for i in range(count)]


def header_sizes(paths) -> tuple[list[int], list[int]]:
    sizes = [Image.open(p).size for p in paths]
    return [w for w, _ in sizes], [h for _, h in sizes]


# --- a clean dataset -----------------------------------------------------------------------------------------


def test_report_on_real_flowers_counts_sizes_and_csv(small_flowers):
    dataset, report, error = check_folder(small_flowers, seed=7)
    assert error is None and dataset is not None
    assert report.class_names == ["daisy", "roses", "tulips"]
    assert report.counts == dataset.counts()
    assert report.rows() == [
        {"class": name, "train": 8, "val": 2, "test": 2, "total": 12} for name in ("daisy", "roses", "tulips")
    ]
    assert report.total_images == 36
    assert report.layout == "class-folders"
    assert report.warnings == [] and report.problems == [] and report.can_train
    assert report.skipped == {} and report.skipped_files == [] and report.duplicates == []

    widths, heights = header_sizes(p for split in data.SPLITS for p in dataset.paths(split))
    sizes = report.sizes
    assert sizes.count == 36 and sizes.tiny == 0
    assert (sizes.min_width, sizes.median_width, sizes.max_width) == (
        min(widths), int(statistics.median(widths)), max(widths),
    )
    assert (sizes.min_height, sizes.median_height, sizes.max_height) == (
        min(heights), int(statistics.median(heights)), max(heights),
    )
    assert report_to_csv(report) == (
        "class,train,val,test,total\ndaisy,8,2,2,12\nroses,8,2,2,12\ntulips,8,2,2,12\n"
    )
    assert skipped_to_csv(report) == "file,reason\n"


# --- datasets that cannot be used: check_folder returns the message ------------------------------------------


def _one_class(root: Path) -> None:
    copy_photos(root / "daisy", "daisy", 5)


def _empty_class(root: Path) -> None:
    copy_photos(root / "daisy", "daisy", 5)
    (root / "roses").mkdir()
    (root / "roses" / "notes.txt").write_text("photos coming soon")


def _no_photos(root: Path) -> None:
    (root / "daisy").mkdir(parents=True)
    (root / "daisy" / "notes.txt").write_text("nothing here")
    (root / "roses").mkdir()


@pytest.mark.parametrize(
    "build, message",
    [
        (_one_class, "Only one class was found ('daisy'). A classifier needs at least two classes to tell apart."),
        (_empty_class, "These classes have no usable photos: roses. Add photos or remove the folder."),
        (_no_photos, "These classes have no usable photos: daisy, roses. Add photos or remove the folder."),
    ],
)
def test_check_folder_returns_the_reason_instead_of_raising(tmp_path, build, message):
    root = tmp_path / "photos"
    root.mkdir()
    build(root)
    assert check_folder(root) == (None, None, message)


def test_check_folder_on_an_empty_or_missing_folder(tmp_path):
    assert check_folder(tmp_path) == (
        None, None, "No class folders with photos were found. Put each class's photos in its own folder.",
    )
    assert check_folder(tmp_path / "nope") == (None, None, "Folder not found: …/nope")  # no server path


# --- bad files -------------------------------------------------------------------------------------------------


def blank_png(path: Path, width: int, height: int) -> None:
    path.write_bytes(_blank_png_bytes(width, height))


@functools.lru_cache
def _blank_png_bytes(width: int, height: int) -> bytes:
    """A valid, all-black 1-bit PNG, built row by row: Pillow would need the whole canvas in memory."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    packer = zlib.compressobj(6)
    row = bytes(1 + (width + 7) // 8)  # filter byte + packed bits
    idat = b"".join(packer.compress(row * min(1000, height - y)) for y in range(0, height, 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def make_bad_files(folder: Path) -> dict[str, Path]:
    """The files students (or their classmates) end up uploading."""
    folder.mkdir(parents=True, exist_ok=True)
    original = flower("daisy", 20).read_bytes()
    files = {
        "truncated": folder / "truncated.jpg",
        "text": folder / "essay.jpg",
        "bomb": folder / "bomb.png",
        "big": folder / "big.png",
        "notes": folder / "notes.txt",
    }
    files["truncated"].write_bytes(original[: len(original) // 2])
    files["text"].write_text("This is my homework, not a photo.")
    blank_png(files["bomb"], 30_000, 30_000)  # 900 megapixels in ~100 KB
    blank_png(files["big"], 8_000, 7_000)  # 56 megapixels: over our limit, under Pillow's own refusal (2x)
    files["notes"].write_text("daisies are nice")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder.parent / "__MACOSX" / folder.name).mkdir(parents=True)
    (folder.parent / "__MACOSX" / folder.name / "._a.jpg").write_bytes(b"\x00\x05\x16\x07")
    return files


def test_bad_files_never_crash_and_are_reported_with_reasons(tmp_path):
    root = make_flower_subset(tmp_path / "photos", per_class=12)
    bad = make_bad_files(root / "daisy")
    assert bad["bomb"].stat().st_size < 200_000

    dataset, report, error = check_folder(root)
    assert error is None
    assert sorted((s.path, s.reason) for s in report.skipped_files) == [
        ("daisy/big.png", "too large: 8000x7000 pixels (limit 50,000,000)"),
        ("daisy/bomb.png", "too large: 900,000,000 pixels (limit 50,000,000)"),
        ("daisy/essay.jpg", "not an image Pillow can read"),
        ("daisy/notes.txt", "not an image file (by its name)"),
    ]
    assert report.skipped == {"too large": 2, "not an image Pillow can read": 1, "not an image file": 1}
    assert report.warnings[0] == Advice(
        "skipped",
        "4 files were left out because they could not be used.",
        "See the list of skipped files and their reasons; fix or remove them if you want them included.",
    )
    assert report.can_train
    assert skipped_to_csv(report).splitlines() == [
        "file,reason",
        'daisy/big.png,"too large: 8000x7000 pixels (limit 50,000,000)"',
        'daisy/bomb.png,"too large: 900,000,000 pixels (limit 50,000,000)"',
        "daisy/essay.jpg,not an image Pillow can read",
        "daisy/notes.txt,not an image file (by its name)",
    ]

    # The truncated JPEG has a good header: it is found, then dropped (with its reason) when decoded.
    assert str(bad["truncated"]) in [p for s in data.SPLITS for p in dataset.paths(s)]
    for split in data.SPLITS:
        data.decode_split(dataset, split, 32)
    (reason,) = [s.reason for s in dataset.skipped if s.path == str(bad["truncated"])]
    assert reason.startswith("cannot be decoded (image file is truncated")
    after = dataset_report(dataset)
    assert after.skipped["cannot be decoded"] == 1


def test_decoders_refuse_bombs_truncation_and_text_with_clear_reasons(tmp_path):
    bad = make_bad_files(tmp_path / "bad")
    expected = {
        "bomb": "too large: 900,000,000 pixels (limit 50,000,000)",
        "big": "too large: 8000x7000 pixels (limit 50,000,000)",
        "text": "not an image Pillow can read",
    }
    for key, reason in expected.items():
        with pytest.raises(images.ImageProblem) as caught:
            images.load_array(bad[key], 64)
        assert caught.value.reason == reason
    assert images.too_large_reason(ValueError("no size in here")) == "too large: too many pixels (limit 50,000,000)"
    with pytest.raises(images.ImageProblem) as caught:
        images.open_rgb(bad["truncated"])
    assert caught.value.reason.startswith("cannot be decoded (image file is truncated")


# --- formats and modes -----------------------------------------------------------------------------------------


def make_format_zoo(folder: Path, source: Path) -> dict[str, Path]:
    """One real photo saved in every format and mode a student's files come in."""
    folder.mkdir(parents=True, exist_ok=True)
    photo = Image.open(source).convert("RGB")
    grey = np.asarray(photo.convert("L"), dtype=np.uint16)
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(photo.size))
    zoo = {
        "png": (photo, "photo.png", {"compress_level": 1}),
        "webp": (photo, "photo.webp", {"quality": 90}),
        "gif": (photo.quantize(128, method=Image.Quantize.FASTOCTREE), "photo.gif", {}),
        "bmp": (photo, "photo.bmp", {}),
        "tiff": (photo, "photo.tiff", {}),
        "cmyk-jpeg": (photo.convert("CMYK"), "cmyk.jpg", {"quality": 95}),
        "16-bit-png": (Image.fromarray(grey * 257), "sixteen.png", {"compress_level": 1}),
        "greyscale-jpeg": (photo.convert("L"), "grey.jpg", {}),
        "rgba-png": (rgba, "alpha.png", {"compress_level": 1}),
        "palette-transparent-png": (photo.convert("P"), "palette.png", {"transparency": 0, "compress_level": 1}),
        "1-bit-png": (photo.convert("1"), "bilevel.png", {"compress_level": 1}),
        "jpeg-uppercase": (photo, "SHOUTING.JPEG", {}),
    }
    paths = {}
    for key, (image, name, options) in zoo.items():
        image.save(folder / name, **options)
        paths[key] = folder / name
    return paths


def test_every_format_and_mode_loads_as_rgb(tmp_path):
    source = flower("roses", 3)
    zoo = make_format_zoo(tmp_path / "zoo", source)
    assert Image.open(zoo["16-bit-png"]).mode == "I;16"
    assert Image.open(zoo["cmyk-jpeg"]).mode == "CMYK"
    reference = np.asarray(Image.open(source).convert("RGB").resize((64, 64), Image.BILINEAR), dtype=np.float64)
    for key, path in zoo.items():
        array = images.load_array(path, 64)
        assert array.shape == (64, 64, 3) and array.dtype == np.uint8, key
        assert array.std() > 10, f"{key} came out flat"
        if key in ("png", "webp", "bmp", "tiff", "jpeg-uppercase", "gif", "cmyk-jpeg"):
            assert np.abs(array - reference).mean() < 12, key  # the same photo, not a garbled one
    alpha = images.open_rgb(zoo["rgba-png"])
    assert alpha.getpixel((0, 0)) == (255, 255, 255)  # fully transparent corner: white, not black


def test_a_folder_of_mixed_formats_trains_without_skips(tmp_path):
    root = tmp_path / "photos"
    make_format_zoo(root / "roses", flower("roses", 3))
    make_format_zoo(root / "tulips", flower("tulips", 5))
    dataset, report, error = check_folder(root)
    assert error is None and report.skipped_files == []
    assert report.totals == {"roses": 12, "tulips": 12}
    for split in data.SPLITS:
        x, y = data.decode_split(dataset, split, 32)
        assert x.shape[1:] == (32, 32, 3) and len(x) == len(y)
    assert dataset.skipped == []


# --- EXIF rotation ---------------------------------------------------------------------------------------------


def save_rotated(source: Path, target: Path, orientation: int = 6) -> None:
    """Save the photo as a phone does: pixels as the sensor saw them, plus an orientation tag."""
    image = Image.open(source)
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    image.save(target, quality=95, exif=exif)


def test_exif_rotated_photo_is_turned_upright(tmp_path):
    source = flower("daisy", 0)
    original = Image.open(source).convert("RGB")
    width, height = original.size
    assert width != height
    rotated = tmp_path / "phone.jpg"
    save_rotated(source, rotated)
    assert Image.open(rotated).size == (width, height)  # the raw pixels are still landscape

    upright = images.open_rgb(rotated)
    assert upright.size == (height, width)
    expected = np.asarray(original.transpose(Image.Transpose.ROTATE_270), dtype=np.float64)
    assert np.abs(np.asarray(upright, dtype=np.float64) - expected).mean() < 6
    wrong_way = np.asarray(original.transpose(Image.Transpose.ROTATE_90), dtype=np.float64)
    assert np.abs(np.asarray(upright, dtype=np.float64) - wrong_way).mean() > 20

    array = images.load_array(rotated, 96)
    reference = np.asarray(original.transpose(Image.Transpose.ROTATE_270).resize((96, 96), Image.BILINEAR))
    assert array.shape == (96, 96, 3)
    assert np.abs(array.astype(float) - reference).mean() < 8


def test_report_sizes_follow_exif_rotation(tmp_path):
    root = tmp_path / "photos"
    for cls in ("daisy", "roses"):
        (root / cls).mkdir(parents=True)
        for i in range(4):
            save_rotated(flower(cls, i), root / cls / f"{i}.jpg")
    dataset, report, error = check_folder(root)
    assert error is None
    raw_widths, raw_heights = header_sizes(p for s in data.SPLITS for p in dataset.paths(s))
    assert report.sizes.min_width == min(raw_heights) and report.sizes.max_height == max(raw_widths)


# --- warnings and problems ---------------------------------------------------------------------------------------


def test_small_imbalanced_tiny_and_missing_classes_get_advice(tmp_path):
    root = tmp_path / "photos"
    copy_photos(root / "daisy", "daisy", 40)
    copy_photos(root / "roses", "roses", 2)
    (root / "tulips").mkdir()
    for i in range(12):
        image = Image.open(flower("tulips", i))
        if i < 6:
            image = image.resize((48, 36))
        image.save(root / "tulips" / f"{i}.png", compress_level=1)

    dataset, report, error = check_folder(root)
    assert error is None
    assert report.rows() == [
        {"class": "daisy", "train": 28, "val": 6, "test": 6, "total": 40},
        {"class": "roses", "train": 1, "val": 0, "test": 1, "total": 2},
        {"class": "tulips", "train": 8, "val": 2, "test": 2, "total": 12},
    ]
    assert report.sizes.tiny == 6 and report.sizes.min_width == 48 and report.sizes.min_height == 36
    assert report.tiny_by_class == {"tulips": 6}
    # (the first 40 tf_flowers daisies hold re-saved copies of one picture: said apart, see test_near_duplicates)
    assert [(w.kind, w.message) for w in report.warnings if w.kind != "near-duplicates"] == [
        ("small-class", "'roses' has only 2 photos."),
        ("imbalance", "'daisy' has 20.0 times as many photos as 'roses' (40 against 2)."),
        ("tiny-images", "6 photos are smaller than 64 pixels (tulips: 6)."),
        ("missing-in-split", "'roses' has no photos in val."),
    ]
    report.warnings = [w for w in report.warnings if w.kind != "near-duplicates"]
    assert report.warnings[0].advice == (
        "The lesson's advice for transfer learning is 100–200 photos per class; below 10 the model sees almost no "
        "variety."
    )
    assert "guess 'daisy' too often" in report.warnings[1].advice
    assert report.warnings[3].advice == (
        "The validation score cannot tell how well it is recognised. Add more photos of it."
    )
    assert str(report.warnings[0]) == f"{report.warnings[0].message} {report.warnings[0].advice}"
    assert report.can_train and report.problems == []

    relaxed = dataset_report(dataset, small_class=2, imbalance_ratio=25)
    assert [w.kind for w in relaxed.warnings if w.kind != "near-duplicates"] == ["tiny-images", "missing-in-split"]


def split_layout(root: Path, plan: dict[str, dict[str, list[int]]]) -> Path:
    """``plan``: {split: {class: [flower indexes]}}; every split folder exists even when empty."""
    for split in data.SPLITS:
        (root / split).mkdir(parents=True, exist_ok=True)
        for cls, indexes in plan.get(split, {}).items():
            (root / split / cls).mkdir(parents=True, exist_ok=True)
            for i in indexes:
                shutil.copy(flower(cls, i), root / split / cls / f"{i}.jpg")
    return root


def test_a_class_without_training_photos_or_an_empty_split_blocks_training(tmp_path):
    root = split_layout(tmp_path / "a", {
        "train": {"daisy": [0, 1, 2]},
        "val": {"daisy": [3], "roses": [0]},
        "test": {"daisy": [4]},
    })
    dataset, report, error = check_folder(root)
    assert error is None and report.layout == "split-folders"
    assert report.problems == [
        "'roses' has no photos in train, so the model cannot learn what it looks like. "
        "Put some of its photos in the train folder."
    ]
    assert not report.can_train
    assert ("missing-in-split", "'roses' has no photos in test.") in [(w.kind, w.message) for w in report.warnings]

    root = split_layout(tmp_path / "b", {"train": {"daisy": [0, 1], "roses": [0, 1]}, "val": {"daisy": [2], "roses": [2]}})
    dataset, report, error = check_folder(root)
    assert error is None
    assert report.problems == [
        "The test split has no photos, so there is nothing to measure the result with. "
        "Put some photos of each class in the test folder."
    ]
    assert not report.can_train


def test_duplicates_across_splits_and_between_classes_are_explained(tmp_path):
    root = split_layout(tmp_path / "photos", {
        "train": {"daisy": [0, 1, 2], "roses": [0, 1, 2]},
        "val": {"daisy": [3], "roses": [3]},
        "test": {"daisy": [4], "roses": [4]},
    })
    shutil.copy(flower("daisy", 0), root / "test" / "daisy" / "copy-of-0.jpg")  # leaks train into test
    shutil.copy(flower("daisy", 1), root / "train" / "roses" / "not-a-rose.jpg")  # one photo, two labels
    dataset, report, error = check_folder(root)
    assert error is None
    assert [(s.path, s.reason) for s in report.duplicates] == [
        ("test/daisy/copy-of-0.jpg", "duplicate of a photo already in train"),
    ]
    assert report.skipped == {"duplicate of a photo already in train": 1}
    kinds = {w.kind: w for w in report.warnings}
    assert kinds["duplicates"].message == "1 photo was an exact copy of another photo; only the first copy of each was kept."
    assert kinds["same-photo"] == Advice(
        "same-photo",
        "The same photo is in both 'daisy' and 'roses'.",
        "One photo cannot belong to two classes: keep it in the right folder only.",
    )


def test_copies_dropped_by_core_data_between_classes_are_flagged():
    """core.photos.datasets may drop a copy *before* splitting ("duplicate of daisy/x.jpg"): a photo in two classes."""
    path = str(flower("daisy", 0))
    dataset = Dataset(
        ["daisy", "roses"],
        {"train": [ImageItem(path, 0), ImageItem(str(flower("roses", 0)), 1)],
         "val": [ImageItem(str(flower("daisy", 1)), 0), ImageItem(str(flower("roses", 1)), 1)],
         "test": [ImageItem(str(flower("daisy", 2)), 0), ImageItem(str(flower("roses", 2)), 1)]},
        source="test", layout="class-folders", root=str(FLOWERS),
        skipped=[SkippedFile(str(FLOWERS / "roses" / "x.jpg"), f"duplicate of daisy/{Path(path).name}"),
                 SkippedFile(str(FLOWERS / "roses" / "y.jpg"), "duplicate of roses/z.jpg")],
    )
    report = dataset_report(dataset)
    assert [w.message for w in report.warnings if w.kind == "same-photo"] == [
        "The same photo is in both 'daisy' and 'roses'."
    ]
    assert report.skipped == {"duplicate of another photo": 2}
    assert [s.path for s in report.duplicates] == ["roses/x.jpg", "roses/y.jpg"]


# --- upload + report -----------------------------------------------------------------------------------------------


def test_report_includes_what_the_upload_left_out(tmp_path):
    import zipfile

    source = make_flower_subset(tmp_path / "src", classes=("daisy", "roses"), per_class=6)
    zip_path = tmp_path / "upload.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for path in sorted(source.rglob("*.jpg")):
            archive.write(path, "photos/" + path.relative_to(source).as_posix())
        archive.writestr("../../escape.jpg", b"x")
        archive.writestr("photos/readme.txt", b"x")
        archive.writestr("__MACOSX/photos/daisy/._a.jpg", b"x")
        archive.writestr("photos/.DS_Store", b"x")
    extraction = extract_zip(zip_path, tmp_path / "dest")
    dataset, report, error = check_folder(tmp_path / "dest", extraction=extraction)
    assert error is None
    assert [(s.path, s.reason) for s in report.skipped_files] == [
        ("../../escape.jpg", "path leaves the upload folder"),
        ("photos/readme.txt", "not an image file (by its name)"),
    ]
    assert report.ignored == 2
    assert report.totals == {"daisy": 6, "roses": 6}


# --- CSV and reasons -------------------------------------------------------------------------------------------------


def test_csv_cells_that_look_like_formulas_stay_text(tmp_path):
    root = tmp_path / "photos"
    copy_photos(root / "=HYPERLINK(1)", "daisy", 3)
    copy_photos(root / "roses, red", "roses", 3)
    (root / "roses, red" / "@evil.txt").write_text("x")
    dataset, report, error = check_folder(root)
    assert error is None
    assert report_to_csv(report).splitlines() == [
        "class,train,val,test,total",
        "'=HYPERLINK(1),1,1,1,3",
        '"roses, red",1,1,1,3',
    ]
    assert skipped_to_csv(report).splitlines()[1] == '"roses, red/@evil.txt",not an image file (by its name)'


def test_reason_groups():
    assert reason_group("too large: 30000x30000 pixels (limit 50,000,000)") == "too large"
    assert reason_group("too large (over 50,000,000 pixels)") == "too large"
    assert reason_group("cannot be decoded (image file is truncated)") == "cannot be decoded"
    assert reason_group("duplicate of a photo already in val") == "duplicate of a photo already in val"
    assert reason_group("duplicate of daisy/1.jpg") == "duplicate of another photo"
    assert reason_group("symbolic link (not followed)") == "symbolic link"
