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
    """``fit_score(name, train_rows, test_rows) -> accuracy`` for ``core.training.nested_cv``: the exact linear
    head of the named choice fitted on the train rows, scored on the test rows (temperature skipped: it never
    changes which class wins)."""
    by_name = {choice.name: sliced(features, choice) for choice in choices}
    labels = features.labels

    def fit_score(name: str, train: np.ndarray, test: np.ndarray) -> float:
        preset, test_views, train_views, widths = by_name[name]
        head = presets.fit_head(preset, [v[train] for v in train_views], labels[train], features.n_classes, widths,
                                seed, calibrate=False)
        return float((head.probabilities([v[test] for v in test_views]).argmax(1) == labels[test]).mean())

    return fit_score
