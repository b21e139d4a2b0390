"""Photos as small JPEGs, made once per file and shared by every student's page (``st.cache_data``).

``st.image(path)`` decodes, resizes and re-encodes the full photo on every rerun of the page; with 30 students
moving sliders that was most of the Train page's server time after a training (its wrongly classified photos).
"""

from __future__ import annotations

import os

import streamlit as st

from core.photos import thumbnail_jpeg


@st.cache_data(show_spinner=False, max_entries=4000)
def _made(path: str, size: int, modified_ns: int) -> bytes | None:
    return thumbnail_jpeg(path, size)


def thumbnail(path: str, size: int = 330) -> bytes | str:
    """A small JPEG of ``path`` (longer side ``size``); the path itself if it cannot be made (st.image says why)."""
    try:
        modified = os.stat(path).st_mtime_ns
    except OSError:
        return path
    return _made(str(path), size, modified) or path
