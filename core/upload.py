"""Unpacking a student's upload safely: a zip file, or a folder the browser sent file by file.

Nothing an upload contains may write outside the folder it is unpacked into: entries with ``..``,
absolute paths (``/etc/x``, ``C:\\x``, ``\\\\server\\x``), symbolic links and device files are skipped,
and every file is created fresh (never through an existing link). Limits on the number of files,
their total size, each file's size and the compression ratio stop zip bombs; sizes are checked as
declared in the zip *and* counted while unpacking, because a zip's declared sizes can lie.

Fatal problems (not a zip, too big, too many files, no photos) raise :class:`UploadError`, a
``ValueError`` whose message is meant for the student. Problems with single entries do not stop
the upload: they are listed in :attr:`ExtractionReport.skipped` with a reason.

Plain Python: no Streamlit, no TensorFlow.
"""

from __future__ import annotations

import atexit
import errno
import io
import os
import re
import shutil
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from core.images import IMAGE_SUFFIXES, is_hidden_or_system
from core.safe_text import name_problem, visible

MB = 1024 * 1024
TEMP_PREFIX = "tll-upload-"
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


@dataclass(frozen=True)
class SkippedEntry:
    name: str  # as written in the upload, hidden characters written out (``core.safe_text.visible``)
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


class _EntryProblem(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _mb(n: int) -> str:
    return f"{n / MB:,.1f} MB"


def _too_big(size: int, limits: Limits, more_than: bool = False) -> UploadError:
    amount = f"more than {_mb(limits.max_total_bytes)}" if more_than else _mb(size)
    return UploadError(
        f"Your upload unpacks to {amount}; the limit is {_mb(limits.max_total_bytes)}. "
        "Use fewer or smaller photos (a few hundred photos per class is plenty)."
    )


def _too_many(count: int, limits: Limits) -> UploadError:
    return UploadError(
        f"Your upload holds {count:,} photos; the limit is {limits.max_files:,}. "
        "Use fewer photos (a few hundred per class is plenty)."
    )


def _too_many_entries(count: int, limits: Limits, is_zip: bool = True) -> UploadError:
    what = "Zip only the folders" if is_zip else "Choose only the folders"
    return UploadError(
        f"Your upload holds {count:,} files and folders; the limit is {limits.max_entries:,}. "
        f"{what} with your photos (a few hundred photos per class is plenty)."
    )


def _no_photos(is_zip: bool = True) -> UploadError:
    kinds = ", ".join(sorted({s.lstrip(".") for s in IMAGE_SUFFIXES}))
    check = "you zipped the folders" if is_zip else "you chose the folder"
    return UploadError(
        f"No photos were found in your upload (we look for these file types: {kinds}). "
        f"Check that {check} with your photos in them."
    )


def _file_too_big(size: int, limits: Limits) -> str:
    return f"too big ({_mb(size)}; the limit is {_mb(limits.max_file_bytes)} per file)"


def _safe_parts(name: str, limits: Limits = Limits()) -> tuple[str, ...]:
    """The path components of an upload entry's name, or raise ``_EntryProblem`` with the reason.

    Backslashes count as folder separators (old Windows zip tools write them), names are
    normalised to NFC (macOS writes decomposed accents), ``.`` and empty components are dropped; names
    with control or text-direction characters are refused (``core.safe_text.name_problem``).
    """
    problem = name_problem(name)  # control and text-direction characters could hide or disguise a name
    if problem:
        raise _EntryProblem(problem)
    text = unicodedata.normalize("NFC", name.replace("\\", "/"))
    if text.startswith("/") or _DRIVE.match(text):
        raise _EntryProblem(REASON_ABSOLUTE)
    parts = tuple(p for p in text.split("/") if p not in ("", "."))
    if ".." in parts:
        raise _EntryProblem(REASON_OUTSIDE)
    if any(_DRIVE.match(p) for p in parts):  # "a/C:x" would jump to drive C: on Windows
        raise _EntryProblem(REASON_OUTSIDE)
    if not parts:
        raise _EntryProblem(REASON_BAD_NAME)
    if is_hidden_or_system(PurePosixPath(*parts)):
        raise _EntryProblem(REASON_HIDDEN)
    if len(parts) > limits.max_depth:
        raise _EntryProblem(REASON_TOO_DEEP)
    if os.name == "nt" and any(
        _WINDOWS_RESERVED.match(p) or set(p) & _WINDOWS_BAD_CHARS or p[-1] in ". " for p in parts
    ):  # pragma: no cover - Windows only
        raise _EntryProblem(REASON_BAD_NAME)
    if any(len(p.encode("utf-8")) > 255 for p in parts):
        raise _EntryProblem(REASON_BAD_NAME)
    return parts


def _is_image_name(parts: tuple[str, ...]) -> bool:
    return PurePosixPath(parts[-1]).suffix.lower() in IMAGE_SUFFIXES


class _Writer:
    """Creates folders and files strictly inside ``dest``, remembering them so a fatal error can undo."""

    def __init__(self, dest: Path, limits: Limits, skipped: list[SkippedEntry]):
        dest = Path(dest)
        self.made_dest = not dest.exists()
        dest.mkdir(parents=True, exist_ok=True)
        self.dest = dest.resolve()
        self.limits = limits
        self.report = ExtractionReport(self.dest, skipped=skipped)
        self.created: list[Path] = []

    def skip(self, name: str, reason: str) -> None:
        self.report.skipped.append(SkippedEntry(name, reason))

    def _inside(self, path: Path) -> None:
        if os.path.commonpath([str(self.dest), os.path.abspath(path)]) != str(self.dest):
            raise _EntryProblem(REASON_OUTSIDE)

    def make_dirs(self, parts: tuple[str, ...]) -> Path:
        """``dest/parts...`` as real folders (never through a link), created if missing."""
        current = self.dest
        for part in parts:
            current = current / part
            self._inside(current)
            try:
                os.mkdir(current, 0o700)
                self.created.append(current)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(current).st_mode):  # a file, or a link to anything
                    raise _EntryProblem(REASON_CLASH) from None
        return current

    def write(self, parts: tuple[str, ...], stream, declared_size: int | None, compressed_size: int | None) -> None:
        """Copy ``stream`` to ``dest/parts``, counting real bytes against every limit."""
        folder = self.make_dirs(parts[:-1])
        target = folder / parts[-1]
        self._inside(target)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(target, flags, 0o600)
        except FileExistsError:
            raise _EntryProblem(REASON_CLASH if target.is_dir() else REASON_EXISTS) from None
        self.created.append(target)
        written = 0
        limits = self.limits
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = stream.read(CHUNK)
                    if not chunk:
                        break
                    written += len(chunk)
                    if declared_size is not None and written > declared_size:
                        raise _EntryProblem(REASON_SIZE_LIE)
                    if written > limits.max_file_bytes:
                        raise _EntryProblem(_file_too_big(written, limits))
                    if (
                        compressed_size is not None
                        and written >= limits.ratio_min_bytes
                        and written > limits.max_ratio * max(compressed_size, 1)
                    ):
                        raise _EntryProblem(REASON_RATIO)
                    if self.report.total_bytes + written > limits.max_total_bytes:
                        raise _too_big(0, limits, more_than=True)
                    out.write(chunk)
            if declared_size is not None and written != declared_size:
                raise _EntryProblem(REASON_SIZE_LIE)
        except BaseException:
            _remove_file(target)
            self.created.remove(target)
            raise
        self.report.total_bytes += written
        self.report.files.append("/".join(parts))

    def undo(self) -> None:
        """Remove everything this writer created (after a fatal error)."""
        if self.made_dest:
            self.created.insert(0, self.dest)
        for path in reversed(self.created):
            try:
                if stat.S_ISDIR(os.lstat(path).st_mode):
                    os.rmdir(path)
                else:
                    os.unlink(path)
            except OSError:
                pass
        self.created.clear()


def _raise_if_disk_full(error: OSError) -> None:
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        raise UploadError(
            "The computer running the app has run out of disk space, so your upload could not be saved. "
            "Tell your teacher."
        ) from None


def _remove_file(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name; names written as UTF-8 without the UTF-8 flag are repaired."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def _entry_kind_problem(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return REASON_SYMLINK
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        return REASON_SPECIAL
    return None


def _check_directory_size(opened, limits: Limits) -> None:
    """Refuse a zip whose table of contents is enormous *before* zipfile reads it all into memory."""
    try:
        if isinstance(opened, (str, os.PathLike)):
            with open(opened, "rb") as handle:
                end = zipfile._EndRecData(handle)
        else:
            end = zipfile._EndRecData(opened)
            opened.seek(0)
    except Exception:  # noqa: BLE001 - a private helper; zipfile itself reports broken files below
        return
    if not end:
        return
    entries, directory_bytes = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if entries > limits.max_entries or directory_bytes > limits.max_entries * MAX_DIRECTORY_BYTES_PER_ENTRY:
        raise _too_many_entries(max(entries, directory_bytes // MAX_DIRECTORY_BYTES_PER_ENTRY), limits)


def _open_zip(source, limits: Limits) -> zipfile.ZipFile:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise UploadError(f"The file {path.name} was not found.")
        opened = source
    else:
        opened = source
        try:
            source.seek(0)
        except (AttributeError, OSError, ValueError):  # a stream we cannot rewind: read it into memory
            opened = io.BytesIO(source.read())
    _check_directory_size(opened, limits)
    try:
        return zipfile.ZipFile(opened)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise UploadError(
            "This file is not a zip archive, or it is damaged. Put your photo folders in a zip "
            "(Windows: right-click → Send to → Compressed folder; Mac: right-click → Compress) and upload that."
        ) from None


def extract_zip(source, dest: Path, limits: Limits = Limits()) -> ExtractionReport:
    """Unpack the zip ``source`` (a path or a file-like object) into ``dest``; see the module docstring.

    Only photos (by file name) are unpacked. On a fatal :class:`UploadError` everything unpacked
    so far is removed again.
    """
    with _open_zip(source, limits) as archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise _too_many_entries(len(infos), limits)
        skipped: list[SkippedEntry] = []
        seen: set[tuple[str, ...]] = set()
        planned: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
        folders: list[tuple[str, ...]] = []
        for info in infos:
            name = _entry_name(info)
            try:
                parts = _safe_parts(name, limits)
                kind_problem = _entry_kind_problem(info)
                if kind_problem:
                    raise _EntryProblem(kind_problem)
                if info.is_dir():
                    folders.append(parts)
                    continue
                if not _is_image_name(parts):
                    raise _EntryProblem(REASON_NOT_IMAGE)
                if parts in seen:
                    raise _EntryProblem(REASON_DUPLICATE)
                if info.flag_bits & 0x1:
                    raise _EntryProblem(REASON_ENCRYPTED)
                if info.file_size > limits.max_file_bytes:
                    raise _EntryProblem(_file_too_big(info.file_size, limits))
                if (
                    info.file_size >= limits.ratio_min_bytes
                    and info.file_size > limits.max_ratio * max(info.compress_size, 1)
                ):
                    raise _EntryProblem(REASON_RATIO)
            except _EntryProblem as problem:
                if not (info.is_dir() and problem.reason == REASON_HIDDEN):  # one line per hidden file is enough
                    skipped.append(SkippedEntry(name, problem.reason))
                continue
            seen.add(parts)
            planned.append((info, parts))

        if len(planned) > limits.max_files:
            raise _too_many(len(planned), limits)
        declared_total = sum(info.file_size for info, _ in planned)
        if declared_total > limits.max_total_bytes:
            raise _too_big(declared_total, limits)
        if not planned:
            raise _no_photos()

        writer = _Writer(Path(dest), limits, skipped)
        try:
            for parts in folders:  # empty class folders still show up in the dataset report
                try:
                    writer.make_dirs(parts)
                except _EntryProblem as problem:
                    writer.skip("/".join(parts) + "/", problem.reason)
            for info, parts in planned:
                name = _entry_name(info)
                try:
                    with archive.open(info) as stream:
                        writer.write(parts, stream, info.file_size, info.compress_size)
                except _EntryProblem as problem:
                    writer.skip(name, problem.reason)
                except NotImplementedError:
                    writer.skip(name, REASON_UNSUPPORTED)
                except RuntimeError as error:  # encrypted without the flag we checked
                    writer.skip(name, REASON_ENCRYPTED if "encrypted" in str(error) else REASON_DAMAGED)
                except UploadError:
                    raise
                except (zipfile.BadZipFile, EOFError, zlib.error, ValueError):
                    writer.skip(name, REASON_DAMAGED)
                except OSError as error:
                    _raise_if_disk_full(error)
                    writer.skip(name, REASON_WRITE_FAILED)
            if not writer.report.files:
                raise _no_photos()
        except BaseException:
            writer.undo()
            raise
    return writer.report


def extract_folder_upload(files, dest: Path, limits: Limits = Limits()) -> ExtractionReport:
    """Save ``files`` — ``(relative path, bytes or file-like)`` pairs, as a browser sends a folder — into ``dest``.

    The same rules as :func:`extract_zip`: no path may leave ``dest``, hidden/system and non-photo
    files are skipped, and the same limits apply.
    """
    files = list(files)
    if len(files) > limits.max_entries:
        raise _too_many_entries(len(files), limits, is_zip=False)
    skipped: list[SkippedEntry] = []
    seen: set[tuple[str, ...]] = set()
    planned = []
    for name, content in files:
        name = str(name)
        try:
            parts = _safe_parts(name, limits)
            if not _is_image_name(parts):
                raise _EntryProblem(REASON_NOT_IMAGE)
            if parts in seen:
                raise _EntryProblem(REASON_DUPLICATE)
            size = _known_size(content)
            if size is not None and size > limits.max_file_bytes:
                raise _EntryProblem(_file_too_big(size, limits))
        except _EntryProblem as problem:
            skipped.append(SkippedEntry(name, problem.reason))
            continue
        seen.add(parts)
        planned.append((name, parts, content, size))
    if len(planned) > limits.max_files:
        raise _too_many(len(planned), limits)
    declared_total = sum(size or 0 for *_, size in planned)
    if declared_total > limits.max_total_bytes:
        raise _too_big(declared_total, limits)
    if not planned:
        raise _no_photos(is_zip=False)
    writer = _Writer(Path(dest), limits, skipped)
    try:
        for name, parts, content, _size in planned:
            stream = io.BytesIO(content) if isinstance(content, (bytes, bytearray, memoryview)) else content
            try:
                stream.seek(0)
            except (AttributeError, OSError, ValueError):  # not rewindable: read what is left
                pass
            try:
                writer.write(parts, stream, None, None)
            except _EntryProblem as problem:
                writer.skip(name, problem.reason)
            except OSError as error:
                _raise_if_disk_full(error)
                writer.skip(name, REASON_WRITE_FAILED)
        if not writer.report.files:
            raise _no_photos(is_zip=False)
    except BaseException:
        writer.undo()
        raise
    return writer.report


def _known_size(content) -> int | None:
    if isinstance(content, (bytes, bytearray, memoryview)):
        return len(content)
    size = getattr(content, "size", None)  # Streamlit's UploadedFile has .size
    if isinstance(size, int):
        return size
    try:
        return len(content.getbuffer())
    except (AttributeError, TypeError, ValueError):
        return None


def _make_private_temp() -> Path:
    return Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))


def _remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def unpack_zip_to_temp(path, limits: Limits = Limits()) -> tuple[Path, ExtractionReport]:
    """Unpack a zip into a new private temporary folder (``tll-upload-*``, removed when Python exits).

    For command-line runs; a web page keeps one ``core.upload_area.UploadArea`` per session instead, so
    each upload is removed when no training needs it any more or the session ends.
    """
    folder = _make_private_temp()
    try:
        report = extract_zip(path, folder, limits)
    except BaseException:
        _remove_tree(str(folder))
        raise
    atexit.register(_remove_tree, str(folder))
    return folder, report


def extract_zip_to_temp(path, limits: Limits = Limits()) -> Path:
    """Like :func:`unpack_zip_to_temp`, returning only the folder (what ``core.data.load_dataset`` needs)."""
    return unpack_zip_to_temp(path, limits)[0]
