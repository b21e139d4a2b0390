"""A class on phones, in AppTest: the Train form after a refresh follows the running run, students have no
Teacher entry and cannot start the server's measurements, the Teacher page shares one server-wide count of
wrong codes across sessions and stays unlocked through its teacher session, the projector shows no secrets."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from core.classroom import teacher_gate
from core.classroom.runner import recipes, service
from core.training import Progress
from ui import identity, state, teacher_session

APP = str(ROOT / "app.py")
TRAIN = str(ROOT / "app_pages" / "train.py")
TEACHER = str(ROOT / "app_pages" / "teacher.py")
PROJECTOR = str(ROOT / "app_pages" / "projector.py")
CODE = "maple-harbor-violin-quartz"


@pytest.fixture
def classroom(monkeypatch):
    monkeypatch.setenv("TLL_CLASSROOM", "1")
    monkeypatch.setenv("TLL_TEACHER_CODE", CODE)


@pytest.fixture
def fast_gate():
    """The real guard, without its real waits (the count and the lock-out are what is tested)."""
    teacher_gate.reset_for_tests(teacher_gate.TeacherGate(base_delay_s=0.0))
    yield teacher_gate.server_gate()


def test_a_refresh_during_a_training_keeps_the_runs_settings_in_the_form(monkeypatch):
    release = threading.Event()

    def blocking(cfg, callbacks, dataset=None):
        callbacks.on_progress(Progress("head", 0.25, 30.0, "Phase 1: epoch 1 of 2"))
        while not callbacks.should_stop() and not release.wait(0.05):
            pass
        raise RuntimeError("stopped on purpose")

    monkeypatch.setenv("TLL_TRAINING_BACKEND", "thread")
    monkeypatch.setitem(recipes.RECIPES, "transfer", blocking)
    first = AppTest.from_file(TRAIN, default_timeout=120).run()
    first.selectbox(key="train_image_size").set_value(128).run()
    first.slider(key="train_epochs1").set_value(2).run()
    first.slider(key="train_epochs2").set_value(0).run()
    first.button(key="train_start").click().run()
    held = first.session_state[state.JOB]
    job = getattr(held, "job", held)  # (a Running holder, or the Job itself)
    assert job.spec["config"]["image_size"] == 128
    refreshed = AppTest.from_file(TRAIN, default_timeout=120).run()  # a new session: the same student
    try:
        assert refreshed.selectbox(key="train_image_size").value == 128  # not the 224 px default
        assert refreshed.slider(key="train_epochs1").value == 2 and refreshed.slider(key="train_epochs2").value == 0
    finally:
        job.stop("teacher")
        release.set()
        job.wait(30)


def test_a_student_has_no_teacher_entry_and_no_button_for_the_reference(classroom):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="identity_nickname").input("Sam")
    at.button[0].click().run()
    at.button(key="identity_code_seen").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Measure the reference" in b.label for b in at.button)  # Concept shows claims, no button
    assert any("your teacher can measure it" in c.value for c in at.caption)
    assert not service.runner().queue()


def test_wrong_teacher_codes_from_several_sessions_share_one_counter_and_lock_out(classroom, fast_gate):
    for attempt in range(teacher_gate.LOCK_AFTER):
        at = AppTest.from_file(TEACHER, default_timeout=30).run()  # a new tab each time
        at.text_input(key="teacher_code_input").input(f"guess {attempt}")
        at.button[0].click().run()
    assert any("locked" in e.value for e in at.error)
    late = AppTest.from_file(TEACHER, default_timeout=30).run()
    late.text_input(key="teacher_code_input").input(CODE)  # even the right code waits out the lock-out
    late.button[0].click().run()
    assert any("locked" in e.value for e in late.error) and not late.subheader


def test_the_teacher_session_survives_a_reload_and_the_code_is_never_kept(classroom, fast_gate):
    at = AppTest.from_file(TEACHER, default_timeout=30).run()
    at.text_input(key="teacher_code_input").input(CODE)
    at.button[0].click().run()
    assert "Training queue" in [h.value for h in at.subheader]
    token = at.query_params[teacher_session.TEACHER_PARAM]
    token = token[0] if isinstance(token, list) else token
    assert CODE not in str(dict(at.query_params)) and CODE not in repr(at.session_state)
    reload = AppTest.from_file(TEACHER, default_timeout=30)
    reload.query_params[teacher_session.TEACHER_PARAM] = token
    reload.run()
    assert "Training queue" in [h.value for h in reload.subheader] and not reload.text_input
    forged = AppTest.from_file(TEACHER, default_timeout=30)
    forged.query_params[teacher_session.TEACHER_PARAM] = token[:-2] + "xx"
    forged.run()
    assert not forged.subheader and forged.text_input(key="teacher_code_input")
    reload.button(key="teacher_lock").click().run()
    again = AppTest.from_file(TEACHER, default_timeout=30)
    again.query_params[teacher_session.TEACHER_PARAM] = token
    again.run()
    assert not again.subheader  # locked on the server: the old token opens nothing


def test_the_teacher_starts_the_reference_through_the_queue_and_sees_its_row(classroom, fast_gate, monkeypatch):
    release = threading.Event()

    def measure(cfg, callbacks):
        callbacks.on_progress(Progress("reference", 0.4, None, "Transfer learning: epoch 2 of 5"))
        release.wait(30)
        return {"figures": {}}

    monkeypatch.setenv("TLL_TRAINING_BACKEND", "thread")
    monkeypatch.setitem(recipes.SERVER_RECIPES, "reference", measure)
    at = AppTest.from_file(TEACHER, default_timeout=30).run()
    at.text_input(key="teacher_code_input").input(CODE)
    at.button[0].click().run()
    at.button(key="teacher_server_reference").click().run()
    job = service.server_job("reference")
    try:
        assert job is not None and job in service.runner().queue() and job.kind == "server"
        assert at.button(key=f"teacher_cancel_{job.job_id}").label == "Stop"
    finally:
        release.set()
        job.wait(30)


def test_a_new_return_code_vanishes_at_hide(classroom, fast_gate):
    sam, _, _ = service.store().join("Sam")
    at = AppTest.from_file(TEACHER, default_timeout=30).run()
    at.text_input(key="teacher_code_input").input(CODE)
    at.button[0].click().run()
    at.button(key="teacher_new_code").click().run()
    shown = [s.value for s in at.success if "New return code" in s.value]
    assert shown and "disappears" in shown[0]
    at.button(key="teacher_hide_code").click().run()
    assert not any("New return code" in s.value for s in at.success)


def test_the_projector_shows_no_names_and_no_codes(classroom, monkeypatch):
    sam, code, token = service.store().join("Samantha")
    service.store().add_quiz_attempt(sam.id, {1: "a", 2: "b"}, 1, 8)
    monkeypatch.setattr(identity, "_presence", {sam.id: ("Samantha", time.time())})
    at = AppTest.from_file(PROJECTOR, default_timeout=30).run()
    assert not at.exception
    shown = [str(getattr(element, "value", "")) for element in at.main] + [f.value.to_csv() for f in at.dataframe]
    assert any("question" in text.lower() for text in shown)  # the class's quiz is there...
    assert not any("Samantha" in text or code in text or token in text for text in shown)  # ...without names
    assert at.metric[0].value == "1"  # connected now
    assert not at.text_input  # no code asked


def test_after_a_restart_the_quiz_shows_the_students_last_answers(classroom):
    from core.lesson import LESSON_QUESTIONS

    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="identity_nickname").input("Sam")
    at.button[0].click().run()
    token = at.session_state[identity.TOKEN_KEY]
    sam = at.session_state[identity.STUDENT_KEY]
    answers = {q.id: q.answer for q in LESSON_QUESTIONS[:3]}  # three right, five unanswered
    service.store().add_quiz_attempt(sam.id, answers, 3, len(LESSON_QUESTIONS))
    service.reset_for_tests()  # the server restarts
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params[identity.TOKEN_PARAM] = token
    again.run()
    again.switch_page("app_pages/quiz.py").run()
    assert not again.exception, [e.value for e in again.exception]
    assert any(m.label == "Your score" and m.value == f"3 / {len(LESSON_QUESTIONS)}" for m in again.metric)
    assert sum("Correct:" in s.value for s in again.success) == 3  # the answers themselves, not a blank form


def test_the_confusion_matrix_title_fits_a_360_px_phone():
    import re

    from ui import charts

    title = charts.confusion_matrix([[3, 1], [0, 4]], ["daisy", "roses"]).layout.title.text
    lines = [re.sub(r"<[^>]+>", "", line) for line in title.split("<br>")]
    assert max(len(line) for line in lines) <= 40  # about 340 px at the chart's 15 px title font


def test_the_teacher_token_never_shows_in_the_projectors_address(classroom):
    token = teacher_gate.server_gate().open_session()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params[teacher_session.TEACHER_PARAM] = token
    at.run()
    at.switch_page("app_pages/teacher.py").run()
    assert "Training queue" in [h.value for h in at.subheader]  # unlocked by the session, no code typed
    assert at.query_params[teacher_session.TEACHER_PARAM] in (token, [token])  # a reload finds the teacher
    at.switch_page("app_pages/projector.py").run()
    assert not at.exception and teacher_session.TEACHER_PARAM not in at.query_params  # the class reads this bar


@pytest.mark.slow
def test_predict_shows_only_the_photo_being_judged(flowers_model):
    from conftest import FLOWERS

    page = AppTest.from_file(str(ROOT / "app_pages" / "predict.py"), default_timeout=120)
    page.session_state[state.LATEST_RESULT] = flowers_model
    page.run()
    snapshot = sorted((FLOWERS / "roses").glob("*.jpg"))[0].read_bytes()
    upload = sorted((FLOWERS / "daisy").glob("*.jpg"))[0].read_bytes()
    page.camera_input(key="predict_camera").upload("snapshot.jpg", snapshot).run()
    assert not page.exception and page.camera_input(key="predict_camera").value is not None
    [uploader] = [u for u in page.file_uploader if u.label == "Upload a photo"]  # a new key: emptied by the snapshot
    uploader.upload("daisy.jpg", upload, "image/jpeg").run()
    assert not page.exception
    cameras = [c for c in page.camera_input]
    assert len(cameras) == 1 and cameras[0].key != "predict_camera"  # a new, empty camera widget...
    assert cameras[0].value is None  # ...so the old snapshot is no longer shown beside the new answer
