"""Server memory over many small trainings in one process, each dropped when done (a session that ended).

    python bench/memory_runs.py                       # 20 tiny trainings on the tree here
    python bench/memory_runs.py --root /tmp/old-tree  # the same on another checkout (e.g. `git archive`)
    python bench/memory_runs.py --json

A classroom server trains one model after another in the same process. After each training the result is
dropped and garbage is collected; what is left is measured (VmRSS, after glibc's ``malloc_trim`` returns
freed heap pages, and before it). Leaks show as growth after the first
run: the first run pays for TensorFlow, the base model and the feature cache once. Also printed: each
run's wall time (a leak slows later runs too), the Keras models and variables still alive, and, where the
engine keeps one shared frozen base per process, how many graph nodes it and its layers carry (more
per run = each student model stays wired to it).

The data and settings are the same every run (the feature cache is warm after the first), so the growth
is what each training leaves behind, not new cache entries. Linux only (/proc/self/status).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def shared_base_nodes() -> int | None:
    """Graph nodes of the engine's shared bases and of every layer inside them, if it keeps any: a node
    more per run means each student model stays wired to (and kept alive by) the shared base."""
    try:
        from core.models import bases as models
    except ImportError:
        return None
    bases = getattr(models, "_shared_bases", None)
    if not bases:
        return None
    total = 0
    for base, _ in bases.values():
        for layer in [base, *base.layers]:
            total += len(layer._inbound_nodes) + len(layer._outbound_nodes)
    return total


def malloc_trim() -> bool:
    """Give freed heap memory back to the system (glibc), so RSS shows what is still in use rather than
    what the allocator keeps for later. False where there is no glibc."""
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0) or True)
    except (OSError, AttributeError):
        return False


def tf_functions() -> int | None:
    """Graph functions registered in TensorFlow's eager context (traced training steps that stay
    registered after their model is gone would grow this)."""
    try:
        from tensorflow.python.eager import context

        return len(context.context().list_function_names())
    except (ImportError, AttributeError):
        return None


def live_objects() -> dict[str, int]:
    """Keras models and variables still alive after garbage collection (they should not pile up)."""
    import keras

    counts = {"models": 0, "variables": 0, "tf_functions": tf_functions()}
    for thing in gc.get_objects():
        if isinstance(thing, keras.Model):
            counts["models"] += 1
        elif isinstance(thing, keras.Variable):
            counts["variables"] += 1
    return counts


def tiny_photos(flowers: Path, target: Path, classes=("daisy", "roses", "tulips"), per_class=15) -> Path:
    for name in classes:
        folder = target / name
        folder.mkdir(parents=True, exist_ok=True)
        for photo in sorted((flowers / name).glob("*.jpg"))[:per_class]:
            shutil.copy(photo, folder / photo.name)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--root", default=str(HERE), help="the project tree whose core/ is measured")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--unfreeze", type=int, default=19)
    parser.add_argument("--budget-mb", type=float, default=100.0,
                        help="allowed growth after the first run (the issue's 'fixed budget')")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    shared = Path(args.root).resolve().parent / "shared"
    if shared.is_dir():
        os.environ.setdefault("TLL_OFFLINE_BUNDLE", str(shared))
    os.environ.setdefault("TLL_NO_DOWNLOADS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    work = Path(tempfile.mkdtemp(prefix="tll-memory-runs-"))
    os.environ["TLL_CACHE_DIR"] = str(work / "cache")  # a cold cache of our own: runs 2.. are warm
    sys.path.insert(0, str(Path(args.root).resolve()))

    from core.training import TrainConfig, train
    from core.utils import paths as config

    flowers = config.bundle_flowers_dir()
    if flowers is None:
        raise SystemExit("needs the flower photos: set TLL_OFFLINE_BUNDLE")
    data = tiny_photos(flowers, work / "photos")
    cfg = TrainConfig(data=str(data), epochs1=1, epochs2=1, unfreeze=args.unfreeze, image_size=args.image_size,
                      batch_size=8, seed=3)
    start_rss = rss()
    rows = []
    try:
        for run in range(1, args.runs + 1):
            began = time.perf_counter()
            result = train(cfg)
            seconds = time.perf_counter() - began
            accuracy = result.test["accuracy"]
            del result  # the session ended: nothing holds its model any more
            gc.collect()
            untrimmed = rss() / MB
            trimmed = malloc_trim()
            row = {"run": run, "rss_mb": rss() / MB if trimmed else untrimmed, "rss_untrimmed_mb": untrimmed,
                   "seconds": seconds, "test_accuracy": accuracy, "shared_base_nodes": shared_base_nodes(),
                   **live_objects()}
            rows.append(row)
            nodes = "" if row["shared_base_nodes"] is None else f"   shared-base nodes {row['shared_base_nodes']}"
            print(f"run {run:2}: {row['rss_mb']:7,.0f} MB (before malloc_trim {untrimmed:,.0f})   {seconds:5.1f} s   "
                  f"live models {row['models']}, variables {row['variables']}, "
                  f"tf functions {row['tf_functions']}{nodes}", flush=True,
                  file=sys.stderr if args.json else sys.stdout)  # progress; the JSON comes last
    finally:
        shutil.rmtree(work, ignore_errors=True)

    first, last = rows[0]["rss_mb"], rows[-1]["rss_mb"]
    steps = [b["rss_mb"] - a["rss_mb"] for a, b in zip(rows, rows[1:])]
    summary = {
        "root": str(Path(args.root).resolve()), "runs": args.runs, "image_size": args.image_size,
        "unfreeze": args.unfreeze, "rss_before_mb": start_rss / MB, "rss_after_first_mb": first,
        "rss_after_last_mb": last, "growth_after_first_mb": last - first,
        "median_growth_per_run_mb": statistics.median(steps) if steps else 0.0,
        "seconds_first_warm": rows[1]["seconds"] if len(rows) > 1 else None, "seconds_last": rows[-1]["seconds"],
        "budget_mb": args.budget_mb, "within_budget": last - first <= args.budget_mb, "rows": rows,
    }
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"\nafter run 1: {first:,.0f} MB; after run {args.runs}: {last:,.0f} MB; growth {last - first:+,.0f} MB "
              f"(median {summary['median_growth_per_run_mb']:+.1f} MB a run; budget {args.budget_mb:.0f} MB: "
              f"{'within' if summary['within_budget'] else 'OVER'}). Run 2: {summary['seconds_first_warm']:.1f} s, "
              f"run {args.runs}: {rows[-1]['seconds']:.1f} s. {os.cpu_count()} CPUs, other work may be running.")


if __name__ == "__main__":
    main()
