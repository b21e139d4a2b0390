"""The class's hyperparameter map: every finished run of the class on the shared flowers as a point, and what the
class found so far.

Each point is a run's test accuracy with its 95% interval, placed by how its settings differ from the lesson's
(unfreeze depth, phase-2 learning rate, epochs, image size, augmentation, phase-1 learning rate). On a student's
page the other students are anonymous; the Teacher page names them. Only runs on the class's flowers are
comparable (the same test photos), so a student's own photos are left out, and so are stopped runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.photos import TF_FLOWERS
from core.training import TrainConfig
from core.utils.stats import accuracy_interval, difference_from_accuracies

LESSON = TrainConfig()
# (setting, how a student reads it): what the map places runs by, in the order they are named.
MAP_SETTINGS = (
    ("unfreeze", "unfreeze {}"),
    ("lr2", "phase-2 lr {:g}"),
    ("epochs2", "phase-2 epochs: {}"),
    ("epochs1", "phase-1 epochs: {}"),
    ("lr1", "phase-1 lr {:g}"),
    ("image_size", "{} px"),
    ("augment", "augmented"),
)
SETTING_NAMES = {"unfreeze": "unfreeze depth", "lr2": "phase-2 learning rate", "epochs2": "phase-2 epochs",
                 "epochs1": "phase-1 epochs", "lr1": "phase-1 learning rate", "image_size": "image size",
                 "augment": "augmentation"}
DEFAULTS_LABEL = "lesson defaults"
PHASE1_ONLY = "phase 1 only"


@dataclass(frozen=True)
class MapPoint:
    run_id: int
    who: str  # the nickname on the Teacher page, "you" for the viewer's own runs, "" for another student
    mine: bool
    accuracy: float
    low: float
    high: float
    n: int
    label: str  # the settings, as they differ from the lesson's ("unfreeze 60 · phase-2 lr 0.0001")
    varies: str  # the one setting that differs, "lesson defaults", "phase 1 only" or "several settings"
    reused: bool


def differences(config: dict) -> list[tuple[str, str]]:
    """``[(setting, words)]`` where ``config`` differs from the lesson's defaults; phase 2's settings are left out
    when it does not run."""
    found = []
    phase2 = int(config.get("epochs2", LESSON.epochs2)) > 0 and int(config.get("unfreeze", LESSON.unfreeze)) > 0
    for name, words in MAP_SETTINGS:
        value = config.get(name, getattr(LESSON, name))
        if name in ("unfreeze", "lr2") and not phase2:
            continue
        if name == "epochs2" and not phase2:
            continue
        if value != getattr(LESSON, name):
            found.append((name, words.format(value) if "{" in words else words))
    return found


def describe(config: dict) -> tuple[str, str]:
    """``(label, varies)`` of a run's settings."""
    found = differences(config)
    phase2 = int(config.get("epochs2", LESSON.epochs2)) > 0 and int(config.get("unfreeze", LESSON.unfreeze)) > 0
    words = [w for _, w in found]
    if not phase2:
        return " · ".join([PHASE1_ONLY, *words]), PHASE1_ONLY
    if not found:
        return DEFAULTS_LABEL, DEFAULTS_LABEL
    varies = SETTING_NAMES[found[0][0]] if len(found) == 1 else "several settings"
    return " · ".join(words), varies


def comparable(row: dict) -> bool:
    summary = row["summary"]
    config = summary.get("config") or {}
    return (row.get("kind") == "transfer" and config.get("data", TF_FLOWERS) == TF_FLOWERS
            and not summary.get("stopped") and row.get("test_accuracy") is not None
            and not config.get("preset"))


def class_map_points(runs: list[dict], viewer_id: str | None = None, names: bool = False) -> list[MapPoint]:
    """``runs``: ``Store.class_runs()``. ``names``: the Teacher page; otherwise only the viewer's runs are told
    apart ("you") and every other point is anonymous."""
    points = []
    for row in runs:
        if not comparable(row):
            continue
        summary = row["summary"]
        n = int(summary.get("test_n") or (summary.get("test") or {}).get("n") or 0)
        accuracy = float(row["test_accuracy"])
        interval = accuracy_interval(accuracy, n)
        mine = viewer_id is not None and row["student_id"] == viewer_id
        who = row["nickname"] if names else ("you" if mine else "")
        label, varies = describe(summary.get("config") or {})
        points.append(MapPoint(row["run_id"], who, mine, accuracy, interval.low, interval.high, n, label, varies,
                               row.get("reused_from") is not None))
    return points


@dataclass(frozen=True)
class Finding:
    label: str
    accuracy: float
    n: int
    runs: int
    inside_noise_of_best: bool
    words: str


def class_findings(points: list[MapPoint]) -> tuple[list[Finding], str]:
    """Each distinct setting once (its first run: identical settings give identical numbers), best first, each
    compared with the best by the Newcombe check; and one sentence of what the class found so far."""
    first: dict[str, MapPoint] = {}
    counts: dict[str, int] = {}
    for point in points:
        first.setdefault(point.label, point)
        counts[point.label] = counts.get(point.label, 0) + 1
    ranked = sorted(first.values(), key=lambda p: (-p.accuracy, p.run_id))
    if not ranked:
        return [], "No finished runs on the flowers yet: the map fills in as the class trains."
    best = ranked[0]
    rows = [Finding(best.label, best.accuracy, best.n, counts[best.label], True, "best so far")]
    for point in ranked[1:]:
        check = difference_from_accuracies(best.accuracy, best.n, point.accuracy, point.n)
        words = ("inside the noise of the best" if check.inside_noise
                 else f"really worse than the best ({check.difference * 100:+.1f} points)")
        rows.append(Finding(point.label, point.accuracy, point.n, counts[point.label], check.inside_noise, words))
    tied = [r.label for r in rows[1:] if r.inside_noise_of_best]
    summary = (f"{len(points)} run{'s' if len(points) != 1 else ''}, {len(ranked)} different setting"
               f"{'s' if len(ranked) != 1 else ''}. Best so far: {best.label} at {best.accuracy:.1%}.")
    if tied:
        summary += (f" {len(tied)} other setting{'s are' if len(tied) > 1 else ' is'} inside the noise of it "
                    f"({', '.join(tied[:4])}{'…' if len(tied) > 4 else ''}): with {best.n} test photos, that could "
                    "be luck of the split, not a better recipe.")
    elif len(ranked) > 1:
        summary += " Every other setting is really worse: more than the noise of the test photos explains."
    return rows, summary
