"""Training batch by batch, with progress and Stop going through one ``Callbacks`` object.

We train with ``train_on_batch`` and our own seeded shuffle instead of ``model.fit``: cached and uncached
runs then see the same batches, a Stop is honoured between batches, and there is no per-epoch ``fit``
set-up cost (0.2 s, which would be most of a phase-1 epoch on cached features).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from core.photos.datasets import SkippedFile
from core.training.results import PHASE1, PHASE2, Callbacks, EpochRecord, Progress


@dataclass
class Preparation:
    """What a phase runner did before the first epoch: for the learner to record."""

    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cache: dict = field(default_factory=dict)
    dropped: list[SkippedFile] = field(default_factory=list)  # photos that could not be decoded


@dataclass
class PhaseRun:
    """One phase as a phase runner hands it back to the learner."""

    history: list[EpochRecord]
    stopped: bool
    test_probabilities: np.ndarray
    test_labels: np.ndarray


class StopRequested(Exception):
    """``should_stop()`` turned true: what was trained so far is kept."""


class ProgressTracker:
    """Turns batch counts per stage into an overall fraction and an ETA; relays epochs and Stop."""

    def __init__(self, units: dict[str, int], callbacks: Callbacks | None = None):
        self.callbacks = callbacks or Callbacks()
        self.units = dict(units)
        self.done = dict.fromkeys(units, 0)
        self.started: dict[str, float] = {}

    def plan(self, stage: str, units: int) -> None:
        """Announce a stage whose size is known only now (reading photos through the frozen base)."""
        self.units[stage] = units
        self.done[stage] = 0

    def step(self, stage: str, message: str) -> None:
        now = time.perf_counter()
        self.started.setdefault(stage, now)
        self.done[stage] += 1
        if self.callbacks.on_progress:
            total = sum(self.units.values()) or 1
            fraction = min(1.0, sum(self.done.values()) / total)
            rate = (now - self.started[stage]) / max(1, self.done[stage])
            remaining = sum(self.units[s] - self.done[s] for s in self.units)
            self.callbacks.on_progress(Progress(stage, fraction, max(0.0, remaining * rate), message))

    def say(self, stage: str, message: str) -> None:
        """A message without progress (waiting for something), at the fraction reached so far."""
        if self.callbacks.on_progress:
            fraction = min(1.0, sum(self.done.values()) / (sum(self.units.values()) or 1))
            self.callbacks.on_progress(Progress(stage, fraction, None, message))

    def check_stop(self) -> None:
        if self.callbacks.should_stop and self.callbacks.should_stop():
            raise StopRequested

    def stop_requested(self) -> bool:
        return bool(self.callbacks.should_stop and self.callbacks.should_stop())

    def epoch_done(self, record: EpochRecord) -> None:
        if self.callbacks.on_epoch:
            self.callbacks.on_epoch(record)


def steps_per_epoch(n_photos: int, batch_size: int) -> int:
    return max(1, -(-n_photos // batch_size))


def batches(x, y, batch_size: int) -> Iterator[tuple]:
    """``(x_batch, y_batch)`` slices; ``x`` is one array or a list of arrays (several crossing tensors)."""
    for start in range(0, len(y), batch_size):
        part = slice(start, start + batch_size)
        yield ([a[part] for a in x] if isinstance(x, list) else x[part]), y[part]


def _mean_logs(logs: list[tuple[int, dict]]) -> tuple[float, float]:
    """Loss and accuracy over an epoch: per-batch figures weighted by batch size."""
    total = sum(n for n, _ in logs) or 1
    return (sum(n * float(log["loss"]) for n, log in logs) / total,
            sum(n * float(log["accuracy"]) for n, log in logs) / total)


def fit_epochs(model, train: tuple, val: tuple, *, phase: str, epochs: int, first_epoch: int, batch_size: int,
               seed: int, tracker: ProgressTracker, view_of_epoch=None) -> tuple[list[EpochRecord], bool]:
    """Train ``epochs`` epochs on ``train = (x, y)``, validating on ``val`` after each.

    Returns the epochs trained and whether a Stop ended it early. ``view_of_epoch(epoch)`` gives the
    training inputs of one epoch (cached augmented views); labels stay ``train[1]``.
    """
    x_train, y_train = train
    x_val, y_val = val
    n = len(y_train)
    steps = steps_per_epoch(n, batch_size)
    name = {PHASE1: "Phase 1", PHASE2: "Phase 2"}.get(phase, "From scratch")
    records: list[EpochRecord] = []
    try:
        for i in range(epochs):
            epoch = first_epoch + i
            order = np.random.default_rng([seed, epoch]).permutation(n)
            x_epoch = view_of_epoch(epoch) if view_of_epoch else x_train
            xs = [a[order] for a in x_epoch] if isinstance(x_epoch, list) else x_epoch[order]
            start = time.perf_counter()
            train_logs = []
            for step, (x_batch, y_batch) in enumerate(batches(xs, y_train[order], batch_size)):
                train_logs.append((len(y_batch), model.train_on_batch(x_batch, y_batch, return_dict=True)))
                tracker.step(phase, f"{name} epoch {i + 1}/{epochs}, batch {step + 1}/{steps}")
                tracker.check_stop()
            val_logs = [(len(y_batch), model.test_on_batch(x_batch, y_batch, return_dict=True))
                        for x_batch, y_batch in batches(x_val, y_val, 256)]
            record = EpochRecord(phase, epoch, *_mean_logs(train_logs), *_mean_logs(val_logs),
                                 time.perf_counter() - start)
            records.append(record)
            tracker.epoch_done(record)
    except StopRequested:
        return records, True
    return records, False
