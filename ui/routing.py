"""Every page opens inside the app, even from a link shared before anyone opened ``/``.

Until app.py has called ``st.navigation`` once, Streamlit serves ``pages/*.py`` by itself (its older
``pages/`` folder discovery): a deep link like ``/quiz`` would run the bare page without the app's
navigation and page set-up. Pages call :func:`route_through_app` first; app.py marks the session.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

ROUTED_KEY = "_tll_routed"
WANTED_KEY = "_tll_wanted_page"


def mark_routed() -> None:
    """Called by app.py on every run, before the current page runs."""
    st.session_state[ROUTED_KEY] = True


def go_to_wanted_page() -> None:
    """Called by app.py after ``st.navigation``: finish a redirect started by :func:`route_through_app`."""
    wanted = st.session_state.pop(WANTED_KEY, None)
    if wanted:
        st.switch_page(wanted)


def route_through_app(page_path: str) -> None:
    """Restart this session through app.py if the page was opened without it."""
    if st.session_state.get(ROUTED_KEY):
        return
    st.session_state[WANTED_KEY] = page_path
    try:
        st.switch_page("app.py")
    except StreamlitAPIException:  # the page runs on its own (AppTest, `streamlit run pages/x.py`)
        st.session_state.pop(WANTED_KEY, None)
