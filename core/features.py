"""Do the frozen work once: cache the activations that cross the freeze boundary.

With the top ``k`` base layers unfrozen, the base splits in two: a frozen *front* whose output never
changes during training, and a trainable *top*. Every tensor produced by the front and consumed by
the top crosses the boundary (a cut inside a residual block has two). We run the front once per photo,
keep those tensors in memory and on disk, and train only the top plus the head on them.

Phase 1 (``k = 0``) needs only the pooled base output: GlobalAveragePooling has no weights, so
caching the pooled vector is exact and 49x smaller than the 7x7 map at 224 px.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from core import feature_store

FEATURE_CACHE_VERSION = "1"
MAX_CACHE_BYTES = 2_500_000_000  # a cut this low in the network is trained on photos instead


@dataclass
class BaseSplit:
    """The base cut at the freeze boundary."""

    crossing: list  # KerasTensors of the base graph that the trainable top consumes
    front: object  # keras.Model: base input -> crossing tensors + pooled base output
    top: object | None  # keras.Model: crossing tensors -> base output (None when k = 0)
    cut_names: tuple[str, ...]  # names of the layers that produce the crossing tensors


def split_base(base, k: int) -> BaseSplit:
    import keras

    pooled = keras.layers.GlobalAveragePooling2D(name="cached_pool")(base.output)
    if k <= 0:
        front = keras.Model(base.input, [pooled], name="frozen_front")
        return BaseSplit([], front, None, ("pooled",))
    top_layers = base.layers[-k:]
    top_ids = {id(layer) for layer in top_layers}
    crossing = []
    for layer in top_layers:
        for node in layer._inbound_nodes:
            for tensor in node.input_tensors:
                producer = tensor._keras_history.operation
                if id(producer) not in top_ids and not any(tensor is seen for seen in crossing):
                    crossing.append(tensor)
    front = keras.Model(base.input, [*crossing, pooled], name="frozen_front")
    top = keras.Model(crossing, base.output, name="trainable_top")
    names = tuple(t._keras_history.operation.name for t in crossing)
    return BaseSplit(crossing, front, top, names)


def cache_key(parts: dict) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def bytes_per_image(split: BaseSplit) -> int:
    total = 0
    for tensor in split.front.outputs:
        total += 4 * int(np.prod([d for d in tensor.shape[1:]]))
    return total


def load(key: str, notes: list[str] | None = None) -> dict[str, np.ndarray] | None:
    """Arrays cached under ``key`` (memory, else checked disk), or None; see ``core.feature_store``."""
    return feature_store.load(key, notes)


def store(key: str, arrays: dict[str, np.ndarray], description: dict) -> list[str]:
    """Cache ``arrays``; a failed disk write is a returned note for the run, never an exception."""
    return feature_store.store(key, arrays, description)


def clear_memory() -> None:
    feature_store.clear_memory()


def run_front(front, preprocess, images: np.ndarray, batch_size: int, on_batch=None, should_stop=None):
    """The frozen front on uint8 ``images`` in batches: list of arrays, one per front output.

    Returns ``None`` if ``should_stop()`` turned true between batches.
    """
    outputs: list[list[np.ndarray]] = [[] for _ in front.outputs]
    n = len(images)
    steps = max(1, -(-n // batch_size))
    for step in range(steps):
        if should_stop and should_stop():
            return None
        batch = preprocess(images[step * batch_size : (step + 1) * batch_size])
        result = front.predict_on_batch(batch)
        result = result if isinstance(result, (list, tuple)) else [result]
        for store_list, array in zip(outputs, result):
            store_list.append(np.asarray(array, dtype=np.float32))
        if on_batch:
            on_batch(step + 1, steps)
    if n == 0:
        return [np.zeros((0, *[int(d) for d in t.shape[1:]]), np.float32) for t in front.outputs]
    return [np.concatenate(parts) for parts in outputs]
