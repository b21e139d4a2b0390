"""The "best for small data" preset's honest accuracy: nested cross-validation of the choices that made it.

    python bench/nested_cv.py                          # the flowers in ../shared (or TLL_OFFLINE_BUNDLE)
    python bench/nested_cv.py --seeds 0 1 2 --moonshot --json bench/results/nested_cv.json

``bench/ablation.py`` chose the preset's layers, views, second width and ridge strength by 5-fold CV on the
same photos its 92.5-93.1% come from. Here every outer fold's photos are set aside first, the same choices
are compared by an inner 5-fold CV on the rest, the winner trains on the rest and is scored once on the
outer fold (``core.training.nested_cv``). Printed JSON: per outer fold seed, the outer mean ± sd, what won
each fold, and the same preset scored by plain CV on the same outer folds (the optimistic figure).

``--moonshot`` also scores cheap ideas for >= 92% on photos the choice never saw, each by nested CV with the
ridge strength chosen inside: larger inputs with the 224 px weights, both sizes' views together, more views,
the two widths weighted equally. Feature times are wall-clock on a shared, busy machine: noisy.
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
from core.training.nested_cv import nested_crossval  # noqa: E402
from core.training.preset_choices import (  # noqa: E402
    ABLATION_CHOICES,
    BOTH,
    MID,
    PRESET_VIEWS,
    Choice,
    PhotoFeatures,
    choice_scorer,
)
from core.utils import stats  # noqa: E402

RIDGES = (1.0, 3.0, 10.0)  # the ablation tried 0.3, 1 and 3; 3 won there, so 10 is the next step up


def _at(size: int, views) -> tuple[str, ...]:
    return tuple(views) if size == 224 else tuple(f"{v}@{size}" for v in views)


def moonshot_ideas(sizes: list[int]) -> dict[str, list[Choice]]:
    """Each idea with the ridge strength left to the inner CV (so each idea's figure is itself nested)."""
    def ridged(name, **kwargs):
        return [Choice(f"{name}, ridge {r:g}", BOTH, MID, ridge=r, **kwargs) for r in RIDGES]

    ideas = {"the preset (224 px, 3 views)": ridged("224", views=PRESET_VIEWS)}
    for size in sizes:
        if size != 224:
            ideas[f"{size} px input, 224 px weights, 3 views"] = ridged(f"{size}", views=_at(size, PRESET_VIEWS))
    for size in sizes:
        if size != 224:  # each view's pooled features at both sizes, averaged: the cost of 3 views, not 6
            ideas[f"224 and {size} px features averaged, 3 views"] = ridged(
                f"224~{size}", views=tuple(f"{v}~{size}" for v in PRESET_VIEWS))
    ideas["4 views at 224 (+ mirrored crop)"] = ridged("4 views", views=PRESET_VIEWS + ("cropflip",))
    ideas["both widths weighted equally (224, 3 views)"] = ridged("equal widths", views=PRESET_VIEWS,
                                                                   thin_weight=1.0)
    return ideas


def averaged_sizes(views: dict, sizes: list[int]) -> None:
    """Add ``<view>~<size>``: the mean of a view's pooled features at 224 px and at ``size``."""
    for size in sizes:
        for view in PRESET_VIEWS:
            if size != 224 and f"{view}@{size}" in views:
                views[f"{view}~{size}"] = (views[view] + views[f"{view}@{size}"]) / 2


def load_features(data: str, sizes: list[int], moonshot: bool):
    """Every view any candidate needs, read once (cached per photo), and the seconds each size took."""
    dataset = load_dataset(data, 0)
    items = crossval.all_photos(dataset)
    paths = [item.path for item in items]
    base = presets.BEST
    wanted = {224: PRESET_VIEWS + ("aug0",) + (("cropflip",) if moonshot else ())}
    for size in sizes if moonshot else []:
        wanted.setdefault(size, PRESET_VIEWS)
    views, kept, seconds, cache = {}, None, {}, {}
    for size, names in wanted.items():
        start = time.perf_counter()
        arrays, size_kept, size_cache = presets.features(replace(base, image_size=size, views=names), paths)
        seconds[size] = round(time.perf_counter() - start, 1)
        cache[size] = size_cache
        if kept is None:
            kept = size_kept
        assert size_kept == kept, "a photo decoded at one size and not another"
        views.update(zip(_at(size, names), arrays))
        print(f"features at {size} px ({', '.join(names)}): {seconds[size]:.0f} s {size_cache}", file=sys.stderr)
    averaged_sizes(views, sizes if moonshot else [])
    labels = np.array([items[i].label for i in kept])
    widths = presets.layer_widths(base)
    groups = presets._near_duplicate_groups(base, views["plain"], widths, [paths[i] for i in kept])
    features = PhotoFeatures(base, views, widths, labels, len(dataset.class_names))
    return features, groups, {"seconds": seconds, "cache": cache, "photos": len(kept)}


def nested_row(features, groups, choices, seed: int, folds: int) -> dict:
    fit_score = choice_scorer(features, tuple(choices), seed)
    start = time.perf_counter()
    result = nested_crossval(features.labels, [c.name for c in choices], fit_score, folds, folds, seed, groups)
    return {"seed": seed, "mean": round(result.mean, 4), "sd": round(result.sd, 4),
            "folds": [round(a, 4) for a in result.outer_accuracies], "chosen": result.chosen,
            "winners_inner_mean": round(result.best_inner_mean, 4), "seconds": round(time.perf_counter() - start, 1),
            "outer_folds": result.outer_folds}


def plain_cv(features, groups, choice: Choice, outer_folds: np.ndarray, seed: int) -> dict:
    """The fixed choice scored by ordinary CV on the outer folds (what the ablation reported)."""
    fit_score = choice_scorer(features, (choice,), seed)
    accuracies = [fit_score(choice.name, np.flatnonzero(outer_folds != f), np.flatnonzero(outer_folds == f))
                  for f in range(int(outer_folds.max()) + 1)]
    mean, sd = stats.mean_sd(accuracies)
    return {"mean": round(mean, 4), "sd": round(sd, 4), "folds": [round(a, 4) for a in accuracies]}


def summary(rows: list[dict]) -> dict:
    """Over the fold seeds: the mean of the means, and the range of the per-seed fold SDs."""
    means = [r["mean"] for r in rows]
    sds = [r["sd"] for r in rows]
    return {"mean_of_seeds": round(float(np.mean(means)), 4), "seed_means": means,
            "fold_sd_range": [min(sds), max(sds)]}


def paired(rows: list[dict], earlier: dict) -> dict:
    """Against the first idea on the same outer folds: the fold-by-fold difference, its mean, its standard error
    and whether it is outside the noise (more than two standard errors from 0)."""
    if not earlier:
        return {}
    first = next(iter(earlier.values()))["rows"]
    differences = [a - b for mine, theirs in zip(rows, first) for a, b in zip(mine["folds"], theirs["folds"])]
    mean, sd = stats.mean_sd(differences)
    error = sd / np.sqrt(len(differences)) if len(differences) > 1 else 0.0
    return {"vs_first": {"mean_difference": round(mean, 4), "standard_error": round(float(error), 4),
                         "outside_noise": bool(error and abs(mean) > 2 * error)}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="tf_flowers")
    parser.add_argument("--folds", type=int, default=5, help="outer and inner folds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="outer fold seeds")
    parser.add_argument("--moonshot", action="store_true", help="also score the moonshot ideas")
    parser.add_argument("--only-moonshot", action="store_true", help="skip the preset's own nested CV")
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 288])
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args(argv)

    features, groups, read = load_features(args.data, args.sizes, args.moonshot)
    preset = next(c for c in ABLATION_CHOICES if "= the preset" in c.name)
    out = {"photos": read["photos"], "folds": args.folds, "feature_seconds": read["seconds"],
           "feature_cache": read["cache"], "ablation_choices": [c.name for c in ABLATION_CHOICES],
           "nested": [], "preset_plain_cv": []}
    for seed in [] if args.only_moonshot else args.seeds:
        row = nested_row(features, groups, ABLATION_CHOICES, seed, args.folds)
        out["preset_plain_cv"].append({"seed": seed, **plain_cv(features, groups, preset, row.pop("outer_folds"), seed)})
        out["nested"].append(row)
        print(f"seed {seed}: nested {row['mean']:.1%} ± {row['sd'] * 100:.1f} (winners' inner "
              f"{row['winners_inner_mean']:.1%}); the preset by plain CV {out['preset_plain_cv'][-1]['mean']:.1%}; "
              f"{row['seconds']:.0f} s", file=sys.stderr)
    if out["nested"]:
        out["nested_summary"] = summary(out["nested"])
        out["preset_plain_cv_summary"] = summary(out["preset_plain_cv"])
    if args.moonshot:
        out["moonshot"] = {}
        for idea, choices in moonshot_ideas(args.sizes).items():
            rows = [nested_row(features, groups, choices, seed, args.folds) for seed in args.seeds]
            for r in rows:
                r.pop("outer_folds")
            out["moonshot"][idea] = {"rows": rows, **summary(rows), **paired(rows, out["moonshot"])}
            print(f"{idea}: {out['moonshot'][idea]['mean_of_seeds']:.1%} (seeds {out['moonshot'][idea]['seed_means']})",
                  file=sys.stderr)
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
