"""The in-memory feature cache: a process's recently used arrays, bounded in bytes, shared read-only."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

_memory: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()
_memory_bytes: dict[str, int] = {}
_memory_lock = threading.Lock()


def recall(key: str) -> dict[str, np.ndarray] | None:
    with _memory_lock:
        if key not in _memory:
            return None
        _memory.move_to_end(key)
        return _memory[key]


def remember(key: str, arrays: dict[str, np.ndarray], budget: int) -> None:
    """Keep ``arrays`` (made read-only) under ``key``, dropping the least recently used beyond ``budget`` bytes."""
    for array in arrays.values():
        if isinstance(array, np.ndarray):
            array.setflags(write=False)  # shared between students: read-only
    size = sum(int(np.asarray(a).nbytes) for a in arrays.values())
    with _memory_lock:
        _memory.pop(key, None)
        _memory_bytes.pop(key, None)
        if size > budget:
            return  # the caller keeps its own reference for this run; we just don't hold it afterwards
        _memory[key] = arrays
        _memory_bytes[key] = size
        while sum(_memory_bytes.values()) > budget:
            oldest, _ = _memory.popitem(last=False)
            _memory_bytes.pop(oldest, None)


def clear_memory() -> None:
    with _memory_lock:
        _memory.clear()
        _memory_bytes.clear()


def memory_usage() -> int:
    """Bytes held by the in-memory cache now."""
    with _memory_lock:
        return sum(_memory_bytes.values())
