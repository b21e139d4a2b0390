"""The server's memory with a class's models: bounded by the model cache, flat once it is full.

    python bench/classroom_memory.py [--students 30] [--rounds 3]

Trains one tiny model in a worker process (the server process itself never trains), gives a copy of it to each
of ``--students`` students (each a distinct file, so each a distinct entry), then, as the Predict page would,
asks for every student's model in turn, ``--rounds`` times, classifying one photo each time. The server keeps at
most ``TLL_MODELS_IN_MEMORY`` (default 6) models loaded; the others are read from disk again when asked for.
Prints the server process's RSS after each student's model and one JSON object last.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.classroom.runner import service  # noqa: E402
from core.classroom.runner.results import MODELS  # noqa: E402
from core.training import TrainConfig  # noqa: E402


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("TLL_OFFLINE_BUNDLE", str((ROOT.parent / "shared").resolve()))
    bundle = Path(os.environ["TLL_OFFLINE_BUNDLE"]).resolve()
    os.environ.setdefault("TLL_NO_DOWNLOADS", "1")
    work = Path(tempfile.mkdtemp(prefix="tll-classroom-memory-"))
    service.reset_for_tests(work / "data")
    flowers = work / "photos"
    for name in ("daisy", "roses", "tulips"):
        (flowers / name).mkdir(parents=True)
        for photo in sorted((bundle / "flowers" / name).glob("*.jpg"))[:12]:
            shutil.copy(photo, flowers / name / photo.name)
    start_rss = rss_mb()
    student, _, _ = service.store().join("trainer")
    cfg = TrainConfig(data=str(flowers), image_size=96, epochs1=1, epochs2=0, batch_size=8)
    job = service.start_training(student.id, student.nickname, "train", cfg, ("transfer",))
    if not job.wait(900) or job.state.status != "done":
        print(json.dumps({"error": job.state.error}))
        return 1
    after_training_rss = rss_mb()  # the worker trained: this process did not load TensorFlow for it
    model_file = Path(job.state.result["transfer"].model_path)
    results = []
    for i in range(args.students):
        other, _, _ = service.store().join(f"student {i:02d}")
        copy = service.store().student_folder(other.id) / "runs" / "copy" / "transfer.keras"
        copy.parent.mkdir(parents=True)
        shutil.copy(model_file, copy)
        run_id = service.store().add_run(other.id, "", "transfer", job.state.result["transfer"].summary(), [],
                                         str(copy))
        results.append(service.saved_runs(other.id)[-1][1])
        assert results[-1].run_id == run_id
    photo = np.zeros((1, 96, 96, 3), "float32")
    curve = []
    started = time.perf_counter()
    for round_number in range(args.rounds):
        for result in results:
            result.model.predict_on_batch(photo)
            curve.append(round(rss_mb()))
        gc.collect()
        print(f"round {round_number + 1}: RSS {curve[-1]} MB, models loaded {MODELS.loads}, in memory {len(MODELS)}",
              file=sys.stderr)
    seconds = time.perf_counter() - started
    full = MODELS.capacity
    summary = {
        "students": args.students, "rounds": args.rounds, "models_in_memory_cap": full,
        "rss_start_mb": round(start_rss), "rss_after_worker_training_mb": round(after_training_rss),
        "rss_when_cache_first_full_mb": curve[full - 1],
        "rss_after_round_1_mb": curve[args.students - 1], "rss_end_mb": curve[-1],
        "rss_max_mb": max(curve), "model_loads": MODELS.loads, "seconds_per_request": round(seconds / len(curve), 3),
        "rss_per_request_mb": curve,
    }
    service.reset_for_tests()
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
