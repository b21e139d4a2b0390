"""Kiran's 92%, the other road: does fine-tuning the base do better than the frozen preset? 5-fold CV.

    python bench/ablation_fine_tune.py                 # the flowers in ../shared (or TLL_OFFLINE_BUNDLE)
    python bench/ablation_fine_tune.py --rows lesson smoothing --json out.json

Each row trains the whole recipe (phase 1 on the frozen base, then phase 2 with the top layers unfrozen) once per
fold, on the same 5 folds as ``bench/ablation.py`` (fold seed 0, near-duplicates kept in one fold), so its mean
sits beside that table's. The rows change one thing each from the lesson's recipe (top 30 layers, Adam 1e-5,
10 epochs after 5 head epochs, 224 px): label smoothing, a cosine schedule from a higher rate, deeper unfreezing
with discriminative learning rates, training on train+val with the lesson's epochs; and the frozen preset at a
larger input size. Times are wall-clock on whatever else the machine is doing; the base's features at the
freeze boundary are cached per photo, so the first row of each depth also pays for reading the photos.
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

from ablation import cv_rows, markdown, row  # noqa: E402 - the same table, the same row format

from core.photos.datasets import load_dataset  # noqa: E402
from core.training import crossval, presets  # noqa: E402
from core.training.settings import TrainConfig  # noqa: E402

LESSON = TrainConfig(seed=0)  # 5 + 10 epochs, top 30, Adam 1e-3 then 1e-5, 224 px; seed 0 = ablation.py's folds
# name: (change, recipe, validation fraction)
RECIPES = {
    "lesson": ("lesson's whole recipe: phase 1, then top 30 layers at Adam 1e-5 for 10 epochs", LESSON, None),
    "smoothing": ("  + label smoothing 0.1 (both phases)", replace(LESSON, label_smoothing=0.1), None),
    "cosine": ("  phase 2 from Adam 1e-4 falling along a cosine to 0 (instead of a constant 1e-5)",
               replace(LESSON, lr2=1e-4, lr_schedule="cosine"), None),
    "deeper": ("  top 60 layers, discriminative rates: layers 1e-5, head 1e-4",
               replace(LESSON, unfreeze=60, head_lr_factor=10.0), None),
    "trainval": ("  trained on train + validation with the lesson's epochs (no photos held back to choose)",
                 LESSON, 0.0),
}
LARGER = 288  # px: the 224 px ImageNet weights on larger photos (the convolutions do not care about the size)


def fine_tune_row(name: str, dataset, data: str, k: int, groups) -> dict:
    change, cfg, val_fraction = RECIPES[name]
    cfg = replace(cfg, data=data)
    start = time.perf_counter()
    extra = {} if val_fraction is None else {"val_fraction": val_fraction}
    result = crossval.recipe_crossval(cfg, k, dataset=dataset, near_duplicate_groups=groups, **extra)
    return row(change, result.accuracies, 0.0, time.perf_counter() - start, result.n)


def larger_preset_row(paths, labels_of, k: int, seed: int, groups) -> dict:
    preset = replace(presets.BEST, image_size=LARGER)
    start = time.perf_counter()
    views, kept, _ = presets.features(preset, paths)
    seconds = time.perf_counter() - start
    labels = np.array([labels_of[i] for i in kept])
    folds = crossval.fold_ids(labels, k, seed, groups[kept])
    start = time.perf_counter()
    accuracies = cv_rows(preset, views, labels, folds, int(labels.max()) + 1, presets.layer_widths(preset), seed)
    return row(f"the frozen preset at {LARGER} px instead of 224", accuracies, seconds, time.perf_counter() - start,
               len(labels))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="tf_flowers")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rows", nargs="+", default=[*RECIPES, "larger"], choices=[*RECIPES, "larger"])
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args(argv)

    seed = LESSON.seed
    dataset = load_dataset(args.data, seed)
    items = crossval.all_photos(dataset)
    paths = [item.path for item in items]
    # ablation.py's groups (and so its folds): near-duplicates by the preset's final features
    views, kept, _ = presets.features(presets.BEST, paths)
    if len(kept) != len(items):
        raise SystemExit("some photos did not decode; the folds would not match ablation.py's")
    groups = presets._near_duplicate_groups(presets.BEST, views[0], presets.layer_widths(presets.BEST), paths)
    rows = []
    for name in args.rows:
        if name == "larger":
            rows.append(larger_preset_row(paths, [item.label for item in items], args.folds, seed, groups))
        else:
            rows.append(fine_tune_row(name, dataset, args.data, args.folds, groups))
        r = rows[-1]
        print(f"{r['change']}: {r['mean']:.1%} ± {r['sd'] * 100:.1f} ({r['features_seconds'] + r['fit_seconds']:.0f} s)",
              file=sys.stderr, flush=True)
    print(markdown(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
