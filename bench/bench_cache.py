"""The lesson's uncached pipeline vs ours (cold cache, then warm), in one process, same data and settings.

    TLL_OFFLINE_BUNDLE=../shared python bench/bench_cache.py            # the lesson's defaults at 224 px
    python bench/bench_cache.py --image-size 96 --epochs2 2              # a quicker look

Prints wall times, their ratios, both test accuracies and peak memory (RSS sampled every 20 ms).
Timings are measured, never asserted: machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TLL_CACHE_DIR", tempfile.mkdtemp(prefix="tll-bench-cache-"))  # a truly cold start

import psutil  # noqa: E402

from core.training import TrainConfig, train  # noqa: E402
from core.training import feature_cache as features  # noqa: E402
from core.training.results import PHASE1  # noqa: E402


class PeakMemory:
    """Highest resident memory of this process while the block runs."""

    def __init__(self):
        self.process = psutil.Process()
        self.peak = 0
        self._running = False

    def __enter__(self):
        self.peak = self.process.memory_info().rss
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()


def timed_run(label: str, cfg: TrainConfig) -> dict:
    with PeakMemory() as memory:
        start = time.perf_counter()
        result = train(cfg)
        wall = time.perf_counter() - start
    phase1_epochs = [r.seconds for r in result.history if r.phase == PHASE1]
    row = {
        "run": label,
        "wall_s": round(wall, 2),
        "phase1_epoch_s": round(sum(phase1_epochs[1:]) / max(1, len(phase1_epochs) - 1), 4)
        if len(phase1_epochs) > 1 else None,
        "test_acc_phase1": result.timings["phase_test_accuracy"].get("phase1"),
        "test_acc_final": result.test["accuracy"],
        "peak_rss_mb": round(memory.peak / 2**20),
        "timings": {k: round(v, 2) for k, v in result.timings.items() if isinstance(v, float)},
        "cache": {k: v for k, v in result.cache.items() if k in ("pooled", "cut", "augmented")},
    }
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="tf_flowers")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--epochs1", type=int, default=5)
    parser.add_argument("--epochs2", type=int, default=10)
    parser.add_argument("--unfreeze", type=int, default=30)
    parser.add_argument("--skip-lesson", action="store_true", help="only our pipeline (no ratios)")
    parser.add_argument("--memory", action="store_true",
                        help="also run each pipeline alone in a fresh process for a clean peak-memory figure")
    parser.add_argument("--only", choices=("lesson", "ours"), help=argparse.SUPPRESS)
    parser.add_argument("--augment", action="store_true",
                        help="also measure augmentation's cost: cached views (cold, warm) vs no augmentation")
    args = parser.parse_args()
    cfg = TrainConfig(data=args.data, image_size=args.image_size, epochs1=args.epochs1, epochs2=args.epochs2,
                      unfreeze=args.unfreeze)
    if args.only:  # a child of --memory: one pipeline, then report this process's peak
        # sampled, not getrusage: Linux carries ru_maxrss over from the parent through fork and exec
        with PeakMemory() as memory:
            train(replace(cfg, use_cache=args.only == "ours"))
        print(json.dumps({"peak_rss_mb": round(memory.peak / 2**20)}))
        return
    print(f"settings: {cfg}", flush=True)
    # the first run in a process pays for TensorFlow's start-up; give it to nobody
    train(replace(cfg, data=cfg.data, epochs1=1, epochs2=0, use_cache=False, image_size=96))
    features.clear_memory()
    lesson = None if args.skip_lesson else timed_run("lesson (uncached)", replace(cfg, use_cache=False))
    cold = timed_run("ours, cold cache", cfg)
    warm = timed_run("ours, warm cache", cfg)
    warm_k0 = timed_run("ours, warm, phase 1 only (K=0)", replace(cfg, epochs2=0, unfreeze=0))
    augmented = None
    if args.augment:
        aug_cfg = replace(cfg, augment=True)
        augmented = [timed_run(f"ours, augmented ({cfg.aug_views} cached views), {state}", aug_cfg)
                     for state in ("cold", "warm")]
    print()
    if augmented:
        print(f"augmentation: cold {augmented[0]['wall_s']:.1f} s vs {cold['wall_s']:.1f} s without "
              f"({augmented[0]['wall_s'] / cold['wall_s']:.2f}x), warm {augmented[1]['wall_s']:.1f} s vs "
              f"{warm['wall_s']:.1f} s ({augmented[1]['wall_s'] / warm['wall_s']:.2f}x); test accuracy "
              f"{augmented[1]['test_acc_final']:.4f} vs {warm['test_acc_final']:.4f}")
    print(f"ours cold {cold['wall_s']:.1f} s, warm {warm['wall_s']:.1f} s, warm phase-1-only {warm_k0['wall_s']:.2f} s")
    if lesson:
        print(f"lesson's pipeline {lesson['wall_s']:.1f} s")
        print(f"whole recipe speed-up: cold {lesson['wall_s'] / cold['wall_s']:.2f}x, "
              f"warm {lesson['wall_s'] / warm['wall_s']:.2f}x")
        if lesson["phase1_epoch_s"] and warm["phase1_epoch_s"]:
            print(f"phase-1 epoch: lesson {lesson['phase1_epoch_s']:.3f} s, ours {warm['phase1_epoch_s']:.4f} s, "
                  f"{lesson['phase1_epoch_s'] / warm['phase1_epoch_s']:.0f}x faster")
        print(f"test accuracy: lesson {lesson['test_acc_final']:.4f}, ours {warm['test_acc_final']:.4f} "
              f"(phase 1: {lesson['test_acc_phase1']:.4f} vs {warm['test_acc_phase1']:.4f})")
        print(f"peak RSS in this process (cumulative): after lesson {lesson['peak_rss_mb']} MB, after ours cold "
              f"{cold['peak_rss_mb']} MB, warm {warm['peak_rss_mb']} MB")
    if args.memory:
        peaks = {}
        for pipeline in ("lesson", "ours"):
            child = subprocess.run(
                [sys.executable, __file__, "--only", pipeline, "--data", args.data, "--image-size",
                 str(args.image_size), "--epochs1", str(args.epochs1), "--epochs2", str(args.epochs2),
                 "--unfreeze", str(args.unfreeze)],
                capture_output=True, text=True, check=True,
                env={**os.environ, "TLL_CACHE_DIR": tempfile.mkdtemp(prefix="tll-bench-mem-")},
            )
            peaks[pipeline] = json.loads(child.stdout.strip().splitlines()[-1])["peak_rss_mb"]
        print(f"peak RSS, each pipeline alone in a fresh process (cold cache for ours): lesson {peaks['lesson']} MB, "
              f"ours {peaks['ours']} MB ({peaks['ours'] / peaks['lesson']:.2f}x)")


if __name__ == "__main__":
    main()
