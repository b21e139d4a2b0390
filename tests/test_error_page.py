"""No traceback reaches a student: a failing page shows one sentence, a full disk its own message, and Streamlit's
own error details are off."""

import tomllib

from conftest import ROOT
from streamlit.testing.v1 import AppTest

from core.classroom.disk_space import CANNOT_SAVE
from ui.error_page import SOMETHING_WENT_WRONG


def _page(raises: str) -> AppTest:
    def script():
        import streamlit as st

        from core.classroom.disk_space import ServerCannotSave
        from ui.error_page import shown_as_a_message

        with shown_as_a_message():
            st.write("before")
            if st.session_state.get("raise") == "disk":
                raise ServerCannotSave("/srv/data/classroom.sqlite3: database or disk is full")
            raise KeyError("/srv/secret/path")

    app = AppTest.from_function(script)
    app.session_state["raise"] = raises
    return app.run()


def test_a_failing_page_shows_one_sentence_and_no_traceback():
    app = _page("other")
    assert not app.exception
    assert [e.value for e in app.error] == [SOMETHING_WENT_WRONG]
    assert "/srv" not in str([e.value for e in app.error])


def test_a_full_disk_shows_its_own_message_without_the_path():
    app = _page("disk")
    assert not app.exception
    assert [e.value for e in app.error] == [CANNOT_SAVE]


def test_streamlit_shows_no_error_details():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
