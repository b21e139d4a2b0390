"""The training queue of a shared server: a bounded pool, first come first served, one training per student.

One scheduler thread does everything that changes jobs (start, read events, time limits, stops, crashes),
so the rules live in one place: at most ``max_running`` trainings at once (``TLL_MAX_TRAININGS``, default
2), the others wait in the order they asked, each with a live place in the queue; a student has at most one
training waiting or running; a training that runs longer than ``time_limit_s`` (``TLL_TRAINING_TIME_LIMIT``)
is stopped and the student told. A worker that crashes or is killed fails only its own job.

Stop first asks the worker to stop between batches (what was trained so far is kept); a worker that has not
answered within ``stop_grace_s`` (inside a long step) is killed, so Stop always takes effect within seconds.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.classroom.runner.backend import Backend, WorkerHandle
from core.classroom.runner.start_order import start_order
from core.training import EpochRecord, Progress
from core.utils.wording import duration_words

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT_S = 900  # 15 minutes: a phase-2 run of the lesson's recipe takes 1-3 min on a 2-core server
STOP_GRACE_S = 2.0  # a worker that has not acknowledged Stop by then is killed
FINISH_GRACE_S = 60.0
STARTUP_GRACE_S = 30.0  # after acknowledging, time to evaluate and save what was trained
FINISHED_KEPT_S = 3600.0  # a finished job waits this long for its student to come back and see it
KILLED_MESSAGE = ("The training process was killed (the server may have run out of memory). Your earlier runs "
                  "are safe. Try again, perhaps with smaller photos, fewer epochs or fewer unfrozen layers.")


def max_trainings() -> int:
    return max(1, int(os.environ.get("TLL_MAX_TRAININGS", "2")))


def time_limit() -> float:
    return float(os.environ.get("TLL_TRAINING_TIME_LIMIT", DEFAULT_TIME_LIMIT_S))


class AlreadyTraining(RuntimeError):
    """A student asked for a second training while one is waiting or running."""

    def __init__(self, job: Job):
        self.job = job
        what = "is waiting for its turn" if job.state.status == "waiting" else "is running"
        super().__init__(f"Your training “{job.label}” {what}: you can have one at a time. "
                         "Stop it first, or wait for it to finish.")


@dataclass
class JobState:
    status: str = "waiting"  # waiting, running, done, failed
    progress: Progress | None = None
    epochs: list[EpochRecord] = field(default_factory=list)
    result: dict | None = None  # recipe name -> the worker's result event (a SavedResult once saved)
    phase1: dict | None = None  # recipe name -> the worker's result after phase 1 (kept if phase 2 is cut short)
    run_ids: dict = field(default_factory=dict)  # recipe name -> the run's id in the store, once saved
    error: str | None = None
    traceback: str | None = None
    notes: list[str] = field(default_factory=list)
    queue_place: int = 0  # 1 = next to start (while waiting)
    running: int = 0  # trainings running on the server (while waiting)
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    node: str = ""
    estimate_noted: bool = False  # its time left at 10% progress is in job_times.ESTIMATES_FILE


@dataclass
class Job:
    """What a page holds: the same shape as the old thread-based job (``state``, ``stop()``, ``finished``)."""

    job_id: str
    owner: str
    label: str
    kind: str
    spec: dict
    runner: Runner
    display_name: str = ""
    state: JobState = field(default_factory=JobState)
    stop_reason: str | None = None
    stop_requested_at: float | None = None
    stop_acknowledged: bool = False
    ready_at: float | None = None  # when the worker process said it started (monotonic)
    handle: WorkerHandle | None = None
    outcome: str | None = None  # "done" or "failed", set just before on_finished runs
    reused: bool = False  # finished with an identical earlier run's results, without training
    long_lane: bool = False  # started (or to start) in the slot that takes the longest trainings (start_order)

    @property
    def run_keys(self) -> dict:
        """``{recipe: key}`` (core.classroom.run_key) when the job may reuse an identical run, else empty."""
        return self.spec.get("run_keys") or {}

    def stop(self, reason: str = "student") -> None:
        self.runner.stop(self, reason)

    @property
    def stopping(self) -> bool:
        return self.stop_reason is not None

    @property
    def finished(self) -> bool:
        return self.state.status in ("done", "failed")

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.finished and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)
        return self.finished

    def waited_s(self, now: float | None = None) -> float:
        end = self.state.started or now or time.time()
        return max(0.0, end - self.state.submitted)

    def ran_s(self, now: float | None = None) -> float:
        if self.state.started is None:
            return 0.0
        return max(0.0, (self.state.finished or now or time.time()) - self.state.started)


class Runner:
    """The server's trainings. ``on_finished(job)`` runs (in the scheduler thread) when a job ends.
    ``backend``: a ``Backend``, or a function returning the one to use for the next job (the setting is read then).
    ``reuse(job)``: the results of identical finished runs (``{recipe: result}``, saved for the job's owner), or
    None; asked when a job with ``run_keys`` is submitted and again whenever a job finishes. ``predict(job)``: its
    seconds, or None; with it, a class's burst of trainings starts in ``start_order``, else first come first."""

    def __init__(self, backend: Backend | Callable[[], Backend], work_dir: Path, max_running: int | None = None,
                 time_limit_s: float | None = None, on_finished: Callable[[Job], None] | None = None,
                 poll_s: float = 0.1, stop_grace_s: float = STOP_GRACE_S,
                 reuse: Callable[[Job], dict | None] | None = None,
                 predict: Callable[[Job], float | None] | None = None):
        self.backend = backend
        self.reuse = reuse
        self.predict = predict
        self._reuse_due = False  # a job finished: waiting twins may now reuse its results
        self.work_dir = Path(work_dir)
        self.max_running = max_running or max_trainings()
        self.time_limit_s = time_limit() if time_limit_s is None else time_limit_s
        self.on_finished = on_finished
        self.poll_s = poll_s
        self.stop_grace_s = stop_grace_s
        self._lock = threading.RLock()
        self._waiting: list[Job] = []
        self._running: list[Job] = []
        self._finished: dict[str, Job] = {}  # owner -> latest finished job not yet collected
        self._counter = itertools.count(1)
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="training scheduler", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ what pages and the teacher call
    def submit(self, owner: str, spec: dict, label: str = "", kind: str = "train", display_name: str = "") -> Job:
        """Queue a training. ``spec``: recipes, config, data, and optionally nice. Raises AlreadyTraining."""
        with self._lock:
            active = self.active_job(owner)
            if active is not None:
                raise AlreadyTraining(active)
            job_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._counter)}-{secrets.token_hex(3)}"
            job = Job(job_id, owner, label or kind, kind, dict(spec), self, display_name or owner)
            self._finished.pop(owner, None)
            if not self._finish_reused(job):
                self._waiting.append(job)
                self._reorder()
            self._refresh_places()
        self._wake.set()
        return job

    def _finish_reused(self, job: Job) -> bool:
        """Finish ``job`` at once with an identical finished run's results, if there is one."""
        if not (self.reuse and job.run_keys):
            return False
        try:
            results = self.reuse(job)
        except Exception:  # noqa: BLE001 - then it trains, as if nothing were reusable
            log.exception("looking for a run to reuse for %s", job.job_id)
            return False
        if not results:
            return False
        job.reused = True
        job.state.result = results
        job.state.run_ids = {recipe: getattr(result, "run_id", None) for recipe, result in results.items()}
        job.state.started = time.time()
        self._finish(job, "done")
        return True

    def active_job(self, owner: str) -> Job | None:
        with self._lock:
            return next((j for j in self._running + self._waiting if j.owner == owner), None)

    def job_for(self, owner: str) -> Job | None:
        """The student's waiting or running job, else their finished one they have not seen yet."""
        with self._lock:
            return self.active_job(owner) or self._finished.get(owner)

    def collect(self, job: Job) -> None:
        """The student has seen how ``job`` ended: forget it."""
        with self._lock:
            if self._finished.get(job.owner) is job:
                del self._finished[job.owner]

    def stop(self, job: Job, reason: str = "student") -> None:
        """``reason``: "student", "teacher" (cancel: kill at once) or "time limit"."""
        with self._lock:
            if job.finished or job.stop_reason is not None:
                return
            job.stop_reason = reason
            job.stop_requested_at = time.monotonic()
            if job in self._waiting:
                self._waiting.remove(job)
                who = "your teacher" if reason == "teacher" else "you"
                self._finish(job, "failed", f"Stopped by {who} before it started.")
                self._refresh_places()
            elif job.handle is not None:
                if reason == "teacher":
                    job.handle.kill()
                else:
                    job.handle.request_stop()
        self._wake.set()

    def queue(self) -> list[Job]:
        """Running jobs, then waiting ones in their order."""
        with self._lock:
            return list(self._running) + list(self._waiting)

    def close(self, kill: bool = True) -> None:
        self._closed = True
        self._wake.set()
        self._thread.join(5)
        if kill:
            for job in self.queue():
                if job.handle is not None:
                    job.handle.kill()

    # ------------------------------------------------------------------------------ scheduler thread
    def _loop(self) -> None:
        while not self._closed:
            try:
                self._tick()
            except Exception:  # noqa: BLE001 - the scheduler must outlive any one job's surprise
                log.exception("training scheduler")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _tick(self) -> None:
        with self._lock:
            for job in list(self._running):
                self._read_events(job)
                self._enforce_limits(job)
                self._check_exit(job)
            if self._reuse_due:
                self._reuse_due = False
                for job in [j for j in self._waiting if j.run_keys]:
                    if self._finish_reused(job):
                        self._waiting.remove(job)
            if self._waiting and len(self._running) < self.running_limit():
                self._reorder()  # the estimate may know more now (a training just finished)
            while self._waiting and len(self._running) < self.running_limit():
                job = self._next_startable()
                if job is None:
                    break
                self._waiting.remove(job)
                # Pages read states without the lock: everyone moves up before the job shows as running.
                self._refresh_places(starting=1)
                self._start(job)
            self._refresh_places()
            self._forget_old()

    def _reorder(self) -> None:
        """The waiting jobs in the order they will start (``start_order``). Called with the lock held."""
        if self.predict is None or len(self._waiting) < 2:
            return
        try:
            now = time.time()
            running = [(max(0.0, (self.predict(job) or 0.0) - job.ran_s(now)), job.long_lane) for job in self._running]
            order = start_order(self._waiting, self.predict, self.running_limit(), now, running)
            self._waiting = order.waiting
            for job in self._waiting:
                job.long_lane = id(job) in order.long_lane
        except Exception:  # noqa: BLE001 - an estimate that fails leaves the queue first come, first served
            log.exception("ordering the queue")

    def _next_startable(self) -> Job | None:
        """The first waiting job that is not a twin of a running one: a twin waits for its results instead."""
        computing = [j.run_keys for j in self._running if j.run_keys]
        return next((j for j in self._waiting if not (j.run_keys and j.run_keys in computing)), None)

    def running_limit(self) -> int:
        """``max_running``, or what a cluster backend can run at once now (its computers come and go)."""
        backend = self.backend if hasattr(self.backend, "start") else self.backend()
        capacity = getattr(backend, "capacity", None)
        return capacity() if capacity else self.max_running

    def _start(self, job: Job) -> None:
        job.state.status = "running"
        job.state.started = time.time()
        output = self.work_dir / job.job_id
        payload = {**job.spec, "job_id": job.job_id, "output_dir": str(output)}
        try:
            backend = self.backend if hasattr(self.backend, "start") else self.backend()
            job.handle = backend.start(payload)
            job.state.node = getattr(job.handle, "node", "")
        except Exception as error:  # noqa: BLE001 - e.g. no memory left to start a process
            self._finish(job, "failed", "The training could not start: the server could not open a worker for it "
                         "(it may be short of memory). Try again in a minute; if it happens again, tell your teacher. "
                         f"(For the teacher: {type(error).__name__}: {error})")
            return
        self._running.append(job)

    def _read_events(self, job: Job) -> None:
        for event in job.handle.events():
            kind = event.pop("type", "")
            if kind == "progress":
                event.pop("recipe", None)
                job.state.progress = Progress(**event)
            elif kind == "epoch":
                event.pop("recipe", None)
                job.state.epochs.append(EpochRecord(**event))
            elif kind == "started":
                job.ready_at = time.monotonic()
                job.state.node = event.get("node") or job.state.node  # a cluster knows it only now
            elif kind == "stopping":
                job.stop_acknowledged = True
            elif kind == "result":
                job.state.result = {**(job.state.result or {}), event["recipe"]: event}
            elif kind == "phase1":
                job.state.phase1 = {**(job.state.phase1 or {}), event["recipe"]: event}
            elif kind == "error":
                job.state.error = event.get("message", "unknown error")
                job.state.traceback = event.get("traceback")
            elif kind == "done":
                job.state.notes.append("done")

    def _enforce_limits(self, job: Job) -> None:
        now = time.monotonic()
        limited = self.time_limit_s and not job.spec.get("no_time_limit")  # the teacher's measurements: none
        if job.stop_reason is None and limited and job.ran_s() > self.time_limit_s:
            job.stop_reason, job.stop_requested_at = "time limit", now
            job.handle.request_stop()
        if job.stop_reason is None or job.handle.exit_status() is not None:
            return
        # A worker still starting up (a busy computer) gets its grace once it is up.
        since = max(job.stop_requested_at, job.ready_at or job.stop_requested_at)
        waited = now - since
        if job.ready_at is None and now - job.stop_requested_at > STARTUP_GRACE_S:
            job.handle.kill()
        elif (job.ready_at and not job.stop_acknowledged and waited > self.stop_grace_s) or waited > FINISH_GRACE_S:
            job.handle.kill()

    def _check_exit(self, job: Job) -> None:
        code = job.handle.exit_status()
        if code is None:
            return
        self._read_events(job)  # what it said just before it ended
        self._running.remove(job)
        close = getattr(job.handle, "close", None)
        if close:
            close()
        done = "done" in job.state.notes
        job.state.notes = [n for n in job.state.notes if n != "done"]
        minutes = duration_words(self.time_limit_s)  # "20 seconds", not "0.333333 minutes"
        if done and code == 0:
            if job.stop_reason == "time limit":
                job.state.notes.append(f"Stopped after the time limit of {minutes} (your teacher sets it): "
                                       "these are the results of what was trained until then.")
            self._finish(job, "done")
        elif job.state.error:
            self._finish(job, "failed", job.state.error)
        elif job.stop_reason == "teacher":
            self._finish(job, "failed", "Your teacher cancelled this training.")
        elif job.stop_reason in ("time limit", "student") and job.state.phase1:
            for event in job.state.phase1.values():  # phase 1 finished: its epochs are the result
                event["summary"] = {**event["summary"], "stopped": True}
            job.state.result = {**job.state.phase1, **(job.state.result or {})}
            why = (f"Stopped after the time limit of {minutes} (your teacher sets it)" if job.stop_reason == "time limit"
                   else "Stopped")
            job.state.notes.append(f"{why} during fine-tuning: these are the results of phase 1 (the new head), "
                                   "which had finished.")
            self._finish(job, "done")
        elif job.stop_reason == "time limit":
            self._finish(job, "failed", f"Stopped after the time limit of {minutes} (your teacher sets it), in "
                                        "the middle of a long step, so nothing could be kept.")
        elif job.stop_reason == "student" and not job.state.epochs:
            self._finish(job, "failed", "Stopped before the first epoch ended, so there is nothing to keep.")
        elif job.stop_reason == "student":
            self._finish(job, "failed", "Stopped in the middle of a long step, so nothing was kept.")
        elif code < 0:
            self._finish(job, "failed", KILLED_MESSAGE)
        else:
            self._finish(job, "failed", f"The training process ended unexpectedly (exit code {code}). "
                                        "Try again; if it happens again, tell your teacher.")

    def _finish(self, job: Job, status: str, error: str | None = None) -> None:
        """Results are saved (``on_finished``) before the page can see the job as finished."""
        job.state.error = error if status == "failed" else None
        job.state.finished = time.time()
        job.outcome = status
        self._reuse_due = self._reuse_due or (status == "done" and bool(job.run_keys) and not job.reused)
        if self.on_finished:
            try:
                self.on_finished(job)
            except Exception:  # noqa: BLE001
                log.exception("saving the results of training %s", job.job_id)
        job.state.status = status
        self._finished[job.owner] = job

    def _refresh_places(self, starting: int = 0) -> None:
        running = len(self._running) + starting
        for place, job in enumerate(self._waiting, start=1):
            job.state.queue_place, job.state.running = place, running

    def _forget_old(self) -> None:
        now = time.time()
        for owner, job in list(self._finished.items()):
            if now - (job.state.finished or now) > FINISHED_KEPT_S:
                del self._finished[owner]
