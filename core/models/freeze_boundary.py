"""Cut a base at the freeze boundary: a frozen *front* run once per photo, and a trainable *top*.

With the top ``unfreeze`` base layers unfrozen, every tensor produced by the frozen part and consumed by the
top crosses the boundary (a cut inside a residual block has two). ``split_base`` finds them in the Keras
graph and builds a ``front`` model (base input -> crossing tensors + the pooled base output) and a
``top`` model (crossing tensors -> base output) sharing the real layers, so what the top learns ends
up in the base. Phase 1 (``unfreeze = 0``) needs only the pooled output: GlobalAveragePooling has no weights,
so caching the pooled vector is exact and 49x smaller than the 7x7 map at 224 px.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np


@dataclass
class BaseSplit:
    """The base cut at the freeze boundary."""

    crossing: list  # KerasTensors of the base graph that the trainable top consumes
    front: object  # keras.Model: base input -> crossing tensors + pooled base output
    top: object | None  # keras.Model: crossing tensors -> base output (None when unfreeze = 0)
    cut_names: tuple[str, ...]  # names of the layers that produce the crossing tensors

    @property
    def pooled_index(self) -> int:
        """Position of the pooled base output among the front's outputs (always the last)."""
        return len(self.front.outputs) - 1

    def bytes_per_image(self) -> int:
        return sum(4 * int(np.prod(tensor.shape[1:])) for tensor in self.front.outputs)


def split_base(base, unfreeze: int) -> BaseSplit:
    """Cut ``base`` below its top ``unfreeze`` layers. This adds a pooling node to ``base``'s graph: call it on a
    private base, or once per shared base (``shared_pooled_front``)."""
    pooled = keras.layers.GlobalAveragePooling2D(name="cached_pool")(base.output)
    if unfreeze <= 0:
        front = keras.Model(base.input, [pooled], name="frozen_front")
        return BaseSplit([], front, None, ("pooled",))
    top_layers = base.layers[-unfreeze:]
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


_pooled_fronts: dict[int, BaseSplit] = {}


def shared_pooled_front(shared_base) -> BaseSplit:
    """The ``unfreeze = 0`` split of a process-wide shared base, built once: a split per training would hang
    one more node (and everything downstream of it) on the shared base every time."""
    if id(shared_base) not in _pooled_fronts:
        _pooled_fronts[id(shared_base)] = split_base(shared_base, 0)
    return _pooled_fronts[id(shared_base)]


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
