"""A link to another page of the app that degrades to plain text when the page runs on its own."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException


def page_link(page: str, label: str, icon: str | None = None) -> None:
    """``st.page_link`` inside the app; a caption naming the page when the script runs alone (some tests)."""
    try:
        st.page_link(page, label=label, icon=icon)
    except StreamlitAPIException:  # no st.navigation registered the page: say where to go instead
        st.caption(f"{icon or '→'} {label}")
