"""The preset's figures on the Train page come from the benchmark's own output (core.training.preset_benchmark):
computed from the JSON, the optimistic one marked "chosen on these photos", nothing when the file is missing."""

from __future__ import annotations

import json

import pytest

from core.training.preset_benchmark import NESTED_FILE, read_preset_benchmark


def _write(tmp_path, nested_rows, chosen_rows, lesson=0.885):
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps({"photos": 998, "folds": 5, "nested": nested_rows, "preset_plain_cv": chosen_rows}))
    ablation = tmp_path / "ablation.json"
    ablation.write_text(json.dumps({"conditions": "as bench/ablation.py writes it",
                                    "rows": [{"change": "lesson's phase 1: Dense(128) head", "mean": lesson, "sd": 0.02}]}))
    return nested, ablation


def test_figures_are_computed_from_the_runs_and_the_chosen_one_says_so(tmp_path):
    nested, ablation = _write(tmp_path, [{"mean": 0.90, "sd": 0.012}, {"mean": 0.92, "sd": 0.024}],
                              [{"mean": 0.925, "sd": 0.012}, {"mean": 0.931, "sd": 0.023}])
    figures = read_preset_benchmark(nested, ablation)
    assert figures.nested_mean == pytest.approx(0.91) and figures.fold_splits == 2
    words = figures.words()
    assert "**91.0%** on photos the choice never saw" in words
    assert "folds spread by 1.2–2.4 points" in words  # the nested SDs, not a typed-in range
    assert "92.5–93.1% often quoted for this preset was **chosen on these photos**" in words
    assert "1.8 points higher than on photos the choice never saw" in words  # 92.8% chosen against 91.0%
    assert "Developers' benchmark on the 998 shared flowers" in words and "88.5%" in words


def test_when_re_choosing_changes_little_the_words_say_so(tmp_path):
    nested, ablation = _write(tmp_path, [{"mean": 0.925, "sd": 0.012}], [{"mean": 0.928, "sd": 0.012}])
    assert "gives about the same" in read_preset_benchmark(nested, ablation).words()


def test_missing_or_broken_results_show_nothing(tmp_path):
    assert read_preset_benchmark(tmp_path / "missing.json", tmp_path / "missing.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert read_preset_benchmark(broken, broken) is None


def test_the_committed_benchmark_reads():
    if not NESTED_FILE.is_file():
        pytest.skip("bench/results/nested_cv.json not written yet: run bench/nested_cv.py")
    figures = read_preset_benchmark()
    assert figures is not None and 0.5 < figures.nested_mean < 1
    assert "chosen on these photos" in figures.words()
