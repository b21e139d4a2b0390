"""Is this browser the teacher's? A teacher session survives a reload without the code being typed again.

The right teacher code opens a session (``core.classroom.teacher_gate``): a random token the server keeps only
as a hash, valid for the school day. The browser keeps it in the page address (``?t=…``), like a student's
``?s=``, because Streamlit cannot set cookies and a reload starts a new session: so a reload, or the Teacher
page opened again from the menu, stays unlocked; "Lock this page" ends it on the server. The teacher code
itself is never in the address, the session or a log. The token is a secret of the teacher's own screen: the
projector shows the Projector page, which needs none.
"""

from __future__ import annotations

import streamlit as st

from core.classroom import server_gate

TEACHER_PARAM = "t"
SESSION_KEY = "teacher_session_token"


def unlocked() -> bool:
    token = st.session_state.get(SESSION_KEY) or st.query_params.get(TEACHER_PARAM)
    if token and server_gate().session_valid(token):
        st.session_state[SESSION_KEY] = token
        return True
    st.session_state.pop(SESSION_KEY, None)
    return False


def keep_in_address(projected: bool = False) -> None:
    """Page links drop query parameters: put the token back so a reload finds the teacher again; never on a
    ``projected`` page (the class can read its address bar)."""
    token = st.session_state.get(SESSION_KEY)
    if projected:
        st.query_params.pop(TEACHER_PARAM, None)
    elif token and st.query_params.get(TEACHER_PARAM) != token:
        st.query_params[TEACHER_PARAM] = token


def sign_in() -> None:
    token = server_gate().open_session()
    st.session_state[SESSION_KEY] = token
    st.query_params[TEACHER_PARAM] = token


def sign_out() -> None:
    server_gate().close_session(st.session_state.pop(SESSION_KEY, None))
    st.query_params.pop(TEACHER_PARAM, None)
