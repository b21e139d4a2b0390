"""What the Teacher page shows about the class, as plain rows: quiz results per question, best runs, CSV.

Plain Python over the store's rows (no Streamlit, no TensorFlow), so it is easy to test.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter

from core.lesson.quiz import LESSON_QUESTIONS, score
from core.utils.safe_text import csv_cell


def latest_attempts(attempts: list[dict]) -> list[dict]:
    """Each student's newest attempt (the class's current understanding)."""
    latest: dict[str, dict] = {}
    for attempt in attempts:  # oldest first
        latest[attempt["student_id"]] = attempt
    return list(latest.values())


def quiz_per_question(attempts: list[dict], questions=LESSON_QUESTIONS) -> list[dict]:
    """One row per question over each student's latest attempt: how many got it right, the commonest wrong answer.
    Sorted hardest first."""
    rows = []
    latest = latest_attempts(attempts)
    for question in questions:
        chosen = [a["answers"].get(question.id) for a in latest]
        right = sum(c == question.answer for c in chosen)
        wrong = Counter(c for c in chosen if c is not None and c != question.answer)
        common = wrong.most_common(1)
        rows.append({
            "question": question.id,
            "text": question.text,
            "students": len(chosen),
            "right": right,
            "right %": round(100 * right / len(chosen)) if chosen else None,
            "unanswered": sum(c is None for c in chosen),
            "commonest wrong answer": f"{common[0][0]}) {question.options[common[0][0]]} ({common[0][1]})"
            if common else "",
        })
    return sorted(rows, key=lambda r: (r["right %"] if r["right %"] is not None else 101, r["question"]))


def best_run_rows(best_runs: list[dict]) -> list[dict]:
    rows = []
    for run in best_runs:
        cfg = run["summary"].get("config", {})
        rows.append({
            "student": run["nickname"], "run": run["label"],
            "test accuracy": round(100 * (run["test_accuracy"] or 0), 1),  # a percentage, as the Train page shows it
            "kind": run["kind"], "base": cfg.get("base"), "image size": cfg.get("image_size"),
            "epochs": f"{cfg.get('epochs1')} + {cfg.get('epochs2')}", "unfreeze": cfg.get("unfreeze"),
            "lr2": cfg.get("lr2"), "augment": cfg.get("augment"), "stopped": run["summary"].get("stopped"),
        })
    return rows


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    return out.getvalue()


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def runs_csv(all_runs: list[dict]) -> str:
    rows = []
    for run in all_runs:
        summary = run["summary"]
        cfg = summary.get("config", {})
        rows.append({
            "student": run["nickname"], "run": run["run_id"], "when": _when(run["created"]), "label": run["label"],
            "kind": run["kind"], "test_accuracy": run["test_accuracy"],
            "after_phase1": summary.get("phase_test_accuracy", {}).get("phase1"),
            **{k: cfg.get(k) for k in ("base", "image_size", "epochs1", "epochs2", "unfreeze", "lr1", "lr2",
                                       "batch_size", "augment", "preprocessing", "seed")},
            "stopped": summary.get("stopped"), "seconds": summary.get("timings", {}).get("total"),
        })
    return _csv(rows)


def quiz_csv(attempts: list[dict], questions=LESSON_QUESTIONS) -> str:
    rows = []
    for attempt in attempts:
        marked = score({k: v for k, v in attempt["answers"].items() if k in {q.id for q in questions}}, questions)
        row = {"student": attempt["nickname"], "when": _when(attempt["created"]), "score": marked.correct,
               "out_of": marked.total}
        for result in marked.results:
            row[f"q{result.id}"] = result.chosen or ""
            row[f"q{result.id}_right"] = result.is_correct
        rows.append(row)
    return _csv(rows)
