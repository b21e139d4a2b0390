"""The quiz: answer key and scoring (core.quiz), the Quiz page (AppTest), and that it never loads TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.quiz import LETTERS, QUESTIONS, answer_key, best_of, feedback_message, score

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "app_pages" / "quiz.py"
KEY = {1: "b", 2: "b", 3: "b", 4: "b", 5: "b", 6: "a", 7: "b", 8: "c"}


def _wrong(letter: str) -> str:
    return next(x for x in LETTERS if x != letter)


# --- core.quiz -------------------------------------------------------------------------------------


def test_answer_key_is_the_lessons():
    assert answer_key() == KEY
    assert [q.id for q in QUESTIONS] == list(range(1, 9))


def test_every_question_has_four_options_and_an_explanation():
    for q in QUESTIONS:
        assert list(q.options) == ["a", "b", "c", "d"], q.id
        assert all(text.strip() for text in q.options.values()), q.id
        assert len(set(q.options.values())) == 4, q.id
        assert q.text.strip() and q.explanation.strip(), q.id
        assert q.answer in q.options
        # Streamlit renders labels as Markdown: "~" would strike text through, "$" would start maths.
        for text in (q.text, q.explanation, *q.options.values()):
            assert "~" not in text and "$" not in text, (q.id, text)


def test_question_topics_match_their_answers():
    by_id = {q.id: q for q in QUESTIONS}
    q2 = by_id[2]
    assert "learning rate" in q2.text.lower()
    assert "destroy" in q2.options[q2.answer]
    assert "edges" in by_id[4].options["b"]
    assert "40 times smaller" in by_id[5].options["b"]
    assert "averages" in by_id[6].options["a"]
    assert "overfitting" in by_id[7].options["b"]
    q8 = by_id[8].options["c"]
    assert q8.index("60%") < q8.index("80-85%") < q8.index("90-95%")


def test_all_correct():
    result = score(KEY)
    assert (result.correct, result.total, result.percent) == (8, 8, 100.0)
    assert result.unanswered == []
    assert all(r.is_correct and r.answered for r in result.results)
    assert [r.explanation for r in result.results] == [q.explanation for q in QUESTIONS]


def test_all_wrong():
    result = score({i: _wrong(letter) for i, letter in KEY.items()})
    assert (result.correct, result.total) == (0, 8)
    assert result.unanswered == []
    assert not any(r.is_correct for r in result.results)
    assert [r.correct for r in result.results] == list(KEY.values())


def test_partial_score_and_per_question_details():
    answers = dict(KEY)
    answers[2] = "a"
    answers[6] = "d"
    result = score(answers)
    assert result.correct == 6
    q2 = result.results[1]
    assert (q2.id, q2.chosen, q2.correct, q2.is_correct) == (2, "a", "b", False)
    assert q2.explanation == QUESTIONS[1].explanation


def test_unanswered_count_as_wrong_and_are_flagged():
    answers = {1: "b", 2: None, 3: "b", 8: "c"}  # 2 is None, 4-7 are missing
    result = score(answers)
    assert result.correct == 3
    assert result.unanswered == [2, 4, 5, 6, 7]
    assert score({}).unanswered == list(range(1, 9))
    assert score({}).correct == 0


def test_letters_are_case_and_space_tolerant():
    assert score({1: " B ", 6: "A"}).correct == 2


@pytest.mark.parametrize("bad", ["e", "", "ab", 2, "1"])
def test_invalid_letter_raises(bad):
    with pytest.raises(ValueError, match="Question 3.*one of a, b, c, d"):
        score({3: bad})


def test_unknown_question_raises():
    with pytest.raises(ValueError, match="Unknown question id"):
        score({9: "a"})


def test_best_of():
    assert best_of(None, 3) == 3
    assert best_of(5, 3) == 5
    assert best_of(5, 7) == 7


def test_feedback_message_is_friendly_at_every_score():
    messages = {feedback_message(n, 8) for n in range(9)}
    assert len(messages) == 4
    assert "Perfect" in feedback_message(8, 8)


# --- the page -------------------------------------------------------------------------------------


def _page() -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def _answer(at: AppTest, answers: dict[int, str | None]) -> AppTest:
    for qid, letter in answers.items():
        at.radio(key=f"quiz_q{qid}").set_value(letter)
    at.button(key="quiz_submit").click().run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_starts_with_eight_unselected_questions():
    at = _page()
    assert len(at.radio) == 8
    assert [r.value for r in at.radio] == [None] * 8
    assert at.radio(key="quiz_q2").options[1].startswith("b) A high learning rate")
    assert not at.metric and not at.success and not at.error


def test_page_scores_explains_retakes_and_keeps_best():
    at = _page()
    answers = dict(KEY)
    answers[2] = "a"  # wrong
    answers[5] = None  # unanswered
    _answer(at, answers)

    assert _metrics(at) == {"Your score": "6 / 8", "Best this session": "6 / 8"}
    assert at.session_state["quiz_best"] == 6
    assert len(at.success) == 6 and len(at.error) == 2
    errors = [e.value for e in at.error]
    assert "You chose a)" in errors[0] and "The answer is **b)" in errors[0]
    assert QUESTIONS[1].explanation in errors[0]
    assert "Not answered" in errors[1] and QUESTIONS[4].explanation in errors[1]
    assert all(QUESTIONS[i].explanation in s.value for i, s in zip([0, 2, 3, 5, 6, 7], at.success, strict=True))
    assert any("question 5" in w.value for w in at.warning)

    at.button(key="quiz_retake").click().run()
    assert not at.exception
    assert [r.value for r in at.radio] == [None] * 8
    assert not at.metric and not at.success and not at.error
    assert at.session_state["quiz_best"] == 6

    _answer(at, {1: "b", 2: "b"})  # a worse try: the best stays
    assert _metrics(at) == {"Your score": "2 / 8", "Best this session": "6 / 8"}
    assert any("questions 3, 4, 5, 6, 7 and 8" in w.value for w in at.warning)

    at.button(key="quiz_retake").click().run()
    _answer(at, KEY)  # a better try: the best goes up
    assert _metrics(at) == {"Your score": "8 / 8", "Best this session": "8 / 8"}
    assert len(at.success) == 8 and not at.error and not at.warning
    assert at.session_state["quiz_best"] == 8


def test_page_first_render_in_a_fresh_process_loads_no_tensorflow():
    code = textwrap.dedent(
        f"""
        import json, sys, time
        start = time.perf_counter()
        from streamlit.testing.v1 import AppTest
        imported = time.perf_counter()
        at = AppTest.from_file({str(PAGE)!r}, default_timeout=30).run()
        done = time.perf_counter()
        print(json.dumps({{
            "exception": [str(e.value) for e in at.exception],
            "radios": len(at.radio),
            "tensorflow": "tensorflow" in sys.modules,
            "keras": "keras" in sys.modules,
            "import_streamlit": imported - start,
            "first_run": done - imported,
            "total": done - start,
        }}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"\nQuiz page first render in a fresh process: {report['total']:.2f} s "
        f"(import streamlit.testing {report['import_streamlit']:.2f} s + first run {report['first_run']:.2f} s)"
    )
    assert report["exception"] == []
    assert report["radios"] == 8
    assert report["tensorflow"] is False
    assert report["keras"] is False
