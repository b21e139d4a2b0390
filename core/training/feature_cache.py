"""Do the frozen work once: the freeze-boundary feature cache.

``cached_features`` is the one entry point. It returns, for every split, what crosses the freeze
boundary (``core.models.freeze_boundary``): from the cache when it can, else computed now by running the
frozen front over the photos once (plus fixed augmented views of the training photos when augmenting),
then stored. It changes nothing it is given: photos that failed to decode, cache hits, notes and the
time spent all come back in a ``FeatureSet``. Storage (memory + checked disk) is ``core.training.feature_store``.

Cache keys are content keys: the bytes of every photo and its split, the base, a hash of its weight
file, the image size, the preprocessing and the cut (and the augmentation, views and seed).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from core.models.freeze_boundary import BaseSplit, run_front
from core.photos.datasets import SPLITS, Dataset, SkippedFile, decode_split
from core.training import feature_store
from core.training.augment import augment_images
from core.training.loop import ProgressTracker, StopRequested
from core.training.results import EXTRACT
from core.training.settings import AugmentConfig

FEATURE_CACHE_VERSION = "1"
MAX_CACHE_BYTES = 2_500_000_000  # a cut this low in the network is trained on photos instead
BATCH = 32
WAITING_MESSAGE = "Waiting for another training that is reading the same photos through the frozen base"
TOO_BIG_NOTE = "The activations at this unfreeze depth are too big to keep on disk; they were not cached."


@dataclass(frozen=True)
class FeatureRequest:
    """What the cached arrays depend on, besides the photos and the cut."""

    base: str
    weights_identity: str  # a hash of the weight file (``WeightsInfo.identity``)
    image_size: int
    preprocessing: str  # the resolved mode ("tf", "caffe", "none", "lesson")
    augment_ops: AugmentConfig | None = None  # None: no augmented views
    aug_views: int = 4
    seed: int = 42


@dataclass
class FeatureSet:
    """Arrays named ``<split>_<j>`` (front output ``j``), ``<split>_labels`` and ``aug<v>_<j>``."""

    pooled: dict[str, np.ndarray]  # the pooled base output: ``<split>_0``
    cut: dict[str, np.ndarray] | None  # every front output; None when nothing is unfrozen
    augmented: dict[str, np.ndarray] | None  # ``aug<v>_<j>`` for the training photos; None without augmentation
    states: dict[str, str]  # part -> "warm" (from the cache) or "cold" (computed now)
    cut_layers: list[str]
    bytes_per_image: int
    dropped: list[SkippedFile] = field(default_factory=list)  # photos that could not be decoded
    notes: list[str] = field(default_factory=list)
    seconds: float | None = None  # spent computing; None when everything came from the cache

    def labels(self, split: str) -> np.ndarray:
        return self.pooled[f"{split}_labels"]


def cache_key(parts: dict) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _keys(dataset: Dataset, split: BaseSplit, request: FeatureRequest) -> dict[str, str]:
    model_part = {
        "v": FEATURE_CACHE_VERSION, "base": request.base, "weights": request.weights_identity,
        "size": request.image_size, "preprocessing": request.preprocessing, "dataset": dataset.fingerprint(),
    }
    keys = {"pooled": cache_key({**model_part, "cut": ["pooled"]})}
    if split.top is not None:
        keys["cut"] = cache_key({**model_part, "cut": list(split.cut_names)})
    if request.augment_ops is not None:
        keys["augmented"] = cache_key({**model_part, "cut": list(split.cut_names), "aug": asdict(request.augment_ops),
                                       "views": request.aug_views, "seed": request.seed})
    return keys


def cached_features(dataset: Dataset, split: BaseSplit, preprocess, request: FeatureRequest,
                    tracker: ProgressTracker) -> FeatureSet:
    """Every split's freeze-boundary arrays, from the cache or computed now.

    ``preprocess`` turns uint8 photos into what the base expects. Progress goes to ``tracker`` (stage
    ``EXTRACT``); a Stop while the front reads photos raises ``StopRequested``.
    """
    keys = _keys(dataset, split, request)
    notes: list[str] = []
    arrays = _load(keys, notes)
    missing = [keys[name] for name, a in arrays.items() if a is None]
    if not missing:
        return _assemble(dataset, split, preprocess, request, tracker, keys, arrays, notes)
    waited: list[bool] = []

    def tell_waiting() -> None:
        waited.append(True)
        tracker.say(EXTRACT, WAITING_MESSAGE)

    with feature_store.computing(missing, tracker.stop_requested, tell_waiting) as held:
        if not held:
            raise StopRequested
        if waited:  # the other training has stored them by now (or failed: then this one computes them)
            arrays = _load(keys, notes)
        return _assemble(dataset, split, preprocess, request, tracker, keys, arrays, notes)


def _load(keys: dict[str, str], notes: list[str]) -> dict[str, dict | None]:
    arrays: dict[str, dict | None] = {}
    for name, key in keys.items():
        arrays[name], found = feature_store.load_with_notes(key)
        notes += found
    return arrays


def _assemble(dataset: Dataset, split: BaseSplit, preprocess, request: FeatureRequest, tracker: ProgressTracker,
              keys: dict[str, str], arrays: dict[str, dict | None], notes: list[str]) -> FeatureSet:
    """What the cache held, and the missing parts computed now (and stored)."""
    states = {name: ("warm" if a is not None else "cold") for name, a in arrays.items()}
    working = dataset.copy()
    dropped: list[SkippedFile] = []
    if arrays["pooled"] is not None:  # photos that failed to decode last time are left out again
        pooled = arrays["pooled"]
        dropped = [SkippedFile(str(p), str(r)) for p, r in zip(pooled["dropped_paths"], pooled["dropped_reasons"])]
        working.drop(dropped)
    base_missing = arrays["pooled"] is None or (split.top is not None and arrays["cut"] is None)
    views = request.aug_views if "augmented" in keys and arrays["augmented"] is None else 0
    seconds = None
    if base_missing or views:
        start = time.perf_counter()
        computed, new_drops = _compute(working, split, preprocess, request, tracker, base_missing, views)
        dropped += new_drops
        n_images = sum(len(working.splits[s]) for s in SPLITS)
        n_train = len(working.splits["train"])
        too_big = split.bytes_per_image() * (n_images + views * n_train) > MAX_CACHE_BYTES
        about = {"base": request.base, "size": request.image_size, "preprocessing": request.preprocessing,
                 "source": dataset.source}
        for name, part in computed.items():
            if arrays[name] is not None:
                continue
            if too_big and name != "pooled":
                notes.append(TOO_BIG_NOTE)
            else:
                notes += feature_store.store(keys[name], part, {**about, "part": name})
            arrays[name] = part
        seconds = time.perf_counter() - start
    return FeatureSet(
        pooled=arrays["pooled"], cut=arrays.get("cut"), augmented=arrays.get("augmented"), states=states,
        cut_layers=list(split.cut_names), bytes_per_image=split.bytes_per_image(), dropped=dropped, notes=notes,
        seconds=seconds,
    )


def _compute(dataset: Dataset, split: BaseSplit, preprocess, request: FeatureRequest, tracker: ProgressTracker,
             base_missing: bool, views: int) -> tuple[dict[str, dict], list[SkippedFile]]:
    """Run the front over the photos: ``({part: arrays}, photos that failed to decode)``.

    ``dataset`` is a private copy: decoding drops the photos that fail from it.
    """
    to_read = SPLITS if base_missing else ("train",)  # augmented views alone need only the train photos
    n_train = len(dataset.splits["train"])
    tracker.plan(EXTRACT, 1 + sum(-(-len(dataset.splits[s]) // BATCH) for s in to_read if base_missing)
                 + views * -(-n_train // BATCH))
    fresh: dict[str, np.ndarray] = {}
    dropped_before = len(dataset.skipped)

    def extract(images: np.ndarray, message: str) -> list[np.ndarray]:
        result = run_front(split.front, preprocess, images, BATCH, lambda s, n: tracker.step(EXTRACT, message),
                           tracker.stop_requested)
        if result is None:
            raise StopRequested
        return result

    tracker.step(EXTRACT, "Reading photos")
    for split_name in to_read:
        images, labels = decode_split(dataset, split_name, request.image_size)
        if base_missing:
            for j, array in enumerate(extract(images, f"Frozen base on {split_name} photos")):
                fresh[f"{split_name}_{j}"] = array
            fresh[f"{split_name}_labels"] = labels
        for v in range(views if split_name == "train" else 0):
            augmented = augment_images(images, request.augment_ops, request.seed * 1000 + v)
            for j, array in enumerate(extract(augmented, f"Augmented view {v + 1}/{views}")):
                fresh[f"aug{v}_{j}"] = array
    new_drops = dataset.skipped[dropped_before:]
    drops = {"dropped_paths": np.array([s.path for s in new_drops], dtype=str),
             "dropped_reasons": np.array([s.reason for s in new_drops], dtype=str)}
    computed: dict[str, dict] = {}
    if base_missing:
        computed["pooled"] = {**drops, **{f"{s}_0": fresh[f"{s}_{split.pooled_index}"] for s in SPLITS},
                              **{f"{s}_labels": fresh[f"{s}_labels"] for s in SPLITS}}
        if split.top is not None:
            computed["cut"] = {**drops, **{name: a for name, a in fresh.items() if not name.startswith("aug")}}
    if views:
        computed["augmented"] = {name: a for name, a in fresh.items() if name.startswith("aug")}
    return computed, list(new_drops)


def clear_memory() -> None:
    """Forget the arrays kept in memory (the disk cache stays)."""
    feature_store.clear_memory()
