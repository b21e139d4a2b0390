"""The numbers behind "which base should I pick?": parameters, size and layers of each base in the
registry (``models.BASES``), and its CPU latency measured live.
"""

from __future__ import annotations

import gc
import os
import threading
import time

import numpy as np

from core.models import bases as models

# Thresholds behind the Compare verdict.
PHONE_MB = 20.0  # no-top float32 weights small enough to ship inside a phone app
FAST_MS = 50.0  # under this, 20 photos a second: smooth enough for a live camera


def base_table(keys=None) -> list[dict]:
    """One row per base: the registry (``models.BASES``) merged with counts from the real architecture.

    ``size_mb`` is the no-top weights as float32 (what you download for transfer learning);
    ``size_mb_total`` the same with the ImageNet top. Builds each architecture once (cached on disk
    by ``models.architecture_facts``).
    """
    rows = []
    for key in keys or models.BASES:
        spec = models.base_spec(key)
        facts = models.architecture_facts(key)
        rows.append(
            {
                "key": key,
                "name": spec.name,
                "params_total": facts.params_total,
                "params_no_top": facts.params_no_top,
                "layers_total": facts.layers_total,
                "layers_no_top": facts.layers_no_top,
                "size_mb": facts.size_mb_float32,
                "size_mb_total": round(facts.params_total * 4 / 1e6, 1),
                "default_size": facts.default_size,
                "top1": spec.top1,
                "top1_source": spec.top1_source,
                "weights_available": models.weights_available(key),
                "note": spec.note,
            }
        )
    return rows


_measure_lock = threading.Lock()  # one measurement at a time: parallel runs would slow each other down


def measure_latency(
    key: str,
    image_size: int | None = None,
    n_images: int = 8,
    on_progress=None,
    include_top: bool | None = None,
    seed: int = 0,
) -> dict:
    """Milliseconds per photo on this CPU: batch of 1, after one warm-up call, median of ``n_images``.

    The architecture is built with ``weights=None`` (speed does not depend on the weights' values).
    At the base's default size (``image_size=None``) the whole ImageNet classifier is timed
    (``include_top=True``), the model whose parameters the "total" column counts; at another size
    the no-top base with global average pooling is timed (VGG16's top only fits 224 px).
    ``on_progress(done, total)`` is called after the build, the warm-up and each timed photo.
    """
    spec = models.base_spec(key)
    size = int(image_size or spec.default_size)
    if include_top is None:
        include_top = size == spec.default_size
    n_images = max(1, int(n_images))
    total_steps = n_images + 2
    import keras  # here, not at the top: the Compare page shows the base table (cached on disk) without TensorFlow

    constructor = getattr(keras.applications, spec.constructor)
    extra = {} if include_top else {"pooling": "avg"}
    rng = np.random.default_rng(seed)
    with _measure_lock:
        started = time.perf_counter()
        model = constructor(include_top=include_top, weights=None, input_shape=(size, size, 3), **spec.kwargs, **extra)
        build_seconds = time.perf_counter() - started
        params = int(model.count_params())
        if on_progress:
            on_progress(1, total_steps)
        photos = rng.uniform(-1.0, 1.0, size=(n_images + 1, 1, size, size, 3)).astype(np.float32)
        started = time.perf_counter()
        model.predict_on_batch(photos[0])
        warmup_seconds = time.perf_counter() - started
        if on_progress:
            on_progress(2, total_steps)
        times = []
        for i in range(n_images):
            started = time.perf_counter()
            model.predict_on_batch(photos[i + 1])
            times.append((time.perf_counter() - started) * 1000.0)
            if on_progress:
                on_progress(i + 3, total_steps)
        del model
        gc.collect()
    median = float(np.median(times))
    return {
        "key": key,
        "name": spec.name,
        "image_size": size,
        "include_top": include_top,
        "params": params,
        "n_images": n_images,
        "ms_per_image": round(median, 2),
        "ms_min": round(float(min(times)), 2),
        "ms_mean": round(float(np.mean(times)), 2),
        "images_per_second": round(1000.0 / median, 1) if median > 0 else float("inf"),
        "build_seconds": round(build_seconds, 2),
        "warmup_seconds": round(warmup_seconds, 2),
        "cpu_count": os.cpu_count(),
    }
