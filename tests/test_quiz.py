"""The quiz: the lesson's questions checked against the lesson text, shuffling and scoring (core.lesson.quiz), the
Quiz page (AppTest through the app's router, so the "see it happen" links are real), and that it never loads
TensorFlow."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT, SHARED
from streamlit.testing.v1 import AppTest

from core.lesson.claims import LESSON_FILE
from core.lesson.quiz import (
    BONUS_QUESTIONS,
    LESSON_QUESTIONS,
    LETTERS,
    answer_key,
    display_order,
    feedback_message,
    score,
    shown_letter,
)
from ui import state

PAGE = ROOT / "app_pages" / "quiz.py"
KEY = {1: "b", 2: "b", 3: "b", 4: "b", 5: "b", 6: "a", 7: "b", 8: "c"}  # the 1b 2b 3b 4b 5b 6a 7b 8c


def _wrong(letter: str) -> str:
    return next(x for x in LETTERS if x != letter)


# --- the lesson text --------------------------------------------------------------------------------


def _lesson_quiz() -> dict[int, dict]:
    """``{number: {"stem": ..., "options": {letter: text}}}`` parsed from the lesson's quiz section."""
    text = (SHARED / "lesson" / LESSON_FILE).read_text(encoding="utf-8")
    section = text[text.index("Lesson 2 Quiz"):]
    questions: dict[int, dict] = {}
    for line in section.splitlines():
        line = line.strip()
        if match := re.fullmatch(r"(\d+)\. (.+)", line):
            current = questions.setdefault(int(match.group(1)), {"stem": match.group(2), "options": {}})
        elif match := re.fullmatch(r"([a-d])\) (.+)", line):
            current["options"][match.group(1)] = match.group(2)
    return questions


def _plain(text: str) -> str:
    """What a student reads: Markdown backticks around code don't count as a change of wording."""
    return text.replace("`", "")


def test_lesson_questions_are_the_lessons_word_for_word():
    lesson = _lesson_quiz()
    assert sorted(lesson) == list(range(1, 9)), "the lesson's quiz section could not be parsed"
    assert [q.id for q in LESSON_QUESTIONS] == list(range(1, 9))
    for question in LESSON_QUESTIONS:
        asked = lesson[question.id]
        assert _plain(question.text) == _plain(asked["stem"]), question.id
        assert list(asked["options"]) == list(LETTERS), question.id
        assert {k: _plain(v) for k, v in question.options.items()} == asked["options"], question.id


def test_answer_key_is_the_lessons():
    assert answer_key() == KEY
    assert answer_key(LESSON_QUESTIONS) == KEY


def test_code_is_in_backticks():
    by_id = {q.id: q for q in LESSON_QUESTIONS}
    for qid, code in ((1, "`base_model.trainable = False`"), (3, "`include_top=False`"),
                      (4, "`GlobalAveragePooling2D()`"), (6, "`horizontal_flip=True`"), (7, "`flow_from_directory`")):
        assert code in by_id[qid].text, qid


def test_every_question_explains_and_links_to_a_page_of_the_app():
    pages = set(re.findall(r'st\.Page\("([^"]+)"', (ROOT / "app.py").read_text()))  # registered with the router
    for q in (*LESSON_QUESTIONS, *BONUS_QUESTIONS):
        assert len(set(q.options.values())) == 4, q.id
        assert q.explanation.strip(), q.id
        assert q.link.page in pages, (q.id, q.link.page)
        assert q.link.label.strip(), q.id
    by_id = {q.id: q for q in LESSON_QUESTIONS}
    assert by_id[5].link.page.endswith("compare.py")
    assert by_id[6].link.page.endswith("train.py") and "augmented" in by_id[6].link.label


def test_bonus_round_order_question_names_no_figures():
    order = next(q for q in BONUS_QUESTIONS if "order" in q.text)
    assert not re.search(r"\d+ ?%", " ".join(order.options.values()) + order.explanation)


def _longest(question) -> str:
    return max(question.options, key=lambda letter: len(question.options[letter]))


def test_the_pixel_scaling_question_keys_brighter_not_darker():
    question = next(q for q in BONUS_QUESTIONS if "255" in q.text)
    right = question.options[question.answer]
    assert "brighter" in right and "washed out" in right
    darker = next(letter for letter, text in question.options.items() if "darker" in text)
    assert darker != question.answer
    assert "top half" in question.explanation and "brighter" in question.explanation


def test_picking_the_longest_option_scores_about_chance_in_the_bonus_round():
    longest = {q.id: _longest(q) for q in BONUS_QUESTIONS}
    right = score(longest, BONUS_QUESTIONS).correct
    chance = len(BONUS_QUESTIONS) / len(LETTERS)
    print(f"\n'pick the longest option' scores {right} of {len(BONUS_QUESTIONS)} bonus questions (chance {chance:.1f})")
    assert right <= chance + 1


def test_the_lessons_own_quiz_does_reward_the_longest_option():
    """Why the Teacher page warns about it: the lesson's words are kept, and there the longest option wins."""
    longest = {q.id: _longest(q) for q in LESSON_QUESTIONS}
    assert score(longest, LESSON_QUESTIONS).correct == len(LESSON_QUESTIONS)


# --- shuffling and scoring --------------------------------------------------------------------------


def test_display_order_is_stable_per_seed_and_changes_between_attempts():
    first = display_order(LESSON_QUESTIONS, "s:1")
    assert display_order(LESSON_QUESTIONS, "s:1") == first
    assert all(sorted(order) == list(LETTERS) for order in first.values())
    others = [display_order(LESSON_QUESTIONS, f"s:{attempt}") for attempt in range(2, 8)]
    assert any(other != first for other in others)


@pytest.mark.parametrize("seed", range(20))
def test_a_fixed_position_scores_exactly_at_chance_on_every_attempt(seed):
    orders = display_order(LESSON_QUESTIONS, seed)
    for position in range(4):
        answers = {q.id: orders[q.id][position] for q in LESSON_QUESTIONS}
        assert score(answers).correct == 2, (seed, position)


def test_shown_letter():
    assert shown_letter(("c", "a", "d", "b"), "a") == "b"
    assert shown_letter(("c", "a", "d", "b"), "c") == "a"


def test_scoring_all_right_all_wrong_partial_and_blank():
    assert (score(KEY).correct, score(KEY).total, score(KEY).percent) == (8, 8, 100.0)
    assert score({i: _wrong(letter) for i, letter in KEY.items()}).correct == 0
    result = score({1: "b", 2: None, 3: "b", 8: "c"})
    assert result.correct == 3
    assert result.unanswered == [2, 4, 5, 6, 7]
    assert score({1: " B ", 6: "A"}).correct == 2
    bonus = score(answer_key(BONUS_QUESTIONS), BONUS_QUESTIONS)
    assert bonus.correct == bonus.total == len(BONUS_QUESTIONS)


@pytest.mark.parametrize("bad", ["e", "", "ab", 2, "1"])
def test_invalid_letter_raises(bad):
    with pytest.raises(ValueError, match="Question 3.*one of a, b, c, d"):
        score({3: bad})


def test_unknown_question_raises():
    with pytest.raises(ValueError, match="Unknown question id"):
        score({9: "a"})


def test_feedback_message_is_friendly_at_every_score():
    assert len({feedback_message(n, 8) for n in range(9)}) == 4
    assert "Perfect" in feedback_message(8, 8)
    assert "Great" not in feedback_message(2, 8)  # chance is not great work


# --- the page ---------------------------------------------------------------------------------------


def _page(nonce: str = "test") -> AppTest:
    """The page on its own (the router's sign-in is tested elsewhere): its links then show as captions."""
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["quiz_nonce"] = nonce
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _submit(at: AppTest, answers: dict[int, str | None]) -> AppTest:
    for qid, letter in answers.items():
        at.radio(key=f"quiz_q{qid}").set_value(letter)
    at.button(key="quiz_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _score(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Your score")


def test_the_lessons_answers_score_8_of_8_with_every_explanation_and_link():
    at = _page()
    assert len(at.radio) == 8 and [r.value for r in at.radio] == [None] * 8
    _submit(at, KEY)
    assert _score(at) == "8 / 8"
    assert at.session_state[state.QUIZ_BEST] == 8
    assert len(at.success) == 8 and not at.error
    for question in LESSON_QUESTIONS:
        assert any(question.explanation[:50] in s.value for s in at.success), question.id
    links = [c.value for c in at.caption if "See it happen" in c.value]
    assert [link.split("See it happen: ")[1] for link in links] == [q.link.label for q in LESSON_QUESTIONS]


def test_options_are_shuffled_per_attempt_and_stable_across_reruns():
    at = _page("shuffle")
    first = [tuple(r.options) for r in at.radio]
    at.run()  # a rerun of the same attempt keeps the order
    assert [tuple(r.options) for r in at.radio] == first
    orders = {tuple(first)}
    for _ in range(3):
        _submit(at, {})
        at.button(key="quiz_retake").click().run()
        orders.add(tuple(tuple(r.options) for r in at.radio))
    assert len(orders) > 1
    labels = at.radio(key="quiz_q1").proto.options
    assert [label[:2] for label in labels] == ["a)", "b)", "c)", "d)"]  # letters by position, content shuffled


def test_the_same_letter_position_every_time_scores_at_chance():
    at = _page("position")
    scores = {position: [] for position in range(4)}
    for _attempt in range(3):
        for position in range(4):
            answers = {q.id: at.radio(key=f"quiz_q{q.id}").options[position] for q in LESSON_QUESTIONS}
            _submit(at, answers)
            scores[position].append(int(_score(at).split(" / ")[0]))
            at.button(key="quiz_retake").click().run()
    averages = {position: sum(s) / len(s) for position, s in scores.items()}
    print(f"\nAlways answering the same position, average over {len(scores[0])} attempts: {averages}")
    assert all(average <= 3 for average in averages.values()), averages


def test_wrong_and_blank_answers_are_explained_and_the_best_score_is_kept():
    at = _page()
    answers = dict(KEY)
    answers[2] = "a"
    answers[5] = None
    _submit(at, answers)
    assert _score(at) == "6 / 8"
    errors = [e.value for e in at.error]
    assert len(errors) == 2 and "You chose" in errors[0] and "Not answered" in errors[1]
    assert any("question 5" in w.value for w in at.warning)
    at.button(key="quiz_retake").click().run()
    _submit(at, {1: "b"})
    assert at.session_state[state.QUIZ_BEST] == 6
    assert "Best this session" in [m.label for m in at.metric]


def test_bonus_round_is_optional_and_scored_separately():
    at = _page()
    assert len(at.radio) == 8
    at.toggle(key="quiz_bonus_open").set_value(True).run()
    assert len(at.radio) == 8 + len(BONUS_QUESTIONS)
    for q in BONUS_QUESTIONS:
        at.radio(key=f"quiz_q{q.id}").set_value(q.answer)
    at.button(key="quiz_bonus_submit").click().run()
    assert not at.exception
    assert f"{len(BONUS_QUESTIONS)} / {len(BONUS_QUESTIONS)}" in [m.value for m in at.metric]
    assert state.QUIZ_BEST not in at.session_state  # the sidebar's best score is the lesson's quiz only


def test_bonus_round_marks_washed_out_right_and_darker_wrong():
    question = next(q for q in BONUS_QUESTIONS if "255" in q.text)
    darker = next(letter for letter, text in question.options.items() if "darker" in text)
    for chosen, verdict in ((question.answer, "Correct"), (darker, "You chose")):
        at = _page(f"bonus-{chosen}")
        at.toggle(key="quiz_bonus_open").set_value(True).run()
        at.radio(key=f"quiz_q{question.id}").set_value(chosen)
        at.button(key="quiz_bonus_submit").click().run()
        assert not at.exception, [e.value for e in at.exception]
        shown = [box.value for box in (*at.success, *at.error) if "255" in box.value]
        assert len(shown) == 1 and verdict in shown[0], shown
        assert "washed out" in shown[0].split("The answer is" if verdict != "Correct" else "Correct:")[1]


def test_page_first_render_in_a_fresh_process_loads_no_tensorflow():
    code = textwrap.dedent(
        f"""
        import json, sys
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(PAGE)!r}, default_timeout=60).run()
        print(json.dumps({{
            "exception": [str(e.value) for e in at.exception],
            "radios": len(at.radio),
            "tensorflow": "tensorflow" in sys.modules,
            "keras": "keras" in sys.modules,
        }}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report == {"exception": [], "radios": 8, "tensorflow": False, "keras": False}
