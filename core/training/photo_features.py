"""Pooled base features of individual photos, cached per photo: what cross-validation, near-duplicate
search, the cleaning loop and the "best for small data" preset share.

The training cache (``core.training.feature_cache``) is keyed by a whole train/val/test split; cross-validation and
near-duplicate search need every photo regardless of its split, and cleaning changes a few photos at a
time. So here each photo's pooled vector is stored under the SHA-1 of its bytes, one file per
(base, weights, size, preprocessing, view): removing or relabelling a photo costs nothing, adding one
costs one forward pass.

A *view* is what the frozen base is shown: ``plain`` (the photo squashed to ``size x size``, as in
training), ``flip`` (mirrored left-right: test-time augmentation) or ``aug<v>`` (the lesson's random
rotation/flip/zoom/shear, the v-th fixed random draw).

No TensorFlow at import time; Keras is imported when a base is built.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.models.bases import base_spec, build_base, preprocess_layer, preprocessing_mode
from core.photos.datasets import file_digest
from core.photos.images import ImageProblem, load_array
from core.training.settings import AugmentConfig
from core.utils import paths as config
from core.utils.bounded import BoundedMemo
from core.utils.lazy import LazyModule

keras = LazyModule("keras")  # near-duplicates, cross-validation and the presets import this module at their top

VERSION = "1"
BATCH = 32
MEMORY_TABLES = 4  # feature tables (one per base, size and view) kept in memory; the rest stay on disk
_memory = BoundedMemo(MEMORY_TABLES)  # store key -> {photo digest: feature vector}
_bases: dict[tuple, tuple] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class FeatureSpec:
    base: str = "mobilenet_v2"
    image_size: int = 224
    view: str = "plain"  # "plain", "flip", "crop", "cropflip" or "aug<v>"
    preprocessing: str = "model"
    augment_ops: str = "rfzs"  # for "aug<v>" views: rotation, flip, zoom, shear (the letters switched on)
    layers: tuple[str, ...] = ()  # pool these base layers' outputs (concatenated) instead of the base's output


class Stopped(Exception):
    """``should_stop()`` turned true while the base was reading photos."""


CROP = 0.8  # the "crop" view: the middle 80% of the (squashed) photo, enlarged back to full size


def _frozen_base(base_key: str, size: int, preprocessing: str, layers: tuple[str, ...] = ()):
    """``(front, preprocess_layer, weights_identity, base)``: the pretrained base, its output (or the outputs
    of ``layers``) globally average-pooled and concatenated."""
    key = (base_key, size, preprocessing, layers)
    with _lock:
        if key not in _bases:
            base, weights = build_base(base_key, size, pretrained=True)
            base.trainable = False
            front = keras.Model(base.input, pooled_outputs(base, layers), name=f"pooled_{base_key}_{size}")
            mode = preprocessing_mode(base_spec(base_key), preprocessing)
            _bases[key] = (front, preprocess_layer(mode), weights.identity, base)
    return _bases[key]


def pooled_outputs(base, layers: tuple[str, ...] = ()):
    """The base's output, or its ``layers``' outputs, each globally average-pooled, concatenated (a tensor)."""
    if not layers:
        return keras.layers.GlobalAveragePooling2D()(base.output)
    pooled = [keras.layers.GlobalAveragePooling2D()(base.get_layer(name).output) for name in layers]
    return keras.layers.Concatenate()(pooled) if len(pooled) > 1 else pooled[0]


def crop_layers(size: int) -> list:
    """Keras layers for the "crop" view, used both here and inside a saved model (the same arithmetic)."""
    inner = int(round(size * CROP))
    return [keras.layers.CenterCrop(inner, inner), keras.layers.Resizing(size, size)]


def _store_path(spec: FeatureSpec, identity: str):
    text = json.dumps({"v": VERSION, "weights": identity, **spec.__dict__}, sort_keys=True)
    key = hashlib.sha256(text.encode()).hexdigest()[:24]
    return key, config.cache_dir() / "photo_features" / f"{key}.npz"


def _load_store(key: str, path) -> dict[str, np.ndarray]:
    if key in _memory:
        return _memory.get(key)
    table: dict[str, np.ndarray] = {}
    if path.is_file():
        try:
            with np.load(path) as saved:
                table = dict(zip(saved["digests"].tolist(), saved["features"]))
        except (OSError, ValueError, KeyError):  # a damaged file is recomputed, never trusted
            table = {}
    _memory[key] = table
    return table


def _save_store(path, table: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.partial.npz")
    digests = np.array(list(table), dtype=str)
    matrix = np.stack(list(table.values())) if table else np.zeros((0, 0), np.float32)
    try:
        np.savez(partial, digests=digests, features=matrix)
        os.replace(partial, path)  # atomic: another process reads all of it or none
    except OSError:  # disk full or read-only: the features stay in memory for this process
        partial.unlink(missing_ok=True)


def _view_images(images: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    view = spec.view
    if view == "plain":
        return images
    if view == "flip":
        return images[:, :, ::-1, :].copy()
    if view in ("crop", "cropflip"):
        pixels = images.astype("float32")
        for layer in crop_layers(images.shape[1]):
            pixels = layer(pixels)
        pixels = np.asarray(pixels)
        return pixels[:, :, ::-1, :].copy() if view == "cropflip" else pixels
    if view.startswith("aug") and view[3:].isdigit():
        from core.training.augment import augment_images  # imports Keras and TensorFlow at its top

        ops = AugmentConfig(*(letter in spec.augment_ops for letter in "rfzs"))
        return augment_images(images, ops, seed=7919 * (int(view[3:]) + 1))
    raise ValueError(f"unknown view {view!r}: use 'plain', 'flip' or 'aug<number>'")


def pooled_features(
    paths: list[str],
    spec: FeatureSpec = FeatureSpec(),
    on_batch: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, list[int]]:
    """``(features [n_ok, d], kept)``: pooled base output for each photo that decodes, and the indices
    (into ``paths``) of those photos. Cached per photo content; only missing photos go through the base.

    ``on_batch(done, total)`` reports progress over the photos still to compute; ``should_stop()`` is
    checked between batches (raises ``Stopped``; what was computed so far stays cached).
    """
    if not spec.view.startswith("aug"):
        spec = FeatureSpec(spec.base, spec.image_size, spec.view, spec.preprocessing, layers=spec.layers)
    front, preprocess, identity, _ = _frozen_base(spec.base, spec.image_size, spec.preprocessing, spec.layers)
    key, path = _store_path(spec, identity)
    with _lock:
        table = _load_store(key, path)
    digests = []
    for p in paths:
        try:
            digests.append(file_digest(p))
        except OSError:
            digests.append(None)
    missing = [i for i, d in enumerate(digests) if d is not None and d not in table]
    failed: set[int] = {i for i, d in enumerate(digests) if d is None}
    steps = -(-len(missing) // BATCH)
    try:
        for step in range(steps):
            if should_stop and should_stop():
                raise Stopped
            batch_ids, images = [], []
            for i in missing[step * BATCH:(step + 1) * BATCH]:
                try:
                    images.append(load_array(paths[i], spec.image_size))
                    batch_ids.append(i)
                except ImageProblem:
                    failed.add(i)
            if images:
                pixels = preprocess(_view_images(np.stack(images), spec))
                vectors = np.asarray(front.predict_on_batch(pixels), dtype=np.float32)
                with _lock:
                    for i, vector in zip(batch_ids, vectors):
                        table[digests[i]] = vector
            if on_batch:
                on_batch(step + 1, steps)
    finally:
        if missing:
            with _lock:
                _save_store(path, table)
    kept = [i for i in range(len(paths)) if i not in failed]
    if not kept:
        return np.zeros((0, 0), np.float32), []
    return np.stack([table[digests[i]] for i in kept]), kept


def clear_memory() -> None:
    with _lock:
        _memory.clear()


def timed_features(paths: list[str], spec: FeatureSpec, **kwargs) -> tuple[np.ndarray, list[int], float]:
    start = time.perf_counter()
    features, kept = pooled_features(paths, spec, **kwargs)
    return features, kept, time.perf_counter() - start
