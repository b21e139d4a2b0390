"""The teacher's settings for trainings on a Ray cluster (README "A school with several computers").

Plain Python, no Ray: the runner and the CLI read ``ray_address()`` to choose a backend, and only when it
is set do they import ``core.classroom.runner.ray_backend`` (and so Ray itself).
"""

from __future__ import annotations

import os

ADDRESS_VARIABLE = "TLL_RAY_ADDRESS"
LOCAL = "local"  # a private one-machine Ray started by the server itself: for trying it out, tests and bench/


def ray_address() -> str | None:
    """``auto``, ``host:6379`` or ``local``; ``None`` (the default) keeps trainings in local worker processes."""
    value = os.environ.get(ADDRESS_VARIABLE, "").strip()
    return value or None


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be more than 0, not {raw!r}")
    return value


def cpus_per_training() -> float:
    """CPU cores a training asks the cluster for (``TLL_RAY_CPUS_PER_TRAINING``, default 1: a 4-core lab PC
    runs 4 trainings at once, as the 2-core server runs 2). TensorFlow is told to use that many threads."""
    return _positive("TLL_RAY_CPUS_PER_TRAINING", 1)


def memory_mb_per_training() -> int:
    """Memory a training asks for (``TLL_RAY_MEMORY_MB``, default 2048: a phase-2 run at 224 px peaks near
    1.6 GB). Ray starts a training only on a computer with that much memory not promised to others."""
    return int(_positive("TLL_RAY_MEMORY_MB", 2048))


def reuse_workers() -> bool:
    """``TLL_RAY_REUSE_WORKERS=1`` keeps a worker process (TensorFlow loaded) for the next training: faster
    starts, but each idle worker keeps its memory. Default: a fresh process per training, memory given back."""
    return os.environ.get("TLL_RAY_REUSE_WORKERS", "").strip().lower() in ("1", "true", "yes")


def local_cpus() -> int:
    """CPUs of the private Ray started for ``TLL_RAY_ADDRESS=local`` (``TLL_RAY_LOCAL_CPUS``, default 2)."""
    return int(_positive("TLL_RAY_LOCAL_CPUS", 2))
