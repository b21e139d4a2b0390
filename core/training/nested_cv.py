"""Nested cross-validation: choose inside, score outside.

A recipe whose settings were picked by cross-validation on some photos scores optimistically on those same
folds (the pick favours whatever got lucky there). Nested cross-validation repeats the *whole choosing*:
each outer fold's photos are set aside first, the candidates are compared by an inner cross-validation on
the remaining photos only, and the winner is trained on those remaining photos and scored once on the
outer fold. The outer scores estimate how well "choose by cross-validation, then train" does on photos that
took no part in the choice.

Plain NumPy: ``fit_score(candidate, train_rows, test_rows, pool_rows) -> accuracy`` does the training and
scoring. ``pool_rows`` are the rows the choosing may look at (the outer training part): a scorer may use their
features without labels, e.g. to standardise once for all inner folds; the outer fold is never among them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.training.crossval import fold_ids
from core.utils import stats

FitScore = Callable[[str, np.ndarray, np.ndarray, np.ndarray], float]


@dataclass
class NestedResult:
    outer_accuracies: list[float] = field(default_factory=list)
    outer_sizes: list[int] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)  # the inner winner of each outer fold
    inner_means: list[dict[str, float]] = field(default_factory=list)  # every candidate's inner mean, per outer fold
    outer_folds: np.ndarray | None = None  # the outer fold of every row

    @property
    def mean(self) -> float:
        return stats.mean_sd(self.outer_accuracies)[0]

    @property
    def sd(self) -> float:
        return stats.mean_sd(self.outer_accuracies)[1]

    @property
    def best_inner_mean(self) -> float:
        """The average of the winners' own inner scores: what picking on the same folds would have reported."""
        return float(np.mean([means[name] for means, name in zip(self.inner_means, self.chosen)]))


def nested_crossval(labels, candidates: Sequence[str], fit_score: FitScore, k_outer: int = 5, k_inner: int = 5,
                    seed: int = 0, groups=None) -> NestedResult:
    """Outer ``k_outer`` folds; inside each outer training part, every candidate by ``k_inner``-fold CV; the best
    inner mean wins (a tie goes to the candidate listed first, so list the simplest first) and is scored on
    the outer fold. Folds are stratified by label and keep each ``groups`` id (near-duplicates) whole."""
    if not candidates:
        raise ValueError("nested cross-validation needs at least one candidate")
    labels = np.asarray(labels)
    groups = None if groups is None else np.asarray(groups)
    outer = fold_ids(labels, k_outer, seed, groups)
    result = NestedResult(outer_folds=outer)
    for fold in range(k_outer):
        train, test = np.flatnonzero(outer != fold), np.flatnonzero(outer == fold)
        inner = fold_ids(labels[train], k_inner, seed + 1000 + fold, None if groups is None else groups[train])
        means = {}
        for name in candidates:
            scores = [fit_score(name, train[inner != part], train[inner == part], train) for part in range(k_inner)]
            means[name] = float(np.mean(scores))
        best = max(candidates, key=lambda name: means[name])  # max keeps the first of equal values
        result.inner_means.append(means)
        result.chosen.append(best)
        result.outer_accuracies.append(float(fit_score(best, train, test, train)))
        result.outer_sizes.append(len(test))
    return result
