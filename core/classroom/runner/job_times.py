"""The time estimate of the server's jobs: ``time_estimate``'s arithmetic on the queue and the store's history.

Pages ask every second or so; the history (the store's newest computed runs) is read again at most every
``HISTORY_TTL_S`` seconds, so 30 pages asking cost one small query that often.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

from core.classroom.runner.time_estimate import (
    MIN_FRACTION,
    Costs,
    costs_from_runs,
    features_stored,
    predicted_seconds,
    seconds_left,
    seconds_until_done,
    with_fallback,
)

HISTORY_TTL_S = 10.0
CALIBRATION_FILE = "time_calibration.json"  # in the data folder, written by core.classroom.warm_start
ESTIMATES_FILE = "time_estimates.jsonl"  # in the data folder: what each training's page said at 10% progress
_lock = threading.Lock()
_cached: dict = {"read": 0.0, "costs": None, "store": None}


def class_costs(store, side_by_side: int = 1) -> Costs:
    """What this server's trainings measured, and the warm start's calibration for what they have not yet."""
    with _lock:
        now = time.monotonic()
        if _cached["costs"] is None or _cached["store"] is not store or now - _cached["read"] > HISTORY_TTL_S:
            calibration = costs_from_runs(read_calibration(store.folder))
            slower = max(1, min(side_by_side, os.cpu_count() or 1))
            _cached.update(costs=with_fallback(costs_from_runs(store.timed_runs()), calibration, slower), read=now,
                           store=store)
        return _cached["costs"]


def read_calibration(folder: Path) -> list[dict]:
    """The runs ``core.classroom.warm_start`` timed on this computer (none if it has not run here)."""
    try:
        runs = json.loads((folder / CALIBRATION_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [run for run in runs if run.get("machine") == machine()] if isinstance(runs, list) else []


def machine() -> str:
    return f"{socket.gethostname()}/{os.cpu_count()} CPUs"


def predicted_total(job, costs: Costs, also_on_disk: set[tuple] = frozenset()) -> float | None:
    if list(job.spec.get("recipes", [])) != ["transfer"] or not job.spec.get("n_train"):
        return None  # Kiran's from-scratch run and the teacher's jobs are not in the history's terms
    return predicted_seconds(job.spec["config"], int(job.spec["n_train"]), costs, also_on_disk)


def features_before(jobs) -> set[tuple]:
    """The features ``jobs`` (running, or ahead in the queue) store before a later job reads them."""
    return set().union(*(features_stored(job.spec.get("config") or {}) for job in jobs))


def running_left(job, costs: Costs, now: float | None = None) -> float | None:
    progress = job.state.progress
    elapsed = job.ran_s(now or time.time())
    return seconds_left(predicted_total(job, costs), elapsed, progress.fraction if progress else 0.0)


def note_estimate(job, left: float | None, now: float, folder: Path) -> None:
    """The time left a running training's page is shown when its progress first reaches 10%, kept once per job, so
    the estimate can be checked against when the training really ended (``bench/classroom_lesson.py``)."""
    progress = job.state.progress
    if job.state.estimate_noted or progress is None or progress.fraction < MIN_FRACTION:
        return
    job.state.estimate_noted = True
    try:
        with open(folder / ESTIMATES_FILE, "a", encoding="utf-8") as log:
            log.write(json.dumps({"job": job.job_id, "at": now, "left": left}) + "\n")
    except OSError:  # a full disk: the page goes on without the record
        pass


def time_until_result(job, store, runner) -> float | None:
    """Seconds until ``job``'s result: its time left while running, the queue ahead plus its own while waiting.
    None means "estimating…"."""
    if job.finished:
        return 0.0
    costs = class_costs(store, runner.running_limit())
    now = time.time()
    queue = runner.queue()
    running = [j for j in queue if j.state.status == "running"]
    if job in running:
        left = running_left(job, costs, now)
        note_estimate(job, left, now, store.folder)
        return left
    twin = next((j for j in running if job.run_keys and j.run_keys == job.run_keys), None)
    if twin is not None:  # it reuses that run's result when it ends
        return running_left(twin, costs, now)
    waiting = [j for j in queue if j.state.status == "waiting"]
    ahead = waiting[:waiting.index(job)] if job in waiting else []
    computing = [j.run_keys for j in running if j.run_keys]
    ahead_totals = [0.0 if (j.run_keys and j.run_keys in computing) else
                    predicted_total(j, costs, features_before(running + ahead[:i])) for i, j in enumerate(ahead)]
    return seconds_until_done(ahead_totals, [running_left(j, costs, now) for j in running],
                              predicted_total(job, costs, features_before(running + ahead)), runner.running_limit())
