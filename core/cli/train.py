"""``python -m core.train``: run one experiment headless; one line per epoch on stderr, JSON on stdout."""

from __future__ import annotations

import argparse
import json
import socket
import sys
from dataclasses import replace
from pathlib import Path

from core.classroom.runner.ray_settings import ray_address
from core.cli import folds as folds_cli
from core.export import save_trained_model
from core.lesson.codegen import emit_notebook, emit_script
from core.models import BASES, IMAGE_SIZES, WeightsUnavailable
from core.photos import DatasetError
from core.training import AugmentConfig, Callbacks, EpochRecord, TrainConfig, train

DESCRIPTION = "Two-phase transfer learning, fast enough for a live dashboard on a laptop CPU."


def parse_args(argv=None) -> tuple[TrainConfig, argparse.Namespace]:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(prog="python -m core.train", description=DESCRIPTION)
    parser.add_argument("--data", default=defaults.data, help="tf_flowers, a folder of photos, or a .zip")
    parser.add_argument("--base", default=defaults.base, choices=sorted(BASES))
    parser.add_argument("--epochs1", type=int, default=defaults.epochs1, help="phase 1 (head only) epochs")
    parser.add_argument("--epochs2", type=int, default=defaults.epochs2, help="phase 2 (fine-tuning) epochs")
    parser.add_argument("--unfreeze", type=int, default=defaults.unfreeze, help="top base layers to unfreeze; 0 = no phase 2")
    parser.add_argument("--lr1", type=float, default=defaults.lr1)
    parser.add_argument("--lr2", type=float, default=defaults.lr2)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--image-size", type=int, default=defaults.image_size, choices=IMAGE_SIZES)
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=defaults.augment)
    for op in ("rotation", "flip", "zoom", "shear"):
        parser.add_argument(f"--aug-{op}", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--aug-views", type=int, default=defaults.aug_views)
    parser.add_argument("--preprocessing", choices=("model", "lesson"), default=defaults.preprocessing)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--head-units", type=int, default=defaults.head_units)
    parser.add_argument("--dropout", type=float, default=defaults.dropout)
    parser.add_argument("--random-weights", action="store_true", help="do not use pretrained weights")
    parser.add_argument("--no-cache", action="store_true", help="the lesson's uncached pipeline")
    parser.add_argument("--save", help="save the trained model to this .keras file")
    parser.add_argument("--aug-shear-amount", choices=("visible", "lesson"), default="visible",
                        help="visible: up to 10%% of the image; lesson: ImageDataGenerator's shear_range=0.1 (0.1°)")
    parser.add_argument("--emit-code", metavar="FILE.py",
                        help="write the runnable Keras 3 script of these settings (core.lesson.codegen) and exit: no training")
    parser.add_argument("--emit-notebook", metavar="FILE.ipynb",
                        help="the same code as a Jupyter notebook, one cell per lesson step, and exit: no training")
    parser.add_argument("--preset", default="", choices=("", "best"),
                        help="best: 'best for small data' (core.training.presets) instead of the lesson's two phases")
    parser.add_argument("--folds", type=int, default=0, help="k-fold cross-validation instead of one training")
    parser.add_argument("--folds-head-only", action="store_true", help="with --folds: phase 1 only, on cached features")
    parser.add_argument("--all-photos", action="store_true", help="with --preset: train on every photo (no test split)")
    parser.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing,
                        help="beyond the lesson: the right class's target is 1 - this")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default=defaults.lr_schedule,
                        help="beyond the lesson: cosine = each phase's rate falls to 0")
    parser.add_argument("--head-lr-factor", type=float, default=defaults.head_lr_factor,
                        help="beyond the lesson: in phase 2 the head learns this many times faster")
    args = parser.parse_args(argv)
    cfg = replace(
        defaults, data=args.data, base=args.base, epochs1=args.epochs1, epochs2=args.epochs2,
        unfreeze=args.unfreeze, lr1=args.lr1, lr2=args.lr2, batch_size=args.batch_size,
        image_size=args.image_size, augment=args.augment,
        augment_ops=AugmentConfig(args.aug_rotation, args.aug_flip, args.aug_zoom, args.aug_shear,
                                  args.aug_shear_amount),
        aug_views=args.aug_views, preprocessing=args.preprocessing, seed=args.seed,
        head_units=args.head_units, dropout=args.dropout, pretrained=not args.random_weights,
        use_cache=not args.no_cache, preset=args.preset, label_smoothing=args.label_smoothing,
        lr_schedule=args.lr_schedule, head_lr_factor=args.head_lr_factor,
    )
    return cfg, args


def print_epoch(r: EpochRecord) -> None:
    print(f"[{r.phase:9}] epoch {r.epoch:3d}  loss {r.loss:.4f}  acc {r.accuracy:.4f}  "
          f"val_loss {r.val_loss:.4f}  val_acc {r.val_accuracy:.4f}  ({r.seconds:.1f}s)", file=sys.stderr)


def write_code(cfg: TrainConfig, script: str | None, notebook: str | None) -> int:
    """The code of these settings as a script and/or a notebook; nothing is trained."""
    try:
        for target, make in ((script, lambda: emit_script(cfg).encode("utf-8")), (notebook, lambda: emit_notebook(cfg))):
            if target:
                Path(target).write_bytes(make())
                print(f"wrote {target}", file=sys.stderr)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv=None) -> int:
    cfg, args = parse_args(argv)
    if args.emit_code or args.emit_notebook:
        return write_code(cfg, args.emit_code, args.emit_notebook)
    if ray_address():  # README "A school with several computers": the training runs on the Ray cluster
        from core.classroom.runner.ray_backend import train_on_cluster  # Ray is imported only when a cluster is set

        return train_on_cluster(cfg, args.save, print_epoch)
    if args.folds or args.all_photos:  # cross-validation, or a preset trained on every photo
        return folds_cli.main(cfg, args)
    try:
        result = train(cfg, Callbacks(on_epoch=print_epoch))
    except (DatasetError, WeightsUnavailable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    summary = {**result.summary(), "backend": "local", "node": socket.gethostname()}
    if args.save:
        save_trained_model(result, args.save)
        summary["saved_to"] = args.save
    print(json.dumps(summary, indent=1, default=str))
    return 0
