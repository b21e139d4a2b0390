"""After a server restart the first student to come back is told their training was lost (not only after a
refresh), and a restart's leftovers from a SIGKILL are cleaned at start."""

from __future__ import annotations

import time

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from core.classroom.runner import service
from ui import identity, state

APP = str(ROOT / "app.py")


@pytest.fixture
def classroom(monkeypatch):
    monkeypatch.setenv("TLL_CLASSROOM", "1")


def test_the_first_student_back_after_a_restart_hears_their_training_was_lost(classroom):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="identity_nickname").input("Ria")
    at.button[0].click().run()
    ria, token = at.session_state[identity.STUDENT_KEY], at.session_state[identity.TOKEN_KEY]
    service.store().record_job(ria.id, "job-lost", "my run", "transfer", "running", time.time() - 30, time.time() - 20)
    service.reset_for_tests()  # the server restarted: nothing has asked for the runner yet
    back = AppTest.from_file(APP, default_timeout=60)
    back.query_params[identity.TOKEN_PARAM] = token
    back.run()
    assert state.JOB_ERROR in back.session_state and "restarted" in (back.session_state[state.JOB_ERROR] or "")


def test_what_a_sigkilled_server_left_is_removed_at_the_next_start(tmp_path, monkeypatch):
    import os
    import signal
    import subprocess
    import sys
    import tempfile

    from core.classroom.leftovers import clean_leftovers

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # uploads made here go to tmp_path, nobody else's
    data = tmp_path / "data"
    (data / "jobs" / "abc123").mkdir(parents=True)
    (data / "jobs" / "abc123" / "spec.json").write_text("{}")
    (data / "snapshots" / "s1-00ff").mkdir(parents=True)
    killed = subprocess.Popen([sys.executable, "-c", "import time; from core.photos.upload import _make_private_temp; "
                               "print(_make_private_temp(), flush=True); time.sleep(60)"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(tmp_path)})
    upload = killed.stdout.readline().strip()
    from core.photos.upload import _make_private_temp

    mine = _make_private_temp()  # a live process's upload: kept
    assert str(tmp_path) in upload and str(tmp_path) in str(mine)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    removed = clean_leftovers(data, tmp_path)
    assert removed == {"jobs": 1, "snapshots": 1, "uploads": 1}
    assert not list((data / "jobs").iterdir()) and not list((data / "snapshots").iterdir())
    assert not os.path.exists(upload) and mine.exists()


def test_the_runner_cleans_leftovers_when_the_server_starts(classroom):
    data = service.store().folder
    (data / "snapshots" / "old").mkdir(parents=True)
    service.reset_for_tests()
    service.runner()
    assert not (data / "snapshots" / "old").exists()


def test_predict_right_after_a_training_uses_its_model_without_visiting_train(monkeypatch):
    """The training ends while the student is on another page: Predict offers its model at once."""
    import threading

    from core.classroom.runner import recipes
    from core.training import TrainConfig, TrainResult

    release = threading.Event()

    def finished(cfg, callbacks, dataset=None):
        release.wait(30)  # ends once the student has left the Train page
        test = {"accuracy": 0.8, "loss": 0.4, "n": 5, "confusion_matrix": [[2, 1], [0, 2]], "per_class": {}}
        return TrainResult(model=object(), class_names=["daisy", "roses"], config=TrainConfig(image_size=96),
                           history=[], test=test, misclassified=[], dataset_source="fake", counts={}, skipped=[],
                           timings={"total": 1.0}, cache={}, stopped=False, weights="imagenet")

    monkeypatch.setenv("TLL_TRAINING_BACKEND", "thread")
    monkeypatch.setitem(recipes.RECIPES, "transfer", finished)
    train = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=120).run()
    train.button(key="train_start").click().run()
    job = train.session_state[state.JOB]
    release.set()
    assert job.wait(30) and job.state.status == "done", job.state.error
    predict = AppTest.from_file(APP, default_timeout=120)
    predict.session_state[state.JOB] = job  # the same browser session, now opening Predict
    predict.switch_page("app_pages/predict.py").run()
    texts = " ".join(m.value for m in predict.markdown) + " ".join(i.value for i in predict.info)
    assert "You have not trained a model yet" not in texts
    assert "your model from the Train page" in texts
