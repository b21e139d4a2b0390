"""How long a training will take, from what earlier trainings on this server measured.

A phase-2 epoch costs many times a phase-1 epoch, and the cost grows with the image size and the unfrozen depth,
so the fraction of batches done says little about the time left. Instead each finished run's epochs give a cost
per epoch and training photo for its (base, size, phase, unfrozen layers, augmentation), and its job the time
around the epochs (starting the worker, reading photos, evaluating, saving). A new training's time is the sum over
its epochs plus that overhead; a waiting one adds the trainings ahead of it, shared among the free slots.

A training whose frozen features are not on disk yet (an unfreeze depth nobody in the class has trained) first
reads every photo through the frozen base: that costs what such a reading cost before, per training photo.

With no earlier run of that kind, nothing is said ("estimating…") until the run itself has done 10% of its
batches; then its own pace is extrapolated.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

MIN_FRACTION = 0.10  # below this, a run's own pace says too little to extrapolate
PHASES = ("head", "fine-tune")  # core.training.results PHASE1, PHASE2


@dataclass(frozen=True)
class CostKey:
    base: str
    image_size: int
    phase: str
    unfreeze: int  # 0 for phase 1
    augment: bool


@dataclass
class Costs:
    """Median seconds of a steady epoch per training photo, by kind of epoch; the median extra seconds of a
    phase's first epoch (TensorFlow builds its graph then: 5-10 times a steady epoch, measured); the median
    seconds around the epochs."""

    per_epoch_photo: dict[CostKey, float]
    overhead_s: float | None
    first_epoch_extra_s: dict[CostKey, float] = field(default_factory=dict)
    # (base, image size) -> seconds per training photo to read all the photos through the frozen base
    extract_photo: dict[tuple[str, int], float] = field(default_factory=dict)
    features_on_disk: set[tuple] = field(default_factory=set)  # ``features_identity`` of the runs so far


def features_identity(config: dict) -> tuple | None:
    """Which cached features a training reads: the class's flowers under one seed, at one size and cut. None for a
    student's own photos (their features are theirs; small sets read quickly)."""
    if config.get("data") != "tf_flowers":
        return None
    phase2 = int(config.get("epochs2", 0)) > 0 and int(config.get("unfreeze", 0)) > 0
    return (config.get("base", ""), int(config.get("image_size", 224)), config.get("preprocessing", "model"),
            int(config.get("seed", 42)), int(config["unfreeze"]) if phase2 else 0)


def features_stored(config: dict) -> set[tuple]:
    """What a finished training left on disk: its cut, and the pooled vectors (every cut stores them too)."""
    identity = features_identity(config)
    return set() if identity is None else {identity, (*identity[:-1], 0)}


def epoch_keys(config: dict) -> dict[CostKey, int]:
    """``{kind of epoch: epochs}`` a training with these settings runs."""
    base, size = config.get("base", ""), int(config.get("image_size", 224))
    augment = bool(config.get("augment")) and any((config.get("augment_ops") or {"on": True}).values())
    keys = {}
    if int(config.get("epochs1", 0)) > 0:
        keys[CostKey(base, size, PHASES[0], 0, augment)] = int(config["epochs1"])
    if int(config.get("epochs2", 0)) > 0 and int(config.get("unfreeze", 0)) > 0:
        keys[CostKey(base, size, PHASES[1], int(config["unfreeze"]), augment)] = int(config["epochs2"])
    return keys


def training_photos(summary: dict) -> int:
    return sum((summary.get("counts") or {}).get("train", {}).values()) or 1


def costs_from_runs(runs: list[dict]) -> Costs:
    """``runs``: computed runs, each ``{"summary": ..., "job_seconds": started to finished or None}``."""
    samples: dict[CostKey, list[float]] = {}
    extras: dict[CostKey, list[float]] = {}
    extracts: dict[tuple[str, int], list[float]] = {}
    overheads = []
    on_disk: set[tuple] = set()
    for run in runs:
        summary = run["summary"]
        config, photos = summary.get("config") or {}, training_photos(summary)
        on_disk |= features_stored(config)
        if summary.get("stopped"):
            continue
        extract_s = float((summary.get("timings") or {}).get("extract_features") or 0.0)
        if extract_s and not config.get("augment"):  # augmented views are extra readings
            extracts.setdefault((config.get("base", ""), int(config.get("image_size", 224))), []).append(
                extract_s / photos)
        by_phase: dict[str, list[float]] = {}
        for record in summary.get("history", []):
            by_phase.setdefault(record["phase"], []).append(float(record["seconds"]))
        for key in epoch_keys(config):
            seconds = by_phase.get(key.phase)
            if not seconds:
                continue
            steady = statistics.median(seconds[1:] or seconds)
            samples.setdefault(key, []).append(steady / photos)
            if len(seconds) > 1:
                extras.setdefault(key, []).append(max(0.0, seconds[0] - steady))
        if run.get("job_seconds"):
            overheads.append(max(0.0, run["job_seconds"] - extract_s - sum(sum(s) for s in by_phase.values())))
    return Costs({k: statistics.median(v) for k, v in samples.items()},
                 statistics.median(overheads) if overheads else None,
                 {k: statistics.median(v) for k, v in extras.items()},
                 {k: statistics.median(v) for k, v in extracts.items()}, on_disk)


def with_fallback(measured: Costs, fallback: Costs, slower: float = 1.0) -> Costs:
    """The class's own measurements, and for what they lack ``fallback`` (the warm start's calibration, one
    training alone) times ``slower``: trainings running side by side share the cores."""
    per_epoch = {key: cost * slower for key, cost in fallback.per_epoch_photo.items()}
    per_epoch.update(measured.per_epoch_photo)
    extra = {key: seconds * slower for key, seconds in fallback.first_epoch_extra_s.items()}
    extra.update(measured.first_epoch_extra_s)
    overhead = measured.overhead_s if measured.overhead_s is not None else (
        None if fallback.overhead_s is None else fallback.overhead_s * slower)
    extract = {key: seconds * slower for key, seconds in fallback.extract_photo.items()}
    extract.update(measured.extract_photo)
    return Costs(per_epoch, overhead, extra, extract, measured.features_on_disk | fallback.features_on_disk)


def epoch_cost(key: CostKey, costs: Costs, table: str = "per_epoch_photo") -> float | None:
    """From ``table`` of ``costs`` (seconds per epoch and training photo, or a first epoch's extra seconds): as
    measured for this kind of epoch, else from the nearest unfrozen depth measured at this size, in proportion
    to the layers trained; None if nothing comparable ran."""
    measured = getattr(costs, table)
    if key in measured:
        return measured[key]
    if key.phase != PHASES[1]:
        return None
    similar = [(k.unfreeze, c) for k, c in measured.items()
               if (k.base, k.image_size, k.phase, k.augment) == (key.base, key.image_size, key.phase, key.augment)]
    if not similar:
        return None
    depth, cost = min(similar, key=lambda pair: abs(pair[0] - key.unfreeze))
    return cost * key.unfreeze / depth


def predicted_seconds(config: dict, n_train: int, costs: Costs, also_on_disk: set[tuple] = frozenset()) -> float | None:
    """A whole training's seconds, start of the worker to saved model; None if a kind of epoch was never seen.
    ``also_on_disk``: features the trainings before this one will have stored by the time it starts."""
    per_epoch = {key: (epochs, epoch_cost(key, costs)) for key, epochs in epoch_keys(config).items()}
    if not per_epoch or costs.overhead_s is None or any(cost is None for _, cost in per_epoch.values()):
        return None
    first_epochs = sum(epoch_cost(key, costs, "first_epoch_extra_s") or 0.0 for key in per_epoch)
    reading = 0.0
    identity = features_identity(config)
    if identity is not None and identity not in costs.features_on_disk | set(also_on_disk):
        per_photo = costs.extract_photo.get(identity[:2])
        if per_photo is None:
            return None  # never read photos at this size here: its own pace will tell
        reading = per_photo * n_train
    return (costs.overhead_s + reading + first_epochs
            + sum(epochs * cost * n_train for epochs, cost in per_epoch.values()))


def seconds_left(predicted_total: float | None, elapsed: float, fraction: float) -> float | None:
    """A running training's time left; None means "estimating…"."""
    own_pace = elapsed * (1 - fraction) / fraction if fraction >= MIN_FRACTION else None
    if predicted_total is None or elapsed >= predicted_total:  # no history, or slower than it said
        return own_pace
    return predicted_total - elapsed


def seconds_until_done(ahead_remaining: list[float | None], running_remaining: list[float | None],
                       own_total: float | None, slots: int) -> float | None:
    """A waiting training's time until its result: the running ones end, the ones ahead take the freed slots
    in order, then it runs. None if any of these is not known yet."""
    if own_total is None or any(t is None for t in [*ahead_remaining, *running_remaining]):
        return None
    free_at = sorted([*running_remaining, *[0.0] * max(0, slots - len(running_remaining))])[:max(1, slots)]
    for seconds in ahead_remaining:
        free_at[0] += seconds
        free_at.sort()
    return free_at[0] + own_total


def time_left_words(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s left"
    return f"about {seconds / 60:.0f} min left"
