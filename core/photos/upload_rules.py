"""What an upload may contain: the limits, the reasons a file is skipped, and the messages a student reads.

Plain Python: no Streamlit, no TensorFlow. ``core.photos.upload`` unpacks; this module only judges names and sizes.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from core.photos.images import IMAGE_SUFFIXES, is_hidden_or_system
from core.utils.safe_text import name_problem, visible

MB = 1024 * 1024
TEMP_PREFIX = "tll-upload-"
# A hidden file marking a dataset built on the My photos page (core.photos.own_dataset), so reports name it in words.
OWN_PHOTOS_MARKER = ".own-photos"
CHUNK = 256 * 1024
# A zip's table of contents spends 46 bytes plus the name (and extras) on each entry.
MAX_DIRECTORY_BYTES_PER_ENTRY = 512

# Reasons shown to the student for entries that were left out.
REASON_OUTSIDE = "path leaves the upload folder"
REASON_ABSOLUTE = "absolute path (it points outside the upload folder)"
REASON_SYMLINK = "symbolic link"
REASON_SPECIAL = "special file (device, pipe or socket)"
REASON_HIDDEN = "hidden/system file"
REASON_NOT_IMAGE = "not an image file (by its name)"
REASON_ENCRYPTED = "password-protected"
REASON_RATIO = "suspiciously compressed (possible zip bomb)"
REASON_DAMAGED = "damaged inside the zip"
REASON_SIZE_LIE = "damaged inside the zip (its size information is wrong)"
REASON_UNSUPPORTED = "packed with a compression method we cannot read"
REASON_DUPLICATE = "duplicate name in the upload"
REASON_CLASH = "a file and a folder have the same name"
REASON_EXISTS = "a file with this name already exists"
REASON_TOO_DEEP = "too many folders inside folders"
REASON_BAD_NAME = "file name not allowed"
REASON_WRITE_FAILED = "could not be saved"

_DRIVE = re.compile(r"^[A-Za-z]:")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)
_WINDOWS_BAD_CHARS = set('<>:"|?*')


class UploadError(ValueError):
    """An upload that cannot be used at all; the message says why, in words a student understands."""


@dataclass(frozen=True)
class Limits:
    """How much an upload may unpack to. The defaults fit a class project with room to spare."""

    max_total_bytes: int = 500 * MB  # everything unpacked together
    max_files: int = 5_000  # photos (files we actually unpack)
    max_entries: int = 20_000  # everything listed in the zip, skipped entries and folders included
    max_file_bytes: int = 50 * MB  # one photo
    max_ratio: float = 200.0  # uncompressed / compressed size of one entry...
    ratio_min_bytes: int = 1 * MB  # ...checked only for entries at least this big (tiny files vary wildly)
    max_depth: int = 20  # folders inside folders


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class SkippedEntry:
    name: str  # as written in the upload, hidden characters written out (``core.utils.safe_text.visible``)
    reason: str

    def __post_init__(self):
        object.__setattr__(self, "name", visible(self.name))


@dataclass
class ExtractionReport:
    dest: Path
    files: list[str] = field(default_factory=list)  # unpacked, relative to dest, "/"-separated
    skipped: list[SkippedEntry] = field(default_factory=list)
    total_bytes: int = 0

    @property
    def ignored(self) -> list[SkippedEntry]:
        """Hidden/system files (``__MACOSX/``, ``.DS_Store``...): left out silently, not problems."""
        return [s for s in self.skipped if s.reason == REASON_HIDDEN]

    @property
    def problems(self) -> list[SkippedEntry]:
        """Skipped entries worth telling the student about."""
        return [s for s in self.skipped if s.reason != REASON_HIDDEN]

    def reasons(self) -> Counter:
        return Counter(s.reason for s in self.skipped)


class EntryProblem(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def megabytes(n: int) -> str:
    return f"{n / MB:,.1f} MB"


def too_big(size: int, limits: Limits, more_than: bool = False) -> UploadError:
    amount = f"more than {megabytes(limits.max_total_bytes)}" if more_than else megabytes(size)
    return UploadError(
        f"Your upload unpacks to {amount}; the limit is {megabytes(limits.max_total_bytes)}. "
        "Use fewer or smaller photos (a few hundred photos per class is plenty)."
    )


def too_many(count: int, limits: Limits) -> UploadError:
    return UploadError(
        f"Your upload holds {count:,} photos; the limit is {limits.max_files:,}. "
        "Use fewer photos (a few hundred per class is plenty)."
    )


def too_many_entries(count: int, limits: Limits, is_zip: bool = True) -> UploadError:
    what = "Zip only the folders" if is_zip else "Choose only the folders"
    return UploadError(
        f"Your upload holds {count:,} files and folders; the limit is {limits.max_entries:,}. "
        f"{what} with your photos (a few hundred photos per class is plenty)."
    )


def no_photos(is_zip: bool = True) -> UploadError:
    kinds = ", ".join(sorted({s.lstrip(".") for s in IMAGE_SUFFIXES}))
    check = "you zipped the folders" if is_zip else "you chose the folder"
    return UploadError(
        f"No photos were found in your upload (we look for these file types: {kinds}). "
        f"Check that {check} with your photos in them."
    )


def file_too_big(size: int, limits: Limits) -> str:
    return f"too big ({megabytes(size)}; the limit is {megabytes(limits.max_file_bytes)} per file)"


def safe_parts(name: str, limits: Limits = DEFAULT_LIMITS) -> tuple[str, ...]:
    """The path components of an upload entry's name, or raise ``EntryProblem`` with the reason.

    Backslashes count as folder separators (old Windows zip tools write them), names are
    normalised to NFC (macOS writes decomposed accents), ``.`` and empty components are dropped; names
    with control or text-direction characters are refused (``core.utils.safe_text.name_problem``).
    """
    problem = name_problem(name)  # control and text-direction characters could hide or disguise a name
    if problem:
        raise EntryProblem(problem)
    text = unicodedata.normalize("NFC", name.replace("\\", "/"))
    if text.startswith("/") or _DRIVE.match(text):
        raise EntryProblem(REASON_ABSOLUTE)
    parts = tuple(p for p in text.split("/") if p not in ("", "."))
    if ".." in parts:
        raise EntryProblem(REASON_OUTSIDE)
    if any(_DRIVE.match(p) for p in parts):  # "a/C:x" would jump to drive C: on Windows
        raise EntryProblem(REASON_OUTSIDE)
    if not parts:
        raise EntryProblem(REASON_BAD_NAME)
    if is_hidden_or_system(PurePosixPath(*parts)):
        raise EntryProblem(REASON_HIDDEN)
    if len(parts) > limits.max_depth:
        raise EntryProblem(REASON_TOO_DEEP)
    if os.name == "nt" and any(
        _WINDOWS_RESERVED.match(p) or set(p) & _WINDOWS_BAD_CHARS or p[-1] in ". " for p in parts
    ):  # pragma: no cover - Windows only
        raise EntryProblem(REASON_BAD_NAME)
    if any(len(p.encode("utf-8")) > 255 for p in parts):
        raise EntryProblem(REASON_BAD_NAME)
    return parts


def is_image_name(parts: tuple[str, ...]) -> bool:
    return PurePosixPath(parts[-1]).suffix.lower() in IMAGE_SUFFIXES
