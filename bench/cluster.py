"""What a training costs on a Ray cluster against the local worker pool, and what a cluster buys a class of 30.

    python bench/cluster.py                      # 3 repetitions of a tiny training each way, then the table
    python bench/cluster.py --reps 5 --per-class 40
    python bench/cluster.py --lesson-seconds 60 90    # the class model with your own measured run times

Part 1, measured on this computer: the same tiny training (96 px, 1 + 1 epochs, K = 3) through the local
worker pool (``core.classroom.runner.backend.LocalProcessBackend``: a fresh ``python -m core.classroom.runner.worker`` per
training) and through ``core.classroom.runner.ray_backend.RayBackend`` on a private 2-CPU Ray head (each training asks
for both CPUs, as a local training has the whole machine): once with a fresh Ray worker per training (the
default) and once reusing warm workers (``TLL_RAY_REUSE_WORKERS=1``). Repetitions are interleaved so load
from other programs falls on both alike. Overhead = wall time from ``start`` until the model is in the job's
folder, minus the engine's own ``timings.total``: in a fresh process it is mostly loading TensorFlow, which
both pay; what Ray itself adds is the difference of the two wall times.

Part 2, on paper: 30 students press Train at once. A training runs on one core at a time (two at once on
the 2-core server; four at once on a 4-core lab PC); its duration comes from a phase-2 lesson run (224 px,
5 + 10 epochs, K = 30) measured alone on 2 cores (README: 53 s warm cache, 81 s cold), doubled for one core
(TensorFlow using both cores perfectly: pessimistic, and the same factor for every row, so rows compare
fairly), plus the measured per-training overhead of its backend, plus the photos' trip over the school
network for Ray. The first round computes the frozen-base cache (cold), later rounds find it (warm) when
everyone trains on tf_flowers; students' own photos are always cold. Prints one JSON object last.
Timings are measured, never asserted; on a loaded machine they say so.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TLL_CACHE_DIR", tempfile.mkdtemp(prefix="tll-bench-cache-"))
os.environ.update(TLL_RAY_CPUS_PER_TRAINING="2", TLL_RAY_MEMORY_MB="1024", TLL_RAY_LOCAL_CPUS="2")

from core.classroom.runner.backend import LocalProcessBackend  # noqa: E402
from core.training import TrainConfig  # noqa: E402
from core.utils import paths as config  # noqa: E402

README_LESSON_RUN_S = {"warm": 53.0, "cold": 81.0}  # README "Benchmark": alone on the 2-core machine, 224 px
NETWORK_MB_PER_S = 110.0  # a 1 Gbit/s school network, all of it through the server's one link
TF_FLOWERS_MB = 63.0


def photo_subset(target: Path, per_class: int) -> Path:
    flowers = config.bundle_flowers_dir()
    if flowers is None:
        sys.exit("No tf_flowers photos: set TLL_OFFLINE_BUNDLE (or TLL_FLOWERS_DIR).")
    for class_dir in sorted(p for p in flowers.iterdir() if p.is_dir()):
        (target / class_dir.name).mkdir(parents=True, exist_ok=True)
        for photo in sorted(class_dir.glob("*.jpg"))[:per_class]:
            shutil.copy(photo, target / class_dir.name / photo.name)
    return target


def run_one(backend, job: dict) -> dict:
    """Start ``job``, follow its events until it ends; wall time until the model is in its folder."""
    t0 = time.perf_counter()
    handle = backend.start(job)
    summary, error, started_s, pid = None, None, None, None
    while True:
        code = handle.exit_status()
        events = handle.events()
        for event in events:
            if event["type"] == "started" and started_s is None:
                started_s, pid = time.perf_counter() - t0, event.get("pid")
            elif event["type"] == "result":
                summary = event["summary"]
            elif event["type"] == "error":
                error = event["message"]
        if code is not None and not events:
            break
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    getattr(handle, "close", lambda: None)()
    if summary is None:
        raise SystemExit(f"the training failed: {error}")
    engine = summary["timings"]["total"]
    return {"wall_s": wall, "engine_s": engine, "overhead_s": wall - engine, "started_after_s": started_s,
            "node": getattr(handle, "node", ""), "pid": pid}


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def class_wait(students: int, slots: int, cold_s: float, warm_s: float, overhead_s: float,
               ship_first_mb: float = 0.0, ship_later_mb: float = 0.0) -> dict:
    """Finish times when ``students`` press Train at once and ``slots`` trainings run at a time; each round
    first sends its trainings' photos (``ship_*_mb`` each) through the server's network link."""
    finishes, clock = [], 0.0
    for first in range(0, students, slots):
        batch = min(slots, students - first)
        ship_mb = ship_first_mb if first == 0 else ship_later_mb
        duration = (cold_s if first == 0 else warm_s) + overhead_s + batch * ship_mb / NETWORK_MB_PER_S
        clock += duration
        finishes += [clock] * batch
    return {"slots": slots, "rounds": math.ceil(students / slots), "last_done_min": finishes[-1] / 60,
            "mean_done_min": statistics.mean(finishes) / 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--per-class", type=int, default=20, help="photos per flower class (5 classes)")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--own-photos-mb", type=float, default=60.0, help="a student's own photo set, for the model")
    parser.add_argument("--lesson-seconds", type=float, nargs=2, metavar=("WARM", "COLD"),
                        help="a phase-2 lesson run alone on 2 cores (default: the README's 53 and 81 s)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tll-bench-cluster-"))
    photos = photo_subset(work / "photos", args.per_class)
    photo_mb = sum(p.stat().st_size for p in photos.rglob("*") if p.is_file()) / 1e6
    cfg = TrainConfig(data=str(photos), image_size=96, epochs1=1, epochs2=1, unfreeze=3)
    load = os.getloadavg()

    import ray

    from core.classroom.runner.ray_backend import RayBackend  # Ray only here: the local pool is measured without it

    local_pool = LocalProcessBackend(work / "logs")
    warm_up = run_one(local_pool, {"job_id": "warm-up", "recipes": ["transfer"], "config": asdict(cfg),
                                   "data": str(photos), "output_dir": str(work / "out" / "warm-up")})
    print(f"warm-up (fills the feature cache all runs share): wall {warm_up['wall_s']:.1f} s", file=sys.stderr)
    runs: dict[str, list[dict]] = {"local pool": [], "ray": [], "ray, warm workers": []}
    head_start_s = []
    for mode, reuse in (("ray", "0"), ("ray, warm workers", "1")):  # each in its own Ray: idle workers of one
        os.environ["TLL_RAY_REUSE_WORKERS"] = reuse                  # mode would crowd out the other's
        t0 = time.perf_counter()
        backends = {"local pool": local_pool, mode: RayBackend("local")}
        head_start_s.append(time.perf_counter() - t0)
        for rep in range(args.reps):
            for name, backend in backends.items():
                job = {"job_id": f"{name.replace(' ', '-').replace(',', '')}-{mode[-4:]}-{rep}",
                       "recipes": ["transfer"], "config": asdict(cfg), "data": str(photos),
                       "output_dir": str(work / "out" / name / f"{mode}-{rep}")}
                runs[name].append(run_one(backend, job))
                r = runs[name][-1]
                print(f"{mode:18} rep {rep + 1}  {name:18} wall {r['wall_s']:6.1f} s  engine {r['engine_s']:6.1f} s  "
                      f"overhead {r['overhead_s']:5.1f} s  started after {r['started_after_s'] or 0:4.1f} s  "
                      f"pid {r['pid']}", file=sys.stderr)
        ray.shutdown()
    ray_start_s = statistics.median(head_start_s)

    measured = {name: {"wall_s_median": median(rs, "wall_s"), "engine_s_median": median(rs, "engine_s"),
                       "overhead_s_median": median(rs, "overhead_s"),
                       "started_after_s_median": median(rs, "started_after_s"),
                       "worker_processes": len({r["pid"] for r in rs}), "runs": rs} for name, rs in runs.items()}
    local, ray_fresh = measured["local pool"], measured["ray"]
    ratio = ray_fresh["wall_s_median"] / local["wall_s_median"]
    ray_extra_s = ray_fresh["wall_s_median"] - local["wall_s_median"]  # what Ray adds to a training

    lesson = dict(zip(("warm", "cold"), args.lesson_seconds)) if args.lesson_seconds else README_LESSON_RUN_S
    one_core = {k: 2 * v for k, v in lesson.items()}
    scenarios = {"1 server, 2 cores (local pool)": (2, local["overhead_s_median"], False),
                 "5 lab PCs x 4 cores (Ray)": (20, ray_fresh["overhead_s_median"], True),
                 "10 lab PCs x 4 cores (Ray)": (40, ray_fresh["overhead_s_median"], True)}
    table = {}
    for name, (slots, overhead, ships) in scenarios.items():
        table[name] = {  # tf_flowers reaches each PC once (its 4 trainings share it); own photos each time
            "tf_flowers": class_wait(args.students, slots, one_core["cold"], one_core["warm"], overhead,
                                     TF_FLOWERS_MB / 4 if ships else 0.0),
            "own_photos": class_wait(args.students, slots, one_core["cold"], one_core["cold"], overhead,
                                     *(2 * [args.own_photos_mb] if ships else [])),
        }

    print(f"\nPer-training cost, {args.reps} reps, {sum(1 for _ in photos.rglob('*.jpg'))} photos ({photo_mb:.1f} MB), "
          f"96 px, 1 + 1 epochs (load average at start {load[0]:.1f} on {os.cpu_count()} cores):")
    for name, m in measured.items():
        print(f"  {name:18} wall {m['wall_s_median']:6.1f} s   engine {m['engine_s_median']:6.1f} s   "
              f"overhead {m['overhead_s_median']:5.1f} s   started after {m['started_after_s_median']:4.1f} s   "
              f"{len(m['runs'])} runs in {m['worker_processes']} worker processes")
    print(f"  Ray / local wall time: {ratio:.2f}x, {ray_extra_s:+.1f} s per training (fresh worker each); "
          f"starting the private Ray head: {ray_start_s:.1f} s (once per server)")
    source = "--lesson-seconds" if args.lesson_seconds else "README's earlier measurement"
    print(f"\n{args.students} students press Train at once; a phase-2 lesson run alone on 2 cores takes "
          f"{lesson['warm']:.0f} s warm / {lesson['cold']:.0f} s cold ({source}), x2 on one core:")
    print(f"  {'':32} {'tf_flowers: last / mean done':>30} {'own photos: last / mean done':>30}")
    for name, row in table.items():
        flowers, own = row["tf_flowers"], row["own_photos"]
        print(f"  {name:32} {flowers['last_done_min']:13.1f} / {flowers['mean_done_min']:4.1f} min "
              f"{own['last_done_min']:17.1f} / {own['mean_done_min']:4.1f} min")
    print(json.dumps({"reps": args.reps, "photos_mb": photo_mb, "load_average_at_start": load[0],
                      "ray_head_start_s": ray_start_s, "ray_over_local_wall": ratio, "ray_minus_local_wall_s": ray_extra_s,
                      "measured": measured, "lesson_run_s": lesson, "lesson_run_source": source,
                      "class_wait": table}, indent=1))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
