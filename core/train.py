"""Two-phase transfer learning, fast enough for a live dashboard on a laptop CPU.

Phase 1 trains the new head on a frozen base; phase 2 unfreezes the top ``k`` base layers and
fine-tunes them at a low learning rate, BatchNorm kept in inference mode. Both run on cached
freeze-boundary activations (see ``core.features``) unless ``use_cache=False``, which is the lesson's
own pipeline: every photo through the whole base on every epoch.

``python -m core.train --help`` runs an experiment headless.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from core import config, data, features
from core.evaluate import evaluate_probabilities, misclassified
from core.models import BASES, DEFAULT_BASE, IMAGE_SIZES, base_spec, preprocessing_mode

PHASE1, PHASE2, EXTRACT, SCRATCH = "head", "fine-tune", "features", "scratch"


@dataclass(frozen=True)
class AugmentConfig:
    """The lesson's augmentation (rotation 20°, horizontal flip, zoom 0.2, shear 0.1), each switchable."""

    rotation: bool = True
    flip: bool = True
    zoom: bool = True
    shear: bool = True

    def any(self) -> bool:
        return self.rotation or self.flip or self.zoom or self.shear


@dataclass(frozen=True)
class TrainConfig:
    data: str = data.TF_FLOWERS
    base: str = DEFAULT_BASE
    epochs1: int = 5
    epochs2: int = 10
    unfreeze: int = 30
    lr1: float = 1e-3
    lr2: float = 1e-5
    batch_size: int = 32
    image_size: int = 224
    augment: bool = False
    augment_ops: AugmentConfig = AugmentConfig()
    aug_views: int = 4  # augmented copies of each training photo cached (see README)
    preprocessing: str = "model"  # "model" = the base's preprocess_input; "lesson" = divide by 255
    seed: int = 42
    head_units: int = 128
    dropout: float = 0.3
    pretrained: bool = True
    use_cache: bool = True
    jit_compile: bool = False  # XLA measured slower here: 6x on the phase-2 top on a 2-core CPU (README)

    def validate(self) -> None:
        base_spec(self.base)
        if self.image_size not in IMAGE_SIZES:
            raise ValueError(f"image size must be one of {IMAGE_SIZES}")
        if self.epochs1 < 0 or self.epochs2 < 0 or self.epochs1 + self.epochs2 == 0:
            raise ValueError("train at least one epoch")
        if self.batch_size < 1 or self.unfreeze < 0 or self.aug_views < 1:
            raise ValueError("batch size and augmented views must be positive, unfreeze depth not negative")
        if not (0 < self.lr1 < 1 and 0 < self.lr2 < 1):
            raise ValueError("learning rates must be between 0 and 1")
        if not 0 <= self.dropout < 1:
            raise ValueError("dropout must be in [0, 1)")


@dataclass
class EpochRecord:
    phase: str
    epoch: int  # 1-based, counted across both phases
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass
class Progress:
    stage: str  # EXTRACT, PHASE1 or PHASE2
    fraction: float  # of the whole run, 0..1
    eta_seconds: float | None
    message: str


@dataclass
class TrainResult:
    model: object  # the full keras classifier: raw pixels in, class probabilities out
    class_names: list[str]
    config: TrainConfig
    history: list[EpochRecord]
    test: dict  # evaluate_probabilities() of the test split
    misclassified: list[dict]
    dataset_source: str
    counts: dict
    skipped: list[dict]
    timings: dict
    cache: dict
    stopped: bool
    weights: str
    notes: list[str] = field(default_factory=list)
    base_counts: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """JSON-friendly: everything but the model."""
        return {
            "config": asdict(self.config),
            "class_names": self.class_names,
            "dataset_source": self.dataset_source,
            "counts": self.counts,
            "skipped": self.skipped,
            "weights": self.weights,
            "history": [asdict(r) for r in self.history],
            "test_accuracy": self.test["accuracy"],
            "test_loss": self.test["loss"],
            "test": self.test,
            "phase_test_accuracy": self.timings.get("phase_test_accuracy", {}),
            "timings": {k: v for k, v in self.timings.items() if k != "phase_test_accuracy"},
            "cache": self.cache,
            "stopped": self.stopped,
            "notes": self.notes,
            "base_counts": {k: v for k, v in self.base_counts.items() if k != "unfrozen_layer_names"},
        }


class StopRequested(Exception):
    pass


class _Tracker:
    """Turns batch counts into an overall fraction and an ETA, and checks for a stop request."""

    def __init__(self, units: dict[str, int], on_progress, should_stop):
        self.units = units
        self.done = dict.fromkeys(units, 0)
        self.on_progress = on_progress
        self.should_stop = should_stop or (lambda: False)
        self.started: dict[str, float] = {}

    def step(self, stage: str, message: str) -> None:
        now = time.perf_counter()
        self.started.setdefault(stage, now)
        self.done[stage] += 1
        if self.on_progress:
            total = sum(self.units.values()) or 1
            fraction = min(1.0, sum(self.done.values()) / total)
            rate = (now - self.started[stage]) / max(1, self.done[stage])
            remaining = sum(self.units[s] - self.done[s] for s in self.units)
            self.on_progress(Progress(stage, fraction, max(0.0, remaining * rate), message))

    def stop_now(self) -> bool:
        return bool(self.should_stop())


def _keras():
    config.quiet_tensorflow_logs()
    import keras

    return keras


def _augmenter(ops: AugmentConfig, seed: int):
    keras = _keras()
    layers = []
    if ops.rotation:
        layers.append(keras.layers.RandomRotation(20 / 360, fill_mode="nearest", seed=seed))
    if ops.flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed + 1))
    if ops.zoom:
        layers.append(keras.layers.RandomZoom(0.2, fill_mode="nearest", seed=seed + 2))
    if ops.shear:
        layers.append(keras.layers.RandomShear(x_factor=0.1, y_factor=0.1, fill_mode="nearest", seed=seed + 3))
    return keras.Sequential(layers, name="augment")


def augment_images(images: np.ndarray, ops: AugmentConfig, seed: int) -> np.ndarray:
    """One random augmentation of each uint8 photo (used by the cache and the preview grid)."""
    augmenter = _augmenter(ops, seed)
    chunks = [np.asarray(augmenter(images[i : i + 64].astype("float32"), training=True))
              for i in range(0, len(images), 64)]  # in chunks: 700 photos at 224 px would be 420 MB of floats
    if not chunks:
        return images.copy()
    return np.clip(np.concatenate(chunks), 0, 255).astype(np.uint8)


def preview_augmentations(photo: str, ops: AugmentConfig, size: int, n: int = 6, seed: int = 0) -> np.ndarray:
    """``n`` random augmentations of one photo, for the preview grid."""
    from core.images import load_array

    image = load_array(photo, size)
    return augment_images(np.repeat(image[None], n, axis=0), ops, seed)


def unfreeze_preview(base_key: str, k: int) -> dict:
    """Trainable/frozen counts of a base for "unfreeze the top k" (architecture only, any weights)."""
    from core.models import trainable_counts

    base, _ = shared_base(base_key, 96, pretrained=False, seed=0)
    return trainable_counts(base, k)


def _batches(x, y, batch_size: int):
    """``(x_batch, y_batch)`` slices; ``x`` is one array or a list of arrays (several crossing tensors)."""
    for start in range(0, len(y), batch_size):
        part = slice(start, start + batch_size)
        yield ([a[part] for a in x] if isinstance(x, list) else x[part]), y[part]


def _mean_logs(logs: list[tuple[int, dict]]) -> tuple[float, float]:
    """Loss and accuracy over an epoch: per-batch figures weighted by batch size."""
    total = sum(n for n, _ in logs) or 1
    return (sum(n * float(log["loss"]) for n, log in logs) / total,
            sum(n * float(log["accuracy"]) for n, log in logs) / total)


def _fit_epochs(model, x_train, y_train, x_val, y_val, cfg: TrainConfig, phase: str, epochs: int,
                first_epoch: int, tracker: _Tracker, history: list, on_epoch, view_of_epoch=None):
    """Train epoch by epoch, batch by batch, with our own seeded shuffle: cached and uncached runs see the
    same batches, a stop request is honoured between batches, and there is no per-epoch ``fit`` set-up
    cost (0.2 s, which would be most of a phase-1 epoch on cached features)."""
    n = len(y_train)
    steps = max(1, -(-n // cfg.batch_size))
    name = {PHASE1: "Phase 1", PHASE2: "Phase 2"}.get(phase, "From scratch")
    for i in range(epochs):
        epoch = first_epoch + i
        order = np.random.default_rng([cfg.seed, epoch]).permutation(n)
        x_epoch = view_of_epoch(epoch) if view_of_epoch else x_train
        xs = [a[order] for a in x_epoch] if isinstance(x_epoch, list) else x_epoch[order]
        start = time.perf_counter()
        train_logs = []
        for step, (x_batch, y_batch) in enumerate(_batches(xs, y_train[order], cfg.batch_size)):
            train_logs.append((len(y_batch), model.train_on_batch(x_batch, y_batch, return_dict=True)))
            tracker.step(phase, f"{name} epoch {i + 1}/{epochs}, batch {step + 1}/{steps}")
            if tracker.stop_now():
                raise StopRequested
        val_logs = [(len(y_batch), model.test_on_batch(x_batch, y_batch, return_dict=True))
                    for x_batch, y_batch in _batches(x_val, y_val, 256)]
        record = EpochRecord(phase, epoch, *_mean_logs(train_logs), *_mean_logs(val_logs),
                             time.perf_counter() - start)
        history.append(record)
        if on_epoch:
            on_epoch(record)


def _fit_until_stopped(*args, **kwargs) -> bool:
    """``_fit_epochs``; True if the student stopped it (what was trained so far is kept)."""
    try:
        _fit_epochs(*args, **kwargs)
    except StopRequested:
        return True
    return False


_base_memo: dict[tuple, tuple] = {}


def shared_base(key: str, image_size: int, pretrained: bool, seed: int):
    """A frozen base built once per process and never made trainable: safe to share between students."""
    from core.models import build_base

    memo_key = (key, image_size, pretrained, seed if not pretrained else None)
    if memo_key not in _base_memo:
        base, info = build_base(key, image_size, pretrained, seed)
        base.trainable = False
        _base_memo[memo_key] = (base, info)
    return _base_memo[memo_key]


def private_base(key: str, image_size: int, pretrained: bool, seed: int):
    """A copy of the shared base with its own weights, for a run that will unfreeze layers."""
    keras = _keras()
    shared, info = shared_base(key, image_size, pretrained, seed)
    copy = keras.models.clone_model(shared)
    copy.set_weights(shared.get_weights())
    return copy, info


def train(cfg: TrainConfig, on_epoch=None, on_progress=None, should_stop=None, dataset=None) -> TrainResult:
    """Run the whole two-phase recipe. Callbacks: ``on_epoch(EpochRecord)``, ``on_progress(Progress)``,
    ``should_stop() -> bool`` (checked between batches; what was trained so far is kept)."""
    cfg.validate()
    from core.models import build_classifier, trainable_counts

    t0 = time.perf_counter()
    dataset = dataset or data.load_dataset(cfg.data, cfg.seed)
    spec = base_spec(cfg.base)
    mode = preprocessing_mode(spec, cfg.preprocessing)

    k = cfg.unfreeze if cfg.epochs2 > 0 else 0
    if k > 0:
        base, weights = private_base(cfg.base, cfg.image_size, cfg.pretrained, cfg.seed)
        k = min(k, len(base.layers) - 1)  # the InputLayer has nothing to train
    else:
        base, weights = shared_base(cfg.base, cfg.image_size, cfg.pretrained, cfg.seed)
    model = build_classifier(base, len(dataset.class_names), mode, cfg.head_units, cfg.dropout, cfg.seed)
    preprocess = model.get_layer("preprocess")
    counts = trainable_counts(base, k)
    notes: list[str] = []
    if not weights.pretrained:
        notes.append("The base has random weights, not ImageNet ones: this is not transfer learning.")
    timings = {"load_data_and_model": time.perf_counter() - t0}
    history: list[EpochRecord] = []
    n_train = len(dataset.splits["train"])
    steps = max(1, -(-n_train // cfg.batch_size))
    tracker = _Tracker({PHASE1: cfg.epochs1 * steps, PHASE2: (cfg.epochs2 if k else 0) * steps},
                       on_progress, should_stop)
    cache_info: dict = {}
    try:
        if cfg.use_cache:
            probs, y_test, stopped = _train_cached(cfg, dataset, base, model, preprocess, k, mode, weights, tracker,
                                                   history, on_epoch, timings, cache_info, notes)
        else:
            probs, y_test, stopped = _train_uncached(cfg, dataset, base, model, k, tracker, history, on_epoch,
                                                     timings)
    except StopRequested:  # stopped while the frozen base was still reading photos: nothing trained yet
        stopped = True
        x_test, y_test = data.decode_split(dataset, "test", cfg.image_size)
        probs = model.predict(x_test, batch_size=64, verbose=0) if len(y_test) else np.zeros((0, len(dataset.class_names)))
    if k:
        base.trainable = False  # the returned model is for predicting; its weights are what was trained
    timings["total"] = time.perf_counter() - t0
    test = evaluate_probabilities(probs, y_test, dataset.class_names)
    return TrainResult(
        model=model, class_names=dataset.class_names, config=cfg, history=history, test=test,
        misclassified=misclassified(probs, y_test, dataset.paths("test"), dataset.class_names),
        dataset_source=dataset.source, counts=dataset.counts(),
        skipped=[asdict(s) for s in dataset.skipped], timings=timings, cache=cache_info, stopped=stopped,
        weights=weights.description, notes=notes, base_counts=counts,
    )


def _compile(model, lr: float, cfg: TrainConfig):
    keras = _keras()
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=cfg.jit_compile)


def _head_model(model, feature_dim: int):
    keras = _keras()
    from core.models import head_layers

    inputs = keras.Input(shape=(feature_dim,), name="pooled_features")
    x = inputs
    for layer in head_layers(model):
        x = layer(x)
    return keras.Model(inputs, x, name="head_on_cached_features")


def _top_model(model, split):
    keras = _keras()
    from core.models import head_layers

    inputs = [keras.Input(shape=tuple(t.shape[1:]), name=f"cut_{i}") for i, t in enumerate(split.crossing)]
    x = split.top(inputs if len(inputs) > 1 else inputs[0], training=False)  # BatchNorm in inference mode
    x = model.get_layer("pool")(x)
    for layer in head_layers(model):
        x = layer(x)
    return keras.Model(inputs, x, name="top_and_head_on_cached_features")


def _cached_features(cfg, dataset, base, preprocess, k, mode, weights, tracker, timings, cache_info, notes):
    """``{name: array}`` for every split (and augmented train views), from the cache or computed now."""
    from core import features as feats

    split = feats.split_base(base, k)
    model_part = {
        "v": features.FEATURE_CACHE_VERSION, "base": cfg.base, "weights": weights.identity,
        "size": cfg.image_size, "preprocessing": mode, "dataset": dataset.fingerprint(),
    }
    keys = {"pooled": feats.cache_key({**model_part, "cut": ["pooled"]})}
    if k:
        keys["cut"] = feats.cache_key({**model_part, "cut": list(split.cut_names)})
    if cfg.augment and cfg.augment_ops.any():
        keys["augmented"] = feats.cache_key({**model_part, "cut": list(split.cut_names), "aug": asdict(cfg.augment_ops),
                                             "views": cfg.aug_views, "seed": cfg.seed})
    arrays = {name: feats.load(key, notes) for name, key in keys.items()}
    cache_info.update({name: ("warm" if a is not None else "cold") for name, a in arrays.items()})
    cache_info["cut_layers"] = list(split.cut_names)
    cache_info["bytes_per_image"] = feats.bytes_per_image(split)
    if arrays["pooled"] is not None:  # photos that failed to decode last time are left out again
        for path, reason in zip(arrays["pooled"]["dropped_paths"], arrays["pooled"]["dropped_reasons"]):
            _drop(dataset, str(path), str(reason))
    base_missing = arrays["pooled"] is None or (k > 0 and arrays["cut"] is None)
    views = cfg.aug_views if "augmented" in keys and arrays["augmented"] is None else 0
    if not base_missing and not views:
        return split, arrays

    start = time.perf_counter()
    batch = 32
    to_read = data.SPLITS if base_missing else ("train",)  # augmented views alone need only the train photos
    n_train = len(dataset.splits["train"])
    tracker.units[EXTRACT] = 1 + sum(-(-len(dataset.splits[s]) // batch) for s in to_read if base_missing) + views * -(
        -n_train // batch)
    tracker.done[EXTRACT] = 0
    front = split.front
    fresh: dict[str, np.ndarray] = {}
    dropped_before = len(dataset.skipped)

    def extract(images: np.ndarray, message: str) -> list[np.ndarray]:
        result = feats.run_front(front, preprocess, images, batch, lambda s, n: tracker.step(EXTRACT, message),
                                 tracker.stop_now)
        if result is None:
            raise StopRequested
        return result

    tracker.step(EXTRACT, "Reading photos")
    for split_name in to_read:
        images, labels = data.decode_split(dataset, split_name, cfg.image_size)
        if base_missing:
            for j, array in enumerate(extract(images, f"Frozen base on {split_name} photos")):
                fresh[f"{split_name}_{j}"] = array
            fresh[f"{split_name}_labels"] = labels
        for v in range(views if split_name == "train" else 0):
            augmented = augment_images(images, cfg.augment_ops, cfg.seed * 1000 + v)
            for j, array in enumerate(extract(augmented, f"Augmented view {v + 1}/{views}")):
                fresh[f"aug{v}_{j}"] = array
    new_drops = dataset.skipped[dropped_before:]
    drops = {"dropped_paths": np.array([s.path for s in new_drops], dtype=str),
             "dropped_reasons": np.array([s.reason for s in new_drops], dtype=str)}
    built: dict[str, dict] = {}
    if base_missing:
        pooled_index = len(front.outputs) - 1
        built["pooled"] = {**drops, **{f"{s}_0": fresh[f"{s}_{pooled_index}"] for s in data.SPLITS},
                           **{f"{s}_labels": fresh[f"{s}_labels"] for s in data.SPLITS}}
        if k:
            built["cut"] = {**drops, **{name: a for name, a in fresh.items() if not name.startswith("aug")}}
    if views:
        built["augmented"] = {name: a for name, a in fresh.items() if name.startswith("aug")}
    n_images = sum(len(dataset.splits[s]) for s in data.SPLITS)
    too_big = feats.bytes_per_image(split) * (n_images + views * n_train) > feats.MAX_CACHE_BYTES
    about = {"base": cfg.base, "size": cfg.image_size, "preprocessing": mode, "source": dataset.source}
    for name, part in built.items():
        if arrays[name] is not None:
            continue
        if too_big and name != "pooled":
            notes.append("The activations at this unfreeze depth are too big to keep on disk; they were not cached.")
        else:
            notes.extend(feats.store(keys[name], part, {**about, "part": name}))
        arrays[name] = part
    timings["extract_features"] = time.perf_counter() - start
    return split, arrays


def _drop(dataset, path: str, reason: str) -> None:
    for name in data.SPLITS:
        dataset.splits[name] = [item for item in dataset.splits[name] if item.path != path]
    dataset.skipped.append(data.SkippedFile(path, reason))


def _train_cached(cfg, dataset, base, model, preprocess, k, mode, weights, tracker, history, on_epoch,
                  timings, cache_info, notes):
    from core.models import unfreeze_top

    split, arrays = _cached_features(cfg, dataset, base, preprocess, k, mode, weights, tracker, timings,
                                     cache_info, notes)
    pooled = arrays["pooled"]
    y = {s: pooled[f"{s}_labels"] for s in data.SPLITS}
    augmented = arrays.get("augmented")
    n_out = len(split.front.outputs)

    def view(epoch: int, outputs: list[int]):
        v = epoch % cfg.aug_views
        picked = [augmented[f"aug{v}_{j}"] for j in outputs]
        return picked if len(picked) > 1 else picked[0]

    head = _head_model(model, pooled["train_0"].shape[1])
    _compile(head, cfg.lr1, cfg)
    start = time.perf_counter()
    stopped = bool(cfg.epochs1) and _fit_until_stopped(
        head, pooled["train_0"], y["train"], pooled["val_0"], y["val"], cfg, PHASE1, cfg.epochs1, 1, tracker,
        history, on_epoch, (lambda e: view(e, [n_out - 1])) if augmented is not None else None)
    timings["phase1"] = time.perf_counter() - start
    phase1_probs = head.predict(pooled["test_0"], batch_size=256, verbose=0)  # cached test features, even after a stop
    timings["phase_test_accuracy"] = {"phase1": float((phase1_probs.argmax(1) == y["test"]).mean())}
    if stopped or not k:
        return phase1_probs, y["test"], stopped

    cut = arrays["cut"]
    unfreeze_top(base, k)
    top = _top_model(model, split)
    _compile(top, cfg.lr2, cfg)
    crossing = list(range(n_out - 1))

    def inputs(split_name):
        picked = [cut[f"{split_name}_{j}"] for j in crossing]
        return picked if len(picked) > 1 else picked[0]

    start = time.perf_counter()
    stopped = _fit_until_stopped(top, inputs("train"), y["train"], inputs("val"), y["val"], cfg, PHASE2, cfg.epochs2,
                                 cfg.epochs1 + 1, tracker, history, on_epoch,
                                 (lambda e: view(e, crossing)) if augmented is not None else None)
    timings["phase2"] = time.perf_counter() - start
    probs = top.predict(inputs("test"), batch_size=128, verbose=0)
    timings["phase_test_accuracy"]["phase2"] = float((probs.argmax(1) == y["test"]).mean())
    return probs, y["test"], stopped


def _train_uncached(cfg, dataset, base, model, k, tracker, history, on_epoch, timings):
    """The lesson's pipeline: whole photos through the whole model on every epoch."""
    keras = _keras()
    from core.models import unfreeze_top

    start = time.perf_counter()
    arrays = {s: data.decode_split(dataset, s, cfg.image_size) for s in data.SPLITS}
    timings["decode"] = time.perf_counter() - start
    trainer = model
    if cfg.augment and cfg.augment_ops.any():
        inputs = keras.Input(shape=(cfg.image_size, cfg.image_size, 3))
        trainer = keras.Model(inputs, model(_augmenter(cfg.augment_ops, cfg.seed)(inputs)))
    (x_train, y_train), (x_val, y_val) = arrays["train"], arrays["val"]
    _compile(trainer, cfg.lr1, cfg)
    start = time.perf_counter()
    stopped = bool(cfg.epochs1) and _fit_until_stopped(trainer, x_train, y_train, x_val, y_val, cfg, PHASE1,
                                                       cfg.epochs1, 1, tracker, history, on_epoch)
    timings["phase1"] = time.perf_counter() - start
    x_test, y_test = arrays["test"]
    probs = model.predict(x_test, batch_size=64, verbose=0)
    timings["phase_test_accuracy"] = {"phase1": float((probs.argmax(1) == y_test).mean())}
    if k and not stopped:
        unfreeze_top(base, k)
        _compile(trainer, cfg.lr2, cfg)
        start = time.perf_counter()
        stopped = _fit_until_stopped(trainer, x_train, y_train, x_val, y_val, cfg, PHASE2, cfg.epochs2,
                                     cfg.epochs1 + 1, tracker, history, on_epoch)
        timings["phase2"] = time.perf_counter() - start
        probs = model.predict(x_test, batch_size=64, verbose=0)
        timings["phase_test_accuracy"]["phase2"] = float((probs.argmax(1) == y_test).mean())
    return probs, y_test, stopped


def train_from_scratch(cfg: TrainConfig, on_epoch=None, on_progress=None, should_stop=None,
                       dataset=None) -> TrainResult:
    """Kiran's baseline: a small CNN from random weights, ``epochs1 + epochs2`` epochs at ``lr1``."""
    cfg.validate()
    from core.models import build_scratch_cnn

    t0 = time.perf_counter()
    dataset = dataset or data.load_dataset(cfg.data, cfg.seed)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        data.decode_split(dataset, s, cfg.image_size) for s in data.SPLITS)
    model = build_scratch_cnn(len(dataset.class_names), cfg.image_size, cfg.seed)
    epochs = cfg.epochs1 + cfg.epochs2
    steps = max(1, -(-len(y_train) // cfg.batch_size))
    tracker = _Tracker({SCRATCH: epochs * steps}, on_progress, should_stop)
    _compile(model, cfg.lr1, cfg)
    history: list[EpochRecord] = []
    stopped = _fit_until_stopped(model, x_train, y_train, x_val, y_val, cfg, SCRATCH, epochs, 1, tracker, history,
                                 on_epoch)
    probs = model.predict(x_test, batch_size=64, verbose=0)
    test = evaluate_probabilities(probs, y_test, dataset.class_names)
    timings = {"total": time.perf_counter() - t0, "phase_test_accuracy": {}}
    return TrainResult(
        model=model, class_names=dataset.class_names, config=cfg, history=history, test=test,
        misclassified=misclassified(probs, y_test, dataset.paths("test"), dataset.class_names),
        dataset_source=dataset.source, counts=dataset.counts(), skipped=[asdict(s) for s in dataset.skipped],
        timings=timings, cache={}, stopped=stopped, weights="none: random start, trained from scratch",
    )


def parse_args(argv=None) -> tuple[TrainConfig, argparse.Namespace]:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(prog="python -m core.train", description=__doc__.split("\n\n")[0])
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
    args = parser.parse_args(argv)
    cfg = replace(
        defaults, data=args.data, base=args.base, epochs1=args.epochs1, epochs2=args.epochs2,
        unfreeze=args.unfreeze, lr1=args.lr1, lr2=args.lr2, batch_size=args.batch_size,
        image_size=args.image_size, augment=args.augment,
        augment_ops=AugmentConfig(args.aug_rotation, args.aug_flip, args.aug_zoom, args.aug_shear),
        aug_views=args.aug_views, preprocessing=args.preprocessing, seed=args.seed,
        head_units=args.head_units, dropout=args.dropout, pretrained=not args.random_weights,
        use_cache=not args.no_cache,
    )
    return cfg, args


def main(argv=None) -> int:
    cfg, args = parse_args(argv)
    from core.export import save_trained_model
    from core.models import WeightsUnavailable

    def print_epoch(r: EpochRecord) -> None:
        print(f"[{r.phase:9}] epoch {r.epoch:3d}  loss {r.loss:.4f}  acc {r.accuracy:.4f}  "
              f"val_loss {r.val_loss:.4f}  val_acc {r.val_accuracy:.4f}  ({r.seconds:.1f}s)", file=sys.stderr)

    try:
        result = train(cfg, on_epoch=print_epoch)
    except (data.DatasetError, WeightsUnavailable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    summary = result.summary()
    if args.save:
        save_trained_model(result, args.save)
        summary["saved_to"] = args.save
    print(json.dumps(summary, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
