"""How sure is that number? Intervals for an accuracy measured on a few test photos.

An accuracy on 149 test photos is a *sample*: another 149 photos of the same flowers would give another
number. The 95% **Wilson score interval** says which true accuracies are consistent with what we saw. We use
Wilson rather than the textbook "p ± 1.96·sqrt(p(1-p)/n)" (Wald) interval because Wald collapses to a
zero-width interval at 0% or 100% and overshoots 100% near the top, exactly where good models live; Wilson
stays inside 0..100% and keeps close to its promised 95% coverage even for small n (Newcombe 1998, Brown, Cai &
DasGupta 2001).

Two runs: ``difference_check`` uses **Newcombe's hybrid score interval** for the difference of two
proportions (Newcombe 1998, method 10), built from the two Wilson intervals a student already sees. If that
interval contains 0, the difference is "inside the noise". We do not simply ask "do the two intervals
overlap?": two 95% intervals can overlap while the difference is real (the overlap check is far too
conservative, roughly a 99.5% test). The check treats the two test sets as independent samples, which they
are when the runs use different split seeds; on the very same test photos it is conservative (a paired test
would need each photo's outcome in both runs), so "inside the noise" still means "don't call it a win".

Plain Python, no TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
SMALL_TEST = 100  # fewer test photos than this: one photo moves the accuracy by more than a point
TINY_TEST = 30


@dataclass(frozen=True)
class Interval:
    correct: int
    n: int
    low: float
    high: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def as_list(self) -> list[float]:
        return [self.low, self.high]


def wilson(correct: int, n: int, z: float = Z95) -> Interval:
    """The Wilson score interval for ``correct`` successes out of ``n`` (default 95%)."""
    correct, n = int(correct), int(n)
    if n < 0 or not 0 <= correct <= max(n, 0):
        raise ValueError(f"need 0 <= correct <= n, got {correct} of {n}")
    if n == 0:
        return Interval(0, 0, 0.0, 1.0)  # no photos: every accuracy is possible
    p = correct / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    if correct == 0:
        low = 0.0  # exact at the edges (the formula gives it up to rounding)
    if correct == n:
        high = 1.0
    return Interval(correct, n, low, high)


def accuracy_interval(accuracy: float, n: int) -> Interval:
    """Wilson interval from an accuracy already computed on ``n`` photos (it was ``correct / n``)."""
    return wilson(round(float(accuracy) * int(n)), int(n))


def interval_words(interval: Interval, what: str = "test photos") -> str:
    """The sentence a student reads under an accuracy."""
    if interval.n == 0:
        return f"No {what}: this accuracy says nothing."
    low, high = _percent(interval.low), _percent(interval.high)
    return (f"The true accuracy is probably between {low} and {high}: with {interval.n:,} {what} we can't be "
            "more precise (95% interval).")


def small_test_warning(n: int, what: str = "test photos") -> str | None:
    """A warning when the test split is too small to tell settings apart; ``None`` when it is big enough."""
    if n >= SMALL_TEST:
        return None
    if n == 0:
        return f"There are no {what}, so the accuracy cannot be measured. Add photos."
    one_photo = 100 / n
    if n < TINY_TEST:
        return (f"Only {n} {what}: each photo moves the accuracy by {one_photo:.0f} points, so this number is "
                "mostly luck. Add photos (aim for 30 or more per class) or use cross-validation.")
    return (f"Only {n} {what}: each photo moves the accuracy by {one_photo:.1f} points. Differences of a few "
            "points between runs are noise; cross-validation gives a steadier figure.")


@dataclass(frozen=True)
class Difference:
    difference: float  # second minus first, as a fraction
    low: float
    high: float
    inside_noise: bool
    words: str


def difference_check(correct_a: int, n_a: int, correct_b: int, n_b: int, z: float = Z95,
                     names: tuple[str, str] = ("the first run", "the second run")) -> Difference:
    """Is run B's accuracy really different from run A's? Newcombe's hybrid score interval for ``p_b - p_a``.
    The words name the better run (``names``: A's, B's) and give the interval of better minus worse, so its
    sign matches the sentence."""
    a, b = wilson(correct_a, n_a, z), wilson(correct_b, n_b, z)
    pa, pb = a.accuracy, b.accuracy
    d = pb - pa
    low = d - math.sqrt((pb - b.low) ** 2 + (a.high - pa) ** 2)
    high = d + math.sqrt((b.high - pb) ** 2 + (pa - a.low) ** 2)
    inside = low <= 0 <= high
    points = f"{abs(d) * 100:.1f} points"
    if n_a == 0 or n_b == 0:
        words = "One of the runs has no test photos: the two cannot be compared."
        inside = True
    elif inside:
        words = (f"The difference ({'+' if d >= 0 else '−'}{points}) is inside the noise: with {n_a:,} and {n_b:,} "
                 "test photos it could be luck of the split. Don't call it a win.")
    else:
        better, worse, low_gap, high_gap = ((names[1], names[0], low, high) if d > 0
                                            else (names[0], names[1], -high, -low))
        words = (f"{better[:1].upper()}{better[1:]} is better by {points}, more than the noise of {n_a:,} and "
                 f"{n_b:,} test photos explains (95% interval of {better} minus {worse}: {low_gap * 100:+.1f} to "
                 f"{high_gap * 100:+.1f} points).")
    return Difference(d, low, high, inside, words)


def difference_from_accuracies(acc_a: float, n_a: int, acc_b: float, n_b: int,
                               names: tuple[str, str] = ("the first run", "the second run")) -> Difference:
    return difference_check(round(acc_a * n_a), n_a, round(acc_b * n_b), n_b, names=names)


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1); sd is 0 for fewer than two values."""
    values = [float(v) for v in values]
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def summary_fields(accuracy: float, n: int) -> dict:
    """What the CLI JSON carries beside ``test_accuracy``."""
    interval = accuracy_interval(accuracy, n)
    return {"test_accuracy_interval": interval.as_list(), "test_n": int(n)}


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"
