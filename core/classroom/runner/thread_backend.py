"""Trainings as threads inside the server process: the runner's in-process backend.

For tests that swap a recipe for a fake (``core.classroom.runner.recipes.RECIPES``) and need no process, and for a
machine where starting processes is not possible. It speaks like a worker process (the same events), but
a thread cannot be killed: ``kill`` abandons it (its later events are ignored) and memory is not given back.
The classroom server uses worker processes (``TLL_TRAINING_BACKEND=process``, the default).
"""

from __future__ import annotations

import queue
import threading
import traceback
from dataclasses import asdict

from core.classroom.runner import recipes
from core.training import Callbacks, TrainConfig
from core.utils.safe_text import student_error


class ThreadWorker:
    node = "this server (thread)"

    def __init__(self, job: dict):
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._told_stopping = False
        self._killed = False
        self._code: int | None = None
        self._thread = threading.Thread(target=self._run, args=(job,), name=f"training {job['job_id']}", daemon=True)
        self._thread.start()

    def _send(self, kind: str, **fields) -> None:
        if not self._killed:
            self._events.put({"type": kind, **fields})

    def _should_stop(self) -> bool:
        if self._stop.is_set() and not self._told_stopping:
            self._told_stopping = True
            self._send("stopping")
        return self._stop.is_set()

    def _run(self, job: dict) -> None:
        self._send("started", pid=None, node=self.node)
        try:
            cfg = TrainConfig.from_dict(job["config"])
            for name in job["recipes"]:
                if name in recipes.SERVER_RECIPES:  # a teacher's measurement: a JSON result, no model
                    summary = recipes.SERVER_RECIPES[name](cfg, Callbacks(
                        on_progress=lambda p, n=name: self._send("progress", recipe=n, **asdict(p)),
                        should_stop=self._should_stop))
                    self._send("result", recipe=name, summary=summary, model=None, misclassified=[])
                    continue
                callbacks = Callbacks(on_epoch=lambda r, n=name: self._send("epoch", recipe=n, **asdict(r)),
                                      on_progress=lambda p, n=name: self._send("progress", recipe=n, **asdict(p)),
                                      should_stop=self._should_stop)
                result = recipes.RECIPES[name](cfg, callbacks)
                self._send("result", recipe=name, summary=result.summary(), model=None,
                           misclassified=list(result.misclassified), result_object=result)
                if self._stop.is_set():
                    break
            self._send("done")
            self._code = 0
        except Exception as error:  # noqa: BLE001 - reported like a worker's error
            self._send("error", message=student_error(error), traceback=traceback.format_exc())
            self._code = 1

    def events(self) -> list[dict]:
        out = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out

    def request_stop(self) -> None:
        self._stop.set()

    def kill(self) -> None:
        self._stop.set()
        self._killed = True
        self._code = -9

    def exit_status(self) -> int | None:
        return self._code


class ThreadBackend:
    name = "thread"

    def start(self, job: dict) -> ThreadWorker:
        return ThreadWorker(job)
