"""The developers' benchmark figures of the "best for small data" preset, read from what ``bench/nested_cv.py``
and ``bench/ablation.py`` wrote to ``bench/results/``: the Train page shows them computed from those runs,
never typed by hand, and labelled as the developers' (not a run on the student's computer).

Two kinds of figure, kept apart:

* **nested cross-validation**: the preset's choices (layers, views, second width, ridge) re-made inside
  each outer fold, scored on photos that took no part in the choice: the honest estimate.
* **plain cross-validation of the preset**: the same folds the choices were picked on, so it is optimistic:
  "chosen on these photos".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.utils.paths import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"
NESTED_FILE = RESULTS / "nested_cv.json"
ABLATION_FILE = RESULTS / "ablation.json"
LESSON_ROW = "lesson's phase 1"


@dataclass(frozen=True)
class PresetBenchmark:
    photos: int
    folds: int
    fold_splits: int  # how many different outer fold splits (seeds)
    nested_mean: float  # mean over the fold splits of the nested-CV means
    nested_means: tuple[float, ...]
    nested_sd: tuple[float, float]  # lowest and highest spread between folds (sd, fraction) over the splits
    chosen_means: tuple[float, ...]  # plain CV of the preset on the same folds (chosen on these photos)
    chosen_sd: tuple[float, float]
    lesson_mean: float | None  # the lesson's phase-1 head by plain CV (nothing chosen: honest as it is)

    def words(self) -> str:
        nested = f"{self.nested_mean:.1%}"
        chosen = _span([m * 100 for m in self.chosen_means], "%")
        lesson = (f" The lesson's phase 1 measured by plain cross-validation on the same photos: {self.lesson_mean:.1%}."
                  if self.lesson_mean is not None else "")
        return (f"Developers' benchmark on the {self.photos:,} shared flowers ({self.folds}-fold cross-validation, "
                f"{self.fold_splits} different fold splits): **{nested}** on photos the choice never saw (nested "
                f"cross-validation: the layers, views and ridge strength are re-chosen inside each fold, then "
                f"scored on the fold left out; folds spread by {_span([s * 100 for s in self.nested_sd], ' points')}). "
                f"The {chosen} often quoted for this preset was **chosen on these photos** (the same folds picked "
                f"its settings): {self._optimism()}.{lesson}")

    def _optimism(self) -> str:
        gap = (sum(self.chosen_means) / len(self.chosen_means) - self.nested_mean) * 100
        if abs(gap) < 1:  # a point is well inside the folds' spread
            return "here re-choosing inside each fold gives about the same, so the choice did not flatter it much"
        return f"{abs(gap):.1f} points {'higher' if gap > 0 else 'lower'} than on photos the choice never saw"


def _span(values: list[float], unit: str) -> str:
    low, high = min(values), max(values)
    return f"{low:.1f}{unit}" if round(low, 1) == round(high, 1) else f"{low:.1f}–{high:.1f}{unit}"


def read_preset_benchmark(nested_file: Path = NESTED_FILE, ablation_file: Path = ABLATION_FILE) -> PresetBenchmark | None:
    """The figures, or ``None`` when the nested-CV results are missing or unreadable (nothing is then shown)."""
    try:
        nested = json.loads(Path(nested_file).read_text())
        rows, chosen = nested["nested"], nested["preset_plain_cv"]
        benchmark = PresetBenchmark(
            photos=int(nested["photos"]), folds=int(nested["folds"]), fold_splits=len(rows),
            nested_mean=sum(r["mean"] for r in rows) / len(rows), nested_means=tuple(r["mean"] for r in rows),
            nested_sd=(min(r["sd"] for r in rows), max(r["sd"] for r in rows)),
            chosen_means=tuple(r["mean"] for r in chosen),
            chosen_sd=(min(r["sd"] for r in chosen), max(r["sd"] for r in chosen)),
            lesson_mean=_lesson_mean(ablation_file))
    except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
        return None
    return benchmark


def _lesson_mean(ablation_file: Path) -> float | None:
    try:
        rows = json.loads(Path(ablation_file).read_text())
        rows = rows["rows"] if isinstance(rows, dict) else rows  # the file has carried its conditions since
        return next(float(r["mean"]) for r in rows if r["change"].startswith(LESSON_ROW))
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return None
