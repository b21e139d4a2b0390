"""Does the small file answer like the big one? Every exported format run on the same photos as Keras.

For each format: how often its best class is Keras's best class (top-1 agreement), the largest difference
in any class probability, its accuracy on the photos' true labels, its file size, and milliseconds per
photo on this computer: one photo at a time (as a phone app works), the median after one warm-up run.
With no photos to compare on, only sizes and speeds are measured (on made-up pixels), and it says so.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.export.litert import FLOAT32, INT8, LiteRTModel
from core.inference.predict import judge

KERAS = "keras"
LABELS = {KERAS: "Keras (.keras)", FLOAT32: "LiteRT float32 (.tflite)", INT8: "LiteRT 8-bit weights (.tflite)"}
KERAS_TIMED_PHOTOS = 30  # Keras is timed one photo at a time on this many (it is the slow one)
SPEED_ONLY_PHOTOS = 20  # made-up photos for timing when there are no real ones


@dataclass
class FormatParity:
    format: str  # KERAS, FLOAT32 or INT8
    label: str
    file: str
    size_bytes: int | None
    photos: int  # compared on this many photos (0: agreement not measured)
    top1_agreement_percent: float | None  # best class equal to Keras's, % of photos
    max_abs_probability_diff: float | None  # largest |p - p_keras| over every photo and class
    accuracy_percent: float | None  # against the photos' true labels
    ms_per_photo: float | None
    error: str = ""
    disagreements: int | None = None  # photos whose best class differs from Keras's
    disagreements_keras_sure: int | None = None  # ...of which Keras itself was sure (core.inference.predict.judge)

    def as_dict(self) -> dict:
        return asdict(self)


def _median_ms(seconds: list[float]) -> float:
    return round(1000 * statistics.median(seconds), 2)


def keras_probabilities(model, images: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """All photos in batches (for the comparison), and a few one at a time (for the speed)."""
    probabilities = np.asarray(model.predict(images.astype("float32"), batch_size=32, verbose=0))
    timed = images[:KERAS_TIMED_PHOTOS].astype("float32")
    model.predict_on_batch(timed[:1])  # warm-up
    seconds = []
    for image in timed:
        start = time.perf_counter()
        model.predict_on_batch(image[None])
        seconds.append(time.perf_counter() - start)
    return probabilities, seconds


def _file_size(path: Path | None) -> int | None:
    return path.stat().st_size if path is not None and path.is_file() else None


def measure(keras_model, files: dict[str, Path | None], images: np.ndarray | None, labels: np.ndarray | None,
            image_size: int, errors: dict[str, str] | None = None) -> list[FormatParity]:
    """One row per format in ``files`` (``KERAS``, ``FLOAT32``, ``INT8`` -> path, or None if it was not made).

    ``images``: ``[n, size, size, 3]`` uint8 photos with true ``labels``; ``None`` or empty: speed only.
    """
    errors = dict(errors or {})
    compare = images is not None and len(images) > 0
    if not compare:
        images = np.random.default_rng(0).integers(0, 256, (SPEED_ONLY_PHOTOS, image_size, image_size, 3), np.uint8)
    reference, seconds = keras_probabilities(keras_model, images)
    rows = [_row(KERAS, files.get(KERAS), reference, reference, labels if compare else None, seconds)]
    for kind in (FLOAT32, INT8):
        path = files.get(kind)
        if path is None:
            rows.append(_row(kind, None, None, None, None, None, errors.get(kind) or "not made"))
            continue
        try:
            probabilities, seconds = LiteRTModel(path).predict_timed(images)
        except Exception as error:  # noqa: BLE001 - a file LiteRT cannot run is a finding, not a crash
            rows.append(_row(kind, path, None, None, None, None, f"LiteRT could not run it: {type(error).__name__}: "
                                                                  f"{str(error)[:200]}"))
            continue
        rows.append(_row(kind, path, probabilities, reference, labels if compare else None, seconds))
    if not compare:
        for row in rows:
            row.photos, row.top1_agreement_percent, row.max_abs_probability_diff = 0, None, None
            row.disagreements = row.disagreements_keras_sure = None
    return rows


def _row(kind, path, probabilities, reference, labels, seconds, error: str = "") -> FormatParity:
    file = path.name if path is not None else ""
    if probabilities is None:
        return FormatParity(kind, LABELS[kind], file, _file_size(path), 0, None, None, None, None, error)
    differs = probabilities.argmax(1) != reference.argmax(1)
    accuracy = float((probabilities.argmax(1) == labels).mean()) * 100 if labels is not None else None
    names = [str(i) for i in range(reference.shape[1])]
    keras_sure = sum(judge(reference[i], names).sure for i in np.flatnonzero(differs))
    return FormatParity(
        kind, LABELS[kind], file, _file_size(path), int(len(probabilities)), round(100 - differs.mean() * 100, 2),
        float(np.abs(probabilities - reference).max()), None if accuracy is None else round(accuracy, 2),
        _median_ms(seconds), disagreements=int(differs.sum()), disagreements_keras_sure=int(keras_sure),
    )
