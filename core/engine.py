"""The engine's public surface: pages, the CLI, benchmarks and workers import from here and nowhere else.

load photos -> a learner on a base -> fit the head -> fine-tune the top K -> evaluate -> predict -> save.
Every step returns a plain dataclass; progress and Stop travel through one ``Callbacks`` object.

This module only re-exports: the work lives in the modules named below. Importing it does not import
TensorFlow (those modules import it inside the functions that need it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.data import TF_FLOWERS, Dataset, DatasetError, load_dataset
from core.explain import grad_cam, overlay
from core.models import BASES, DEFAULT_BASE, IMAGE_SIZES, WeightsUnavailable, base_spec, weights_available
from core.predict import RULE_EXPLANATION, SMALL_PHOTO, predict_photo, prepare_photo, quick_default_model
from core.train import AugmentConfig, EpochRecord, Progress, TrainConfig, TrainResult


@dataclass
class Callbacks:
    """What a running training tells its caller, and how the caller stops it. Every field is optional."""

    on_epoch: Callable[[EpochRecord], None] | None = None
    on_progress: Callable[[Progress], None] | None = None
    should_stop: Callable[[], bool] | None = None


def load_photos(spec: str = TF_FLOWERS, seed: int = 42) -> Dataset:
    """tf_flowers, a folder of class folders, or a zip: split 70/15/15 per class with ``seed``."""
    return load_dataset(spec, seed)


def train(cfg: TrainConfig, callbacks: Callbacks | None = None, dataset: Dataset | None = None) -> TrainResult:
    """The whole two-phase recipe (head, then the top ``cfg.unfreeze`` layers)."""
    from core import train as recipe

    cb = callbacks or Callbacks()
    return recipe.train(cfg, on_epoch=cb.on_epoch, on_progress=cb.on_progress, should_stop=cb.should_stop,
                        dataset=dataset)


def train_from_scratch(cfg: TrainConfig, callbacks: Callbacks | None = None,
                       dataset: Dataset | None = None) -> TrainResult:
    """Kiran's baseline: a small CNN from random weights."""
    from core import train as recipe

    cb = callbacks or Callbacks()
    return recipe.train_from_scratch(cfg, on_epoch=cb.on_epoch, on_progress=cb.on_progress,
                                     should_stop=cb.should_stop, dataset=dataset)


def save_model(result: TrainResult, path):
    """One ``.keras`` file: raw pixels in, preprocessing inside, class names and settings in its metadata."""
    from core.export import save_trained_model

    return save_trained_model(result, path)


def load_model(path, name: str | None = None):
    """A ``.keras`` file saved by this app (a path, or an upload's bytes called ``name``) -> ``LoadedModel``
    (model, class names, image size, metadata). Checked first and loaded in Keras safe mode: a file that is not
    ours, is damaged or carries code raises ``ValueError`` with a message for the student, and never runs."""
    from core.predict import load_trained_model

    return load_trained_model(path, name)


def model_bytes(result: TrainResult) -> bytes:
    """The ``.keras`` file of ``save_model`` as bytes, for a download button."""
    from core.export import model_bytes as to_bytes

    return to_bytes(result)


def export_model(result: TrainResult, folder, on_progress=None):
    """``model.keras``, LiteRT float32 and 8-bit ``.tflite`` files, labels, a model card, ``parity.json`` (every
    format on the test photos next to Keras) and ``predict.py``, zipped -> ``core.export.ExportReport``.
    ``on_progress(fraction, message)``; a step that fails is listed in ``report.problems``, the rest is kept."""
    from core.export import export_trained

    return export_trained(result, folder, on_progress=on_progress)


def unfreeze_counts(base_key: str, k: int) -> dict:
    """Parameters of ``base_key`` with its top ``k`` layers unfrozen: ``layers_total``, ``params_trainable``,
    ``params_frozen``, ``params_total`` (the base only). MobileNetV2 comes from its committed layer table (no
    TensorFlow); other bases build their architecture once."""
    if base_key == DEFAULT_BASE:
        from core.architecture import unfreeze_summary

        summary = unfreeze_summary(k)
    else:
        from core.train import unfreeze_preview

        summary = unfreeze_preview(base_key, k)
    return {key: summary[key] for key in ("layers_total", "params_trainable", "params_frozen", "params_total")}


def preview_augmentations(photo: str, ops: AugmentConfig, size: int, n: int = 6):
    """``n`` random augmentations of one photo (uint8 array), for the preview grid."""
    from core.train import preview_augmentations as preview

    return preview(photo, ops, size, n=n)


__all__ = [
    "BASES", "DEFAULT_BASE", "IMAGE_SIZES", "TF_FLOWERS", "AugmentConfig", "Callbacks", "Dataset", "DatasetError",
    "EpochRecord", "Progress", "TrainConfig", "TrainResult", "WeightsUnavailable", "base_spec", "load_model",
    "load_photos", "save_model", "train", "train_from_scratch", "weights_available",
    # for the pages (UI): predicting, explaining, previews
    "RULE_EXPLANATION", "SMALL_PHOTO", "export_model", "grad_cam", "model_bytes", "overlay", "predict_photo", "prepare_photo",
    "preview_augmentations", "quick_default_model", "unfreeze_counts",
]
