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
import io
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path

from core.photos.upload_rules import (  # noqa: F401 - re-exported: core.photos.upload is the surface
    DEFAULT_LIMITS,
    MAX_DIRECTORY_BYTES_PER_ENTRY,
    MB,
    REASON_DAMAGED,
    REASON_DUPLICATE,
    REASON_ENCRYPTED,
    REASON_HIDDEN,
    REASON_NOT_IMAGE,
    REASON_RATIO,
    REASON_SPECIAL,
    REASON_SYMLINK,
    REASON_UNSUPPORTED,
    REASON_WRITE_FAILED,
    TEMP_PREFIX,
    EntryProblem,
    ExtractionReport,
    Limits,
    SkippedEntry,
    UploadError,
    file_too_big,
    is_image_name,
    no_photos,
    safe_parts,
    too_big,
    too_many,
    too_many_entries,
)
from core.photos.upload_writer import Writer, raise_if_disk_full


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
        raise too_many_entries(max(entries, directory_bytes // MAX_DIRECTORY_BYTES_PER_ENTRY), limits)


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


# The ratio of the whole archive, not only of each entry: 490 entries just under the per-entry check's 1 MiB,
# squeezed to 1 KB each, made a 0.53 MB zip that unpacked to 467 MB.
ARCHIVE_RATIO_MIN_BYTES = 16 * MB


def squeezed_archive(unpacked: int, packed: int) -> UploadError:
    return UploadError(f"This zip would unpack to {unpacked / MB:,.0f} MB from {packed / MB:,.2f} MB: far more squeezed "
                       "than photos ever are (a possible zip bomb), so nothing was unpacked. Zip your photo folders "
                       "again and upload that.")


def extract_zip(source, dest: Path, limits: Limits = DEFAULT_LIMITS) -> ExtractionReport:
    """Unpack the zip ``source`` (a path or a file-like object) into ``dest``; see the module docstring.

    Only photos (by file name) are unpacked. On a fatal :class:`UploadError` everything unpacked
    so far is removed again.
    """
    with _open_zip(source, limits) as archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise too_many_entries(len(infos), limits)
        skipped: list[SkippedEntry] = []
        seen: set[tuple[str, ...]] = set()
        planned: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
        folders: list[tuple[str, ...]] = []
        for info in infos:
            name = _entry_name(info)
            try:
                parts = safe_parts(name, limits)
                kind_problem = _entry_kind_problem(info)
                if kind_problem:
                    raise EntryProblem(kind_problem)
                if info.is_dir():
                    folders.append(parts)
                    continue
                if not is_image_name(parts):
                    raise EntryProblem(REASON_NOT_IMAGE)
                if parts in seen:
                    raise EntryProblem(REASON_DUPLICATE)
                if info.flag_bits & 0x1:
                    raise EntryProblem(REASON_ENCRYPTED)
                if info.file_size > limits.max_file_bytes:
                    raise EntryProblem(file_too_big(info.file_size, limits))
                if (
                    info.file_size >= limits.ratio_min_bytes
                    and info.file_size > limits.max_ratio * max(info.compress_size, 1)
                ):
                    raise EntryProblem(REASON_RATIO)
            except EntryProblem as problem:
                if not (info.is_dir() and problem.reason == REASON_HIDDEN):  # one line per hidden file is enough
                    skipped.append(SkippedEntry(name, problem.reason))
                continue
            seen.add(parts)
            planned.append((info, parts))

        if len(planned) > limits.max_files:
            raise too_many(len(planned), limits)
        declared_total = sum(info.file_size for info, _ in planned)
        if declared_total > limits.max_total_bytes:
            raise too_big(declared_total, limits)
        if not planned:
            raise no_photos()
        packed_total = sum(info.compress_size for info, _ in planned)
        if declared_total >= ARCHIVE_RATIO_MIN_BYTES and declared_total > limits.max_ratio * max(packed_total, 1):
            raise squeezed_archive(declared_total, packed_total)

        writer = Writer(Path(dest), limits, skipped)
        try:
            for parts in folders:  # empty class folders still show up in the dataset report
                try:
                    writer.make_dirs(parts)
                except EntryProblem as problem:
                    writer.skip("/".join(parts) + "/", problem.reason)
            for info, parts in planned:
                name = _entry_name(info)
                try:
                    with archive.open(info) as stream:
                        writer.write(parts, stream, info.file_size, info.compress_size)
                except EntryProblem as problem:
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
                    raise_if_disk_full(error)
                    writer.skip(name, REASON_WRITE_FAILED)
            if not writer.report.files:
                raise no_photos()
        except BaseException:
            writer.undo()
            raise
    return writer.report


def extract_folder_upload(files, dest: Path, limits: Limits = DEFAULT_LIMITS) -> ExtractionReport:
    """Save ``files`` — ``(relative path, bytes or file-like)`` pairs, as a browser sends a folder — into ``dest``.

    The same rules as :func:`extract_zip`: no path may leave ``dest``, hidden/system and non-photo
    files are skipped, and the same limits apply.
    """
    files = list(files)
    if len(files) > limits.max_entries:
        raise too_many_entries(len(files), limits, is_zip=False)
    skipped: list[SkippedEntry] = []
    seen: set[tuple[str, ...]] = set()
    planned = []
    for name, content in files:
        name = str(name)
        try:
            parts = safe_parts(name, limits)
            if not is_image_name(parts):
                raise EntryProblem(REASON_NOT_IMAGE)
            if parts in seen:
                raise EntryProblem(REASON_DUPLICATE)
            size = _known_size(content)
            if size is not None and size > limits.max_file_bytes:
                raise EntryProblem(file_too_big(size, limits))
        except EntryProblem as problem:
            skipped.append(SkippedEntry(name, problem.reason))
            continue
        seen.add(parts)
        planned.append((name, parts, content, size))
    if len(planned) > limits.max_files:
        raise too_many(len(planned), limits)
    declared_total = sum(size or 0 for *_, size in planned)
    if declared_total > limits.max_total_bytes:
        raise too_big(declared_total, limits)
    if not planned:
        raise no_photos(is_zip=False)
    writer = Writer(Path(dest), limits, skipped)
    try:
        for name, parts, content, _size in planned:
            stream = io.BytesIO(content) if isinstance(content, (bytes, bytearray, memoryview)) else content
            try:
                stream.seek(0)
            except (AttributeError, OSError, ValueError):  # not rewindable: read what is left
                pass
            try:
                writer.write(parts, stream, None, None)
            except EntryProblem as problem:
                writer.skip(name, problem.reason)
            except OSError as error:
                raise_if_disk_full(error)
                writer.skip(name, REASON_WRITE_FAILED)
        if not writer.report.files:
            raise no_photos(is_zip=False)
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
    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))  # the pid: leftovers are told apart


def _remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def unpack_zip_to_temp(path, limits: Limits = DEFAULT_LIMITS) -> tuple[Path, ExtractionReport]:
    """Unpack a zip into a new private temporary folder (``tll-upload-*``, removed when Python exits).

    For command-line runs; a web page keeps one ``core.photos.upload_area.UploadArea`` per session instead, so
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


def extract_zip_to_temp(path, limits: Limits = DEFAULT_LIMITS) -> Path:
    """Like :func:`unpack_zip_to_temp`, returning only the folder (what ``core.photos.datasets.load_dataset`` needs)."""
    return unpack_zip_to_temp(path, limits)[0]
