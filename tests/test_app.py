"""The router: every page opens through st.navigation without an exception; state survives page changes."""

from __future__ import annotations

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

PAGES = ["app_pages/concept.py", "app_pages/compare.py", "app_pages/train.py", "app_pages/predict.py", "app_pages/quiz.py"]


@pytest.fixture(scope="module")
def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_from_the_router(app, page):
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title, f"{page} shows no title"


def test_quiz_best_score_survives_moving_between_pages(app):
    app.switch_page("app_pages/quiz.py").run()
    for i in range(1, 9):
        app.radio(key=f"quiz_q{i}").set_value(app.radio(key=f"quiz_q{i}").options[1])
    app.button(key="quiz_submit").click().run()
    best = app.session_state["quiz_best"]
    app.switch_page("app_pages/concept.py").run()
    app.switch_page("app_pages/quiz.py").run()
    assert app.session_state["quiz_best"] == best
