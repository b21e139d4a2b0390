"""The choices behind the "best for small data" preset, as candidates nested cross-validation can re-make.

``bench/ablation.py`` picked the preset's layers, views, second width and ridge strength by 5-fold
cross-validation on the same photos its figures come from. ``ABLATION_CHOICES`` lists what it compared;
``choice_scorer`` trains and scores one of them on given rows, so ``core.training.nested_cv`` can redo the
whole choosing inside each outer fold. Every choice is a column/view slice of one set of features (the
frozen bases read each photo once).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.training import presets

TOP = ("out_relu",)
ONE, BOTH = (0,), (0, 1)  # members of presets.BEST: alpha 1.0 alone, or with alpha 0.35


@dataclass(frozen=True)
class Choice:
    name: str
    members: tuple[int, ...]  # indices into the base preset's members
    layers: tuple[str, ...]
    views: tuple[str, ...]  # trained on and averaged at test time
    ridge: float = 1.0
    train_only_views: tuple[str, ...] = ()  # extra training rows, never shown at test time
    thin_weight: float | None = None  # the second member's weight, if not the base preset's


MID = presets.MID_AND_TOP
PRESET_VIEWS = presets.BEST.views
ABLATION_CHOICES: tuple[Choice, ...] = (
    Choice("final features, alpha 1.0, plain view", ONE, TOP, ("plain",)),
    Choice("+ mid-level layers", ONE, MID, ("plain",)),
    Choice("+ mirrored view", ONE, MID, ("plain", "flip")),
    Choice("+ alpha 0.35 beside alpha 1.0", BOTH, MID, ("plain", "flip")),
    Choice("+ crop view = the preset (ridge 1)", BOTH, MID, PRESET_VIEWS),
    Choice("the preset, ridge 0.3", BOTH, MID, PRESET_VIEWS, ridge=0.3),
    Choice("the preset, ridge 3", BOTH, MID, PRESET_VIEWS, ridge=3.0),
    Choice("the preset + one augmented training view", BOTH, MID, PRESET_VIEWS, train_only_views=("aug0",)),
)


@dataclass
class PhotoFeatures:
    """Every view's features of the base preset's members x layers, one row per photo."""

    base: presets.Preset
    views: dict[str, np.ndarray]  # view name -> [n, D]
    widths: list[list[int]]  # channels per layer, per member
    labels: np.ndarray
    n_classes: int


def sliced(features: PhotoFeatures, choice: Choice):
    """``(preset, test_views, train_views, widths)`` of one choice: its members' and layers' columns."""
    base = features.base
    columns, start = [], 0
    for m, per_layer in enumerate(features.widths):
        for name, width in zip(base.layers, per_layer):
            if m in choice.members and name in choice.layers:
                columns.append(np.arange(start, start + width))
            start += width
    columns = np.concatenate(columns)
    members = tuple(base.members[m] for m in choice.members)
    if choice.thin_weight is not None and len(members) > 1:
        members = (members[0], replace(members[1], weight=choice.thin_weight))
    preset = replace(base, members=members, layers=choice.layers, views=choice.views, ridge=choice.ridge)
    widths = [[w for name, w in zip(base.layers, features.widths[m]) if name in choice.layers] for m in choice.members]
    test_views = [features.views[v][:, columns] for v in choice.views]
    train_views = test_views + [features.views[v][:, columns] for v in choice.train_only_views]
    return preset, test_views, train_views, widths


def choice_scorer(features: PhotoFeatures, choices: tuple[Choice, ...], seed: int = 0):
    """``fit_score(name, train_rows, test_rows, pool_rows) -> accuracy`` for ``core.training.nested_cv``.

    The same exact ridge head as ``presets.fit_head`` (temperature skipped: it never changes which class wins),
    arranged for many fits: the rows are standardised on the pool (the outer training part: features only, no
    labels, never the outer fold) and one Gram matrix of the pool serves every inner fold and every ridge
    strength of a choice. When the pool is the training part itself (the outer fit), this is ``fit_head``."""
    by_name = {choice.name: (choice, sliced(features, choice)) for choice in choices}
    labels = features.labels
    prepared: dict = {}

    def fit_score(name: str, train: np.ndarray, test: np.ndarray, pool: np.ndarray | None = None) -> float:
        choice, (preset, test_views, train_views, widths) = by_name[name]
        pool = train if pool is None else pool
        key = (replace(choice, name="", ridge=0.0), pool.tobytes())
        if key not in prepared:
            if len(prepared) >= 2:  # the choices come one after another: keep the memory of two Gram matrices
                prepared.pop(next(iter(prepared)))
            prepared[key] = _Pool(preset, [v[pool] for v in train_views], widths, pool)
        return prepared[key].accuracy(train, test, [v[test] for v in test_views], labels, features.n_classes,
                                      choice.ridge)

    return fit_score


class _Pool:
    """Standardised rows of every (pool photo, training view) and their Gram matrix."""

    def __init__(self, preset: presets.Preset, views: list[np.ndarray], widths: list[list[int]], pool: np.ndarray):
        stacked = np.concatenate(views).astype(np.float64)
        self.mean, sd = stacked.mean(axis=0), stacked.std(axis=0) + 1e-6
        self.scale = presets._block_weights(preset, widths) / sd
        self.rows = ((stacked - self.mean) * self.scale).astype(np.float32)  # row r = pool photo r % n, view r // n
        self.gram = self.rows @ self.rows.T
        self.n, self.k = len(pool), len(views)
        self.position = {photo: i for i, photo in enumerate(pool.tolist())}

    def accuracy(self, train: np.ndarray, test: np.ndarray, test_views: list[np.ndarray], labels: np.ndarray,
                 n_classes: int, ridge: float) -> float:
        at = np.array([self.position[photo] for photo in train.tolist()])
        picked = np.concatenate([at + v * self.n for v in range(self.k)])
        targets = np.eye(n_classes)[labels[train]] * 2 - 1
        offset = targets.mean(axis=0)
        right = np.tile(targets - offset, (self.k, 1))
        system = self.gram[np.ix_(picked, picked)].astype(np.float64) + ridge * np.eye(len(picked))
        alpha = np.linalg.solve(system.astype(np.float32), right.astype(np.float32)).astype(np.float64)
        weights = self.rows[picked].T.astype(np.float64) @ alpha
        scores = [((v.astype(np.float64) - self.mean) * self.scale) @ weights + offset for v in test_views]
        probabilities = np.mean([presets._softmax(z) for z in scores], axis=0)
        return float((probabilities.argmax(1) == labels[test]).mean())
