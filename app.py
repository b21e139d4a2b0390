"""Transfer Learning Lab: the router, plus what every page shares (page config, sidebar status)."""

# pandas whole, before any page: sessions starting at once otherwise meet plotly's lazy import of it half done
# ("partially initialized module 'pandas'", seen in the classroom load test).
import pandas  # noqa: F401
import streamlit as st

from core.classroom.runner import prepare_workers
from ui import (
    error_page,
    identity,
    phone_style,
    run_history,
    run_timing,
    server_tuning,
    state,
    teacher_session,
    training_job,
    upload_budget,
)

server_tuning.keep_keras_session()  # Streamlit would clear Keras's session after every run: see the module
upload_budget.install()  # files waiting in Streamlit's upload endpoint get a memory budget
# Warm training workers wait for the class from the first page anyone opens (TLL_WARM_WORKERS, set by make classroom);
# a no-op after that, and in a one-person app.
prepare_workers()

st.set_page_config(page_title="Transfer Learning Lab", page_icon="🌼", layout="wide")

phone_style.apply()  # touch targets of 44 px and more on every page
# Students see only the lesson's pages; the Teacher and Projector pages are in the menu for an unlocked teacher
# (and on this computer alone), and open by their address for anyone (the Teacher page asks for its code).
teacher_menu = "visible" if teacher_session.unlocked() or not identity.identity_required() else "hidden"
pages = [
    st.Page("app_pages/concept.py", title="Concept", icon="💡", default=True),
    st.Page("app_pages/compare.py", title="Compare base models", icon="⚖️"),
    st.Page("app_pages/train.py", title="Train", icon="🏋️"),
    st.Page("app_pages/my_photos.py", title="My photos", icon="📸"),
    st.Page("app_pages/predict.py", title="Predict", icon="📷"),
    st.Page("app_pages/quiz.py", title="Quiz", icon="📝"),
    st.Page("app_pages/teacher.py", title="Teacher", icon="🧑‍🏫", visibility=teacher_menu),
    st.Page("app_pages/projector.py", title="Projector", icon="📽️", visibility=teacher_menu),
]
current = st.navigation(pages)
NO_NICKNAME = ("Teacher", "Projector")  # the teacher's pages: nobody picks a nickname there
with run_timing.timed(current.title), error_page.shown_as_a_message():  # server time per run (TLL_RUN_LOG)
    teacher_session.keep_in_address(projected=current.title == "Projector")
    student = None if current.title in NO_NICKNAME else identity.require_student()  # nickname, work restored
    if student is not None:  # a training that ended since the last page: its model is on Predict at once
        training_job.collect(run_history.record)
    if current.title != "Projector":
        phone_style.menu([p for p in pages if teacher_menu == "visible" or p.title not in NO_NICKNAME],
                         current.title, identity.my_code)

    with st.sidebar:
        st.caption("🌼 **Transfer Learning Lab**: reuse what an ImageNet network already knows.")
        if student is not None:
            identity.sidebar(student)
        result = state.latest_result()
        if result is not None:
            st.caption(f"Your latest model: {result.test['accuracy']:.0%} on its test photos "
                       f"({len(state.runs())} run(s) this session).")
        else:
            st.caption("No model trained yet: the Train page is where it happens.")
        if state.quiz_best() is not None:
            st.caption(f"Best quiz score: {state.quiz_best()} / {state.quiz_out_of()}")

    current.run()
