"""Locks on the feature cache folder, across processes (``flock`` where the platform has one).

``folder_lock``: one change to the folder at a time (commit, eviction, throwing an entry away). ``computing``: one
computation of a cache entry at a time, so a second training waits for the first one's features.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

try:  # POSIX; elsewhere the atomic rename alone keeps entries whole
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

WAIT_POLL_S = 0.5


@contextmanager
def computing(folder: Path, keys: list[str], give_up, on_wait=None):
    """Hold the right to compute ``keys`` across processes: a second training that needs the same features
    waits for the first one's (and then loads them) instead of computing them again beside it on the same cores.

    Yields False if ``give_up()`` turned true while waiting (the student pressed Stop), else True. ``on_wait()``
    is called once if another process holds one of the keys.
    """
    handles: list = []
    try:
        yield _hold(folder, sorted({_lock_slot(key) for key in keys}), handles, give_up, on_wait)
    finally:
        for handle in handles:
            handle.close()  # closing drops the lock


def _lock_slot(key: str) -> str:
    """One of a fixed few lock files (a key's last hex digits), so they never pile up; two keys sharing one only
    take turns."""
    return f".computing-{key[-2:]}.lock"


def _hold(folder: Path, slots: list[str], handles: list, give_up, on_wait) -> bool:
    if fcntl is None:
        return True
    told = False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for slot in slots:
            handle = open(folder / slot, "a+b")  # noqa: SIM115 - held until the end
            handles.append(handle)
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if give_up():
                        return False
                    if on_wait and not told:
                        on_wait()
                        told = True
                    time.sleep(WAIT_POLL_S)
    except OSError:  # no lock files here (a read-only cache folder): compute without one, as before
        return True
    return True


@contextmanager
def folder_lock(base: Path):
    """An exclusive lock on the cache folder across processes (where ``flock`` exists)."""
    handle = None
    if fcntl is not None:
        try:
            handle = open(base / ".lock", "a+b")
        except OSError:
            try:
                handle = open(base / ".lock", "rb")
            except OSError:
                handle = None  # cannot even read: nothing here can change anyway
    try:
        if handle is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        if handle is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()
