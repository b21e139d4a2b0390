"""The router: every page opens through st.navigation without an exception; state survives page changes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from core.classroom.runner import service
from ui import state

PAGES = ["app_pages/concept.py", "app_pages/compare.py", "app_pages/train.py", "app_pages/predict.py", "app_pages/quiz.py"]


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> AppTest:
    """One app for the module. Its first run restores the local student's work from the classroom store, so the
    store is a private one here (the per-test one is not set yet when a module fixture runs)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TLL_DATA_DIR", str(tmp_path_factory.mktemp("tll-data-app")))
        service.reset_for_tests()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_from_the_router(app, page):
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title, f"{page} shows no title"


def test_quiz_best_score_survives_moving_between_pages_and_shows_in_the_sidebar(app):
    app.switch_page("app_pages/quiz.py").run()
    radios = [r for r in app.radio if r.key and r.key.startswith("quiz_q")]
    for radio in radios:
        radio.set_value(radio.options[0])
    app.button(key="quiz_submit").click().run()
    best = app.session_state[state.QUIZ_BEST]
    assert isinstance(best, int)
    app.switch_page("app_pages/concept.py").run()
    app.switch_page("app_pages/quiz.py").run()
    assert app.session_state[state.QUIZ_BEST] == best
    assert any(c.value.startswith(f"Best quiz score: {best} / ") for c in app.sidebar.caption)


def test_train_settings_survive_a_trip_to_another_page(app):
    app.switch_page("app_pages/train.py").run()
    app.slider(key="train_epochs1").set_value(7)
    app.select_slider(key="train_lr2").set_value(2e-5)
    app.select_slider(key="train_unfreeze").set_value(50).run()
    app.switch_page("app_pages/concept.py").run()
    app.switch_page("app_pages/train.py").run()
    assert app.slider(key="train_epochs1").value == 7
    assert app.select_slider(key="train_lr2").value == 2e-5
    assert app.select_slider(key="train_unfreeze").value == 50


def test_the_sidebar_tells_the_latest_model_from_the_shared_state(app):
    app.switch_page("app_pages/quiz.py").run()
    captions = [c.value for c in app.sidebar.caption]
    assert any("No model trained yet" in c for c in captions), captions
    app.session_state[state.LATEST_RESULT] = SimpleNamespace(test={"accuracy": 0.875})
    app.session_state[state.RUNS] = ["run 1", "run 2"]
    app.run()
    captions = [c.value for c in app.sidebar.caption]
    assert any("Your latest model: 88% on its test photos (2 run(s) this session)" in c for c in captions), captions


def test_with_a_run_log_each_page_run_writes_its_title_and_server_seconds(app, tmp_path, monkeypatch):
    log = tmp_path / "runs.tsv"
    monkeypatch.setenv("TLL_RUN_LOG", str(log))
    app.switch_page("app_pages/quiz.py").run()
    app.switch_page("app_pages/concept.py").run()
    rows = [line.split("\t") for line in log.read_text().splitlines()]
    assert [title for title, _ in rows] == ["Quiz", "Concept"]
    assert all(0 < float(seconds) < 600 for _, seconds in rows)
    monkeypatch.delenv("TLL_RUN_LOG")
    app.switch_page("app_pages/quiz.py").run()
    assert len(log.read_text().splitlines()) == 2  # unset: nothing written


def test_the_router_stops_streamlit_clearing_the_keras_session_after_every_run(app):
    from streamlit.runtime.scriptrunner import script_runner

    from ui import server_tuning

    app.switch_page("app_pages/quiz.py").run()  # the router ran in this process
    assert script_runner._clean_problem_modules is server_tuning._close_matplotlib_figures
    import keras

    seen = []
    real = keras.backend.clear_session
    keras.backend.clear_session = lambda *a, **k: seen.append(1)
    try:
        script_runner._clean_problem_modules()
    finally:
        keras.backend.clear_session = real
    assert seen == []
