"""Identical trainings are computed once: the reuse key, the queue's twins, and files shared between students.

The fake recipe runs in real worker processes (no TensorFlow) so the queue tests take seconds; the slow test
trains for real and checks that a reused result is the same numbers and the same model file.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import replace

import pytest

from core.classroom.run_key import REUSED_NOTE, key_from_parts, reuse_enabled, run_keys
from core.classroom.runner import LocalProcessBackend, Runner, service
from core.classroom.runner.reuse import identical_results
from core.classroom.runner.worker import FAKE_RECIPES_VARIABLE
from core.classroom.store import Store
from core.photos import TF_FLOWERS
from core.training import TrainConfig

SETTINGS = {"epochs1": 5, "epochs2": 10, "unfreeze": 30, "lr2": 1e-5, "seed": 42}


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_the_key_changes_with_any_setting_photos_weights_or_version_and_nothing_else():
    key = key_from_parts(SETTINGS, "transfer", "shared", "photos-a", "w.h5:1", {"keras": "3"})
    assert key == key_from_parts(dict(SETTINGS), "transfer", "shared", "photos-a", "w.h5:1", {"keras": "3"})
    assert key == key_from_parts({**SETTINGS, "data": "/elsewhere", "use_cache": False}, "transfer", "shared",
                                 "photos-a", "w.h5:1", {"keras": "3"})  # where the photos are, how it is computed
    changed = [
        key_from_parts({**SETTINGS, "lr2": 1e-4}, "transfer", "shared", "photos-a", "w.h5:1", {"keras": "3"}),
        key_from_parts({**SETTINGS, "seed": 1}, "transfer", "shared", "photos-a", "w.h5:1", {"keras": "3"}),
        key_from_parts(SETTINGS, "scratch", "shared", "photos-a", "w.h5:1", {"keras": "3"}),
        key_from_parts(SETTINGS, "transfer", "student:ab", "photos-a", "w.h5:1", {"keras": "3"}),
        key_from_parts(SETTINGS, "transfer", "shared", "photos-b", "w.h5:1", {"keras": "3"}),
        key_from_parts(SETTINGS, "transfer", "shared", "photos-a", "w.h5:2", {"keras": "3"}),
        key_from_parts(SETTINGS, "transfer", "shared", "photos-a", "w.h5:1", {"keras": "3.1"}),
    ]
    assert len({key, *changed}) == 1 + len(changed)


def test_the_flowers_are_shared_but_a_students_own_photos_are_theirs(small_flowers, tmp_path):
    flowers = TrainConfig(data=TF_FLOWERS, image_size=96)
    assert run_keys(flowers, ("transfer",), "aaaa") == run_keys(flowers, ("transfer",), "bbbb")
    copy = shutil.copytree(small_flowers, tmp_path / "copy")  # the same photos, uploaded by someone else
    own = TrainConfig(data=str(small_flowers), image_size=96)
    mine = run_keys(own, ("transfer",), "aaaa")
    assert mine == run_keys(replace(own, data=str(copy)), ("transfer",), "aaaa")  # by content, not by folder
    assert mine != run_keys(replace(own, data=str(copy)), ("transfer",), "bbbb")
    assert mine != run_keys(replace(own, lr1=1e-2), ("transfer",), "aaaa")


def test_a_setting_switches_reuse_off(monkeypatch):
    monkeypatch.delenv("TLL_REUSE_RUNS", raising=False)
    assert reuse_enabled()
    monkeypatch.setenv("TLL_REUSE_RUNS", "0")
    assert not reuse_enabled()


def fake_job(key: str | None, steps: int = 10) -> dict:
    return {"recipes": ["fake"], "config": {"epochs1": steps}, "data": "none",
            "run_keys": {"fake": key} if key else None}


@pytest.fixture
def runner_and_store(tmp_path, monkeypatch):
    """A runner whose finished fake runs are saved in a real store, each with a model file of its own."""
    monkeypatch.setenv(FAKE_RECIPES_VARIABLE, "1")
    data = Store(tmp_path / "data")

    def save(job):
        if job.reused or job.outcome != "done":
            return
        model = tmp_path / f"{job.job_id}.keras"
        model.write_text(job.job_id)
        summary = {"test": {"accuracy": 0.5, "n": 10}, "stopped": False, "notes": []}
        job.state.run_ids["fake"] = data.add_run(job.owner, "", "transfer", summary, [], str(model), job.job_id,
                                                 run_key=job.run_keys.get("fake"))

    made = Runner(LocalProcessBackend(tmp_path / "logs"), tmp_path / "jobs", max_running=2, time_limit_s=0,
                  on_finished=save, poll_s=0.05, reuse=lambda job: identical_results(job, data))
    made.ids = {name: data.join(name)[0].id for name in ("aaaa", "bbbb", "cccc", "dddd", "eeee")}
    yield made, data
    made.close()


def test_a_twin_waits_for_the_identical_run_then_reuses_its_result_and_file(runner_and_store):
    runner, data = runner_and_store
    first = runner.submit(runner.ids["aaaa"], fake_job("same", steps=30))
    twin = runner.submit(runner.ids["bbbb"], fake_job("same"))
    other = runner.submit(runner.ids["cccc"], fake_job("different", steps=2))
    assert wait_for(lambda: other.finished)  # the second slot went to the next job that is not a twin
    assert twin.state.status == "waiting" and twin.handle is None
    assert wait_for(lambda: twin.finished)
    assert first.state.status == twin.state.status == other.state.status == "done"
    assert twin.reused and not first.reused and not other.reused
    [first_run], [twin_run] = data.runs(runner.ids["aaaa"]), data.runs(runner.ids["bbbb"])
    assert twin_run["model_path"] == first_run["model_path"]  # the same file, not a copy
    assert twin_run["reused_from"] == first_run["id"] and REUSED_NOTE in twin_run["summary"]["notes"]
    assert twin.state.result["fake"].run_id == twin_run["id"]

    later = runner.submit(runner.ids["dddd"], fake_job("same"))  # once it is finished, an identical job is done at once
    assert later.finished and later.reused and later.handle is None
    assert runner.job_for(runner.ids["dddd"]) is later  # the page finds it like any finished job
    without_key = runner.submit(runner.ids["eeee"], fake_job(None, steps=1))
    assert wait_for(lambda: without_key.finished) and not without_key.reused


def test_a_stopped_run_is_not_reused(runner_and_store):
    runner, data = runner_and_store
    stopped = runner.submit(runner.ids["aaaa"], fake_job("same", steps=40))
    assert wait_for(lambda: stopped.state.status == "running")
    run_id = data.add_run(runner.ids["aaaa"], "", "transfer", {"test": {"accuracy": 0.3}, "stopped": True}, [], __file__,
                          None, run_key="same")
    assert data.reusable_run("same") is None, run_id
    stopped.stop()
    assert wait_for(lambda: stopped.finished)


def test_deleting_a_student_keeps_the_files_another_students_run_points_to(tmp_path):
    service.reset_for_tests(tmp_path / "data")
    try:
        data = service.store()
        alex, _, _ = data.join("Alex")
        sam, _, _ = data.join("Sam")
        run_folder = data.student_folder(alex.id) / "runs" / "job1"
        run_folder.mkdir(parents=True)
        model, wrong, own_only = run_folder / "transfer.keras", run_folder / "00.jpg", run_folder / "other.keras"
        for path in (model, wrong, own_only):
            path.write_bytes(b"x")
        summary = {"test": {"accuracy": 0.9, "n": 150}, "stopped": False}
        first = data.add_run(alex.id, "", "transfer", summary, [{"path": str(wrong)}], str(model), "job1", "k1")
        data.add_run(alex.id, "", "transfer", summary, [], str(own_only), "job1", "k2")
        data.add_run(sam.id, "", "transfer", summary, [{"path": str(wrong)}], str(model), "job2", "k1", first)

        kept = service.delete_student(alex.id)
        assert sorted(kept) == sorted([str(model), str(wrong)])
        assert model.is_file() and wrong.is_file() and not own_only.exists()
        assert data.runs(alex.id) == [] and len(data.runs(sam.id)) == 1
        assert service.saved_runs(sam.id)[0][1].has_model()

        assert service.delete_student(sam.id) == []  # nobody points to it any more: it can go
    finally:
        service.reset_for_tests()


def test_forgetting_old_models_keeps_a_file_another_student_still_uses(tmp_path):
    data = Store(tmp_path / "data")
    a, b = data.join("a")[0].id, data.join("b")[0].id
    shared, mine = tmp_path / "shared.keras", tmp_path / "mine.keras"
    summary = {"test": {"accuracy": 0.9}, "stopped": False}
    first = data.add_run(a, "", "transfer", summary, [], str(shared), "j1", "k1")
    data.add_run(b, "", "transfer", summary, [], str(shared), "j2", "k1", first)
    data.add_run(a, "", "transfer", summary, [], str(mine), "j3", "k2")
    assert data.forget_models(a, keep=1) == []  # "a" lets go of shared.keras, but "b" still points to it
    assert data.forget_models(b, keep=0) == [str(shared)]  # the last pointer gone: the caller deletes it


@pytest.mark.slow
def test_the_same_training_again_is_reused_with_identical_numbers_and_the_same_model(tmp_path, small_flowers,
                                                                                      monkeypatch):
    monkeypatch.delenv("TLL_REUSE_RUNS", raising=False)
    service.reset_for_tests(tmp_path / "data")
    try:
        sam, _, _ = service.store().join("Sam")
        alex, _, _ = service.store().join("Alex")
        cfg = TrainConfig(data=str(small_flowers), image_size=96, epochs1=1, epochs2=0, batch_size=8, seed=3)
        first = service.start_training(sam.id, sam.nickname, "train", cfg, ("transfer",))
        assert first.wait(300) and first.state.status == "done", first.state.error
        service.runner().collect(first)

        again = service.start_training(sam.id, sam.nickname, "train", cfg, ("transfer",))
        assert again.finished and again.reused
        a, b = first.state.result["transfer"], again.state.result["transfer"]
        assert b.model_path == a.model_path and b.test == a.test and b.history == a.history
        assert REUSED_NOTE in b.notes and REUSED_NOTE not in a.notes
        service.runner().collect(again)

        changed = service.start_training(sam.id, sam.nickname, "train", replace(cfg, lr1=5e-4), ("transfer",))
        assert not changed.reused
        changed.stop("teacher")
        assert changed.wait(60)
        theirs = service.start_training(alex.id, alex.nickname, "train", cfg, ("transfer",))  # same photos, uploaded
        assert not theirs.reused and not theirs.finished  # by another student: computed for them
        theirs.stop("teacher")
        assert theirs.wait(60)
    finally:
        service.reset_for_tests()
