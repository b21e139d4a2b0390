"""The classroom in the app (AppTest): nicknames and return codes, work restored after a refresh or a restart,
two students kept apart, and the Teacher page behind its code."""

from __future__ import annotations

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from core.classroom.runner import service
from ui import identity, state

APP = str(ROOT / "app.py")
TEACHER = str(ROOT / "app_pages" / "teacher.py")
SUMMARY = {"config": {"epochs1": 1, "epochs2": 0, "image_size": 96}, "class_names": ["daisy", "roses"],
           "history": [{"phase": "head", "epoch": 1, "loss": 0.7, "accuracy": 0.6, "val_loss": 0.6,
                        "val_accuracy": 0.7, "seconds": 0.1}],
           "test": {"accuracy": 0.75, "loss": 0.5, "n": 4, "confusion_matrix": [[2, 0], [1, 1]], "per_class": {}},
           "dataset_source": "fake", "timings": {"total": 1.0}, "stopped": False, "notes": []}


def problems(at: AppTest) -> list[str]:
    return [e.value for e in at.exception]


@pytest.fixture
def classroom(monkeypatch):
    monkeypatch.setenv("TLL_CLASSROOM", "1")


def join(nickname: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("Welcome" in t.value for t in at.title)
    at.text_input(key="identity_nickname").input(nickname)
    at.button[0].click().run()  # the join form's Start button
    assert not problems(at), problems(at)
    return at


def reopen(token: str) -> AppTest:
    """A refresh: a new browser session on the same address (the token in ?s=)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params[identity.TOKEN_PARAM] = token
    return at.run()


def test_a_nickname_is_asked_once_and_a_refresh_brings_the_work_back(classroom):
    at = join("Sam")
    token = at.session_state[identity.TOKEN_KEY]
    assert token in str(at.query_params[identity.TOKEN_PARAM])  # in the address: a refresh keeps it
    code = at.session_state[identity.NEW_CODE_KEY]
    assert len(code.split()) == 4 and any(code in s.value for s in at.main.success)  # a phone's sidebar is closed
    assert "Your return code" in at.title[0].value and code not in str(dict(at.query_params))
    at.button(key="identity_code_seen").click().run()  # "I wrote it down": on to the lesson
    assert not any("return code" in t.value for t in at.title)
    kept = reopen(token)  # a refresh on the same device: the code can be shown again (never in the address)
    assert any(e.label == "🔑 My return code" for e in kept.expander) and any(code in m.value for m in kept.markdown)
    sam = at.session_state[identity.STUDENT_KEY]
    service.store().add_run(sam.id, "my run", "transfer", SUMMARY, [], None, "job-1")  # a training that ended
    service.store().add_quiz_attempt(sam.id, {1: "b"}, 6, 8)
    service.reset_for_tests()  # and the server restarted
    again = reopen(token)
    assert not any("Welcome" in t.value for t in again.title)  # no nickname asked again
    assert [r.label for r in again.session_state[state.RUNS]] == ["my run"]
    assert again.session_state[state.LATEST_RESULT].test["accuracy"] == 0.75
    assert again.session_state[state.QUIZ_BEST] == 6
    assert identity.NEW_CODE_KEY not in again.session_state  # the code was shown once


def test_two_students_never_see_each_others_runs(classroom):
    sam = join("Sam")
    alex = join("Alex")
    sam_id = sam.session_state[identity.STUDENT_KEY].id
    service.store().add_run(sam_id, "sam's run", "transfer", SUMMARY, [], None, "job-1")
    alex.run()
    assert state.RUNS not in alex.session_state or alex.session_state[state.RUNS] == []
    assert state.LATEST_RESULT not in alex.session_state
    guessed = reopen(sam_id)  # a student id is not a session token
    assert any("Welcome" in t.value for t in guessed.title)


def test_the_same_nickname_twice_is_refused_and_the_return_code_signs_in(classroom):
    first = join("Sam")
    code = first.session_state[identity.NEW_CODE_KEY]
    second = join("sam")
    assert any("already" in e.value for e in second.error)
    assert identity.STUDENT_KEY not in second.session_state
    second.text_input(key="identity_back_nickname").input("Sam")
    second.text_input(key="identity_back_code").input(code)
    second.button[1].click().run()
    assert second.session_state[identity.STUDENT_KEY] == first.session_state[identity.STUDENT_KEY]


def test_on_this_computer_nobody_is_asked_for_a_nickname():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not problems(at)
    assert not any("Welcome" in t.value for t in at.title)
    assert at.session_state[identity.STUDENT_KEY].nickname == "This computer"


def test_the_teacher_page_without_a_code_says_how_to_set_one_and_shows_nothing(monkeypatch):
    monkeypatch.delenv("TLL_TEACHER_CODE", raising=False)
    at = AppTest.from_file(TEACHER, default_timeout=30).run()
    assert any("TLL_TEACHER_CODE" in i.value for i in at.info)
    assert not at.subheader and not at.text_input  # no queue, no students, no code box


def test_the_teacher_page_needs_the_right_code(monkeypatch):
    secret = "correct horse battery"
    monkeypatch.setenv("TLL_TEACHER_CODE", secret)
    sam, code, _ = service.store().join("Sam")
    service.store().add_quiz_attempt(sam.id, {1: "a", 2: "b"}, 1, 8)
    at = AppTest.from_file(TEACHER, default_timeout=30).run()
    at.text_input(key="teacher_code_input").input("wrong guess")
    at.button[0].click().run()
    assert any("not the teacher code" in e.value for e in at.error)
    assert not at.subheader  # nothing shown
    at.text_input(key="teacher_code_input").input(secret)
    at.button[0].click().run()
    headings = [h.value for h in at.subheader]
    assert "Training queue" in headings and "Quiz, question by question" in headings
    assert any("Most got" in m.value for m in at.markdown)
    # The code is nowhere a page or a log could show it: not in the address, not kept in the session.
    assert secret not in str(dict(at.query_params))
    assert secret not in repr(at.session_state) and code not in repr(at.session_state)


@pytest.mark.parametrize(("url", "proto", "secure"), [
    ("https://192.168.1.20:8501/predict", None, True),
    ("http://localhost:8501/predict", None, True),
    ("http://127.0.0.1:8501/", None, True),
    ("http://192.168.1.20:8501/predict", None, False),  # a phone on the school network: no camera
    ("http://school-lab.test:8501/predict", None, False),
    ("http://192.168.1.20:8501/predict", "https", True),  # behind an HTTPS proxy
])
def test_the_camera_is_offered_only_on_secure_pages(url, proto, secure):
    from ui.secure_context import is_secure_origin

    assert is_secure_origin(url, proto) is secure



def test_a_refresh_or_a_second_tab_reattaches_to_the_running_training(monkeypatch):
    """The same student in a new browser session finds their training (progress, Stop) and cannot start a second."""
    import threading

    from core.classroom.runner import recipes
    from core.training import Progress

    release = threading.Event()

    def blocking(cfg, callbacks):
        callbacks.on_progress(Progress("head", 0.25, 30.0, "Phase 1: epoch 1 of 4"))
        while not callbacks.should_stop() and not release.wait(0.05):
            pass
        raise RuntimeError("stopped on purpose")

    monkeypatch.setenv("TLL_TRAINING_BACKEND", "thread")
    monkeypatch.setitem(recipes.RECIPES, "transfer", blocking)
    page = str(ROOT / "app_pages" / "train.py")
    first = AppTest.from_file(page, default_timeout=120).run()
    first.button(key="train_start").click().run()
    job = first.session_state[state.JOB]
    assert job.state.status in ("waiting", "running")
    second = AppTest.from_file(page, default_timeout=120).run()  # a refresh: a new session, same student
    assert second.session_state[state.JOB] is job
    assert second.button(key="train_start").disabled and second.button(key="train_stop")
    second.button(key="train_stop").click().run()  # Stop from the other tab reaches the same training
    assert job.wait(30) and job.state.status == "failed"
    release.set()
    first.run()
    assert any("Training failed" in e.value for e in first.error)
    assert not first.button(key="train_start").disabled  # the student can train again
