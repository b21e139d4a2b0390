"""Where cached feature arrays live: a bounded memory cache (``feature_memory``) in front of a checked, budgeted
disk cache; the locks across processes are ``feature_locks``.

``load(key)`` gives back exactly what ``store(key, arrays, ...)`` was given, or ``None`` (compute it
again). Nothing this module does may stop a training:

* **Reads are checked.** Every entry carries a ``manifest.json`` written last (dtype, shape, byte
  count and CRC-32 of every array). An entry whose files are missing, truncated or changed is thrown
  away and reported in the notes, and the caller recomputes it.
* **Writes are atomic.** An entry is written into a private temporary folder (unique per process and
  call) and renamed into place in one step, so a reader sees all of an entry or none of it. When
  several processes write the same key at once, the first rename wins and the others drop their copy.
* **A failed write is a warning.** Disk full, read-only folder, permissions: the temporary folder is
  removed (nothing half-written stays behind), the notes say so, and the run goes on from memory.
* **Both caches have a size budget.** Disk: ``TLL_CACHE_MAX_MB`` (default 2,048 MB), least recently
  used entries are evicted first. Memory: ``TLL_CACHE_MEMORY_MB`` (default 1,024 MB), counted in
  bytes, not entries.

Several processes may share one cache folder: changes to the folder (commit, eviction, throwing an
entry away) hold an exclusive ``flock`` on ``features/.lock`` where the platform has one; reads need
no lock (an entry that vanishes while it is read is a miss, not damage).

Plain Python + NumPy: no TensorFlow here.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
import uuid
import zlib
from pathlib import Path

import numpy as np

from core.training import feature_locks, feature_memory
from core.training.feature_memory import clear_memory, memory_usage  # noqa: F401 - part of this module's surface
from core.utils import paths as config

MB = 1024 * 1024
DEFAULT_DISK_MB = 2048
DEFAULT_MEMORY_MB = 1024
MANIFEST = "manifest.json"
FORMAT = 2  # version 1 (a "done" file, no manifest) is thrown away and recomputed
TEMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
STALE_TEMP_SECONDS = 24 * 3600  # a temporary folder this old belongs to a process that died
_CRC_CHUNK = 64 * MB



# ----------------------------------------------------------------------------------- settings


def _megabytes(variable: str, default: int) -> int:
    value = os.environ.get(variable, "").strip()
    try:
        return max(0, int(float(value) * MB)) if value else default * MB
    except ValueError:
        return default * MB


def disk_budget() -> int:
    """Bytes the disk cache may hold (``TLL_CACHE_MAX_MB``; 0 turns the disk cache off)."""
    return _megabytes("TLL_CACHE_MAX_MB", DEFAULT_DISK_MB)


def memory_budget() -> int:
    """Bytes the in-memory cache may hold (``TLL_CACHE_MEMORY_MB``; 0 turns it off)."""
    return _megabytes("TLL_CACHE_MEMORY_MB", DEFAULT_MEMORY_MB)


def root() -> Path:
    return config.cache_dir() / "features"


# ------------------------------------------------------------------------------------- public


def load(key: str, notes: list[str] | None = None) -> dict[str, np.ndarray] | None:
    """Arrays cached under ``key``: from memory, else from disk (checked, then kept in memory).

    ``None`` means "compute it": never cached, evicted, or damaged. A damaged entry is deleted and a
    sentence for the run's notes is appended to ``notes``.
    """
    arrays, found = load_with_notes(key)
    if notes is not None:
        notes.extend(found)
    return arrays


def load_with_notes(key: str) -> tuple[dict[str, np.ndarray] | None, list[str]]:
    try:
        folder = root() / key
    except OSError:  # the cache folder cannot even be created: nothing was saved there either
        folder = None
    arrays = feature_memory.recall(key)
    if arrays is not None:
        if folder is not None:
            _touch(folder)  # used, even from memory: another process must not evict it as stale
        return arrays, []
    if folder is None:
        return None, []
    arrays, problem = _read_entry(folder)
    if arrays is None:
        if problem is None:
            return None, []
        _discard(folder, problem[1])
        return None, [
            f"The saved features of an earlier run could not be used ({problem[0]}); they were thrown away "
            "and computed again."
        ]
    _touch(folder)
    feature_memory.remember(key, arrays, memory_budget())
    return arrays, []


def store(key: str, arrays: dict[str, np.ndarray], description: dict) -> list[str]:
    """Keep ``arrays`` in memory and write them to disk; returns sentences for the run's notes (a
    failed write is reported there, never raised). ``arrays`` are made read-only: students share them."""
    feature_memory.remember(key, arrays, memory_budget())
    size = sum(int(np.asarray(a).nbytes) for a in arrays.values())
    budget = disk_budget()
    if budget == 0:
        return []  # the teacher switched the disk cache off
    if size > budget:
        return [
            f"These features ({size / MB:,.0f} MB) are bigger than the disk cache's budget "
            f"({budget / MB:,.0f} MB, TLL_CACHE_MAX_MB); they were not saved to disk, so the next run "
            "computes them again."
        ]
    try:
        return _write_entry(key, arrays, description, size, budget)
    except OSError as error:
        return [_write_failed_note(error, size)]


def computing(keys: list[str], give_up, on_wait=None):
    """Hold the right to compute ``keys`` across processes (``feature_locks.computing`` on this cache folder)."""
    return feature_locks.computing(root(), keys, give_up, on_wait)


def disk_usage() -> int:
    """Bytes held by committed entries on disk now (by their manifests)."""
    return sum(size for _, size, _ in _committed_entries(root()))


# ---------------------------------------------------------------------------------------- disk


def _crc(array: np.ndarray) -> int:
    flat = np.ascontiguousarray(array).reshape(-1).view(np.uint8) if array.size else np.zeros(0, np.uint8)
    crc = 0
    for start in range(0, flat.size, _CRC_CHUNK):
        crc = zlib.crc32(flat[start : start + _CRC_CHUNK], crc)
    return crc


def _file_name(name: str) -> str:
    # Array names come from our own code ("train_0", "aug3_1"...); anything else is refused, not escaped.
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"unusable array name for the feature cache: {name!r}")
    return f"{name}.npy"


def _write_entry(key: str, arrays: dict[str, np.ndarray], description: dict, size: int, budget: int) -> list[str]:
    base = root()
    base.mkdir(parents=True, exist_ok=True)
    final = base / key
    if (final / MANIFEST).is_file():
        return []  # another run (or process) already saved this entry
    temp = base / f"{TEMP_PREFIX}{key}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    try:
        temp.mkdir()
        manifest = {"format": FORMAT, "key": key, "bytes": size, "about": description, "arrays": {}}
        for name, array in arrays.items():
            array = np.asarray(array)
            file_name = _file_name(name)
            with open(temp / file_name, "wb") as handle:
                np.save(handle, array, allow_pickle=False)
                handle.flush()
                os.fsync(handle.fileno())
            manifest["arrays"][name] = {
                "file": file_name, "dtype": array.dtype.str, "shape": list(array.shape),
                "nbytes": int(array.nbytes), "file_bytes": (temp / file_name).stat().st_size, "crc32": _crc(array),
            }
        with open(temp / MANIFEST, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=1, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        with feature_locks.folder_lock(base):
            _evict(base, budget - size, keep=key)
            if final.exists() and not (final / MANIFEST).is_file():  # an unfinished or old-format entry
                _trash(final)
            try:
                os.rename(temp, final)
            except OSError as error:
                if error.errno not in (errno.EEXIST, errno.ENOTEMPTY) and not final.exists():
                    raise
                # A concurrent identical write got there first: its entry is as good as ours.
    finally:
        _remove_tree(temp)
    return []


def _disk_too_full(size: int) -> bool:
    """NumPy reports a short write as a bare ``OSError("... requested and ... written")``, no errno."""
    try:
        return shutil.disk_usage(root()).free < size
    except OSError:
        return False


def _write_failed_note(error: OSError, size: int) -> str:
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)) or (
        error.errno is None and _disk_too_full(size)
    ):
        why = "the disk is full"
    elif error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        why = "the cache folder cannot be written to"
    else:
        why = error.strerror or type(error).__name__
    return (f"The features could not be saved to the disk cache ({why}); this run goes on from memory, "
            "and the next one computes them again.")


def _read_entry(folder: Path) -> tuple[dict[str, np.ndarray] | None, tuple[str, int] | None]:
    """``(arrays, None)``, ``(None, None)`` for a miss, or ``(None, (what is wrong, folder inode))``."""
    try:
        inode = os.stat(folder).st_ino
    except OSError:
        return None, None
    try:
        if (folder / "done").is_file() and not (folder / MANIFEST).exists():
            return None, ("saved by an older version of the app", inode)
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT or not isinstance(manifest.get("arrays"), dict):
            return None, ("saved by an older version of the app", inode)
        arrays = {}
        for name, about in manifest["arrays"].items():
            path = folder / _file_name(name)
            if path.stat().st_size != about["file_bytes"]:
                return None, (f"{path.name} has the wrong size", inode)
            array = np.load(path, allow_pickle=False)
            if array.dtype.str != about["dtype"] or list(array.shape) != about["shape"]:
                return None, (f"{path.name} has the wrong shape", inode)
            if _crc(array) != about["crc32"]:
                return None, (f"{path.name} fails its checksum", inode)
            arrays[name] = array
        return arrays, None
    except FileNotFoundError:
        if not folder.exists():
            return None, None  # evicted or thrown away by another process while we read: a plain miss
        return None, ("a file is missing", inode)
    except (OSError, ValueError, KeyError, TypeError, EOFError) as error:
        return None, (f"{type(error).__name__}", inode)


def _touch(folder: Path) -> None:
    """Mark an entry as just used (least-recently-used eviction reads the manifest's mtime)."""
    try:
        os.utime(folder / MANIFEST)
    except OSError:
        pass  # a read-only cache still serves reads


def _discard(folder: Path, inode: int) -> None:
    """Throw away a damaged entry, unless another process already replaced it with a good one."""
    try:
        with feature_locks.folder_lock(folder.parent):
            if os.stat(folder).st_ino != inode:
                return
            _trash(folder)
    except OSError:
        pass  # read-only or already gone: the run recomputes either way


def _committed_entries(base: Path) -> list[tuple[Path, int, float]]:
    """``(folder, bytes, last used)`` for every committed entry."""
    entries = []
    try:
        children = list(base.iterdir())
    except OSError:
        return entries
    for child in children:
        if child.name.startswith("."):
            continue
        try:
            manifest = child / MANIFEST
            last_used = manifest.stat().st_mtime
            size = int(json.loads(manifest.read_text(encoding="utf-8")).get("bytes", 0))
        except (OSError, ValueError, AttributeError):
            size, last_used = _tree_bytes(child), 0.0  # old or broken: evicted first
        entries.append((child, size, last_used))
    return entries


def _evict(base: Path, room: int, keep: str) -> None:
    """Remove least recently used entries until the committed ones take at most ``room`` bytes, and
    leftovers of crashed writers. Called with the folder lock held."""
    for child in list(base.iterdir()):
        if child.name.startswith(TRASH_PREFIX) or child.name.endswith(".partial") or _stale_temp(child):
            _remove_tree(child)
    entries = sorted(_committed_entries(base), key=lambda e: e[2])
    total = sum(size for _, size, _ in entries)
    for folder, size, _ in entries:
        if total <= room:
            break
        if folder.name == keep:
            continue
        try:
            _trash(folder)
        except OSError:
            continue
        total -= size


def _trash(folder: Path) -> None:
    """Remove an entry: renamed aside first (one step, so no reader sees half of it), then deleted."""
    trash = folder.parent / f"{TRASH_PREFIX}{folder.name}-{uuid.uuid4().hex[:12]}"
    os.rename(folder, trash)
    _remove_tree(trash)


def _stale_temp(child: Path) -> bool:
    if not child.name.startswith(TEMP_PREFIX):
        return False
    pid_text = child.name.rsplit("-", 2)[-2] if child.name.count("-") >= 2 else ""
    if pid_text.isdigit() and int(pid_text) != os.getpid() and not _process_alive(int(pid_text)):
        return True
    try:
        return time.time() - child.stat().st_mtime > STALE_TEMP_SECONDS
    except OSError:
        return False


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _tree_bytes(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except OSError:
            pass
    return total


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
