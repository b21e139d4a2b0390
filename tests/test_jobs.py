"""The training queue: worker processes, a bounded pool, first come first served, one training per student,
Stop across the process boundary, time limits, and workers that crash or are killed.

The ``fake`` recipe runs in a real worker process (``python -m core.classroom.runner.worker``) but trains nothing,
so these tests take seconds; ``test_a_real_tiny_training_in_a_worker`` trains through ``core.training``.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from core.classroom.runner import AlreadyTraining, LocalProcessBackend, Runner
from core.classroom.runner.worker import FAKE_RECIPES_VARIABLE


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def fake(steps=10, **extra) -> dict:
    return {"recipes": ["fake"], "config": {"epochs1": steps, **extra}, "data": "none"}


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv(FAKE_RECIPES_VARIABLE, "1")
    finished = []
    made = Runner(LocalProcessBackend(tmp_path / "logs"), tmp_path / "jobs", max_running=2, time_limit_s=0,
                  on_finished=finished.append, poll_s=0.05)
    made.finished_jobs = finished
    yield made
    made.close()


def test_the_queue_is_first_come_first_served_with_live_places(runner):
    jobs = [runner.submit(f"student{i}", fake(steps=40)) for i in range(5)]
    assert wait_for(lambda: jobs[0].state.status == jobs[1].state.status == "running")
    assert [j.state.status for j in jobs[2:]] == ["waiting"] * 3
    assert [j.state.queue_place for j in jobs[2:]] == [1, 2, 3]
    assert all(j.state.running == 2 for j in jobs[2:])  # "2 running", not "0 other trainings"
    assert [j.owner for j in runner.queue()] == [f"student{i}" for i in range(5)]
    jobs[3].stop()  # leaving the queue moves everyone behind up
    assert jobs[3].finished and jobs[3].state.status == "failed" and "before it started" in jobs[3].state.error
    assert jobs[4].state.queue_place == 2
    jobs[0].stop()  # the first to ask gets the free slot
    assert wait_for(lambda: jobs[2].state.status == "running", 10)
    assert jobs[4].state.status == "waiting" and jobs[4].state.queue_place == 1
    for job in jobs[1:]:
        job.stop()
    assert wait_for(lambda: all(j.finished for j in jobs))
    assert jobs[2].state.started >= jobs[0].state.started


def test_one_training_per_student_and_a_second_click_is_told_why(runner):
    first = runner.submit("sam", fake(steps=40), label="Train")
    with pytest.raises(AlreadyTraining, match="one at a time"):
        runner.submit("sam", fake())
    assert runner.job_for("sam") is first  # a refresh or a second tab finds the same job
    other = runner.submit("alex", fake(steps=2))  # someone else is not blocked
    assert other.wait(20) and other.state.status == "done"
    first.stop()
    assert first.wait(20)
    again = runner.submit("sam", fake(steps=1))  # once it ended, the student can train again
    assert again.wait(20) and again.state.status == "done"


def test_progress_and_results_cross_the_process_boundary(runner):
    job = runner.submit("sam", fake(steps=6))
    assert job.wait(20) and job.state.status == "done"
    assert job.state.progress is not None and job.state.progress.message == "step 6 of 6"
    assert job.state.result["fake"]["summary"] == {"steps": 6, "stopped": False}
    assert runner.finished_jobs == [job] and job.outcome == "done"
    assert runner.job_for("sam") is job  # kept until the student's page has seen it
    runner.collect(job)
    assert runner.job_for("sam") is None


def test_stop_is_graceful_when_the_worker_answers(runner):
    job = runner.submit("sam", fake(steps=400))
    assert wait_for(lambda: job.state.progress is not None)
    job.stop()
    assert job.wait(15)  # long before its 400 steps of 0.1 s
    assert job.state.status == "done" and job.state.result["fake"]["summary"]["stopped"] is True


def test_stop_kills_a_worker_stuck_in_a_long_step(runner):
    job = runner.submit("sam", fake(steps=400, ignore_stop=True))
    assert wait_for(lambda: job.state.progress is not None)
    job.stop()
    assert job.wait(15)  # it ignores Stop and would run 40 s: it was killed
    assert job.state.status == "failed" and "nothing" in job.state.error


def test_a_worker_killed_with_sigkill_fails_only_its_own_job(runner):
    victim = runner.submit("sam", fake(steps=400))
    neighbour = runner.submit("alex", fake(steps=30))
    assert wait_for(lambda: victim.state.progress is not None)
    os.kill(victim.handle.pid, signal.SIGKILL)  # what the out-of-memory killer does
    assert victim.wait(10) and victim.state.status == "failed"
    assert "killed" in victim.state.error and "Try again" in victim.state.error
    assert neighbour.wait(20) and neighbour.state.status == "done"
    retry = runner.submit("sam", fake(steps=1))  # the student can retry
    assert retry.wait(20) and retry.state.status == "done"


def test_a_crashing_worker_is_reported(runner):
    job = runner.submit("sam", fake(steps=10, crash_at=2))
    assert job.wait(20) and job.state.status == "failed" and "exit code 7" in job.state.error


def test_an_exception_in_the_training_is_shown_without_a_server_traceback(runner):
    job = runner.submit("sam", {"recipes": ["no such recipe"], "config": {}, "data": "none"})
    assert job.wait(20) and job.state.status == "failed"
    assert job.state.error.startswith("ValueError: unknown recipe") and "Traceback" not in job.state.error


def test_the_time_limit_stops_a_training_and_says_so(runner):
    runner.time_limit_s = 0.6
    job = runner.submit("sam", fake(steps=400))
    assert job.wait(20) and job.state.status == "done"
    assert job.state.result["fake"]["summary"]["stopped"] is True
    assert any("time limit" in note for note in job.state.notes)


def test_the_teacher_cancels_a_running_training(runner):
    job = runner.submit("sam", fake(steps=400))
    assert wait_for(lambda: job.state.progress is not None)
    job.stop("teacher")
    assert job.wait(10) and job.state.status == "failed" and "teacher" in job.state.error


def test_a_worker_that_cannot_start_is_a_plain_message_and_the_queue_goes_on(tmp_path):
    class NoMemory:
        name = "local"

        def __init__(self):
            self.calls = 0

        def start(self, job):
            self.calls += 1
            raise OSError(12, "Cannot allocate memory")

    backend = NoMemory()
    made = Runner(backend, tmp_path / "jobs", max_running=1, time_limit_s=0, poll_s=0.05)
    try:
        jobs = [made.submit(name, fake()) for name in ("sam", "alex")]
        assert all(job.wait(10) for job in jobs) and backend.calls == 2  # the second was not stuck behind it
        message = jobs[0].state.error
        assert jobs[0].state.status == "failed" and message.startswith("The training could not start")
        assert "Try again in a minute" in message and "Cannot allocate memory" in message.split("For the teacher")[1]
        assert made.submit("sam", fake()) is not jobs[0]  # and the student may try again
    finally:
        made.close()
