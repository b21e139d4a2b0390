"""The student's own dataset (built on the My photos page) as the pages see it: where it lives and its report.

It lives in the student's folder of the classroom store (``Store.student_folder``: reached only through the
student's session token, removed with the student by ``delete_student``); on ``make run`` that is the data
folder's "This computer" student. The page asks for nothing else: the folder comes from who is signed in.
"""

from __future__ import annotations

import streamlit as st

from core.classroom.runner import store
from core.photos import IN_STUDENT_FOLDER, OwnDataset, check_folder
from core.utils import as_text
from ui import charts, identity

ADVICE_LOW, ADVICE_HIGH = 100, 200  # the lesson: "100–200 per class often works" with transfer learning


def dataset() -> OwnDataset | None:
    """This tab's student's dataset (it may have no classes yet); None before anyone is signed in."""
    student = identity.current_student()
    if student is None:
        return None
    return OwnDataset(store().student_folder(student.id) / IN_STUDENT_FOLDER)


@st.cache_data(show_spinner="Looking at your photos…", max_entries=64)
def _report(folder: str, seed: int, signature: str):
    """The upload's dataset report for the folder as it is (``signature`` changes with every photo)."""
    _, report, error = check_folder(folder, seed)
    return report, error


def report(own: OwnDataset, seed: int = 42):
    """``(DatasetReport or None, message or None)``: the same checks as an uploaded zip."""
    return _report(str(own.folder), seed, own.signature())


def report_panel(own: OwnDataset, seed: int = 42) -> bool:
    """Counts per split, the report's advice and problems; True when the photos can train."""
    found, error = report(own, seed)
    if error:
        st.info(error)
        return False
    if found is None:
        return False
    st.plotly_chart(charts.class_counts(found.rows()), config=charts.PHONE_FRIENDLY, key="own_photos_counts")
    for advice in found.warnings:
        st.warning(as_text(f"{advice.message} {advice.advice}"))  # class names as typed
    for problem in found.problems:
        st.error(as_text(problem))
    return found.can_train
