"""Every session-state value the pages keep, behind typed accessors: the one place that knows the keys.

Pages call these functions instead of reading ``st.session_state["..."]`` with a bare string, so a key that
two pages share (the latest model: Train -> Predict and the sidebar; the run history; the best quiz score:
Quiz -> sidebar) is spelled once. Widget keys are not listed here: a widget owns its own value (the Train
settings use ``persist_state="session"`` so they survive a trip to another page).

Tests read the values through the key constants: ``at.session_state[state.LATEST_RESULT]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:  # type names only: this module imports nothing of the app, so every ui module may use it
    from core.classroom.runner import Job
    from core.photos import DatasetReport, UploadArea
    from core.training import RunRecord, TrainResult

# Shared between pages.
LATEST_RESULT = "latest_result"  # the newest TrainResult: Train writes, Predict / sidebar / Concept read
RUNS = "train_runs"  # list[RunRecord]: Train writes, the sidebar counts
QUIZ_BEST = "quiz_best"  # int: Quiz writes, the sidebar shows
QUIZ_OUT_OF = "quiz_out_of"  # int: how many questions that best score was out of
QUIZ_RESTORED = "quiz_restored_answers"  # {question id: letter}: the last attempt, brought back after a restart
# The Train page's own.
JOB = "train_job"
JOB_ERROR = "train_error"
KIRAN = "kiran"
UPLOAD_AREA = "upload_area"
UPLOAD_CHECK = "upload_check"
# The Predict page's own.
USE_QUICK_MODEL = "predict_use_quick"
LAST_PHOTO_SOURCE = "predict_last_source"
PREDICTION_MEMO = "predict_memo"
# The Compare page's own.
LATENCY = "compare_latency"


# ------------------------------------------------------------------------------------------- shared
def latest_result() -> TrainResult | None:
    return st.session_state.get(LATEST_RESULT)


def set_latest_result(result: TrainResult) -> None:
    st.session_state[LATEST_RESULT] = result


def runs() -> list[RunRecord]:
    """This session's runs, oldest first (the list itself: ``core.training.add_run`` appends to it)."""
    return st.session_state.setdefault(RUNS, [])


def quiz_best() -> int | None:
    return st.session_state.get(QUIZ_BEST)


def quiz_out_of() -> int:
    return st.session_state.get(QUIZ_OUT_OF, 8)  # the lesson's quiz has 8 questions


def record_quiz_score(correct: int, out_of: int) -> int:
    """Keep the best score of the session; returns it."""
    best = max(correct, quiz_best() or 0)
    st.session_state[QUIZ_BEST] = best
    st.session_state[QUIZ_OUT_OF] = out_of
    return best


# ---------------------------------------------------------------------------------------- Train page
def training_job() -> Job | None:
    """The training this tab follows (the queue's job: ``ui.training_job`` shows it)."""
    return st.session_state.get(JOB)


def set_training_job(job: Job | None) -> None:
    if job is None:
        st.session_state.pop(JOB, None)
    else:
        st.session_state[JOB] = job


def training_error() -> str | None:
    """Why the last training failed (shown until the next one starts)."""
    return st.session_state.get(JOB_ERROR)


def set_training_error(message: str | None) -> None:
    st.session_state[JOB_ERROR] = message


def kiran() -> dict | None:
    """Kiran's experiment: ``{"scratch": acc, "transfer": acc, "epochs": n, "size": px}``."""
    return st.session_state.get(KIRAN)


def set_kiran(comparison: dict) -> None:
    st.session_state[KIRAN] = comparison


def upload_area() -> UploadArea:
    """This session's private folder for uploaded photos (made on first use, removed with the session)."""
    if UPLOAD_AREA not in st.session_state:
        from core.photos import UploadArea  # only when a student uploads

        st.session_state[UPLOAD_AREA] = UploadArea()
    return st.session_state[UPLOAD_AREA]


def upload_check() -> tuple[Any, DatasetReport | None, str | None]:
    """(marker of the upload checked, its report, its error): the report of the newest upload."""
    return st.session_state.get(UPLOAD_CHECK, (None, None, None))


def set_upload_check(marker: Any, report: DatasetReport | None, error: str | None) -> None:
    st.session_state[UPLOAD_CHECK] = (marker, report, error)


# -------------------------------------------------------------------------------------- Predict page
def uses_quick_model() -> bool:
    return bool(st.session_state.get(USE_QUICK_MODEL))


def use_quick_model() -> None:
    st.session_state[USE_QUICK_MODEL] = True


def last_photo_source() -> str:
    """"upload" or "camera": whichever the student used last wins when both hold a photo."""
    return st.session_state.get(LAST_PHOTO_SOURCE, "upload")


def set_last_photo_source(source: str) -> None:
    st.session_state[LAST_PHOTO_SOURCE] = source


def prediction_memo() -> dict | None:
    return st.session_state.get(PREDICTION_MEMO)


def set_prediction_memo(memo: dict) -> None:
    st.session_state[PREDICTION_MEMO] = memo


# -------------------------------------------------------------------------------------- Compare page
def measured_latency() -> dict[str, dict]:
    """Speed results this student has seen, by base key."""
    return st.session_state.setdefault(LATENCY, {})
