"""Unpacking uploads safely: hostile zip entries, zip bombs, limits, folder uploads, the session upload area.

Every zip is built here, in tmp_path, at test time: no binary fixtures in the repository.
"""

from __future__ import annotations

import gc
import io
import os
import stat
import struct
import subprocess
import sys
import tempfile
import unicodedata
import warnings
import zipfile
from pathlib import Path

import pytest
from conftest import FLOWERS, ROOT, make_flower_subset

from core.photos import datasets as data
from core.photos import upload
from core.photos.upload import Limits, UploadError, extract_folder_upload, extract_zip, extract_zip_to_temp
from core.photos.upload_area import UploadArea

PHOTO = sorted((FLOWERS / "daisy").glob("*.jpg"))[0]
PHOTO_BYTES = PHOTO.read_bytes()

NOT_A_ZIP = (
    "This file is not a zip archive, or it is damaged. Put your photo folders in a zip "
    "(Windows: right-click → Send to → Compressed folder; Mac: right-click → Compress) and upload that."
)
NO_PHOTOS = (
    "No photos were found in your upload (we look for these file types: bmp, gif, heic, heif, jpeg, jpg, png, "
    "tif, tiff, webp). Check that you zipped the folders with your photos in them."
)


def snapshot(folder: Path, exclude: Path | None = None) -> set[str]:
    """Every path under ``folder`` (except under ``exclude``), to prove an upload wrote nothing else."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if exclude is None or not path.is_relative_to(exclude):
                found.add(str(path))
    return found


def make_zip(path: Path, entries) -> Path:
    """``entries``: ``(name or ZipInfo, bytes)`` pairs, written exactly as given (no name clean-up)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": on purpose
        for name, content in entries:
            if isinstance(name, zipfile.ZipInfo):
                name.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(name, content)
    return path


def unix_entry(name: str, kind: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: the high 16 bits of external_attr are st_mode
    info.external_attr = (kind | 0o777) << 16
    return info


def zip_folder(folder: Path, zip_path: Path, prefix: str = "") -> Path:
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, prefix + path.relative_to(folder).as_posix())
    return zip_path


@pytest.fixture
def area(tmp_path):
    """Where hostile uploads go: ``tmp_path/box/dest``, so ``../`` and ``../../`` land in watched folders.

    Afterwards, anything new outside ``tmp_path/in`` (the test's inputs) and ``tmp_path/box/dest*``
    (the test's destinations) fails the test.
    """
    dest = tmp_path / "box" / "dest"
    before = snapshot(tmp_path)
    yield dest

    def allowed(path: Path) -> bool:
        if path.is_relative_to(tmp_path / "in") or path.is_relative_to(tmp_path / "tmp"):
            return True
        if path == tmp_path / "box":
            return True
        return path.is_relative_to(tmp_path / "box") and path.relative_to(tmp_path / "box").parts[0].startswith("dest")

    written_outside = {p for p in snapshot(tmp_path) - before if not allowed(Path(p))}
    assert not written_outside, f"written outside dest: {written_outside}"


# --- hostile entries ---------------------------------------------------------------------------------------


def test_hostile_entries_are_skipped_with_reasons_and_nothing_leaves_dest(tmp_path, area):
    absolute_target = tmp_path / "absolute-evil.jpg"
    entries = [
        ("photos/daisy/good.jpg", PHOTO_BYTES),
        ("../evil.jpg", b"x"),
        ("../../evil2.jpg", b"x"),
        ("photos/../../evil3.jpg", b"x"),
        (str(absolute_target), b"x"),
        ("C:\\Windows\\evil.jpg", b"x"),
        ("C:evil.jpg", b"x"),
        ("..\\..\\evil4.jpg", b"x"),
        ("\\\\server\\share\\evil.jpg", b"x"),
        ("photos/daisy/C:evil.jpg", b"x"),
        (unix_entry("photos/daisy/link.jpg", stat.S_IFLNK), str(PHOTO).encode()),
        (unix_entry("photos/daisy/passwd.jpg", stat.S_IFLNK), b"/etc/passwd"),
        (unix_entry("photos/daisy/device.jpg", stat.S_IFCHR), b""),
        (unix_entry("photos/daisy/pipe.jpg", stat.S_IFIFO), b""),
        ("__MACOSX/", b""),
        ("__MACOSX/photos/daisy/._good.jpg", b"\x00\x05\x16\x07"),
        ("photos/.DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("photos/daisy/Thumbs.db", b"x"),
        ("photos/daisy/.hidden.jpg", PHOTO_BYTES),
        ("photos/.git/config.jpg", b"x"),
        ("photos/readme.txt", b"hello"),
        ("photos/daisy/run.sh", b"rm -rf /"),
        ("photos/daisy/good.jpg", PHOTO_BYTES),
        ("photos/daisy/bad\nname.jpg", b"x"),
        ("/".join(["deep"] * 25) + "/x.jpg", b"x"),
    ]
    report = extract_zip(make_zip(tmp_path / "in" / "hostile.zip", entries), area)

    assert report.files == ["photos/daisy/good.jpg"]
    assert (area / "photos/daisy/good.jpg").read_bytes() == PHOTO_BYTES
    assert [(s.name, s.reason) for s in report.skipped] == [
        ("../evil.jpg", "path leaves the upload folder"),
        ("../../evil2.jpg", "path leaves the upload folder"),
        ("photos/../../evil3.jpg", "path leaves the upload folder"),
        (str(absolute_target), "absolute path (it points outside the upload folder)"),
        ("C:\\Windows\\evil.jpg", "absolute path (it points outside the upload folder)"),
        ("C:evil.jpg", "absolute path (it points outside the upload folder)"),
        ("..\\..\\evil4.jpg", "path leaves the upload folder"),
        ("\\\\server\\share\\evil.jpg", "absolute path (it points outside the upload folder)"),
        ("photos/daisy/C:evil.jpg", "path leaves the upload folder"),
        ("photos/daisy/link.jpg", "symbolic link"),
        ("photos/daisy/passwd.jpg", "symbolic link"),
        ("photos/daisy/device.jpg", "special file (device, pipe or socket)"),
        ("photos/daisy/pipe.jpg", "special file (device, pipe or socket)"),
        ("__MACOSX/photos/daisy/._good.jpg", "hidden/system file"),
        ("photos/.DS_Store", "hidden/system file"),
        ("photos/daisy/Thumbs.db", "hidden/system file"),
        ("photos/daisy/.hidden.jpg", "hidden/system file"),
        ("photos/.git/config.jpg", "hidden/system file"),
        ("photos/readme.txt", "not an image file (by its name)"),
        ("photos/daisy/run.sh", "not an image file (by its name)"),
        ("photos/daisy/good.jpg", "duplicate name in the upload"),
        ("photos/daisy/bad⟨U+000A⟩name.jpg", "name holds an invisible control character (U+000A)"),
        ("/".join(["deep"] * 25) + "/x.jpg", "too many folders inside folders"),
    ]
    assert [s.name for s in report.ignored] == [
        "__MACOSX/photos/daisy/._good.jpg", "photos/.DS_Store", "photos/daisy/Thumbs.db",
        "photos/daisy/.hidden.jpg", "photos/.git/config.jpg",
    ]
    assert len(report.problems) == len(report.skipped) - 5
    assert not absolute_target.exists()
    assert not any(p.is_symlink() for p in area.rglob("*"))
    assert snapshot(area) == {str(area / "photos"), str(area / "photos/daisy"), str(area / "photos/daisy/good.jpg")}


def test_existing_symlink_in_dest_is_never_followed(tmp_path):
    """Even if something planted a link inside dest, unpacking never writes through it."""
    dest = tmp_path / "dest"
    outside = tmp_path / "outside"
    outside.mkdir()
    dest.mkdir()
    (dest / "daisy").symlink_to(outside, target_is_directory=True)
    (dest / "roses").mkdir()
    (dest / "roses" / "a.jpg").symlink_to(outside / "a.jpg")
    zip_path = make_zip(tmp_path / "in" / "x.zip", [
        ("daisy/a.jpg", PHOTO_BYTES), ("roses/a.jpg", PHOTO_BYTES), ("tulips/a.jpg", PHOTO_BYTES),
    ])
    report = extract_zip(zip_path, dest)
    assert report.files == ["tulips/a.jpg"]
    assert [(s.name, s.reason) for s in report.skipped] == [
        ("daisy/a.jpg", "a file and a folder have the same name"),
        ("roses/a.jpg", "a file with this name already exists"),
    ]
    assert list(outside.iterdir()) == []


# --- zip bombs and limits ----------------------------------------------------------------------------------


def test_highly_compressible_big_file_is_refused_before_unpacking(tmp_path, area):
    zeros = bytes(60 * upload.MB)  # 60 MB of zeros squeeze into ~60 KB
    zip_path = make_zip(tmp_path / "in" / "bomb.zip", [("daisy/huge.bmp", zeros), ("daisy/ok.jpg", PHOTO_BYTES)])
    assert zip_path.stat().st_size < upload.MB

    report = extract_zip(zip_path, area)
    assert report.files == ["daisy/ok.jpg"]
    assert [(s.name, s.reason) for s in report.skipped] == [
        ("daisy/huge.bmp", "too big (60.0 MB; the limit is 50.0 MB per file)"),
    ]
    # under the per-file limit, the compression ratio still gives a bomb away
    zip_path = make_zip(tmp_path / "in" / "ratio.zip", [("daisy/flat.bmp", bytes(20 * upload.MB)), ("daisy/ok.jpg", PHOTO_BYTES)])
    report = extract_zip(zip_path, tmp_path / "box" / "dest2")
    assert [(s.name, s.reason) for s in report.skipped] == [
        ("daisy/flat.bmp", "suspiciously compressed (possible zip bomb)"),
    ]


def test_total_size_over_the_limit_is_fatal_and_writes_nothing(tmp_path, area):
    entries = [(f"daisy/{i}.bmp", os.urandom(400_000)) for i in range(3)]  # incompressible: ratio is fine
    zip_path = make_zip(tmp_path / "in" / "big.zip", entries)
    with pytest.raises(UploadError) as caught:
        extract_zip(zip_path, area, Limits(max_total_bytes=upload.MB))
    assert str(caught.value) == (
        "Your upload unpacks to 1.1 MB; the limit is 1.0 MB. "
        "Use fewer or smaller photos (a few hundred photos per class is plenty)."
    )
    assert isinstance(caught.value, ValueError)
    assert not area.exists()


def test_too_many_files_and_entries_are_fatal(tmp_path, area):
    zip_path = make_zip(tmp_path / "in" / "many.zip", [(f"daisy/{i}.jpg", b"x") for i in range(6)] + [("a.txt", b"")])
    with pytest.raises(UploadError) as caught:
        extract_zip(zip_path, area, Limits(max_files=5))
    assert str(caught.value) == (
        "Your upload holds 6 photos; the limit is 5. Use fewer photos (a few hundred per class is plenty)."
    )
    with pytest.raises(UploadError) as caught:
        extract_zip(zip_path, area, Limits(max_entries=5))
    assert str(caught.value) == (
        "Your upload holds 7 files and folders; the limit is 5. "
        "Zip only the folders with your photos (a few hundred photos per class is plenty)."
    )
    assert not area.exists()


def _patch_sizes(zip_bytes: bytes, name: bytes, new_size: int) -> bytes:
    """Make the zip *declare* ``new_size`` uncompressed bytes for entry ``name`` (local and central headers)."""
    data = bytearray(zip_bytes)
    # (signature, offset of the uncompressed size, of the name length, of the name)
    for signature, size_at, length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = data.find(signature)
        while at >= 0:
            (length,) = struct.unpack_from("<H", data, at + length_at)
            if bytes(data[at + name_at : at + name_at + length]) == name:
                struct.pack_into("<I", data, at + size_at, new_size)
            at = data.find(signature, at + 4)
    return bytes(data)


def test_declared_sizes_that_lie_are_caught_while_unpacking(tmp_path, area):
    big = os.urandom(300_000)
    raw = make_zip(tmp_path / "in" / "honest.zip", [("daisy/liar.bmp", big), ("daisy/ok.jpg", PHOTO_BYTES)]).read_bytes()
    lying = tmp_path / "in" / "lying.zip"
    lying.write_bytes(_patch_sizes(raw, b"daisy/liar.bmp", 1_000))
    with zipfile.ZipFile(lying) as check:
        assert check.getinfo("daisy/liar.bmp").file_size == 1_000

    report = extract_zip(lying, area)
    assert report.files == ["daisy/ok.jpg"]
    assert [(s.name, s.reason) for s in report.skipped] == [("daisy/liar.bmp", "damaged inside the zip")]
    assert not (area / "daisy" / "liar.bmp").exists()


def test_bytes_are_counted_while_streaming_even_if_the_reader_returns_more(tmp_path, area, monkeypatch):
    """Defence in depth: should a zip reader ever hand out more than the declared size, we stop at once."""
    zip_path = make_zip(tmp_path / "in" / "x.zip", [("daisy/a.jpg", PHOTO_BYTES), ("daisy/b.jpg", PHOTO_BYTES)])
    real_open = zipfile.ZipFile.open

    def generous_open(self, info, *args, **kwargs):
        if getattr(info, "filename", info) == "daisy/b.jpg":
            return io.BytesIO(PHOTO_BYTES + bytes(10 * upload.MB))
        return real_open(self, info, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", generous_open)
    report = extract_zip(zip_path, area)
    assert report.files == ["daisy/a.jpg"]
    assert [(s.name, s.reason) for s in report.skipped] == [
        ("daisy/b.jpg", "damaged inside the zip (its size information is wrong)"),
    ]
    assert not (area / "daisy" / "b.jpg").exists()
    assert report.total_bytes == len(PHOTO_BYTES)


# --- not a zip, nothing usable -------------------------------------------------------------------------------


def test_files_that_are_not_zips_are_refused(tmp_path, area):
    (tmp_path / "in").mkdir()
    text = tmp_path / "in" / "photos.zip"
    text.write_text("these are not the photos you are looking for")
    truncated = tmp_path / "in" / "half.zip"
    whole = zip_folder(make_flower_subset(tmp_path / "in" / "src", per_class=3), tmp_path / "in" / "whole.zip").read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    for source in (text, truncated, io.BytesIO(b""), io.BytesIO(PHOTO_BYTES)):
        with pytest.raises(UploadError) as caught:
            extract_zip(source, area)
        assert str(caught.value) == NOT_A_ZIP
    with pytest.raises(UploadError, match=r"^The file missing\.zip was not found\.$"):
        extract_zip(tmp_path / "in" / "missing.zip", area)
    assert not area.exists()


def test_zip_without_photos_is_refused(tmp_path, area):
    zip_path = make_zip(tmp_path / "in" / "none.zip", [
        ("__MACOSX/._a.jpg", b"x"), (".DS_Store", b"x"), ("notes.txt", b"x"), ("daisy/", b""),
    ])
    with pytest.raises(UploadError) as caught:
        extract_zip(zip_path, area)
    assert str(caught.value) == NO_PHOTOS
    assert not area.exists()


def test_zip_whose_photos_are_all_unreadable_is_refused_and_undone(tmp_path, area):
    raw = make_zip(tmp_path / "in" / "x.zip", [("daisy/a.jpg", os.urandom(5000))]).read_bytes()
    broken = tmp_path / "in" / "broken.zip"
    broken.write_bytes(_patch_sizes(raw, b"daisy/a.jpg", 10))  # CRC no longer matches
    with pytest.raises(UploadError) as caught:
        extract_zip(broken, area)
    assert str(caught.value) == NO_PHOTOS
    assert not area.exists()


def test_password_protected_entries_are_skipped(tmp_path, area):
    raw = bytearray(make_zip(tmp_path / "in" / "x.zip", [("daisy/a.jpg", PHOTO_BYTES), ("daisy/secret.jpg", b"x" * 100)]).read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.rfind(signature)  # the last local header / the last central entry: secret.jpg
        struct.pack_into("<H", raw, at + flag_offset, struct.unpack_from("<H", raw, at + flag_offset)[0] | 1)
    locked = tmp_path / "in" / "locked.zip"
    locked.write_bytes(bytes(raw))
    report = extract_zip(locked, area)
    assert report.files == ["daisy/a.jpg"]
    assert [(s.name, s.reason) for s in report.skipped] == [("daisy/secret.jpg", "password-protected")]


# --- names ---------------------------------------------------------------------------------------------------


def test_backslash_names_accents_and_file_like_sources(tmp_path, area):
    decomposed = unicodedata.normalize("NFD", "Gänseblümchen")
    entries = [("photos\\daisy\\old-windows.jpg", PHOTO_BYTES), (f"photos/{decomposed}/mac.jpg", PHOTO_BYTES)]
    buffer = io.BytesIO(make_zip(tmp_path / "in" / "x.zip", entries).read_bytes())
    buffer.seek(0, io.SEEK_END)  # an UploadedFile someone already read: we rewind it
    report = extract_zip(buffer, area)
    assert report.files == ["photos/daisy/old-windows.jpg", "photos/Gänseblümchen/mac.jpg"]
    assert (area / "photos" / "Gänseblümchen" / "mac.jpg").is_file()  # NFC on disk


def test_utf8_names_without_the_utf8_flag_are_repaired(tmp_path, area):
    raw = bytearray(make_zip(tmp_path / "in" / "x.zip", [("fleurs/marguerite-été/a.jpg", PHOTO_BYTES)]).read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(signature)
        struct.pack_into("<H", raw, at + flag_offset, struct.unpack_from("<H", raw, at + flag_offset)[0] & ~0x800)
    unflagged = tmp_path / "in" / "unflagged.zip"
    unflagged.write_bytes(bytes(raw))
    with zipfile.ZipFile(unflagged) as check:
        assert check.namelist() != ["fleurs/marguerite-été/a.jpg"]  # zipfile alone reads it as cp437
    assert extract_zip(unflagged, area).files == ["fleurs/marguerite-été/a.jpg"]


# --- real photo zips through core.photos.datasets ---------------------------------------------------------------------


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """tempfile.mkdtemp inside tmp_path, so tests can count upload folders without seeing other runs."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_flower_zip_with_class_folders_loads_via_load_dataset(tmp_path, private_tmp):
    source = make_flower_subset(tmp_path / "in" / "src", classes=("daisy", "roses", "tulips"), per_class=8)
    zip_path = zip_folder(source, tmp_path / "in" / "my flowers.zip", prefix="my flowers/")
    with zipfile.ZipFile(zip_path, "a") as archive:  # what a Mac adds
        archive.writestr("__MACOSX/my flowers/daisy/._x.jpg", b"\x00\x05\x16\x07")
        archive.writestr("my flowers/.DS_Store", b"Bud1")

    dataset = data.load_dataset(str(zip_path), seed=3)
    assert dataset.class_names == ["daisy", "roses", "tulips"]
    assert dataset.layout == "class-folders"
    assert dataset.source == "your photos from my flowers.zip"
    assert {name: sum(dataset.counts()[s][name] for s in data.SPLITS) for name in dataset.class_names} == {
        "daisy": 8, "roses": 8, "tulips": 8,
    }
    assert dataset.counts()["train"] == {"daisy": 6, "roses": 6, "tulips": 6}
    (folder,) = private_tmp.iterdir()
    assert folder.name.startswith("tll-upload-")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert Path(dataset.root).is_relative_to(folder)


def test_flower_zip_with_train_val_test_loads_via_load_dataset(tmp_path, private_tmp):
    source = make_flower_subset(tmp_path / "in" / "src", classes=("daisy", "sunflowers"), per_class=10, layout="split")
    zip_path = zip_folder(source, tmp_path / "in" / "split.zip")
    dataset = data.load_dataset(str(zip_path))
    assert dataset.class_names == ["daisy", "sunflowers"]
    assert dataset.layout == "split-folders"
    assert dataset.counts() == {
        "train": {"daisy": 6, "sunflowers": 6},
        "val": {"daisy": 2, "sunflowers": 2},
        "test": {"daisy": 2, "sunflowers": 2},
    }


def test_load_dataset_on_a_hostile_zip_keeps_everything_in_its_temp_folder(tmp_path, private_tmp):
    source = make_flower_subset(tmp_path / "in" / "src", classes=("daisy", "roses"), per_class=4)
    zip_path = zip_folder(source, tmp_path / "in" / "hostile.zip")
    with zipfile.ZipFile(zip_path, "a") as archive:
        archive.writestr("../../../escaped.jpg", PHOTO_BYTES)
        archive.writestr(str(tmp_path / "absolute.jpg"), PHOTO_BYTES)
        archive.writestr(unix_entry("roses/link.jpg", stat.S_IFLNK), b"/etc/passwd")
    before = snapshot(tmp_path, exclude=private_tmp)
    dataset = data.load_dataset(str(zip_path))
    assert dataset.class_names == ["daisy", "roses"]
    assert sum(len(dataset.paths(s)) for s in data.SPLITS) == 8
    assert snapshot(tmp_path, exclude=private_tmp) == before

    folder, report = upload.unpack_zip_to_temp(zip_path)
    assert folder.parent == private_tmp and len(report.files) == 8
    assert [(s.name, s.reason) for s in report.skipped] == [
        ("../../../escaped.jpg", "path leaves the upload folder"),
        (str(tmp_path / "absolute.jpg"), "absolute path (it points outside the upload folder)"),
        ("roses/link.jpg", "symbolic link"),
    ]


def test_extract_zip_to_temp_leaves_nothing_behind_on_failure(tmp_path, private_tmp):
    bad = tmp_path / "in" / "bad.zip"
    bad.parent.mkdir()
    bad.write_bytes(b"PK nonsense")
    with pytest.raises(UploadError):
        extract_zip_to_temp(bad)
    with pytest.raises(UploadError):
        data.load_dataset(str(bad))
    assert list(private_tmp.iterdir()) == []


# --- folder uploads ------------------------------------------------------------------------------------------


def test_folder_upload_follows_the_same_rules(tmp_path, area):
    files = [
        ("photos/daisy/a.jpg", PHOTO_BYTES),
        ("photos/roses/b.jpg", io.BytesIO(PHOTO_BYTES)),
        ("../evil.jpg", b"x"),
        ("/tmp/evil.jpg", b"x"),
        ("C:\\evil.jpg", b"x"),
        ("photos/.DS_Store", b"x"),
        ("photos/notes.txt", b"x"),
        ("photos/daisy/a.jpg", PHOTO_BYTES),
        ("photos/roses/huge.png", bytes(2 * upload.MB)),
    ]
    report = extract_folder_upload(files, area, Limits(max_file_bytes=upload.MB))
    assert report.files == ["photos/daisy/a.jpg", "photos/roses/b.jpg"]
    assert [(s.name, s.reason) for s in report.skipped] == [
        ("../evil.jpg", "path leaves the upload folder"),
        ("/tmp/evil.jpg", "absolute path (it points outside the upload folder)"),
        ("C:\\evil.jpg", "absolute path (it points outside the upload folder)"),
        ("photos/.DS_Store", "hidden/system file"),
        ("photos/notes.txt", "not an image file (by its name)"),
        ("photos/daisy/a.jpg", "duplicate name in the upload"),
        ("photos/roses/huge.png", "too big (2.0 MB; the limit is 1.0 MB per file)"),
    ]
    assert report.total_bytes == 2 * len(PHOTO_BYTES)
    with pytest.raises(UploadError) as caught:
        extract_folder_upload([("notes.txt", b"x")], tmp_path / "box" / "dest-other")
    assert str(caught.value) == NO_PHOTOS.replace("you zipped the folders", "you chose the folder")
    with pytest.raises(UploadError) as caught:
        extract_folder_upload([(f"a/{i}.jpg", b"x") for i in range(4)], tmp_path / "box" / "dest-other", Limits(max_entries=3))
    assert str(caught.value) == (
        "Your upload holds 4 files and folders; the limit is 3. "
        "Choose only the folders with your photos (a few hundred photos per class is plenty)."
    )
    assert not (tmp_path / "box" / "dest-other").exists()


def test_folder_upload_counts_streamed_bytes_against_the_total(tmp_path, area):
    class Unsized(io.RawIOBase):  # a stream that does not say how big it is
        def __init__(self, size):
            self.left = size

        def readable(self):
            return True

        def read(self, n=-1):
            n = self.left if n < 0 else min(n, self.left)
            self.left -= n
            return b"\xff" * n

    with pytest.raises(UploadError, match=r"^Your upload unpacks to more than 1\.0 MB; the limit is 1\.0 MB\."):
        extract_folder_upload([("a/1.jpg", Unsized(700_000)), ("a/2.jpg", Unsized(700_000))], area,
                              Limits(max_total_bytes=upload.MB))
    assert not area.exists()


# --- the per-session upload area -----------------------------------------------------------------------------


def test_upload_area_replaces_cleans_up_and_goes_with_its_owner(tmp_path, private_tmp):
    one = make_zip(tmp_path / "in" / "one.zip", [("daisy/a.jpg", PHOTO_BYTES), ("roses/b.jpg", PHOTO_BYTES)])
    two = make_zip(tmp_path / "in" / "two.zip", [("tulips/c.jpg", PHOTO_BYTES)])

    area = UploadArea()
    assert area.root.parent == private_tmp and area.root.name.startswith("tll-upload-")
    first = area.replace(one)
    assert first.files == ["daisy/a.jpg", "roses/b.jpg"] and area.report is first
    second = area.replace(io.BytesIO(two.read_bytes()))
    assert second.files == ["tulips/c.jpg"]
    assert sorted(p.name for p in area.folder.iterdir()) == ["tulips"]  # the first upload is gone

    bad = tmp_path / "in" / "bad.zip"
    bad.write_text("nope")
    with pytest.raises(UploadError):
        area.replace(bad)
    assert not area.folder.exists() and area.report is None  # a failed upload leaves nothing half-done

    third = area.replace_files([("x/daisy/d.jpg", PHOTO_BYTES)])
    assert third.files == ["x/daisy/d.jpg"]
    area.clear()
    assert not area.folder.exists() and area.root.is_dir()

    area.cleanup()
    assert not area.root.exists() and not area.alive
    area.cleanup()  # twice is fine
    with pytest.raises(RuntimeError):
        area.replace(one)

    owned = UploadArea()
    owned.replace(one)
    root = owned.root
    del owned
    gc.collect()
    assert not root.exists()  # a Streamlit session's state was dropped: its upload went with it

    with UploadArea() as scoped:
        scoped.replace(two)
        root = scoped.root
    assert not root.exists()
    assert list(private_tmp.iterdir()) == []


def test_an_upload_is_named_as_the_student_knows_it_not_by_its_server_folder(tmp_path, private_tmp):
    photos = make_flower_subset(tmp_path / "in" / "mine", classes=("daisy", "roses"), per_class=8)
    with UploadArea() as area:
        area.replace(zip_folder(photos, tmp_path / "in" / "mine.zip"))
        uploaded = data.load_folder(area.folder, seed=3)
        assert uploaded.source == "your uploaded photos" and str(private_tmp) not in uploaded.source
    assert data.load_folder(photos, seed=3).source == f"your photos in {photos.resolve()}"  # a command-line run


def test_core_modules_import_neither_streamlit_nor_tensorflow():
    code = (
        "import sys; import core.photos.upload, core.photos.upload_area, core.photos.report, core.photos.images, core.utils.safe_text, core.training.feature_store; "
        "bad = {'streamlit', 'tensorflow', 'keras'} & set(sys.modules); assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# --- a training's own snapshot: leases on upload versions ------------------------------------------------------


def test_a_lease_keeps_its_upload_while_newer_uploads_arrive(tmp_path, private_tmp):
    one = make_zip(tmp_path / "in" / "one.zip", [("daisy/a.jpg", PHOTO_BYTES), ("roses/b.jpg", PHOTO_BYTES)])
    two = make_zip(tmp_path / "in" / "two.zip", [("tulips/c.jpg", PHOTO_BYTES)])
    area = UploadArea()
    with pytest.raises(UploadError, match="No photos uploaded yet"):
        area.lease()
    area.replace(one)
    first_folder = area.folder
    lease = area.lease()
    assert lease.folder == first_folder and area.leased() == 1
    area.replace(two)  # a new upload while a training reads the first one
    assert area.folder != first_folder
    assert sorted(p.name for p in area.folder.iterdir()) == ["tulips"]
    assert sorted(p.name for p in first_folder.iterdir()) == ["daisy", "roses"]  # untouched
    area.clear()
    assert (first_folder / "daisy" / "a.jpg").read_bytes() == PHOTO_BYTES
    lease.release()
    lease.release()  # twice is fine
    assert not first_folder.exists() and area.leased() == 0

    area.replace(one)
    with area.lease() as current:  # releasing the current version keeps it: it is still the upload
        assert current.held
    assert not current.held and area.folder.is_dir()
    area.cleanup()
    assert not area.root.exists()


def test_a_lease_outlives_its_area(tmp_path, private_tmp):
    """A session that ends (its area dropped or cleaned up) while its training runs: the photos stay until
    the training releases them, then everything goes."""
    one = make_zip(tmp_path / "in" / "one.zip", [("daisy/a.jpg", PHOTO_BYTES), ("roses/b.jpg", PHOTO_BYTES)])
    area = UploadArea()
    area.replace(one)
    lease = area.lease()
    root = area.root
    area.cleanup()
    assert not area.alive and lease.folder.is_dir()
    with pytest.raises(RuntimeError):
        area.lease()
    lease.release()
    assert not root.exists()

    area = UploadArea()
    area.replace(one)
    lease = area.lease()
    root = area.root
    del area
    gc.collect()
    assert lease.folder.is_dir()  # the lease keeps the area alive
    del lease
    gc.collect()
    assert not root.exists()
    assert list(private_tmp.iterdir()) == []


# --- names: NFC, control and text-direction characters -------------------------------------------------------

RLO = "\u202e"


@pytest.mark.parametrize("name, reason", [
    (f"photos/roses{RLO}gpj/a.jpg", "name holds a text-direction character that can disguise it "
                                    "(a right-to-left override, U+202E)"),
    ("photos/dai\u0085sy/a.jpg", "name holds an invisible control character (U+0085)"),
    ("photos/daisy/a\u2066b.jpg", "name holds a text-direction character that can disguise it "
                                  "(a left-to-right isolate, U+2066)"),
    ("photos/dai\u200bsy/a.jpg", "name holds an invisible character (a zero-width space, U+200B)"),
])
def test_names_with_hidden_characters_are_refused_and_shown_written_out(tmp_path, name, reason):
    entries = [("photos/daisy/good.jpg", PHOTO_BYTES), (name, PHOTO_BYTES)]
    report = extract_zip(make_zip(tmp_path / "in.zip", entries), tmp_path / "out")
    assert report.files == ["photos/daisy/good.jpg"]
    [skipped] = report.skipped
    assert skipped.reason == reason
    assert skipped.name.isprintable() and "⟨U+" in skipped.name  # the refused name cannot disguise itself
    files = extract_folder_upload([("photos/daisy/good.jpg", PHOTO_BYTES), (name, PHOTO_BYTES)], tmp_path / "f")
    assert [s.reason for s in files.skipped] == [reason]


def test_decomposed_names_become_one_nfc_class(tmp_path):
    decomposed = unicodedata.normalize("NFD", "rosé")
    entries = [(f"{decomposed}/a.jpg", PHOTO_BYTES), ("daisy/b.jpg", PHOTO_BYTES)]
    report = extract_zip(make_zip(tmp_path / "in.zip", entries), tmp_path / "out")
    assert report.files[0] == "rosé/a.jpg" and unicodedata.is_normalized("NFC", report.files[0])


def test_class_folders_on_disk_are_checked_too(tmp_path):
    """A folder given on the command line (or unpacked by other tools) goes through the same rules."""
    folder = make_flower_subset(tmp_path / "d", classes=("daisy", "roses"), per_class=4)
    (folder / "roses").rename(folder / unicodedata.normalize("NFD", "rosé"))
    disguised = folder / f"tulips{RLO}"
    disguised.mkdir()
    (disguised / "a.jpg").write_bytes(PHOTO_BYTES)
    (folder / "daisy" / "x\u009by.jpg").write_bytes(PHOTO_BYTES)
    dataset = data.load_folder(folder)
    assert dataset.class_names == ["daisy", "rosé"]
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in dataset.skipped}
    assert reasons["tulips⟨U+202E⟩"].startswith("class folder name holds a text-direction character")
    assert reasons["x⟨U+009B⟩y.jpg"] == "name holds an invisible control character (U+009B)"
