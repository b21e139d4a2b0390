"""Kiran's 92%: what each step of the "best for small data" preset adds, measured by 5-fold cross-validation.

    python bench/ablation.py                      # the flowers in ../shared (or TLL_OFFLINE_BUNDLE)
    python bench/ablation.py --data DIR --folds 5 --fold-seeds 0 1 2 --json out.json

Every row is a 5-fold cross-validation on all the photos (each photo tested once, near-duplicates kept in one
fold), so its mean is steadier than one 150-photo test split; ± is the standard deviation over the folds.
The rows build on each other (top to bottom). The frozen bases read each photo once per view (cached per photo
in TLL_CACHE_DIR): "features" is the time that took in this run (~0 when warm), "fit" the time of the
k fits. The last rows repeat the final recipe with other fold seeds: the recipe was chosen looking at seed 0.
Fresh folds of the same photos do not make the choice honest (the photos are the ones it was chosen on):
``bench/nested_cv.py`` re-makes these choices inside each fold and scores photos the choice never saw.
Timings are wall-clock on whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if not os.environ.get("TLL_OFFLINE_BUNDLE") and (ROOT.parent / "shared").is_dir():
    os.environ["TLL_OFFLINE_BUNDLE"] = str(ROOT.parent / "shared")

from core.photos.datasets import load_dataset  # noqa: E402
from core.training import crossval, presets  # noqa: E402
from core.training.settings import TrainConfig  # noqa: E402
from core.utils import stats  # noqa: E402

TOP = ("out_relu",)
FINAL = presets.BEST
ONE = (0,)  # alpha 1.0 only
BOTH = (0, 1)

# (change, members kept, layers pooled, views): each step adds to the one above; all are column/view slices
# of the final preset's features, so the bases read each photo once for the whole table.
STEPS = [
    ("linear head on the final features (alpha 1.0, plain)", ONE, TOP, ("plain",)),
    ("+ mid-level layers (blocks 13, 14, 15 + top)", ONE, FINAL.layers, ("plain",)),
    ("+ mirrored view (train and test-time)", ONE, FINAL.layers, ("plain", "flip")),
    ("+ MobileNetV2 alpha 0.35 beside alpha 1.0 (weight 0.5)", BOTH, FINAL.layers, ("plain", "flip")),
    ("+ middle-80% crop view = the preset", BOTH, FINAL.layers, FINAL.views),
]


def sliced(views, widths, members, layers, view_names):
    """``(preset, views, widths)`` for a step: the columns of ``members`` x ``layers`` and the named views."""
    columns, start = [], 0
    for m, per_layer in enumerate(widths):
        for name, width in zip(FINAL.layers, per_layer):
            if m in members and name in layers:
                columns.append(np.arange(start, start + width))
            start += width
    columns = np.concatenate(columns)
    preset = replace(FINAL, members=tuple(FINAL.members[m] for m in members), layers=tuple(layers),
                     views=tuple(view_names))
    step_widths = [[w for name, w in zip(FINAL.layers, widths[m]) if name in layers] for m in members]
    return preset, [views[FINAL.views.index(v)][:, columns] for v in view_names], step_widths


def cv_rows(preset, views, labels, folds, n_classes, widths, seed, train_views=None):
    """Accuracy of each fold: fit on ``train_views`` (default: the preset's views), test on the preset's views."""
    train_views = train_views or views
    accuracies = []
    for fold in range(int(folds.max()) + 1):
        train, test = folds != fold, folds == fold
        head = presets.fit_head(preset, [v[train] for v in train_views], labels[train], n_classes, widths, seed,
                                calibrate=False)  # the temperature never changes which class wins
        accuracies.append(float((head.probabilities([v[test] for v in views]).argmax(1) == labels[test]).mean()))
    return accuracies


def row(change, accuracies, features_s, fit_s, n):
    mean, sd = stats.mean_sd(accuracies)
    return {"change": change, "folds": [round(a, 4) for a in accuracies], "mean": round(mean, 4), "sd": round(sd, 4),
            "features_seconds": round(features_s, 1), "fit_seconds": round(fit_s, 1), "photos": n}


def lesson_head_row(cfg, k, dataset):
    """The lesson's phase 1 (Dense 128 + dropout, 5 epochs, Adam 1e-3) on the final features."""
    start = time.perf_counter()
    result = crossval.head_crossval(cfg, k, dataset=dataset)
    return row("lesson's phase 1: Dense(128) head, 5 epochs (final features; fit time includes reading the photos)",
               result.accuracies, 0.0, time.perf_counter() - start, result.n)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="tf_flowers")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fold-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--extras", action=argparse.BooleanOptionalAction, default=True,
                        help="also: an augmented training view, the ridge strength, the lesson's phase-1 head")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args(argv)

    dataset = load_dataset(args.data, args.fold_seeds[0])
    items = crossval.all_photos(dataset)
    paths = [i.path for i in items]
    n_classes = len(dataset.class_names)
    rows = []
    final = FINAL
    start = time.perf_counter()
    views, kept, cache = presets.features(final, paths)  # every view the steps need, once
    seconds = time.perf_counter() - start
    print(f"features of {len(kept)} photos: {seconds:.0f} s ({cache})", file=sys.stderr)
    labels = np.array([items[i].label for i in kept])
    widths = presets.layer_widths(final)
    groups = presets._near_duplicate_groups(final, views[0], widths, [paths[i] for i in kept])
    folds = crossval.fold_ids(labels, args.folds, args.fold_seeds[0], groups)
    if args.extras:
        rows.append(lesson_head_row(TrainConfig(data=args.data, seed=args.fold_seeds[0]), args.folds, dataset))
        print(_line(rows[-1]), file=sys.stderr)
    for change, members, layers, view_names in STEPS:
        preset, step_views, step_widths = sliced(views, widths, members, layers, view_names)
        start = time.perf_counter()
        accuracies = cv_rows(preset, step_views, labels, folds, n_classes, step_widths, args.fold_seeds[0])
        rows.append(row(change, accuracies, seconds if preset.views == final.views else 0.0,
                        time.perf_counter() - start, len(labels)))
        print(_line(rows[-1]), file=sys.stderr)
    if args.extras:
        for ridge in (0.3, 3.0):
            start = time.perf_counter()
            accuracies = cv_rows(replace(final, ridge=ridge), views, labels, folds, n_classes, widths, args.fold_seeds[0])
            rows.append(row(f"  (ridge strength {ridge:g} instead of 1)", accuracies, 0.0, time.perf_counter() - start,
                            len(labels)))
            print(_line(rows[-1]), file=sys.stderr)
        start = time.perf_counter()
        aug_views, aug_kept, _ = presets.features(replace(final, views=("aug0",)), paths)
        aug_seconds = time.perf_counter() - start
        assert aug_kept == kept
        start = time.perf_counter()
        accuracies = cv_rows(final, views, labels, folds, n_classes, widths, args.fold_seeds[0],
                             train_views=views + aug_views)
        rows.append(row("  (+ one augmented view of the lesson's rotate/flip/zoom/shear, training only)", accuracies,
                        aug_seconds, time.perf_counter() - start, len(labels)))
        print(_line(rows[-1]), file=sys.stderr)
    for seed in args.fold_seeds[1:]:
        other = crossval.fold_ids(labels, args.folds, seed, groups)
        start = time.perf_counter()
        accuracies = cv_rows(final, views, labels, other, n_classes, widths, seed)
        rows.append(row(f"the preset again, fold seed {seed}", accuracies, 0.0, time.perf_counter() - start,
                        len(labels)))
        print(_line(rows[-1]), file=sys.stderr)
    print(markdown(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


def _line(r: dict) -> str:
    return f"{r['change']}: {r['mean']:.1%} ± {r['sd'] * 100:.1f}  ({r['features_seconds']:.0f} s + {r['fit_seconds']:.0f} s)"


def markdown(rows: list[dict]) -> str:
    lines = ["| change | 5-fold CV mean ± sd | folds | features (s) | fit (s) |", "|---|---|---|---|---|"]
    for r in rows:
        folds = ", ".join(f"{a * 100:.1f}" for a in r["folds"])
        lines.append(f"| {r['change']} | **{r['mean'] * 100:.1f}% ± {r['sd'] * 100:.1f}** | {folds} | "
                     f"{r['features_seconds']:.0f} | {r['fit_seconds']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
