"""Who is using this browser tab, and bringing their work back after a refresh, a reconnect or a restart.

In a classroom (``TLL_CLASSROOM=1``, which ``make classroom`` sets, or any connection that is not from this
computer) a student picks a nickname on first visit and is shown a 4-word return code in the main area, until
they tap "I wrote it down". The tab keeps an unguessable session token in its address (``?s=…``), so a refresh
or a reconnect finds the student again, and "My return code" shows the code again on that device: the server
keeps it in memory beside the token's hash (never in the address or the database, which holds only its hash;
a server restart forgets it, and the teacher can issue a new one). The nickname + return code work from
another device or after the address is lost. On ``make run`` (one person on
this computer) nobody is asked anything: the work belongs to "This computer" and still survives restarts.

Each rerun mirrors the student's runs from the store into the page's session state when the store has runs
this tab has not shown (a training that ended while the tab was closed, or in another tab).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time

import streamlit as st

from core.classroom import LoginRefused, NicknameProblem, Student
from core.classroom.runner import runner, saved_runs, store
from core.training import add_run
from core.utils import as_text
from ui import kiran, state

TOKEN_PARAM = "s"
STUDENT_KEY = "identity_student"
TOKEN_KEY = "identity_token"
KNOWN_RUNS_KEY = "identity_known_runs"
NEW_CODE_KEY = "identity_new_code"
LOCAL_ADDRESSES = {None, "", "127.0.0.1", "::1", "localhost"}
CONNECTED_S = 90  # seen this recently = connected (the sidebar heartbeat reruns every 30 s)
_presence: dict[str, tuple[str, float]] = {}  # student id -> (nickname, last seen): the Teacher page reads it
_kept_codes: dict[str, str] = {}  # sha256(session token) -> the return code issued with it (this process only)
_kept_codes_lock = threading.Lock()


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keep_code(token: str, code: str) -> None:
    with _kept_codes_lock:
        _kept_codes[_token_key(token)] = code


def kept_code(token: str | None) -> str | None:
    """The return code shown when this device joined, while the server has not restarted."""
    if not token:
        return None
    with _kept_codes_lock:
        return _kept_codes.get(_token_key(token))


def classroom_mode() -> bool:
    return os.environ.get("TLL_CLASSROOM", "").strip() == "1"


def identity_required() -> bool:
    """Nicknames are asked in a classroom, and always of a browser on another computer."""
    address = st.context.ip_address  # None on this computer; not a str under AppTest (no connection)
    return classroom_mode() or (isinstance(address, str) and address not in LOCAL_ADDRESSES)


def current_student() -> Student | None:
    student = st.session_state.get(STUDENT_KEY)
    if student is not None:
        return student
    token = st.query_params.get(TOKEN_PARAM)
    if token:
        student = store().student_for_token(token)
        if student is not None:
            _attach(student, token)
            return student
    if not identity_required():
        student = store().local_student()
        _attach(student, None)
        return student
    return None


def _attach(student: Student, token: str | None) -> None:
    st.session_state[STUDENT_KEY] = student
    st.session_state[TOKEN_KEY] = token
    st.session_state.pop(KNOWN_RUNS_KEY, None)  # None: never mirrored from the store yet
    jobs = runner()  # first: it marks the trainings a restart cut short as failed, so the first student back hears
    failure = store().unseen_failure(student.id)
    if failure and jobs.job_for(student.id) is None:
        state.set_training_error(failure["error"])
        store().mark_seen(student.id, failure["id"])


def require_student() -> Student:
    """The student of this tab (their work restored), or the join form and nothing else (``st.stop``)."""
    student = current_student()
    if student is None:
        join_form()
        st.stop()
    token = st.session_state.get(TOKEN_KEY)
    if token and st.query_params.get(TOKEN_PARAM) != token:
        st.query_params[TOKEN_PARAM] = token  # page links drop it: a refresh must still find the student
    if st.session_state.get(NEW_CODE_KEY):
        new_code_panel(student)
        st.stop()
    _presence[student.id] = (student.nickname, time.time())
    sync_runs(student)
    return student


def join_form() -> None:
    st.title("🌼 Welcome to the Transfer Learning Lab")
    new, back = st.tabs(["I am new here", "I have been here before"])
    with new, st.form("identity_join"):
        nickname = st.text_input("Pick a nickname (your first name or a made-up one)", max_chars=24,
                                 key="identity_nickname")
        if st.form_submit_button("Start", type="primary"):
            try:
                student, code, token = store().join(nickname)
            except NicknameProblem as problem:
                st.error(as_text(problem))  # it may quote the nickname typed
            else:
                st.session_state[NEW_CODE_KEY] = code
                keep_code(token, code)
                _sign_in(student, token)
    with back, st.form("identity_back"):
        nickname = st.text_input("Your nickname", max_chars=24, key="identity_back_nickname")
        code = st.text_input("Your return code (four words)", type="password", key="identity_back_code")
        if st.form_submit_button("Come back"):
            try:
                student, token = store().come_back(nickname, code, client=_client())
            except (LoginRefused, NicknameProblem) as problem:
                st.error(as_text(problem))  # it may quote the nickname typed
            else:
                _sign_in(student, token)
    st.caption("No passwords: your nickname and a return code keep your runs and quiz answers yours.")


def _client() -> str:
    """Who is guessing: the phone's address on the school network (each phone has its own), else this session."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return st.context.ip_address or (ctx.session_id if ctx else "")


def _sign_in(student: Student, token: str) -> None:
    st.query_params[TOKEN_PARAM] = token
    _attach(student, token)
    st.rerun()


def new_code_panel(student: Student) -> None:
    """Right after joining, in the main area (a phone's sidebar is closed): the code, and a button to go on."""
    code = st.session_state[NEW_CODE_KEY]
    st.title("🔑 Your return code")
    st.text(f"Welcome, {student.nickname}! Write this down:")
    st.success(f"## {code}")
    st.markdown("With your nickname, these four words bring your work back on another phone or computer. "
                "On this device, **My return code** (in the menu) shows them again.")
    if st.button("I wrote it down", key="identity_code_seen", type="primary"):
        st.session_state.pop(NEW_CODE_KEY, None)
        st.rerun()


def my_code() -> None:
    """The return code again, on the device that joined (folded: a neighbour may be looking)."""
    code = kept_code(st.session_state.get(TOKEN_KEY))
    if code is None:
        return
    with st.expander("🔑 My return code"):
        st.markdown(f"**{code}**")
        st.caption("With your nickname it brings your work back on another device.")


def sidebar(student: Student) -> None:
    if st.session_state.get(TOKEN_KEY):
        st.text(f"You are {student.nickname}.")
        my_code()
        if st.button("Not you? Leave", key="identity_leave"):
            with _kept_codes_lock:
                _kept_codes.pop(_token_key(st.session_state[TOKEN_KEY]), None)
            for key in (STUDENT_KEY, TOKEN_KEY, KNOWN_RUNS_KEY, NEW_CODE_KEY):
                st.session_state.pop(key, None)
            st.query_params.pop(TOKEN_PARAM, None)
            st.rerun()
    _heartbeat(student)


@st.fragment(run_every=30)
def _heartbeat(student: Student) -> None:
    _presence[student.id] = (student.nickname, time.time())


def connected() -> list[dict]:
    """Students whose browser was seen in the last ``CONNECTED_S`` seconds (for the Teacher page)."""
    now = time.time()
    return [{"student_id": sid, "nickname": name, "seen_s_ago": round(now - seen)}
            for sid, (name, seen) in sorted(_presence.items(), key=lambda kv: kv[1][0].casefold())
            if now - seen <= CONNECTED_S]


def pending_run_ids() -> set[int]:
    """Runs of this tab's training (or the student's, started in another tab) that the Train page is about to
    file itself."""
    student = current_student()
    job = state.training_job() or (runner().job_for(student.id) if student is not None else None)
    return set(job.state.run_ids.values()) if job is not None else set()


def mark_known(run_ids) -> None:
    known = st.session_state.get(KNOWN_RUNS_KEY)
    if known is not None:
        known.update(run_ids)


def sync_runs(student: Student) -> None:
    """Mirror the store's runs and quiz best into this tab's state when it holds fewer than the store."""
    ids = store().run_ids(student.id)
    known = st.session_state.get(KNOWN_RUNS_KEY)
    if known is not None and {run_id for run_id, _ in ids} <= known | pending_run_ids():
        return
    if known is None:  # first look in this tab: the quiz too
        _restore_quiz(student)
    pending = pending_run_ids()
    runs = state.runs()
    runs.clear()
    latest, by_job = None, {}
    for row, result in saved_runs(student.id):
        if row["id"] in pending:
            continue
        add_run(runs, result, label=row["label"] or None, kind=row["kind"])
        by_job.setdefault(row["job_id"], {})[row["kind"]] = result
        if row["kind"] == "transfer":
            latest = result
    if latest is not None:
        state.set_latest_result(latest)
    kiran_runs = [pair for pair in by_job.values() if "scratch" in pair and "transfer" in pair]
    if kiran_runs:
        kiran.record(kiran_runs[-1]["scratch"], kiran_runs[-1]["transfer"])
    st.session_state[KNOWN_RUNS_KEY] = {run_id for run_id, _ in ids} - pending


def _restore_quiz(student: Student) -> None:
    attempts = store().quiz_attempts(student.id)
    if attempts:
        best = max(attempts, key=lambda a: a["correct"])
        state.record_quiz_score(best["correct"], best["total"])
        st.session_state[state.QUIZ_RESTORED] = attempts[-1]["answers"]  # the Quiz page shows them, not a blank


def save_quiz_attempt(answers: dict, correct: int, total: int) -> None:
    """The Quiz page calls this on every submitted attempt of the lesson's questions."""
    student = current_student()
    if student is not None:
        store().add_quiz_attempt(student.id, answers, correct, total)
