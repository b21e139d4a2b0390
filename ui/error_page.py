"""The app's own error page: a student never sees a traceback or a server path, the server log gets it all.

``client.showErrorDetails = "none"`` (.streamlit/config.toml) covers what escapes this (a fragment's rerun);
here a page that fails shows one plain sentence and the rest of the app keeps working.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

import streamlit as st

from core.classroom import ServerCannotSave

log = logging.getLogger("transfer_learning_lab")

SOMETHING_WENT_WRONG = ("Something went wrong on the server. Your saved work is safe: try again, or tell your "
                        "teacher if it keeps happening.")


@contextmanager
def shown_as_a_message():
    """Runs a page: Streamlit's own stop/rerun signals pass (they are BaseExceptions), errors become a message."""
    try:
        yield
    except ServerCannotSave as refused:
        log.error("Could not save: %s", refused.detail)
        st.error(str(refused))
    except Exception:
        log.exception("A page failed")
        st.error(SOMETHING_WENT_WRONG)
