"""The reference run: the lesson's three figures (scratch, phase 1, phase 2) measured once on the flowers here.

The lesson claims ≈60% / 80–85% / 90–95% (``core.lesson.claims``). Before a student has trained anything, the
app puts this server's own measurement beside those claims: a CNN from scratch, then MobileNetV2 with a new
head (phase 1) and fine-tuned (phase 2), on the flowers on this machine. It is computed once, on demand, in
the background, and cached as JSON under ``$TLL_CACHE_DIR/reference/``, keyed by the settings, the photos
(their bytes and split) and the weight file, so every student and every later server start reuses it.

Settings (``TRANSFER`` and ``SCRATCH``): the transfer run is the lesson's (224 px, 5 + 10 epochs, top 30
layers, Adam 1e-3 then 1e-5, batch 32, no augmentation) with MobileNetV2's own preprocessing. The scratch CNN
runs at 96 px for 15 epochs, not the story's 30 epochs at 224 px: on 2 CPU cores a 224 px epoch of it takes
about 2 minutes, which would make the reference take an hour.

Reading the cache is plain Python (the Quiz and Concept pages stay TensorFlow-free); computing it goes
through ``core.training``. ``python -m core.reference`` computes it (or prints the cached one).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace

from core.lesson.flowers_here import flowers_here
from core.models import base_spec
from core.photos import TF_FLOWERS, load_dataset
from core.training import Callbacks, Progress, TrainConfig, train, train_from_scratch
from core.utils import paths as config

REFERENCE_VERSION = 1
REFERENCE, SCALING = "reference", "scaling"  # the two measurements
SEED = 42
TRANSFER = TrainConfig(data=TF_FLOWERS, epochs1=5, epochs2=10, unfreeze=30, lr1=1e-3, lr2=1e-5, batch_size=32,
                       image_size=224, augment=False, preprocessing="model", seed=SEED)
SCRATCH = replace(TRANSFER, image_size=96, epochs1=15, epochs2=0, unfreeze=0)
# Share of the whole reference's time each part takes (measured on 2 cores): for the progress bar only.
TRANSFER_SHARE = 0.3


def settings_words() -> str:
    """The reference settings, as the pages show them."""
    return (
        f"MobileNetV2 at {TRANSFER.image_size} px: {TRANSFER.epochs1} epochs head only (Adam {TRANSFER.lr1:g}), "
        f"then {TRANSFER.epochs2} epochs with the top {TRANSFER.unfreeze} layers unfrozen (Adam {TRANSFER.lr2:g}), "
        f"batch {TRANSFER.batch_size}, no augmentation, MobileNetV2's own preprocessing (−1…1). "
        f"CNN from scratch: {SCRATCH.epochs1} epochs at {SCRATCH.image_size} px (the story's 30 epochs at 224 px "
        "would take about an hour on this server's CPU). Same photos and 70/15/15 split (seed "
        f"{SEED}) for both."
    )


def scaling_words() -> str:
    return (f"MobileNetV2 at {TRANSFER.image_size} px, phase 1 only ({TRANSFER.epochs1} epochs, Adam {TRANSFER.lr1:g}, "
            f"batch {TRANSFER.batch_size}), the flowers here, seed {SEED}: once with pixels scaled to −1…1, once "
            "divided by 255. Nothing else changes.")


@dataclass(frozen=True)
class Figure:
    test_accuracy: float
    n_test: int
    seconds: float


def _weights_identity() -> str:
    return config.weight_file_identity(base_spec(TRANSFER.base).weight_file)


def _configs(name: str) -> dict[str, TrainConfig]:
    """The runs behind a measurement (read at call time, so a test can shrink them)."""
    if name == REFERENCE:
        return {"transfer": TRANSFER, "scratch": SCRATCH}
    if name == SCALING:
        head_only = replace(TRANSFER, epochs2=0, unfreeze=0)
        return {"model": head_only, "lesson": replace(head_only, preprocessing="lesson")}
    raise ValueError(f"unknown measurement {name!r}")


def cache_key(fingerprint: str, name: str = REFERENCE) -> str:
    runs = {k: c.to_dict() for k, c in _configs(name).items()}
    if name != REFERENCE:  # (the reference's key predates the other measurements; it stays as it was)
        runs = {"measurement": name, "runs": runs}
    parts = {"v": REFERENCE_VERSION, **runs, "data": fingerprint, "weights": _weights_identity()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _cache_file(key: str):
    return config.cache_dir() / "reference" / f"{key}.json"


KEY_SECONDS = 60.0  # how long a fingerprint is trusted: listing and hashing 1,000 photos takes a moment
_key_memo: dict[str, tuple[float, str | None]] = {}


def _fingerprint() -> str | None:
    """The photos' content key, or ``None`` if there are no flowers here (never a download).

    Remembered for a minute, so a page that reruns on every slider move does not list the photos each time."""
    where = f"{config.cache_dir()}|{config.bundle_flowers_dir()}"
    kept = _key_memo.get(where)
    if kept and time.monotonic() - kept[0] < KEY_SECONDS:
        return kept[1]
    fingerprint = None
    if flowers_here():  # looking up the reference must never start a download
        fingerprint = load_dataset(TF_FLOWERS, SEED).fingerprint()  # lists and hashes (memoised): no TensorFlow
    _key_memo[where] = (time.monotonic(), fingerprint)
    return fingerprint


def current_key(name: str = REFERENCE) -> str | None:
    """The cache key of a measurement for the flowers on this machine now, or ``None`` if there are none."""
    fingerprint = _fingerprint()
    return cache_key(fingerprint, name) if fingerprint else None


def cached_measurement(name: str = REFERENCE) -> dict | None:
    """The measurement made earlier for these photos and settings, or ``None``."""
    try:
        key = current_key(name)
    except Exception:  # noqa: BLE001 - an unreadable photo folder means "no reference", never a broken page
        return None
    if key is None:
        return None
    try:
        return json.loads(_cache_file(key).read_text())
    except (OSError, ValueError):
        return None


def _store(key: str, result: dict) -> None:
    path = _cache_file(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    partial.write_text(json.dumps(result, indent=1))
    os.replace(partial, path)  # atomic: a reader never sees half a file


def _scaled(callbacks: Callbacks, start: float, share: float, label: str):
    """Progress of one part mapped onto the whole measurement's 0..1."""
    if callbacks.on_progress is None:
        return None

    def report(progress: Progress) -> None:
        callbacks.on_progress(Progress(progress.stage, start + share * progress.fraction, None,
                                       f"{label}: {progress.message}"))

    return report


def _finished(result) -> None:
    if result.stopped:
        raise RuntimeError("The measurement was stopped before it finished.")


def compute(callbacks: Callbacks | None = None) -> dict:
    """Train both references now (minutes), store the result, return it. Raises if stopped."""

    cb = callbacks or Callbacks()
    dataset = load_dataset(TF_FLOWERS, SEED)
    key = cache_key(dataset.fingerprint())
    started = time.perf_counter()
    transfer = train(TRANSFER, Callbacks(cb.on_epoch, _scaled(cb, 0.0, TRANSFER_SHARE, "Transfer learning"),
                                                cb.should_stop), dataset=dataset.copy())
    transfer_seconds = time.perf_counter() - started
    _finished(transfer)
    started = time.perf_counter()
    scratch = train_from_scratch(
        SCRATCH, Callbacks(cb.on_epoch, _scaled(cb, TRANSFER_SHARE, 1 - TRANSFER_SHARE, "CNN from scratch"),
                           cb.should_stop), dataset=dataset.copy())
    scratch_seconds = time.perf_counter() - started
    _finished(scratch)
    phases = transfer.timings.get("phase_test_accuracy", {})
    n_test = int(transfer.test["n"])
    result = {
        "version": REFERENCE_VERSION,
        "key": key,
        "computed_at": time.strftime("%Y-%m-%d %H:%M"),
        "cpu_count": os.cpu_count(),
        "settings": settings_words(),
        "transfer_config": TRANSFER.to_dict(),
        "scratch_config": SCRATCH.to_dict(),
        "dataset_source": transfer.dataset_source,
        "counts": {split: sum(per_class.values()) for split, per_class in transfer.counts.items()},
        "weights": transfer.weights,
        "figures": {
            "scratch": asdict(Figure(float(scratch.test["accuracy"]), int(scratch.test["n"]), scratch_seconds)),
            "phase1": asdict(Figure(float(phases["phase1"]), n_test, float(transfer.timings.get("phase1", 0.0)))),
            "phase2": asdict(Figure(float(phases.get("phase2", transfer.test["accuracy"])), n_test,
                                    transfer_seconds)),
        },
    }
    _store(key, result)
    return result


def compute_scaling(callbacks: Callbacks | None = None) -> dict:
    """Phase 1 twice on the same photos: pixels to −1…1 (MobileNetV2's own) and the lesson's / 255."""

    cb = callbacks or Callbacks()
    dataset = load_dataset(TF_FLOWERS, SEED)
    key = cache_key(dataset.fingerprint(), SCALING)
    figures = {}
    for i, (part, cfg) in enumerate(_configs(SCALING).items()):
        label = {"model": "Pixels to −1…1", "lesson": "Pixels / 255"}[part]
        started = time.perf_counter()
        run = train(cfg, Callbacks(cb.on_epoch, _scaled(cb, i / 2, 0.5, label), cb.should_stop),
                           dataset=dataset.copy())
        _finished(run)
        figures[part] = asdict(Figure(float(run.test["accuracy"]), int(run.test["n"]), time.perf_counter() - started))
    result = {"version": REFERENCE_VERSION, "key": key, "computed_at": time.strftime("%Y-%m-%d %H:%M"),
              "cpu_count": os.cpu_count(), "settings": scaling_words(), "figures": figures}
    _store(key, result)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.reference", description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="measure again even if a cached result exists")
    args = parser.parse_args(argv)
    config.quiet_tensorflow_logs()
    result = None if args.force else cached_measurement()
    if result is None:
        def print_progress(p: Progress) -> None:
            print(f"{p.fraction:6.1%} {p.message}", file=sys.stderr, flush=True)

        last = [0.0]

        def throttled(p: Progress) -> None:  # one line per 2% of the whole run
            if p.fraction - last[0] >= 0.02 or p.fraction >= 1:
                last[0] = p.fraction
                print_progress(p)

        result = compute(Callbacks(on_progress=throttled))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
