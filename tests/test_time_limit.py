"""The time limit in words people use, and a training cut short in phase 2 keeps what phase 1 trained."""

from __future__ import annotations

import time

import pytest

from core.classroom.runner import LocalProcessBackend, Runner
from core.classroom.runner.worker import FAKE_RECIPES_VARIABLE
from core.utils.wording import duration_words


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


@pytest.mark.parametrize("seconds, words", [(20, "20 seconds"), (1, "1 second"), (60, "1 minute"),
                                            (900, "15 minutes"), (150, "2.5 minutes")])
def test_a_time_limit_is_said_in_plain_words(seconds, words):
    assert duration_words(seconds) == words


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv(FAKE_RECIPES_VARIABLE, "1")
    made = Runner(LocalProcessBackend(tmp_path / "logs"), tmp_path / "jobs", max_running=1, time_limit_s=0,
                  poll_s=0.05, stop_grace_s=0.5)
    yield made
    made.close()


def _long_phase_two(**extra) -> dict:
    """Phase 1 ends at step 2, then one long step that does not listen to Stop (phase 2's first compile)."""
    return {"recipes": ["fake"], "config": {"epochs1": 400, "ignore_stop": True, "phase1_at": 2, **extra},
            "data": "none"}


def test_the_time_limit_in_phase_two_keeps_the_finished_phase_one(runner):
    job = runner.submit("sam", _long_phase_two())
    assert wait_for(lambda: job.state.phase1 is not None)
    runner.time_limit_s = 0.01
    assert job.wait(30)
    assert job.state.status == "done", job.state.error
    assert job.state.result["fake"]["summary"] == {"steps": 2, "stopped": True}
    note = " ".join(job.state.notes)
    assert "results of phase 1" in note and "0 seconds" in note and "0.0" not in note


def test_a_stop_in_phase_two_keeps_phase_one_too(runner):
    job = runner.submit("sam", _long_phase_two())
    assert wait_for(lambda: job.state.phase1 is not None)
    job.stop()
    assert job.wait(30) and job.state.status == "done"
    assert job.state.result["fake"]["summary"]["stopped"] is True
