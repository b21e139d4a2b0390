"""The teacher's per-student reset: a student removed with everything they made (runs, models, quiz answers, the
photos of their My photos page), for a student who left or asked for their photos to be deleted.

Behind a confirmation tick; refused while that student's training runs (the queue can cancel it first).
"""

from __future__ import annotations

import streamlit as st

from core.classroom.runner import delete_student, runner
from core.utils import as_text

LOCAL_STUDENT_ID = "0" * 16  # "This computer" on make run: not a classroom student


def reset_section(class_store) -> None:
    names = {s["nickname"]: s["id"] for s in class_store.students() if s["id"] != LOCAL_STUDENT_ID}
    if not names:
        return
    with st.expander("Remove a student and everything they made"):
        who = st.selectbox("Student", sorted(names, key=str.casefold), key="teacher_reset_who")
        st.caption("Their runs, models, quiz answers and the photos on their My photos page are deleted; their "
                   "nickname becomes free. This cannot be undone.")
        sure = st.checkbox(f"Yes, remove {as_text(who)} and all their work", key=f"teacher_reset_sure_{names[who]}")
        if st.button("Remove", key="teacher_reset", disabled=not sure):
            if runner().job_for(names[who]) is not None:
                st.error(f"{as_text(who)} has a training waiting or running: cancel it in the queue first.")
                return
            delete_student(names[who])
            st.success(f"{as_text(who)} and their work were removed.")
