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
import shutil
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from core import config

FEATURE_CACHE_VERSION = "1"
MAX_CACHE_BYTES = 2_500_000_000  # a cut this low in the network is trained on photos instead
_memory: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()
MEMORY_ENTRIES = 6


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


def load(key: str) -> dict[str, np.ndarray] | None:
    """Arrays cached under ``key``: from memory, else from disk (then kept in memory)."""
    if key in _memory:
        _memory.move_to_end(key)
        return _memory[key]
    folder = config.cache_dir() / "features" / key
    if not (folder / "done").is_file():
        return None
    arrays = {path.stem: np.load(path) for path in sorted(folder.glob("*.npy"))}
    _remember(key, arrays)
    return arrays


def store(key: str, arrays: dict[str, np.ndarray], description: dict) -> None:
    _remember(key, arrays)
    root = config.cache_dir() / "features"
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f"{key}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for name, array in arrays.items():
        np.save(partial / f"{name}.npy", array)
    (partial / "about.json").write_text(json.dumps(description, indent=1, default=str))
    (partial / "done").write_text("ok")
    final = root / key
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)


def _remember(key: str, arrays: dict[str, np.ndarray]) -> None:
    for array in arrays.values():
        array.setflags(write=False)  # shared between students: read-only
    _memory[key] = arrays
    _memory.move_to_end(key)
    while len(_memory) > MEMORY_ENTRIES:
        _memory.popitem(last=False)


def clear_memory() -> None:
    _memory.clear()


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
