"""Zip uploads: the compression ratio of the whole archive counts, and a session's upload area has a quota."""

import io
import zipfile

import pytest
from PIL import Image

from core.photos.upload import extract_zip
from core.photos.upload_area import UploadArea
from core.photos.upload_rules import UploadError

MIB = 1024 * 1024


def _squeezed_zip(entries: int = 490, size: int = MIB - 1024) -> bytes:
    """Many entries just under the per-entry ratio check's 1 MiB, each squeezed to about 1 KB."""
    buffer = io.BytesIO()
    block = b"\0" * size
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(entries):
            archive.writestr(f"{'daisy' if i % 2 else 'rose'}/{i}.jpg", block)
    return buffer.getvalue()


def _photo_zip(count: int, side: int = 256) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(count):
            photo = io.BytesIO()
            Image.effect_noise((side, side), 60).convert("RGB").save(photo, "BMP")  # noise: barely compresses
            archive.writestr(f"{'daisy' if i % 2 else 'rose'}/{i}.bmp", photo.getvalue())
    return buffer.getvalue()


def test_a_zip_of_many_slightly_small_squeezed_entries_is_refused_before_anything_is_written(tmp_path):
    data = _squeezed_zip()
    assert len(data) < 1 * MIB  # about 0.5 MB that would unpack to about 490 MB
    with pytest.raises(UploadError, match="squeezed"):
        extract_zip(io.BytesIO(data), tmp_path / "out")
    written = sum(f.stat().st_size for f in tmp_path.rglob("*") if f.is_file())
    assert written == 0


def test_ordinary_photo_zips_still_unpack(tmp_path):
    report = extract_zip(io.BytesIO(_photo_zip(6)), tmp_path / "out")
    assert len(report.files) == 6


def test_the_upload_area_keeps_to_its_quota_while_a_training_holds_the_last_upload(monkeypatch):
    photos = _photo_zip(10)  # 10 x 192 KB
    monkeypatch.setenv("TLL_UPLOAD_AREA_MB", "3")
    with UploadArea() as area:
        area.replace(io.BytesIO(photos))
        with area.lease():  # a training reads the first upload: its ~1.9 MB count against the 3 MB
            with pytest.raises(UploadError, match="unpacks to"):
                area.replace(io.BytesIO(photos))
        area.replace(io.BytesIO(photos))  # once released, the old version goes and the new one fits
        on_disk = sum(f.stat().st_size for f in area.root.rglob("*") if f.is_file())
        assert on_disk <= 3 * MIB
