"""Projector page: what the whole class may see, with no code. The join address and a QR code filling the
screen, how many are connected, the queue as counts, the class's quiz question by question, the class's
hyperparameter map when there is one. Nothing secret: no nickname, no return code, no server path.
"""

from __future__ import annotations

import importlib
import time

import streamlit as st

from core.classroom import join_urls, qr_png, quiz_per_question
from core.classroom.runner import runner, store
from ui import identity

REFRESH_S = 5.0

st.html("<style>[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'] {display: none;}</style>")
st.title("📽️ Join the class")


def join_panel() -> None:
    https = bool(st.get_option("server.sslCertFile"))
    urls = join_urls(int(st.get_option("server.port")), https)
    if not urls:
        st.warning("This computer has no network address phones can reach: connect it to the network.")
        return
    url = urls[0]
    qr, words = st.columns([3, 2], vertical_alignment="center")
    qr.image(qr_png(url, scale=16), width="stretch", alt=f"QR code of the join address {url}")
    words.markdown("### Scan the code with your phone's camera\n\nor type the whole address, with **https://**:")
    words.code(url, language=None)
    if https:
        words.caption("Typed without https://, the server sends you on to it. The first time, your phone asks to "
                      "accept this server's certificate (your teacher shows how).")
    for other in urls[1:3]:
        words.caption(f"Another network: {other}")


def class_map() -> None:
    """The class's hyperparameter map (``ui.class_map_panel``, once it exists), anonymous: no names here."""
    try:
        panel = importlib.import_module("ui.class_map_panel").class_map_panel
    except (ModuleNotFoundError, AttributeError):
        return
    st.subheader("The class's settings and what they scored")
    panel(None, names=False, key="projector_map")


@st.fragment(run_every=REFRESH_S)
def live() -> None:
    jobs = [job for job in runner().queue() if job.kind != "server"]
    running = sum(job.state.status == "running" for job in jobs)
    connected, busy, waiting = st.columns(3)
    connected.metric("Connected now", len(identity.connected()))
    busy.metric("Trainings running", running)
    waiting.metric("Waiting for their turn", len(jobs) - running)
    attempts = store().quiz_attempts()
    if attempts:
        st.subheader("The class's quiz, question by question")
        rows = sorted(quiz_per_question(attempts), key=lambda row: row["question"])
        st.dataframe([{"question": row["question"], "text": row["text"], "right %": row["right %"] or 0,
                       "answered": row["students"] - row["unanswered"]} for row in rows],
                     hide_index=True, width="stretch",
                     column_config={"right %": st.column_config.ProgressColumn(min_value=0, max_value=100,
                                                                                format="%d%%")})
    st.caption(f"Updated {time.strftime('%H:%M:%S')}.")


join_panel()
live()
class_map()  # redraws itself (its own fragment)
