"""Before the class arrives: the frozen features every first training needs, ready on disk.

    python -m core.classroom.warm_start [--sizes 224]

``make classroom`` runs this before the server starts. For the class's flowers at each size it reads every photo
through the frozen base once, at the lesson's default cut (top 30 unfrozen), and stores what crosses the freeze
boundary and the pooled vectors phase 1 trains on (``core.training.feature_cache``). Every training with those
settings, and every phase-1-only one, then starts from the cache instead of the photos. Then it times one short
training (3 + 3 epochs) on this computer, so the Train page's time estimate has figures before the class's own
trainings replace them. A second start finds both on disk and says so. Progress goes to the terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from core.classroom.runner.job_times import CALIBRATION_FILE, machine, read_calibration
from core.classroom.store import data_dir
from core.models.bases import IMAGE_SIZES
from core.photos import TF_FLOWERS, load_dataset
from core.training import Callbacks, Progress, TrainConfig, train
from core.training.feature_cache import BATCH  # Keras at its top: this command is a training's first step anyway
from core.training.learner import vision_learner

DEFAULT_SIZES = (224,)
CALIBRATION_EPOCHS = 3


def _printer(size: int):
    """One terminal line, rewritten at most once a second: what the frozen base is reading and how many batches."""
    seen = {"batches": 0, "shown": 0.0}

    def show(progress: Progress) -> None:
        seen["batches"] += 1
        now = time.monotonic()
        if now - seen["shown"] >= 1.0:
            seen["shown"] = now
            print(f"\r  Flower features at {size} px: {progress.message}, {seen['batches']} batches of "
                  f"{BATCH} photos so far   ", end="", flush=True)

    return show


def prepare_features(size: int, on_progress=None, data: str = TF_FLOWERS) -> dict[str, str]:
    """The lesson's default cut at ``size`` for the shared flowers: ``{part: "warm" (found) or "cold" (made now)}``."""
    cfg = TrainConfig(image_size=size, data=data)
    learner = vision_learner(load_dataset(cfg.data, cfg.seed), cfg, Callbacks(on_progress=on_progress))
    return {part: state for part, state in learner.prepare().items() if state in ("warm", "cold")}


def calibrate(size: int, data: str = TF_FLOWERS, folder: Path | None = None, reading_s: float | None = None) -> bool:
    """One short training (3 + 3 epochs at the default cut, on the features just prepared) timed on this computer
    and kept in the data folder: the time estimate's figures until the class's own trainings replace them.
    ``reading_s``: what preparing those features took, counted as this training's own reading of the photos (the
    estimate's figure for a cut nobody has trained yet). False if this computer already has them for ``size``."""
    path = (folder or data_dir()) / CALIBRATION_FILE
    if any(run.get("size") == size for run in read_calibration(path.parent)):
        return False
    started = time.perf_counter()
    # Three epochs a phase: the median is a steady epoch (a phase's first one also builds TensorFlow's graph).
    result = train(TrainConfig(image_size=size, data=data, epochs1=CALIBRATION_EPOCHS, epochs2=CALIBRATION_EPOCHS))
    summary, job_seconds = result.summary(), time.perf_counter() - started
    if reading_s:
        summary["timings"] = {**summary.get("timings", {}), "extract_features": reading_s}
        job_seconds += reading_s
    run = {"machine": machine(), "size": size, "summary": summary, "job_seconds": job_seconds}
    others = []
    try:
        others = [r for r in json.loads(path.read_text()) if r.get("machine") != machine() or r.get("size") != size]
    except (OSError, ValueError):
        pass
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps([*others, run], default=str))
    os.replace(partial, path)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), choices=IMAGE_SIZES,
                        help="image sizes the class will train at (default: the lesson's 224)")
    args = parser.parse_args(argv)
    for size in args.sizes:
        started = time.perf_counter()
        try:
            states = prepare_features(size, _printer(size))
        except Exception as error:  # noqa: BLE001 - the class can still train; the first training makes them
            print(f"\n  Could not prepare the flower features at {size} px ({error}); the first training will.",
                  flush=True)
            continue
        found = all(state == "warm" for state in states.values())
        reading_s = None if found else time.perf_counter() - started
        what = "found on disk" if found else "made and stored"
        print(f"\r  Flower features at {size} px: {what} ({', '.join(sorted(states))}) in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        try:
            measured = calibrate(size, reading_s=reading_s)
        except Exception as error:  # noqa: BLE001 - the estimate then waits for the class's first trainings
            print(f"  Could not time a training at {size} px ({error}).", flush=True)
            continue
        print(f"  Training speed at {size} px: " + (f"measured in {time.perf_counter() - started:.0f} s (the time "
              "estimate starts from it)" if measured else "found on disk"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
