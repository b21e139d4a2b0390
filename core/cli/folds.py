"""``python -m core.train --folds K``: k-fold cross-validation of the lesson's recipe (or its phase 1 alone,
or a preset), with one progress line per fold on stderr; the JSON summary has ``folds`` (one accuracy per
fold), ``folds_mean`` and ``folds_sd``."""

from __future__ import annotations

import json
import sys

from core.inference.model_file import save_trained_model
from core.models.bases import WeightsUnavailable
from core.photos.datasets import DatasetError
from core.training import crossval, presets
from core.training.results import Callbacks, Progress
from core.training.settings import TrainConfig


def _print_progress() -> Callbacks:
    last = {"message": ""}

    def on_progress(p: Progress) -> None:
        if p.message.startswith("Fold") and p.message.split(":")[0] != last["message"].split(":")[0]:
            print(f"[folds] {p.message} ({p.fraction:.0%})", file=sys.stderr)
        last["message"] = p.message

    return Callbacks(on_progress=on_progress)


def run(cfg: TrainConfig, k: int, head_only: bool = False) -> dict:
    if cfg.preset:
        result = presets.crossval(presets.get(cfg.preset), cfg, k, _print_progress())
    else:
        result = crossval.crossval(cfg, k, head_only, _print_progress())
    return {"config": cfg.to_dict(), **result.summary()}


def main(cfg: TrainConfig, args) -> int:
    """``--folds K`` (cross-validation) or ``--preset NAME --all-photos`` (a model from every photo)."""
    try:
        if args.folds:
            summary = run(cfg, args.folds, args.folds_head_only)
        else:
            if not cfg.preset:
                raise ValueError("--all-photos needs --preset (the lesson's recipe needs its validation split)")
            result = presets.train(cfg, all_photos=True)
            summary = {**result.summary(), "trained_on": "every photo (no test split)"}
            if args.save:
                save_trained_model(result, args.save)
                summary["saved_to"] = args.save
    except (DatasetError, WeightsUnavailable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=1, default=str))
    return 0
