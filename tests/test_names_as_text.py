"""Text a student typed is shown as text: Markdown and Streamlit's own syntax are escaped, CSV cells never
start a formula (one function each, core/utils/safe_text.py)."""

import csv
import io

import pytest

from core.classroom import quiz_csv, runs_csv
from core.photos.report import _to_csv
from core.utils.safe_text import as_text, csv_cell

TRICKS = ["![](//127.1:8629/u)", "**bold**", ":red[alarm]", "[x](javascript:alert(1))", "$x^2$", "# Title",
          "<img src=x onerror=alert(1)>", ":smile:", "a\nb"]


@pytest.mark.parametrize("name", TRICKS)
def test_markdown_in_a_name_is_escaped(name):
    shown = as_text(name)
    assert "\n" not in shown
    unescaped = [ch for i, ch in enumerate(shown) if ch in "![]()*:$<>#_`" and (i == 0 or shown[i - 1] != "\\")]
    assert unescaped == [], shown
    assert shown.replace("\\", "") == " ".join(name.splitlines())  # the same characters, each escaped


def test_plain_names_are_unchanged():
    assert as_text("Priya") == "Priya"
    assert as_text("Rosé 2") == "Rosé 2"


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"//x.io\",\"a\")", "+1", "-2", "@SUM(A1)", "\tx"])
def test_csv_cells_never_start_a_formula(cell):
    assert csv_cell(cell).startswith("'")
    assert csv_cell("Priya") == "Priya" and csv_cell(3) == 3


def test_the_teacher_csvs_escape_formulas_in_nicknames_and_labels():
    evil = '=HYPERLINK("//x.io","a")'
    runs = [{"nickname": evil, "run_id": 1, "created": 0.0, "label": "+cmd", "kind": "transfer",
             "test_accuracy": 0.9, "summary": {"config": {}}}]
    quiz = [{"nickname": evil, "student_id": "a", "created": 0.0, "answers": {}}]
    for text in (runs_csv(runs), quiz_csv(quiz), _to_csv(["class"], [[evil]])):
        for row in csv.reader(io.StringIO(text)):
            assert not any(cell.startswith(("=", "+", "@")) for cell in row), row
