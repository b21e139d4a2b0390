"""A confidence threshold: "say 'not sure' below X%", and what it costs, measured on the test photos.

Raising the threshold makes the model answer fewer photos (lower *coverage*) and, usually, get more of
the answered ones right. ``confidence_curve`` measures both for every threshold on photos the model never
trained on; the student picks the trade-off. Plain NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.utils import stats

DEFAULT_THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.0, 1.0, 0.01))  # 0%, 1%, ... 99%


@dataclass(frozen=True)
class ThresholdPoint:
    threshold: float  # answer only when the best class gets at least this probability
    answered: int
    total: int
    correct: int  # among the answered

    @property
    def coverage(self) -> float:
        return self.answered / self.total if self.total else 0.0

    @property
    def accuracy(self) -> float:
        """Accuracy of the answered photos (1.0 by convention when it answers none: it made no mistake)."""
        return self.correct / self.answered if self.answered else 1.0

    @property
    def interval(self) -> stats.Interval:
        return stats.wilson(self.correct, self.answered)

    def as_dict(self) -> dict:
        return {"threshold": self.threshold, "answered": self.answered, "total": self.total, "correct": self.correct,
                "coverage": self.coverage, "accuracy": self.accuracy,
                "accuracy_interval": self.interval.as_list()}


def confidence_curve(probabilities, labels, thresholds=DEFAULT_THRESHOLDS) -> list[ThresholdPoint]:
    """One point per threshold (sorted ascending): how many photos it would answer, how many of those right."""
    p = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels)
    if p.ndim != 2 or len(p) != len(labels):
        raise ValueError("need one row of class probabilities per labelled photo")
    confidence = p.max(axis=1) if len(p) else np.zeros(0)
    right = (p.argmax(axis=1) == labels) if len(p) else np.zeros(0, bool)
    points = []
    for t in sorted(float(t) for t in thresholds):
        answered = confidence >= t
        points.append(ThresholdPoint(t, int(answered.sum()), len(labels), int((right & answered).sum())))
    return points


def point_at_threshold(points: list[ThresholdPoint], threshold: float) -> ThresholdPoint:
    """The measured point for ``threshold`` (the nearest measured one not above it)."""
    below = [p for p in points if p.threshold <= threshold + 1e-9]
    return below[-1] if below else points[0]


def threshold_words(point: ThresholdPoint, what: str = "test photos") -> str:
    if point.total == 0:
        return f"No {what} to measure the threshold on."
    skipped = point.total - point.answered
    if point.answered == 0:
        return f"At {point.threshold:.0%} it would say 'not sure' about all {point.total} {what}."
    interval = point.interval
    return (f"At {point.threshold:.0%} it would answer {point.answered} of {point.total} {what} ({point.coverage:.0%}) "
            f"and get {point.correct} of those right ({point.accuracy:.0%}, probably between {interval.low:.0%} and "
            f"{interval.high:.0%}); about the other {skipped} it would say 'not sure'.")


def answer_or_not_sure(probabilities, class_names: list[str], threshold: float) -> tuple[bool, str]:
    """``(answers, message)`` for one photo under the student's threshold."""
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    best = int(p.argmax())
    if p[best] >= threshold:
        return True, f"{class_names[best]} ({p[best]:.0%}, at or above your {threshold:.0%} threshold)."
    return False, (f"Not sure: its best guess, {class_names[best]}, gets {p[best]:.0%}, below your "
                   f"{threshold:.0%} threshold.")
