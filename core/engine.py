"""The engine's public surface: pages, the CLI, benchmarks and workers import from here and nowhere else.

In the spirit of fastai's ``vision_learner(dls).fine_tune()``, one idea per step, each returning a
plain dataclass; progress and Stop travel through one ``Callbacks`` object::

    dataset = load_photos("tf_flowers", seed=42)               # -> Dataset
    learner = vision_learner(dataset, TrainConfig(unfreeze=30), Callbacks(on_epoch=print))
    learner.fit_head()                                          # -> PhaseResult (phase 1)
    learner.fine_tune()                                         # -> PhaseResult (phase 2)
    learner.evaluate()                                          # -> Evaluation
    learner.predict(prepare_photo("rose.jpg", 224)[1])          # -> Prediction
    learner.save("model.keras")                                 # -> Path
    result = learner.result()                                   # -> TrainResult

``train(cfg, callbacks)`` is that sequence in one call.

Importing this module does not import TensorFlow: pages import it to build a ``TrainConfig``, list
bases and read results before any model exists. So the modules that build and train models (they import
Keras at their top) are imported inside the functions below, and only there.
"""

from __future__ import annotations

import time

from core.export import bundle as export
from core.inference.explain import grad_cam, heatmap_legend, overlay
from core.inference.predict import (
    RULE_EXPLANATION,
    SMALL_PHOTO,
    Prediction,
    load_trained_model,
    predict_photo,
    prepare_photo,
)
from core.lesson.architecture import unfreeze_summary
from core.models.bases import (
    BASES,
    DEFAULT_BASE,
    IMAGE_SIZES,
    WeightsUnavailable,
    base_spec,
    shared_base,
    trainable_counts,
    weights_available,
)
from core.photos.datasets import TF_FLOWERS, Dataset, DatasetError, load_dataset
from core.training.results import Callbacks, EpochRecord, Evaluation, PhaseResult, Progress, TrainResult
from core.training.settings import AugmentConfig, TrainConfig


def photo_thumbnail(path, size: int = 220) -> bytes | None:
    """A small JPEG of a photo for a page to show (None if it cannot be read)."""
    from core.photos.images import thumbnail_jpeg

    return thumbnail_jpeg(path, size)


def load_photos(spec: str = TF_FLOWERS, seed: int = 42) -> Dataset:
    """tf_flowers, a folder of class folders, or a zip: split 70/15/15 per class with ``seed``."""
    return load_dataset(spec, seed)


def vision_learner(dataset: Dataset, cfg: TrainConfig, callbacks: Callbacks | None = None):
    """A ``core.training.learner.Learner``: the lesson's classifier on ``cfg.base``, ready to ``fit_head()``."""
    from core.training.learner import vision_learner as make

    return make(dataset, cfg, callbacks)


def train(cfg: TrainConfig, callbacks: Callbacks | None = None, dataset: Dataset | None = None) -> TrainResult:
    """The whole two-phase recipe: load the photos (unless given), fit the head, fine-tune the top
    ``cfg.unfreeze`` layers, evaluate. A Stop keeps what was trained so far."""
    from core.training.learner import vision_learner as make

    started = time.perf_counter()
    cfg.validate()
    if cfg.preset:  # a named recipe offered beside the lesson's (issue 12)
        from core.training.presets import train as train_preset

        return train_preset(cfg, callbacks, dataset)
    learner = make(dataset or load_dataset(cfg.data, cfg.seed), cfg, callbacks, started)
    learner.fit_head()
    learner.fine_tune()
    return learner.result()


def train_from_scratch(cfg: TrainConfig, callbacks: Callbacks | None = None,
                       dataset: Dataset | None = None) -> TrainResult:
    """Kiran's baseline: a small CNN from random weights, ``epochs1 + epochs2`` epochs at ``lr1``."""
    from core.training.scratch import train_from_scratch as scratch

    return scratch(cfg, callbacks, dataset)


def quick_default_model(seed: int = 42, image_size: int = 160, epochs1: int = 5, data: str | None = None):
    """A ``QuickModel`` (model, class_names, image_size, summary_text...): the learner with phase 1 only on
    tf_flowers, for students who have not trained their own. Seconds; near-instant when the cache is warm."""
    from core.training.quick_model import quick_default_model as quick

    return quick(seed, image_size, epochs1, data)


def save_model(result: TrainResult, path):
    """One ``.keras`` file: raw pixels in, preprocessing inside, class names and settings in its metadata."""
    return export.save_trained_model(result, path)


def load_model(path, name: str | None = None):
    """A ``.keras`` file saved by this app (a path, or an upload's bytes called ``name``) -> ``LoadedModel``
    (model, class names, image size, metadata). Checked first and loaded in Keras safe mode: a file that is not
    ours, is damaged or carries code raises ``ValueError`` with a message for the student, and never runs."""
    return load_trained_model(path, name)


def model_bytes(result: TrainResult) -> bytes:
    """The ``.keras`` file of ``save_model`` as bytes, for a download button."""
    return export.model_bytes(result)


def export_model(result: TrainResult, folder, on_progress=None):
    """``model.keras``, LiteRT float32 and 8-bit ``.tflite`` files, labels, a model card, ``parity.json`` (every
    format on the test photos next to Keras) and ``predict.py``, zipped -> ``core.export.bundle.ExportReport``.
    ``on_progress(fraction, message)``; a step that fails is listed in ``report.problems``, the rest is kept."""
    return export.export_trained(result, folder, on_progress=on_progress)


def unfreeze_counts(base_key: str, k: int) -> dict:
    """Parameters of ``base_key`` with its top ``k`` layers unfrozen: ``layers_total``, ``params_trainable``,
    ``params_frozen``, ``params_total`` (the base only). MobileNetV2 comes from its committed layer table (no
    TensorFlow); other bases build their architecture once."""
    if base_key == DEFAULT_BASE:
        summary = unfreeze_summary(k)
    else:
        base, _ = shared_base(base_key, 96, pretrained=False, seed=0)  # the architecture is all we need
        summary = trainable_counts(base, k)
    return {key: summary[key] for key in ("layers_total", "params_trainable", "params_frozen", "params_total")}


def preview_augmentations(photo: str, ops: AugmentConfig, size: int, n: int = 6, seed: int = 0):
    """``n`` random augmentations of one photo (uint8 array), for the preview grid."""
    from core.training.augment import preview_augmentations as preview

    return preview(photo, ops, size, n=n, seed=seed)


def augment_images(images, ops: AugmentConfig, seed: int):
    """One random augmentation of each uint8 photo in ``images`` (``[n, size, size, 3]``)."""
    from core.training.augment import augment_images as augment

    return augment(images, ops, seed)


__all__ = [
    "BASES", "DEFAULT_BASE", "IMAGE_SIZES", "TF_FLOWERS", "AugmentConfig", "Callbacks", "Dataset", "DatasetError",
    "EpochRecord", "Evaluation", "PhaseResult", "Prediction", "Progress", "TrainConfig", "TrainResult",
    "WeightsUnavailable", "augment_images", "base_spec", "load_model", "load_photos", "quick_default_model",
    "save_model", "train", "train_from_scratch", "vision_learner", "weights_available",
    # for the pages (UI): predicting, explaining, previews
    "RULE_EXPLANATION", "SMALL_PHOTO", "export_model", "grad_cam", "heatmap_legend", "model_bytes", "overlay", "predict_photo", "prepare_photo",
    "preview_augmentations", "unfreeze_counts",
]
