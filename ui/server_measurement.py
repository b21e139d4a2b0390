"""A server-wide measurement (the reference run, the two pixel scalings) as students see it: its progress
while it runs in the training queue, and who can start it. Only the teacher starts one (minutes of the whole
server's time); a student reads "your teacher can measure this" instead of a button."""

from __future__ import annotations

import streamlit as st

from core.classroom.runner import AlreadyTraining, server_job, start_server_job
from ui import teacher_session


@st.fragment(run_every=3)
def _live(kind: str) -> None:
    job = server_job(kind)
    if job is None:
        return
    if not job.finished:
        progress = job.state.progress
        st.progress(progress.fraction if progress else 0.0,
                    text=progress.message if progress else "Waiting for its turn in the training queue…")
    elif job.state.status == "failed":
        st.error(f"The measurement failed: {job.state.error}")
    else:
        st.success("Measured. Open another page and come back (or reload) to see the figures.")


def panel(kind: str, button_words: str, key: str) -> None:
    """Progress when it runs; the start button for the teacher; a line for students."""
    job = server_job(kind)
    running = job is not None and not job.finished
    if not running and teacher_session.unlocked():
        if st.button(button_words, key=f"{key}_measure_{kind}"):
            try:
                start_server_job(kind)
            except AlreadyTraining:
                pass  # started from another tab a moment ago
            st.rerun()
    elif not running:
        st.caption("Not measured on this server yet: your teacher can measure it (Teacher page).")
    _live(kind)
