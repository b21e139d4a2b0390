"""A session's uploads: each one in its own version folder, kept while a training holds a lease on it.

A student may upload new photos while their training still reads the last ones. The training takes a
:meth:`UploadArea.lease` on the version it trains on; a new upload becomes the current version at once,
and the old one is deleted when its last lease is released (or at once, when nobody holds it).

Plain Python: no Streamlit, no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import weakref
from collections import Counter
from pathlib import Path

from core.photos.upload import (
    ExtractionReport,
    Limits,
    UploadError,
    _make_private_temp,
    _remove_tree,
    extract_folder_upload,
    extract_zip,
)

QUOTA_MB = 600  # one session's uploads on disk, versions kept for a running training included


def quota_bytes() -> int:
    return int(os.environ.get("TLL_UPLOAD_AREA_MB", QUOTA_MB)) * 1024**2


def _bytes_in(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder.exists() else 0


class UploadArea:
    """One private temporary folder per owner (e.g. per Streamlit session), holding its latest upload.

    Each upload is unpacked into its own version folder (``v1``, ``v2``...): ``replace`` (a zip; also
    called ``replace_zip``) and ``replace_files`` (a folder upload) make a new version the current one,
    and :attr:`folder` names it. A training takes a :meth:`lease` on the current version and reads only
    that folder; a later upload never removes a version while a lease holds it (it goes when the last
    lease is released). ``clear`` empties the area; ``cleanup`` removes it for good (leased versions
    stay until released) and may be called any number of times. The folder is also removed when this
    object is garbage-collected (Streamlit drops ``st.session_state`` when a session ends; a lease keeps
    its area alive) and when Python exits. Keep one per session::

        if "upload_area" not in st.session_state:
            st.session_state.upload_area = UploadArea()
        with area.lease() as photos:    # photos.folder stays as it is until the block ends
            train(TrainConfig(data=str(photos.folder)))
    """

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.root = _make_private_temp()
        self.report: ExtractionReport | None = None
        # Re-entrant: a lease dropped by garbage collection releases itself, possibly inside our own lock.
        self._lock = threading.RLock()
        self._version = 0
        self._current: Path | None = None
        self._leases: Counter = Counter()  # version folder -> leases held
        self._closed = False
        self._finalizer = weakref.finalize(self, _remove_tree, str(self.root))

    @property
    def folder(self) -> Path:
        """Where the current upload is unpacked (a folder that does not exist before the first upload)."""
        return self._current or self.root / "none"

    @property
    def alive(self) -> bool:
        return not self._closed and self._finalizer.alive

    def lease(self) -> UploadLease:
        """Hold the current upload: its folder stays untouched until the lease is released."""
        with self._lock:
            if not self.alive:
                raise RuntimeError("this upload area was cleaned up")
            if self._current is None:
                raise UploadError("No photos uploaded yet.")
            self._leases[self._current] += 1
            return UploadLease(self, self._current)

    def leased(self) -> int:
        """Leases held now (on any version)."""
        with self._lock:
            return sum(self._leases.values())

    def _release(self, folder: Path) -> None:
        with self._lock:
            self._leases[folder] -= 1
            if self._leases[folder] > 0:
                return
            del self._leases[folder]
            if folder != self._current or self._closed:
                _remove_tree(str(folder))
            if self._closed and not self._leases:
                self._finalizer()

    def clear(self) -> None:
        """Remove the current upload (once no training holds it), keep the area usable."""
        with self._lock:
            self._clear_locked()

    def _clear_locked(self) -> None:
        if not self.alive:
            raise RuntimeError("this upload area was cleaned up")
        self._retire(self._current)
        self._current = None
        self.report = None

    def _retire(self, folder: Path | None) -> None:
        if folder is not None and not self._leases.get(folder):
            _remove_tree(str(folder))

    def _replace(self, extract) -> ExtractionReport:
        with self._lock:
            self._clear_locked()
            self._version += 1
            folder = self.root / f"v{self._version}"
            # The session's disk quota: what a running training still holds counts against the new upload.
            room = quota_bytes() - sum(_bytes_in(held) for held in self._leases)
            if room <= 0:
                raise UploadError("Your earlier upload is still in use by a training: wait for it to finish, "
                                  "then upload again.")
            limits = dataclasses.replace(self.limits, max_total_bytes=min(self.limits.max_total_bytes, room))
            try:
                report = extract(folder, limits)
            except BaseException:
                _remove_tree(str(folder))
                raise
            self._current = folder
            self.report = report
            return report

    def replace(self, source) -> ExtractionReport:
        """Replace the current upload with the zip ``source`` (a path or a file-like object)."""
        return self._replace(lambda dest, limits: extract_zip(source, dest, limits))

    replace_zip = replace

    def replace_files(self, files) -> ExtractionReport:
        """Replace the current upload with a browser's folder upload: ``(relative path, content)`` pairs."""
        return self._replace(lambda dest, limits: extract_folder_upload(files, dest, limits))

    def cleanup(self) -> None:
        """Remove the folder and everything in it (leased versions when released). Safe to call twice."""
        with self._lock:
            self.report = None
            self._current = None
            self._closed = True
            if not self._leases:
                self._finalizer()
                return
            for child in self.root.iterdir():
                if child not in self._leases:
                    _remove_tree(str(child))

    def __enter__(self) -> UploadArea:
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()


class UploadLease:
    """A training's hold on one upload version (:meth:`UploadArea.lease`): ``folder`` stays as it is until
    :meth:`release` (or the end of a ``with`` block, or garbage collection of the lease)."""

    def __init__(self, area: UploadArea, folder: Path):
        self.folder = folder
        self._release = weakref.finalize(self, area._release, folder)  # keeps the area alive meanwhile

    def release(self) -> None:
        self._release()

    @property
    def held(self) -> bool:
        return self._release.alive

    def __enter__(self) -> UploadLease:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
