"""Quiz page: the lesson's 8 questions (options shuffled per attempt, scored by content), then a bonus round.

A thin view over ``core.lesson.quiz`` (plain Python): this page never imports TensorFlow, so it opens instantly.
The best score of the lesson's round goes to ``ui.state`` (the sidebar shows it). This page's own session
keys: ``quiz_q<id>`` (the radios), ``quiz_celebrate``, ``quiz_nonce`` (a random number per session, so each student gets their own
shuffles), and per round ``quiz_<round>_attempt`` / ``quiz_<round>_answers`` (the submitted answers, present
while the results are shown).
"""

from __future__ import annotations

import secrets

import streamlit as st

from core.lesson import (
    BONUS_QUESTIONS,
    LESSON_QUESTIONS,
    Question,
    QuestionResult,
    display_order,
    feedback_message,
    score,
    shown_letter,
)
from ui import identity, state
from ui.lesson_panels import claims_beside_measurements
from ui.links import page_link

NONCE_KEY = "quiz_nonce"
CELEBRATE_KEY = "quiz_celebrate"  # balloons once, right after a perfect submit
ROUNDS = {"lesson": LESSON_QUESTIONS, "bonus": BONUS_QUESTIONS}


def markdown(text: str) -> str:
    """Streamlit renders labels as Markdown: a single "~" would strike text through, "$" would start maths."""
    return text.replace("~", r"\~").replace("$", r"\$")


def _radio_key(question: Question) -> str:
    return f"quiz_q{question.id}"


def _attempt_key(round_name: str) -> str:
    return f"quiz_{round_name}_attempt"


def _answers_key(round_name: str) -> str:
    return f"quiz_{round_name}_answers"


def _orders(round_name: str) -> dict[int, tuple[str, ...]]:
    """This attempt's option order: the same on every rerun of the attempt, new on a retake."""
    nonce = st.session_state.setdefault(NONCE_KEY, secrets.token_hex(8))
    attempt = st.session_state.setdefault(_attempt_key(round_name), 1)
    return display_order(ROUNDS[round_name], f"{nonce}:{round_name}:{attempt}")


def _label(question: Question, order: tuple[str, ...], letter: str) -> str:
    return f"{shown_letter(order, letter)}) {markdown(question.options[letter])}"


def _submit(round_name: str) -> None:
    questions = ROUNDS[round_name]
    answers = {q.id: st.session_state.get(_radio_key(q)) for q in questions}
    st.session_state[_answers_key(round_name)] = answers
    if round_name == "lesson":
        correct = score(answers, questions).correct
        state.record_quiz_score(correct, len(questions))
        identity.save_quiz_attempt(answers, correct, len(questions))  # kept across refreshes; Teacher page
        st.session_state[CELEBRATE_KEY] = correct == len(questions)


def _retake(round_name: str) -> None:
    st.session_state.pop(_answers_key(round_name), None)
    st.session_state[_attempt_key(round_name)] = st.session_state.get(_attempt_key(round_name), 1) + 1
    for question in ROUNDS[round_name]:
        st.session_state.pop(_radio_key(question), None)


def _show_form(round_name: str) -> None:
    questions, orders = ROUNDS[round_name], _orders(round_name)
    with st.form(f"quiz_{round_name}_form"):
        for number, question in enumerate(questions, start=1):
            order = orders[question.id]
            st.radio(
                f"**Q{number}.** {markdown(question.text)}",
                options=list(order),
                format_func=lambda letter, q=question, o=order: _label(q, o, letter),
                index=None,
                key=_radio_key(question),
            )
        submit_key = "quiz_submit" if round_name == "lesson" else "quiz_bonus_submit"
        st.form_submit_button("Check my answers", key=submit_key, type="primary", on_click=_submit,
                              args=(round_name,))


def _feedback(number: int, result: QuestionResult, order: tuple[str, ...]) -> None:
    question = result.question
    heading = f"**Q{number}. {markdown(question.text)}**"
    right = f"**{_label(question, order, result.correct)}**"
    explanation = markdown(result.explanation)
    if result.is_correct:
        st.success(f"{heading}\n\n✅ Correct: {right}\n\n{explanation}")
    elif not result.answered:
        st.error(f"{heading}\n\n⚪ Not answered. The answer is {right}\n\n{explanation}")
    else:
        chosen = _label(question, order, result.chosen)
        st.error(f"{heading}\n\n❌ You chose {chosen}. The answer is {right}\n\n{explanation}")
    page_link(question.link.page, f"See it happen: {question.link.label}", icon="👉")


def _show_results(round_name: str) -> None:
    questions, orders = ROUNDS[round_name], _orders(round_name)
    result = score(st.session_state[_answers_key(round_name)], questions)
    if round_name == "lesson":
        score_col, best_col = st.columns(2)
        score_col.metric("Your score", f"{result.correct} / {result.total}")
        best_col.metric("Best this session", f"{state.quiz_best()} / {result.total}")
        if st.session_state.pop(CELEBRATE_KEY, False):
            st.balloons()
    else:
        st.metric("Bonus round score", f"{result.correct} / {result.total}")
    st.write(feedback_message(result.correct, result.total))
    if result.unanswered:
        numbers = [i for i, q in enumerate(questions, start=1) if q.id in result.unanswered]
        words = f"question {numbers[0]}" if len(numbers) == 1 else "questions " + ", ".join(map(str, numbers))
        st.warning(f"You didn't answer {words}: unanswered questions count as wrong. Retake it to try again!")
    for number, question_result in enumerate(result.results, start=1):
        _feedback(number, question_result, orders[question_result.id])
        if round_name == "lesson" and question_result.id == 8:
            with st.container(border=True):
                claims_beside_measurements("quiz")
    retake_key = "quiz_retake" if round_name == "lesson" else "quiz_bonus_retake"
    st.button("🔁 Retake (new order of the options)", key=retake_key, on_click=_retake, args=(round_name,))


def _round(round_name: str) -> None:
    restored = st.session_state.pop(state.QUIZ_RESTORED, None) if round_name == "lesson" else None
    if restored and _answers_key(round_name) not in st.session_state:  # after a refresh or a restart
        st.session_state[_answers_key(round_name)] = {q.id: restored.get(q.id) for q in ROUNDS[round_name]}
    if _answers_key(round_name) in st.session_state:
        _show_results(round_name)
    else:
        _show_form(round_name)


st.title("📝 Quiz")
st.write(
    "The lesson's own 8 questions. Pick one answer for each, then press **Check my answers**. The options come "
    "in a new order every time you retake it, so learn the answer, not its letter!"
)
_round("lesson")
st.divider()
st.subheader("Bonus round")
if st.toggle("Try the app's own questions (6 more)", key="quiz_bonus_open"):
    _round("bonus")
