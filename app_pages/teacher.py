"""Teacher page (the admin screen, not for the projector): who is here, the training queue with the server's
own measurements, the class's quiz and best runs, new return codes, CSV. It updates itself every few seconds.

Behind the teacher code set in the environment (``TLL_TEACHER_CODE``): every try goes through the server-wide
guard (``core.classroom.teacher_gate``: one count of wrong tries for all tabs, growing delay, lock-out), and a
right code opens a teacher session that survives a reload (``ui.teacher_session``). The code itself is never
put in the address, the session or a log. Without a code set, the page says how to set one and shows nothing
else. The Projector page shows what the class may see, with no code.
"""

from __future__ import annotations

import time

import streamlit as st

from core.classroom import (
    best_run_rows,
    join_urls,
    qr_png,
    quiz_csv,
    quiz_per_question,
    runs_csv,
    server_gate,
    teacher_code,
)
from core.classroom.runner import (
    SERVER_JOBS,
    AlreadyTraining,
    runner,
    server_job,
    server_result,
    start_server_job,
    store,
)
from core.utils import as_text
from ui import identity, teacher_session
from ui.class_map_panel import class_map_panel
from ui.student_reset import reset_section

REFRESH_S = 3.0
SECRET_SHOWN_S = 30.0  # a new return code disappears by itself after this long (or at "Hide it")
NEW_CODE_KEY = "teacher_new_code_shown"  # (nickname, code, shown at)

st.title("🧑‍🏫 Teacher")


def unlocked() -> bool:
    if not teacher_code():
        st.info("The Teacher page is switched off: no teacher code is set. Start the server with one, e.g.  \n"
                "`TLL_TEACHER_CODE='pick-a-long-phrase' make classroom`  \n(see README, “Running it for a class”).")
        return False
    if teacher_session.unlocked():
        return True
    with st.form("teacher_login"):
        typed = st.text_input("Teacher code", type="password", key="teacher_code_input")
        submitted = st.form_submit_button("Open", type="primary")
    if submitted:
        st.session_state.pop("teacher_code_input", None)
        verdict = server_gate().check(typed, teacher_code(), address=st.context.ip_address)
        if verdict.ok:
            teacher_session.sign_in()
            st.rerun()
        st.error(verdict.message)
    return False


def join_section() -> None:
    with st.expander("How students join (the Projector page shows this full screen)"):
        https = bool(st.get_option("server.sslCertFile"))
        urls = join_urls(int(st.get_option("server.port")), https)
        if not urls:
            st.warning("This computer has no network address other computers can reach: connect it to the network.")
            return
        if not https:
            st.warning("This server is not using HTTPS, so phones cannot use their camera here (students can still "
                       "upload photos). Start it with `make classroom` for HTTPS.")
        cols = st.columns(min(3, len(urls)))
        for col, url in zip(cols, urls[:3]):
            col.image(qr_png(url), caption=url, width=220, alt=f"QR code of the join address {url}")
            col.code(url, language=None)
        if https:
            st.caption("The certificate is self-made: each phone asks once to accept it (README shows how).")


def _job_words(job, now: float) -> str:
    waiting = job.state.status == "waiting"
    in_cluster = getattr(job.handle, "state", None)  # Ray backend: "pending" until a lab computer takes it
    what = (f"waiting (number {job.state.queue_place}) for {job.waited_s(now):.0f} s" if waiting
            else f"sent to the cluster {job.ran_s(now):.0f} s ago, no computer free yet" if in_cluster == "pending"
            else f"running for {job.ran_s(now):.0f} s (waited {job.waited_s(now):.0f} s)"
            + (f" on {job.state.node}" if in_cluster and job.state.node else ""))
    progress = job.state.progress
    return (f"{job.display_name} · {job.label} · {what}"
            + (f" · {progress.fraction:.0%}" if progress and not waiting else "")
            + (" · stopping…" if job.stopping else ""))


def queue_section() -> None:
    st.subheader("Training queue")
    jobs = runner().queue()
    if not jobs:
        st.caption("No training is waiting or running.")
    now = time.time()
    for job in jobs:
        left, right = st.columns([4, 1])
        left.text(_job_words(job, now))  # a nickname is shown as typed, never as Markdown
        label = "Stop" if job.kind == "server" else "Cancel"
        if right.button(label, key=f"teacher_cancel_{job.job_id}", disabled=job.stopping):
            job.stop("teacher")
            st.rerun()


def server_jobs_section() -> None:
    st.subheader("The server's own measurements")
    st.caption("Minutes of the whole server's time, so only you start them: they wait in the training queue like "
               "a student's training, with no time limit. Students see the results (Concept, Train).")
    for kind, title in SERVER_JOBS.items():
        job = server_job(kind)
        left, right = st.columns([4, 1])
        if job is not None and not job.finished:
            progress = job.state.progress
            left.progress(progress.fraction if progress else 0.0,
                          text=f"{title}: " + (progress.message if progress else "waiting for its turn"))
            continue  # its Stop is in the queue above
        done = server_result(kind)
        finished = (f"last measured {time.strftime('%H:%M', time.localtime(done['finished']))}"
                    if done and done.get("finished") else "not measured yet")
        if job is not None and job.state.status == "failed":
            finished = f"the last try failed: {job.state.error}"
        left.text(f"{title}: {finished}")
        if right.button("Measure", key=f"teacher_server_{kind}"):
            try:
                start_server_job(kind)
            except AlreadyTraining:
                pass  # started from another tab a moment ago
            st.rerun()


def people_section(class_store) -> None:
    st.subheader("Who is here")
    here = {p["nickname"]: f"{p['seen_s_ago']} s ago" for p in identity.connected()}
    for job in runner().queue():  # a student waiting on the Train page is here even between heartbeats
        if job.kind != "server":
            here.setdefault(job.display_name, "training")
    students = [s for s in class_store.students() if s["id"] != "0" * 16]
    st.caption(f"{len(here)} connected now (seen in the last {identity.CONNECTED_S} s); "
               f"{len(students)} have joined this class.")
    if here:
        st.dataframe([{"student": name, "seen": seen} for name, seen in sorted(here.items(),
                                                                               key=lambda kv: kv[0].casefold())],
                     hide_index=True)


def new_code_section(class_store) -> None:
    names = {s["nickname"]: s["id"] for s in class_store.students() if s["id"] != "0" * 16}
    shown = st.session_state.get(NEW_CODE_KEY)
    if shown and time.time() - shown[2] > SECRET_SHOWN_S:
        st.session_state.pop(NEW_CODE_KEY, None)
        shown = None
    if shown:
        st.success(f"New return code for {as_text(shown[0])}: {shown[1]}  (the old one stops working; this disappears in "
                   f"{SECRET_SHOWN_S - (time.time() - shown[2]):.0f} s)")
        if st.button("Hide it", key="teacher_hide_code"):
            st.session_state.pop(NEW_CODE_KEY, None)
            st.rerun()
    if names:
        with st.expander("A student forgot their return code"):
            who = st.selectbox("Student", sorted(names, key=str.casefold), key="teacher_code_for")
            if st.button("Give them a new return code", key="teacher_new_code"):
                st.session_state[NEW_CODE_KEY] = (who, class_store.new_return_code(names[who]), time.time())
                st.rerun()


def quiz_section(class_store) -> None:
    st.subheader("Quiz, question by question")
    st.caption("The lesson's 8 questions keep the lesson's words, and there the right answer is always the longest "
               "option: a student who picks the longest scores 8/8. The bonus round's options are of similar length.")
    attempts = class_store.quiz_attempts()
    rows = quiz_per_question(attempts)
    if not attempts:
        st.caption("Nobody has taken the quiz yet.")
        return
    hardest = rows[0]
    st.markdown(f"Most got **question {hardest['question']}** wrong: {hardest['right']} of {hardest['students']} "
                f"right ({hardest['right %']}%). Their latest attempt counts.")
    st.dataframe(rows, hide_index=True)


def runs_section(class_store) -> None:
    st.subheader("Each student's best run")
    best = best_run_rows(class_store.best_runs())
    if best:
        st.dataframe(best, hide_index=True,
                     column_config={"test accuracy": st.column_config.NumberColumn(format="%.1f%%")})
    else:
        st.caption("No runs yet.")


@st.fragment(run_every=REFRESH_S)
def live() -> None:
    """Everything that changes during a lesson, redrawn every few seconds without reloading the page."""
    if not teacher_session.unlocked():  # locked from another tab
        st.rerun()
    class_store = store()
    queue_section()
    server_jobs_section()
    people_section(class_store)
    new_code_section(class_store)
    quiz_section(class_store)
    runs_section(class_store)
    st.subheader("The class's hyperparameter map")
    class_map_panel(names=True, key="teacher_class_map", live=False)
    st.caption(f"Updated {time.strftime('%H:%M:%S')} (every {REFRESH_S:g} s).")


def export_section(class_store) -> None:
    st.subheader("Export")
    left, right = st.columns(2)
    left.download_button("All runs (CSV)", runs_csv(class_store.all_runs()), "runs.csv", "text/csv",
                         key="teacher_runs_csv")
    right.download_button("All quiz attempts (CSV)", quiz_csv(class_store.quiz_attempts()), "quiz.csv",
                          "text/csv", key="teacher_quiz_csv")
    st.caption(f"Everything is kept in {class_store.folder} (copy that folder to back it up).")


if unlocked():
    st.markdown("📽️ [Open the Projector page](projector) for the class to see: the join QR code, no names, no codes.")
    join_section()
    live()
    export_section(store())
    reset_section(store())
    if st.button("Lock this page", key="teacher_lock"):
        teacher_session.sign_out()
        st.rerun()
