"""A student's own dataset, built photo by photo: a folder of class folders that trains like any upload.

Every photo is stored once, small and without its metadata: decoded with ``core.photos.images``'s limits,
turned upright (EXIF orientation), shrunk to at most ``LONGEST_SIDE`` pixels on its longer side (the models
read 224 px or less) and re-encoded as a JPEG without EXIF, so a phone photo's GPS position never reaches the
disk and the original bytes are never kept. A per-student budget (``TLL_OWN_PHOTOS_MB``) bounds the disk.

The caller chooses the folder (the page puts it in the student's folder of the classroom store). Plain
Python + Pillow: no Streamlit, no TensorFlow.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import tempfile
import threading
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from PIL import Image

from core.photos.datasets import SPLIT_FOLDER_NAMES, DatasetError, load_folder
from core.photos.images import IMAGE_SUFFIXES, ImageProblem, is_hidden_or_system, open_rgb
from core.photos.upload import extract_zip
from core.photos.upload_rules import (
    DEFAULT_LIMITS,
    MB,
    OWN_PHOTOS_MARKER,
    REASON_NOT_IMAGE,
    TEMP_PREFIX,
    Limits,
    SkippedEntry,
    file_too_big,
    megabytes,
)
from core.utils.safe_text import name_problem

LONGEST_SIDE = 512
JPEG_QUALITY = 88
MAX_CLASSES = 20
MAX_CLASS_NAME = 40
ZIP_FOLDER = "my_dataset"  # the lesson's name for a dataset folder
IN_STUDENT_FOLDER = "my_photos"  # where the pages keep it inside a student's folder of the classroom store
# Formats Pillow may open here, checked from the header before decoding (MPO: many phones' JPEGs).
ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF"}
_SPLIT_NAMES = {alias for aliases in SPLIT_FOLDER_NAMES.values() for alias in aliases}
_WINDOWS_BAD_CHARS = set('<>:"/\\|?*')
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def default_budget_bytes() -> int:
    """``TLL_OWN_PHOTOS_MB``, default 100 MB: thousands of 512 px photos, several times the lesson's advice for
    a few classes (README, "Your own photos from a phone", has the measured sizes)."""
    value = os.environ.get("TLL_OWN_PHOTOS_MB", "").strip()
    return (int(value) if value.isdigit() and int(value) > 0 else 100) * MB


class OwnDatasetError(ValueError):
    """An action on the dataset that cannot be done; the message says why, in words a student understands."""


@dataclass
class AddReport:
    """What happened to a batch of photos: ``added`` (stored names) and ``skipped`` (name and reason)."""

    added: list[str] = field(default_factory=list)
    skipped: list[SkippedEntry] = field(default_factory=list)
    full: str | None = None  # the budget message, when the space ran out during this batch
    classes_made: list[str] = field(default_factory=list)


def class_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a class, or None: the upload rules (hidden characters), plus what a folder name
    must not be on any computer the zip goes to."""
    problem = name_problem(name)
    if problem:
        return f"The class name {problem}."
    text = unicodedata.normalize("NFC", name).strip()
    if not text:
        return "Type a name for the class."
    if len(text) > MAX_CLASS_NAME:
        return f"A class name has at most {MAX_CLASS_NAME} characters."
    if set(text) & _WINDOWS_BAD_CHARS:
        return "A class name cannot hold any of these: < > : \" / \\ | ? * (they are not allowed in folder names)."
    if text.startswith(".") or text.endswith("."):
        return "A class name cannot start or end with a dot (such folders are hidden or not allowed)."
    if text.casefold() in _SPLIT_NAMES:
        return f"“{text}” is one of the lesson's split folder names (train, val, test): pick another class name."
    return None


def clean_class_name(name: str) -> str:
    """``name`` in NFC without outer spaces, or raise ``OwnDatasetError`` with the reason."""
    problem = class_name_problem(name or "")
    if problem:
        raise OwnDatasetError(problem)
    return unicodedata.normalize("NFC", name).strip()


def _lock_for(folder: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(folder), threading.Lock())


def _new_photo_name() -> str:
    """Names sort in the order photos arrived (nanoseconds), with a random tail for photos in the same instant."""
    return f"{time.time_ns()}-{secrets.token_hex(3)}.jpg"


def small_jpeg(source, longest_side: int = LONGEST_SIDE) -> bytes:
    """The photo upright, at most ``longest_side`` px, as a JPEG without EXIF; or raise ``ImageProblem``.

    The format is read from the header first: only photo formats are decoded (never EPS or PDF)."""
    try:
        if hasattr(source, "seek"):
            source.seek(0)
        with Image.open(source) as peek:
            kind = peek.format
    except Exception:  # noqa: BLE001 - any failure to read the header means "not a photo we can read"
        raise ImageProblem("not an image Pillow can read") from None
    if kind not in ALLOWED_FORMATS:
        raise ImageProblem(f"not a photo format ({kind})")
    if hasattr(source, "seek"):
        source.seek(0)
    image = open_rgb(source, draft_size=longest_side)
    image.thumbnail((longest_side, longest_side), Image.LANCZOS)
    clean = Image.new("RGB", image.size)  # a fresh image: no metadata of the original can travel along
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _shrink(content) -> bytes:
    """``small_jpeg`` of bytes, a file-like object or a file on disk (opened only now: a zip's photos are read
    one at a time)."""
    if isinstance(content, Path):
        with open(content, "rb") as handle:
            return small_jpeg(handle)
    return small_jpeg(io.BytesIO(content) if isinstance(content, (bytes, bytearray, memoryview)) else content)


def _known_size(content) -> int | None:
    if isinstance(content, (bytes, bytearray, memoryview)):
        return len(content)
    if isinstance(content, Path):
        return content.stat().st_size
    size = getattr(content, "size", None)  # Streamlit's UploadedFile
    return size if isinstance(size, int) else None


class OwnDataset:
    """The class folders in ``folder``; every change goes through here (or ``core.photos.cleaning``)."""

    def __init__(self, folder: Path | str, budget_bytes: int | None = None, limits: Limits = DEFAULT_LIMITS):
        self.folder = Path(folder)
        self.budget_bytes = budget_bytes or default_budget_bytes()
        self.limits = limits

    # ------------------------------------------------------------------------------------------- reading
    def classes(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted((p.name for p in self.folder.iterdir() if p.is_dir() and not is_hidden_or_system(p)),
                      key=str.casefold)

    def photos(self, name: str) -> list[Path]:
        """The class's photos, oldest first."""
        folder = self._class_folder(name)
        return sorted(p for p in folder.iterdir() if p.is_file() and not is_hidden_or_system(p)
                      and p.suffix.lower() in IMAGE_SUFFIXES)

    def counts(self) -> dict[str, int]:
        return {name: len(self.photos(name)) for name in self.classes()}

    def total_photos(self) -> int:
        return sum(self.counts().values())

    def used_bytes(self) -> int:
        """Everything in the folder, photos the cleaning loop set aside included."""
        if not self.folder.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file() and not p.is_symlink())

    def signature(self) -> str:
        """Changes whenever a photo or class is added, moved, renamed or removed (for a page's cache key)."""
        parts = [f"{name}:{','.join(p.name for p in self.photos(name))}" for name in self.classes()]
        return str(hash("|".join(parts)))

    def budget_message(self) -> str:
        return (f"Your photo space is full ({megabytes(self.used_bytes())} of {megabytes(self.budget_bytes)}). Remove some photos "
                "or a class you no longer need, then add more.")

    def _class_folder(self, name: str) -> Path:
        for existing in self.classes():
            if existing == unicodedata.normalize("NFC", name or ""):
                return self.folder / existing
        raise OwnDatasetError(f"There is no class called “{name}”.")

    def _photo(self, name: str, photo: str) -> Path:
        """The photo ``photo`` (a file name) of class ``name``; names with folders in them are refused."""
        folder = self._class_folder(name)
        if not photo or PurePosixPath(photo).name != photo or "\\" in photo or photo.startswith("."):
            raise OwnDatasetError("That is not one of your photos.")
        path = folder / photo
        if not path.is_file() or path.is_symlink():
            raise OwnDatasetError(f"{photo} is not in {name} any more (moved or removed already?).")
        return path

    # ------------------------------------------------------------------------------------------- classes
    def _find_same(self, name: str) -> str | None:
        return next((c for c in self.classes() if c.casefold() == name.casefold()), None)

    def add_class(self, name: str) -> str:
        """Make an empty class; returns its cleaned name."""
        clean = clean_class_name(name)
        with _lock_for(self.folder):
            same = self._find_same(clean)
            if same is not None:
                raise OwnDatasetError(f"There is already a class called “{same}”.")
            if len(self.classes()) >= MAX_CLASSES:
                raise OwnDatasetError(f"At most {MAX_CLASSES} classes: delete one you no longer need first.")
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / OWN_PHOTOS_MARKER).touch()
            (self.folder / clean).mkdir(mode=0o700)
        return clean

    def rename_class(self, name: str, new_name: str) -> str:
        clean = clean_class_name(new_name)
        with _lock_for(self.folder):
            folder = self._class_folder(name)
            same = self._find_same(clean)
            if same is not None and same != folder.name:
                raise OwnDatasetError(f"There is already a class called “{same}”.")
            if clean != folder.name:
                folder.rename(self.folder / clean)
        return clean

    def delete_class(self, name: str) -> int:
        """Delete the class and its photos; returns how many photos went."""
        with _lock_for(self.folder):
            folder = self._class_folder(name)
            count = len(self.photos(name))
            shutil.rmtree(folder)
        return count

    # ------------------------------------------------------------------------------------------- photos
    def add_photos(self, name: str, files) -> AddReport:
        """Add ``(file name, bytes or file-like)`` pairs to class ``name``: each shrunk, upright, without EXIF.

        A photo that cannot be read is named in ``skipped`` with the reason and the rest are kept; once the
        budget is reached, the remaining photos are skipped and ``full`` says so."""
        folder = self._class_folder(name)
        report = AddReport()
        with _lock_for(self.folder):
            used = self.used_bytes()
            for file_name, content in files:
                file_name = str(file_name)
                if report.full:
                    report.skipped.append(SkippedEntry(file_name, "not added: your photo space is full"))
                    continue
                reason = self._refusal(file_name, content)
                if reason is None:
                    try:
                        small = _shrink(content)
                    except ImageProblem as problem:
                        reason = problem.reason
                    except MemoryError:
                        reason = "too big to decode on this server right now"
                if reason:
                    report.skipped.append(SkippedEntry(file_name, reason))
                    continue
                if used + len(small) > self.budget_bytes:
                    report.full = self.budget_message()
                    report.skipped.append(SkippedEntry(file_name, "not added: your photo space is full"))
                    continue
                stored = self._write(folder, small)
                used += len(small)
                report.added.append(stored)
        return report

    def _refusal(self, file_name: str, content) -> str | None:
        suffix = PurePosixPath(file_name.replace("\\", "/")).suffix.lower()
        if suffix and suffix not in IMAGE_SUFFIXES:
            return REASON_NOT_IMAGE
        size = _known_size(content)
        if size is not None and size > self.limits.max_file_bytes:
            return file_too_big(size, self.limits)
        return None

    def _write(self, folder: Path, data: bytes) -> str:
        """Written under a hidden name and renamed: a half-written photo is never read as a photo."""
        name = _new_photo_name()
        temporary = folder / f".part-{name}"
        try:
            with open(temporary, "xb") as out:
                out.write(data)
            os.replace(temporary, folder / name)
        except OSError as error:
            temporary.unlink(missing_ok=True)
            if error.errno in (28, 122):  # ENOSPC, EDQUOT
                raise OwnDatasetError("The computer running the app has run out of disk space, so the photo "
                                      "could not be saved. Tell your teacher.") from None
            raise
        return name

    def remove_photo(self, name: str, photo: str) -> None:
        with _lock_for(self.folder):
            self._photo(name, photo).unlink()

    def move_photo(self, name: str, photo: str, to_class: str) -> None:
        with _lock_for(self.folder):
            source = self._photo(name, photo)
            target_folder = self._class_folder(to_class)
            if target_folder == source.parent:
                raise OwnDatasetError(f"That photo is already in {target_folder.name}.")
            os.replace(source, target_folder / _new_photo_name())

    def delete_all(self) -> None:
        """Every class and photo, and the folder itself."""
        with _lock_for(self.folder):
            shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------------------------------------- zips
    def zip_bytes(self, seed: int = 42) -> bytes:
        """The dataset as the lesson's folders: ``my_dataset/train|val|test/<class>/`` split like the Train page
        splits it (same seed, near-duplicates kept together), or ``my_dataset/<class>/`` when it cannot be
        split yet (fewer than two classes with photos)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # JPEGs do not compress further
            try:
                dataset = load_folder(self.folder, seed)
            except DatasetError:
                for name in self.classes():
                    archive.writestr(f"{ZIP_FOLDER}/{name}/", b"")
                    for path in self.photos(name):
                        archive.write(path, f"{ZIP_FOLDER}/{name}/{path.name}")
            else:
                for split, items in dataset.splits.items():
                    for name in dataset.class_names:
                        archive.writestr(f"{ZIP_FOLDER}/{split}/{name}/", b"")
                    for item in items:
                        path = Path(item.path)
                        archive.write(path, f"{ZIP_FOLDER}/{split}/{dataset.class_names[item.label]}/{path.name}")
        return buffer.getvalue()

    def add_zip(self, source) -> AddReport:
        """Open a zip of class folders (either layout; ``train/ val/ test/`` are merged) into the dataset: photos
        join the class of the same name (letter case aside), new classes are made. Unpacked with the upload
        limits into a private temporary folder, removed afterwards."""
        temporary = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
        try:
            extraction = extract_zip(source, temporary / "zip", self.limits)
            report = AddReport(skipped=list(extraction.problems))
            by_class = _photos_by_class(temporary / "zip", extraction.files, report)
            for raw_name, paths in by_class.items():
                if report.full:
                    report.skipped += [SkippedEntry(p, "not added: your photo space is full") for p, _ in paths]
                    continue
                try:
                    name = self._find_same(clean_class_name(raw_name)) or self._add_class_from_zip(raw_name, report)
                except OwnDatasetError as problem:
                    report.skipped += [SkippedEntry(p, f"class folder refused: {problem}") for p, _ in paths]
                    continue
                added = self.add_photos(name, paths)
                report.added += added.added
                report.skipped += added.skipped
                report.full = report.full or added.full
            return report
        finally:
            shutil.rmtree(temporary, ignore_errors=True)

    def _add_class_from_zip(self, raw_name: str, report: AddReport) -> str:
        name = self.add_class(raw_name)
        report.classes_made.append(name)
        return name


def _photos_by_class(root: Path, files: list[str], report: AddReport) -> dict[str, list[tuple[str, Path]]]:
    """``{class folder name: [(name as in the zip, path)]}``: split folders are dropped, a wrapping folder shared
    by every photo is unwrapped, and the first folder left names the class."""
    folders = []
    for relative in files:
        parts = PurePosixPath(relative).parts
        folders.append([p for p in parts[:-1] if p.casefold() not in _SPLIT_NAMES])
    while folders and all(len(f) >= 2 for f in folders) and len({f[0] for f in folders}) == 1:
        folders = [f[1:] for f in folders]
    by_class: dict[str, list[tuple[str, Path]]] = {}
    for relative, folder in zip(files, folders):
        if not folder:
            report.skipped.append(SkippedEntry(relative, "not inside a class folder"))
            continue
        by_class.setdefault(folder[0], []).append((relative, root / relative))
    return by_class
