"""Writing an upload's files strictly inside one folder, counting sizes as they are written, undoing on a fatal error."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from core.photos.upload_rules import (
    CHUNK,
    REASON_CLASH,
    REASON_EXISTS,
    REASON_OUTSIDE,
    REASON_RATIO,
    REASON_SIZE_LIE,
    EntryProblem,
    ExtractionReport,
    Limits,
    SkippedEntry,
    UploadError,
    file_too_big,
    too_big,
)


class Writer:
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
            raise EntryProblem(REASON_OUTSIDE)

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
                    raise EntryProblem(REASON_CLASH) from None
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
            raise EntryProblem(REASON_CLASH if target.is_dir() else REASON_EXISTS) from None
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
                        raise EntryProblem(REASON_SIZE_LIE)
                    if written > limits.max_file_bytes:
                        raise EntryProblem(file_too_big(written, limits))
                    if (
                        compressed_size is not None
                        and written >= limits.ratio_min_bytes
                        and written > limits.max_ratio * max(compressed_size, 1)
                    ):
                        raise EntryProblem(REASON_RATIO)
                    if self.report.total_bytes + written > limits.max_total_bytes:
                        raise too_big(0, limits, more_than=True)
                    out.write(chunk)
            if declared_size is not None and written != declared_size:
                raise EntryProblem(REASON_SIZE_LIE)
        except BaseException:
            remove_file(target)
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


def raise_if_disk_full(error: OSError) -> None:
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        raise UploadError(
            "The computer running the app has run out of disk space, so your upload could not be saved. "
            "Tell your teacher."
        ) from None


def remove_file(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
