"""Training in a background thread, so the page stays responsive and a Stop button works.

A teacher runs one app for a whole class; ``TLL_MAX_TRAININGS`` (default 2) trainings run at once
on the shared CPU, the others wait their turn and are told so.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from dataclasses import dataclass, field

_slots = threading.BoundedSemaphore(max(1, int(os.environ.get("TLL_MAX_TRAININGS", "2"))))
_waiting = 0
_waiting_lock = threading.Lock()


@dataclass
class JobState:
    status: str = "waiting"  # waiting, running, done, failed
    progress: object = None  # the latest core.train.Progress
    epochs: list = field(default_factory=list)  # core.train.EpochRecord, as they finish
    result: object = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    waiting_for: int = 0


class TrainingJob:
    """Runs ``work(on_epoch, on_progress, should_stop)`` once, in its own thread."""

    def __init__(self, work, label: str = ""):
        self.label = label
        self.state = JobState()
        self._stop = threading.Event()
        self._work = work
        self._thread = threading.Thread(target=self._run, name=f"training {label}", daemon=True)

    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def finished(self) -> bool:
        return self.state.status in ("done", "failed")

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.finished

    def _run(self) -> None:
        global _waiting
        with _waiting_lock:
            _waiting += 1
            self.state.waiting_for = _waiting - 1
        acquired = False
        try:
            while not acquired:
                acquired = _slots.acquire(timeout=0.5)
                if self._stop.is_set() and not acquired:
                    self.state.error = "Stopped before it started."
                    self.state.status = "failed"
                    return
            with _waiting_lock:
                _waiting -= 1
            self.state.status = "running"
            self.state.started = time.monotonic()
            self.state.result = self._work(self.state.epochs.append, self._set_progress, self._stop.is_set)
            self.state.status = "done"
        except Exception as error:  # noqa: BLE001 - shown to the student, never a crashed page
            self.state.error = f"{type(error).__name__}: {error}"
            self.state.traceback = traceback.format_exc()
            self.state.status = "failed"
        finally:
            if acquired:
                _slots.release()
            else:
                with _waiting_lock:
                    _waiting -= 1

    def _set_progress(self, progress) -> None:
        self.state.progress = progress
