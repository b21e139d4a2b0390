"""A warm start: the frozen features a class's first trainings need are made once and found on disk by the next
start; warm training workers wait with TensorFlow imported and each does one training."""

from __future__ import annotations

import time

import pytest

from core.classroom import warm_start
from core.classroom.runner import LocalProcessBackend
from core.classroom.runner.job_times import read_calibration
from core.classroom.runner.time_estimate import costs_from_runs, predicted_seconds, with_fallback
from core.classroom.runner.worker import FAKE_RECIPES_VARIABLE
from core.training import TrainConfig, feature_cache


@pytest.mark.slow
def test_the_features_are_made_once_then_found_on_disk(tmp_path, small_flowers, monkeypatch):
    monkeypatch.setenv("TLL_CACHE_DIR", str(tmp_path / "cache"))
    feature_cache.clear_memory()  # a test earlier in this process may have read the same photos
    messages = []
    first = warm_start.prepare_features(96, messages.append, data=str(small_flowers))
    assert first == {"pooled": "cold", "cut": "cold"}  # the phase-1 vectors and the default cut
    assert messages and all(m.stage == "features" for m in messages)  # progress while the base reads photos
    assert any((tmp_path / "cache").rglob("*")), "nothing was stored on disk"
    feature_cache.clear_memory()  # a new server process: only the disk is left
    assert warm_start.prepare_features(96, data=str(small_flowers)) == {"pooled": "warm", "cut": "warm"}


def events_until_done(process, timeout=120.0) -> list[dict]:
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline and process.exit_status() is None:
        seen += process.events()
        time.sleep(0.1)
    return seen + process.events()


@pytest.mark.slow
def test_a_warm_worker_takes_the_next_job_and_the_pool_starts_its_replacement(tmp_path, monkeypatch):
    monkeypatch.setenv(FAKE_RECIPES_VARIABLE, "1")
    backend = LocalProcessBackend(tmp_path / "logs", warm=1)
    try:
        [waiting] = backend._ready
        assert waiting.exit_status() is None  # started before any job, waiting for one
        job = {"job_id": "j1", "recipes": ["fake"], "config": {"epochs1": 2}, "data": "none", "output_dir": "x"}
        process = backend.start(job)
        assert process is waiting  # the warm one took it
        [replacement] = backend._ready
        assert replacement is not waiting and replacement.exit_status() is None
        events = events_until_done(process)
        assert [e["type"] for e in events if e["type"] in ("started", "done")] == ["started", "done"]
        assert process.exit_status() == 0  # one training, then its memory goes back to the system
    finally:
        backend.close()
    assert backend._ready == [] and replacement.exit_status() is not None  # closing ends the waiting workers


@pytest.mark.slow
def test_the_training_speed_is_timed_once_and_gives_the_first_estimates(tmp_path, small_flowers, monkeypatch):
    monkeypatch.setenv("TLL_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "data"
    folder.mkdir()
    assert warm_start.calibrate(96, data=str(small_flowers), folder=folder, reading_s=12.0)
    assert not warm_start.calibrate(96, data=str(small_flowers), folder=folder)  # found on disk: not again
    costs = costs_from_runs(read_calibration(folder))
    lesson = TrainConfig(image_size=96, data=str(small_flowers)).to_dict()
    alone = predicted_seconds(lesson, 700, costs)
    assert alone is not None and alone > 0  # both phases at the default cut have a cost now
    n_train = sum(read_calibration(folder)[0]["summary"]["counts"]["train"].values())
    assert costs.extract_photo[("mobilenet_v2", 96)] == pytest.approx(12.0 / n_train)  # a cut nobody trained yet
    two_at_once = predicted_seconds(lesson, 700, with_fallback(costs_from_runs([]), costs, slower=2))
    assert two_at_once == pytest.approx(2 * alone)
