"""Quiz page: 8 questions about Kiran's flower classifier, marked with explanations.

A thin view over ``core.quiz`` (plain Python): this page never imports TensorFlow, so it opens instantly.
Session state: ``quiz_q<id>`` (the radios), ``quiz_answers`` (the submitted answers, present while the
results are shown), ``quiz_best`` (the best score this session) and ``quiz_celebrate`` (balloons once
after a perfect score).
"""

from __future__ import annotations

import streamlit as st

from core.quiz import QUESTIONS, Question, QuestionResult, best_of, feedback_message, score

ANSWERS_KEY = "quiz_answers"
BEST_KEY = "quiz_best"
CELEBRATE_KEY = "quiz_celebrate"


def _radio_key(question: Question) -> str:
    return f"quiz_q{question.id}"


def _submit() -> None:
    answers = {q.id: st.session_state.get(_radio_key(q)) for q in QUESTIONS}
    st.session_state[ANSWERS_KEY] = answers
    result = score(answers)
    st.session_state[BEST_KEY] = best_of(st.session_state.get(BEST_KEY), result.correct)
    st.session_state[CELEBRATE_KEY] = result.correct == result.total


def _retake() -> None:
    st.session_state.pop(ANSWERS_KEY, None)
    for question in QUESTIONS:
        st.session_state.pop(_radio_key(question), None)


def _list(numbers: list[int]) -> str:
    """[1, 3, 5] -> "1, 3 and 5"."""
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _show_form() -> None:
    st.write(
        f"{len(QUESTIONS)} quick questions about how Kiran built a flower classifier. "
        "Pick one answer for each, then press **Check my answers**. You can retake it as often as you like!"
    )
    with st.expander("Need a reminder of Kiran's story?"):
        st.markdown(
            "- Kiran has about **200 photos** of each flower species.\n"
            "- A CNN trained **from scratch** gets about **60%** right.\n"
            "- A **frozen** MobileNetV2 (trained on ImageNet) plus a **new head** gets **80-85%** after 5 epochs.\n"
            "- **Fine-tuning** the top 30 layers with a tiny learning rate (0.00001) reaches **90-95%**."
        )
    with st.form("quiz_form"):
        for question in QUESTIONS:
            st.radio(
                f"**Q{question.id}.** {question.text}",
                options=list(question.options),
                format_func=question.option_label,
                index=None,
                key=_radio_key(question),
            )
        st.form_submit_button("Check my answers", key="quiz_submit", type="primary", on_click=_submit)


def _feedback(result: QuestionResult) -> None:
    question = result.question
    heading = f"**Q{question.id}. {question.text}**"
    right = f"**{question.option_label(result.correct)}**"
    if result.is_correct:
        st.success(f"{heading}\n\n✅ Correct: {right}\n\n{result.explanation}")
    elif not result.answered:
        st.error(f"{heading}\n\n⚪ Not answered. The answer is {right}\n\n{result.explanation}")
    else:
        chosen = question.option_label(result.chosen)
        st.error(f"{heading}\n\n❌ You chose {chosen}. The answer is {right}\n\n{result.explanation}")


def _show_results(answers: dict[int, str | None]) -> None:
    result = score(answers)
    best = st.session_state.get(BEST_KEY, result.correct)
    score_col, best_col = st.columns(2)
    score_col.metric("Your score", f"{result.correct} / {result.total}")
    best_col.metric("Best this session", f"{best} / {result.total}")
    st.write(feedback_message(result.correct, result.total))
    if st.session_state.pop(CELEBRATE_KEY, False):  # once, right after a perfect submit
        st.balloons()
    if result.unanswered:
        if len(result.unanswered) == 1:
            skipped = f"question {result.unanswered[0]}, so it counts"
        else:
            skipped = f"questions {_list(result.unanswered)}, so they count"
        st.warning(f"You didn't answer {skipped} as wrong this time. Retake the quiz to try again!")
    for question_result in result.results:
        _feedback(question_result)
    st.button("🔁 Retake the quiz", key="quiz_retake", on_click=_retake)


st.title("📝 Quiz")
if ANSWERS_KEY in st.session_state:
    _show_results(st.session_state[ANSWERS_KEY])
else:
    _show_form()
