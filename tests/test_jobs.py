"""Background training jobs: a shared server runs at most TLL_MAX_TRAININGS at once, the rest wait."""

from __future__ import annotations

import threading
import time

from core import jobs
from core.jobs import TrainingJob


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_extra_jobs_wait_for_a_free_slot_and_can_be_stopped_while_waiting(monkeypatch):
    monkeypatch.setattr(jobs, "_slots", threading.BoundedSemaphore(2))
    release = threading.Event()

    def blocking(on_epoch, on_progress, should_stop):
        release.wait(10)
        return "trained"

    first, second, third, fourth = (TrainingJob(blocking, f"job {i}").start() for i in range(4))
    assert wait_for(lambda: first.state.status == second.state.status == "running")
    assert third.state.status == "waiting" and fourth.state.status == "waiting"
    fourth.stop()
    assert wait_for(lambda: fourth.finished)
    assert fourth.state.error == "Stopped before it started."
    release.set()
    for job in (first, second, third):
        assert job.wait(10) and job.state.result == "trained"


def test_stop_reaches_the_work_function():
    def until_stopped(on_epoch, on_progress, should_stop):
        while not should_stop():
            time.sleep(0.01)
        return "stopped cleanly"

    job = TrainingJob(until_stopped).start()
    assert wait_for(lambda: job.state.status == "running")
    job.stop()
    assert job.wait(5) and job.state.result == "stopped cleanly"
