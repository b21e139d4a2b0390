"""The teacher's server-wide measurements go through the training queue: a queued job with progress, Stop,
no student's time limit, and a result kept in the data folder; one of each kind at a time."""

from __future__ import annotations

import threading

import pytest

from core.classroom.runner import AlreadyTraining, recipes, service
from core.training import Progress


@pytest.fixture
def fake_reference(monkeypatch):
    release = threading.Event()

    def measure(cfg, callbacks):
        callbacks.on_progress(Progress("reference", 0.5, None, "Transfer learning: epoch 1 of 5"))
        while not release.wait(0.02):
            if callbacks.should_stop():
                raise RuntimeError("The measurement was stopped before it finished.")
        return {"figures": {"phase1": {"test_accuracy": 0.8}}}

    monkeypatch.setenv("TLL_TRAINING_BACKEND", "thread")
    monkeypatch.setitem(recipes.SERVER_RECIPES, "reference", measure)
    return release


def test_a_server_job_is_queued_shows_progress_and_keeps_its_result(fake_reference):
    job = service.start_server_job("reference")
    assert job in service.runner().queue() and job.kind == "server"
    with pytest.raises(AlreadyTraining):
        service.start_server_job("reference")  # one of each kind at a time
    for _ in range(200):
        if job.state.progress is not None:
            break
        threading.Event().wait(0.02)
    assert job.state.progress.fraction == 0.5
    assert service.server_result("reference") is None
    fake_reference.set()
    assert job.wait(30) and job.state.status == "done", job.state.error
    assert service.server_result("reference")["figures"]["phase1"]["test_accuracy"] == 0.8
    assert service.store().students() == []  # no student row, no run recorded for the server's work


def test_stop_ends_a_server_job_and_keeps_no_result(fake_reference):
    job = service.start_server_job("reference")
    job.stop("teacher")
    assert job.wait(30) and job.state.status == "failed"
    assert service.server_result("reference") is None


def test_server_jobs_have_no_time_limit(fake_reference):
    runner = service.runner()
    runner.time_limit_s = 0.05
    job = service.start_server_job("reference")
    threading.Event().wait(0.5)
    assert not job.stopping and not job.finished
    fake_reference.set()
    assert job.wait(30) and job.state.status == "done"


def test_an_unknown_server_job_is_refused():
    with pytest.raises(ValueError):
        service.start_server_job("mine everything")
