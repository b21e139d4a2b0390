"""Teacher page: how students join, who is here, the training queue, the class's quiz and best runs, CSV.

Behind the teacher code set in the environment (``TLL_TEACHER_CODE``), compared in constant time; the code is
typed into a password box, never put in the address, the session or a log. Without a code set, the page
says how to set one and shows nothing else.
"""

from __future__ import annotations

import hmac
import os
import time

import streamlit as st

from core.classroom import class_report, join, space_banner
from core.classroom.runner import service
from ui import identity

UNLOCKED_KEY = "teacher_unlocked"
FAILED_KEY = "teacher_failed_attempts"

st.title("🧑‍🏫 Teacher")


def teacher_code() -> str:
    return os.environ.get("TLL_TEACHER_CODE", "")


def unlocked() -> bool:
    if not teacher_code():
        st.info("The Teacher page is switched off: no teacher code is set. Start the server with one, e.g.  \n"
                "`TLL_TEACHER_CODE='pick-a-long-phrase' make classroom`  \n(see README, “Running it for a class”).")
        return False
    if st.session_state.get(UNLOCKED_KEY):
        return True
    with st.form("teacher_login"):
        typed = st.text_input("Teacher code", type="password", key="teacher_code_input")
        submitted = st.form_submit_button("Open", type="primary")
    if submitted:
        st.session_state.pop("teacher_code_input", None)
        if hmac.compare_digest(typed.encode(), teacher_code().encode()):
            st.session_state[UNLOCKED_KEY] = True
            st.session_state.pop(FAILED_KEY, None)
            st.rerun()
        failed = st.session_state[FAILED_KEY] = st.session_state.get(FAILED_KEY, 0) + 1
        time.sleep(min(5, failed))  # guessing gets slower with every wrong code
        st.error("That is not the teacher code.")
    return False


def join_section() -> None:
    st.subheader("How students join")
    https = bool(st.get_option("server.sslCertFile"))
    urls = join.join_urls(int(st.get_option("server.port")), https)
    if not urls:
        st.warning("This computer has no network address other computers can reach: connect it to the network.")
        return
    if not https:
        st.warning("This server is not using HTTPS, so phones cannot use their camera here (students can still "
                   "upload photos). Start it with `make classroom` for HTTPS.")
    cols = st.columns(min(3, len(urls)))
    for col, url in zip(cols, urls[:3]):
        col.image(join.qr_png(url), caption=url, width=220)
        col.code(url, language=None)
    if https:
        st.caption("The certificate is self-made: each phone asks once to accept it (README shows how).")


@st.fragment(run_every=2.0)
def queue_section() -> None:
    st.subheader("Training queue")
    jobs = service.runner().queue()
    if not jobs:
        st.caption("No training is waiting or running.")
        return
    now = time.time()
    for job in jobs:
        waiting = job.state.status == "waiting"
        in_cluster = getattr(job.handle, "state", None)  # Ray backend: "pending" until a lab computer takes it
        what = (f"waiting (number {job.state.queue_place}) for {job.waited_s(now):.0f} s" if waiting
                else f"sent to the cluster {job.ran_s(now):.0f} s ago, no computer free yet" if in_cluster == "pending"
                else f"running for {job.ran_s(now):.0f} s (waited {job.waited_s(now):.0f} s)"
                + (f" on {job.state.node}" if in_cluster and job.state.node else ""))
        progress = job.state.progress
        left, right = st.columns([4, 1])
        left.markdown(f"**{job.display_name}** · {job.label} · {what}"
                      + (f" · {progress.fraction:.0%}" if progress and not waiting else "")
                      + (" · stopping…" if job.stopping else ""))
        if right.button("Cancel", key=f"teacher_cancel_{job.job_id}", disabled=job.stopping):
            job.stop("teacher")
            st.rerun(scope="fragment")


def people_section(store) -> None:
    st.subheader("Who is here")
    here = identity.connected()
    st.caption(f"{len(here)} connected now (seen in the last {identity.CONNECTED_S} s); "
               f"{len(store.students())} have joined this class.")
    if here:
        st.dataframe([{"student": p["nickname"], "seen": f"{p['seen_s_ago']} s ago"} for p in here], hide_index=True)
    names = {s["nickname"]: s["id"] for s in store.students() if s["id"] != "0" * 16}
    if names:
        with st.expander("A student forgot their return code"):
            who = st.selectbox("Student", sorted(names, key=str.casefold), key="teacher_code_for")
            if st.button("Give them a new return code", key="teacher_new_code"):
                st.success(f"New return code for **{who}**: **{store.new_return_code(names[who])}** "
                           "(the old one stops working).")


def quiz_section(store) -> None:
    st.subheader("Quiz, question by question")
    st.caption("The lesson's 8 questions keep the lesson's words, and there the right answer is always the longest "
               "option: a student who picks the longest scores 8/8. The bonus round's options are of similar length.")
    attempts = store.quiz_attempts()
    rows = class_report.quiz_per_question(attempts)
    if not attempts:
        st.caption("Nobody has taken the quiz yet.")
        return
    hardest = rows[0]
    st.markdown(f"Most got **question {hardest['question']}** wrong: {hardest['right']} of {hardest['students']} "
                f"right ({hardest['right %']}%). Their latest attempt counts.")
    st.dataframe(rows, hide_index=True)


def runs_section(store) -> None:
    st.subheader("Each student's best run")
    best = class_report.best_run_rows(store.best_runs())
    if best:
        st.dataframe(best, hide_index=True)
    else:
        st.caption("No runs yet.")


def export_section(store) -> None:
    st.subheader("Export")
    left, right = st.columns(2)
    left.download_button("All runs (CSV)", class_report.runs_csv(store.all_runs()), "runs.csv", "text/csv",
                         key="teacher_runs_csv")
    right.download_button("All quiz attempts (CSV)", class_report.quiz_csv(store.quiz_attempts()), "quiz.csv",
                          "text/csv", key="teacher_quiz_csv")
    st.caption(f"Everything is kept in {store.folder} (copy that folder to back it up).")


if unlocked():
    store = service.store()
    if banner := space_banner(store.folder):  # a full or read-only disk: students cannot save
        st.warning(banner)
    join_section()
    queue_section()
    people_section(store)
    quiz_section(store)
    runs_section(store)
    export_section(store)
    if st.button("Lock this page", key="teacher_lock"):
        st.session_state.pop(UNLOCKED_KEY, None)
        st.rerun()
