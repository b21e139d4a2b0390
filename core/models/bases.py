"""Base models from ``keras.applications`` and the lesson's classifier built on top of one.

The registry (``BASES``) is plain data that pages import to list bases: listing bases must not cost
TensorFlow, so Keras loads on first use (``LazyModule``), when a function builds or inspects a model.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from core.utils import paths as config
from core.utils.lazy import LazyModule

keras = LazyModule("keras")

KERAS_APPLICATIONS_TABLE = "https://keras.io/api/applications/ (Keras Applications table)"


@dataclass(frozen=True)
class BaseSpec:
    key: str
    name: str
    constructor: str  # attribute of keras.applications
    default_size: int
    preprocessing: str  # "tf" ([-1, 1]), "caffe" (BGR minus mean), "none" (model rescales itself)
    weight_file: str  # the no-top file name Keras caches, for 224 px where sizes differ
    top1: float  # published ImageNet top-1 accuracy, %
    top1_source: str
    alpha: float | None = None
    note: str = ""

    @property
    def kwargs(self) -> dict:
        return {"alpha": self.alpha} if self.alpha is not None else {}


BASES: dict[str, BaseSpec] = {
    spec.key: spec
    for spec in [
        BaseSpec(
            "mobilenet_v2", "MobileNetV2", "MobileNetV2", 224, "tf",
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
            71.3, KERAS_APPLICATIONS_TABLE, alpha=1.0, note="The lesson's base: small and fast, made for phones.",
        ),
        BaseSpec(
            "mobilenet_v2_035", "MobileNetV2 (alpha 0.35)", "MobileNetV2", 224, "tf",
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5",
            60.3, "Sandler et al. 2018, MobileNetV2 (arXiv:1801.04381), TF-Slim checkpoint table", alpha=0.35,
            note="A slimmer MobileNetV2: 35% of the filters in every layer.",
        ),
        BaseSpec(
            "vgg16", "VGG16", "VGG16", 224, "caffe", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            71.3, KERAS_APPLICATIONS_TABLE, note="2014's classic: huge fully connected layers, slow on a CPU.",
        ),
        BaseSpec(
            "resnet50", "ResNet50", "ResNet50", 224, "caffe", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
            74.9, KERAS_APPLICATIONS_TABLE, note="Residual connections let it go 50 layers deep.",
        ),
        BaseSpec(
            "efficientnet_b0", "EfficientNetB0", "EfficientNetB0", 224, "none", "efficientnetb0_notop.h5",
            77.1, KERAS_APPLICATIONS_TABLE, note="Depth, width and resolution scaled together.",
        ),
        BaseSpec(
            "inception_v3", "InceptionV3", "InceptionV3", 299, "tf",
            "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            77.9, KERAS_APPLICATIONS_TABLE, note="Parallel filters of several sizes in each block.",
        ),
        BaseSpec(
            "mobilenet_v3_small", "MobileNetV3Small", "MobileNetV3Small", 224, "none",
            "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
            67.4, "Howard et al. 2019, Searching for MobileNetV3 (arXiv:1905.02244), Table 3",
            note="Found by architecture search for phones.",
        ),
    ]
}
DEFAULT_BASE = "mobilenet_v2"
IMAGE_SIZES = (96, 128, 160, 224)
PREPROCESSING_CHOICES = ("model", "lesson")


class WeightsUnavailable(RuntimeError):
    """Pretrained weights could not be found or downloaded; the message says where we looked."""


def base_spec(key: str) -> BaseSpec:
    try:
        return BASES[key]
    except KeyError:
        raise ValueError(f"Unknown base model {key!r}; choose one of: {', '.join(BASES)}") from None


def weights_available(key: str) -> bool:
    """True if the pretrained no-top weights are on this machine now (no download attempted)."""
    return config.find_weight_file(base_spec(key).weight_file) is not None


def preprocessing_mode(spec: BaseSpec, choice: str) -> str:
    """``model`` is the base's own ``preprocess_input``; ``lesson`` divides by 255 like the lesson did."""
    if choice not in PREPROCESSING_CHOICES:
        raise ValueError(f"preprocessing must be one of {PREPROCESSING_CHOICES}, not {choice!r}")
    return "lesson" if choice == "lesson" else spec.preprocessing


_file_hash_memo: dict[str, str] = {}


def _file_sha256(path: Path) -> str:
    key = str(path)
    if key not in _file_hash_memo:
        _file_hash_memo[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return _file_hash_memo[key]


@dataclass(frozen=True)
class WeightsInfo:
    pretrained: bool
    identity: str  # part of the feature cache key
    description: str


# ImageNet's mean pixel in RGB order, as keras.applications' caffe-style preprocess_input subtracts it
# (there in BGR order: 103.939, 116.779, 123.68).
CAFFE_MEAN_RGB = (123.68, 116.779, 103.939)


def preprocess_layer(mode: str, name: str = "preprocess"):
    """Raw 0..255 RGB pixels in, what the base expects out, built from Keras's own layers only, so a saved
    model opens with plain Keras anywhere (``keras.saving.load_model``, safe mode on) and no code of ours.

    Inside ``fit`` and ``predict`` these give bit for bit what the old custom layer gave (TensorFlow's graph
    turns its ``x / 127.5`` into ``x * (1 / 127.5)`` too); the caffe colour flip is a fixed 0/1 matrix.
    """
    layers = keras.layers
    if mode == "tf":  # -1..1
        return layers.Rescaling(1 / 127.5, offset=-1.0, name=name)
    if mode == "lesson":  # 0..1, the lesson's ImageDataGenerator(rescale=1./255)
        return layers.Rescaling(1 / 255, name=name)
    if mode == "none":  # the base rescales by itself: float pixels as they are
        return layers.Rescaling(1.0, name=name)
    if mode == "caffe":  # minus ImageNet's mean pixel, then RGB -> BGR (the order of the original weights)
        minus_mean = layers.Rescaling(1.0, offset=[-m for m in CAFFE_MEAN_RGB], name="minus_imagenet_mean")
        rgb_to_bgr = layers.Dense(3, use_bias=False, trainable=False, name="rgb_to_bgr",
                                  kernel_initializer=keras.initializers.Constant(np.eye(3, dtype=np.float32)[::-1]))
        return keras.Sequential([minus_mean, rgb_to_bgr], name=name)
    raise ValueError(f"unknown preprocessing mode {mode!r}")


def _register_layers():
    @keras.saving.register_keras_serializable(package="tll")
    class Preprocess(keras.layers.Layer):
        """The custom layer models saved by earlier versions hold (as "tll>Preprocess"): kept so those files
        still load here. New models use ``preprocess_layer``, which plain Keras can open."""

        def __init__(self, mode: str = "tf", **kwargs):
            super().__init__(**kwargs)
            self.mode = mode

        def call(self, x):
            x = keras.ops.cast(x, "float32")
            if self.mode == "tf":
                return x / 127.5 - 1.0
            if self.mode == "lesson":
                return x / 255.0
            if self.mode == "caffe":
                return x[..., ::-1] - keras.ops.convert_to_tensor([103.939, 116.779, 123.68])
            return x

        def get_config(self):
            return {**super().get_config(), "mode": self.mode}

    return Preprocess


_layers_cache: dict[str, object] = {}


def preprocess_layer_class():
    """The old ``tll>Preprocess`` class, registered with Keras (call before loading a file that may hold it)."""
    if "Preprocess" not in _layers_cache:
        _layers_cache["Preprocess"] = _register_layers()
    return _layers_cache["Preprocess"]


def build_base(key: str, image_size: int, pretrained: bool = True, seed: int = 42):
    """``(base, WeightsInfo)``. Pretrained weights come from the Keras cache, the offline bundle,
    or a Keras download, in that order; if none works we raise rather than train on random weights
    while claiming otherwise."""
    spec = base_spec(key)
    constructor = getattr(keras.applications, spec.constructor)
    shape = (image_size, image_size, 3)
    extra = {"include_preprocessing": False} if spec.constructor.startswith("MobileNetV3") else {}
    if not pretrained:
        keras.utils.set_random_seed(seed)
        base = constructor(include_top=False, weights=None, input_shape=shape, **spec.kwargs, **extra)
        return base, WeightsInfo(False, f"random-{seed}", "random initial weights (not pretrained)")
    local = config.find_weight_file(spec.weight_file)
    if local is not None:
        base = constructor(include_top=False, weights=str(local), input_shape=shape, **spec.kwargs, **extra)
        return base, WeightsInfo(True, _file_sha256(local), f"ImageNet weights from {local}")
    looked = ", ".join(str(d) for d in config.weight_search_dirs()) or "no local folders"
    advice = "Put the file in ~/.keras/models or set TLL_OFFLINE_BUNDLE to a folder with keras/models/ inside."
    if not config.downloads_allowed():
        raise WeightsUnavailable(
            f"No pretrained ImageNet weights for {spec.name}: {spec.weight_file} is not in {looked}, "
            f"and downloads are switched off (TLL_NO_DOWNLOADS). {advice}"
        )
    try:
        base = constructor(include_top=False, weights="imagenet", input_shape=shape, **spec.kwargs, **extra)
    except Exception as error:  # noqa: BLE001 - a failed download surfaces as many error types
        raise WeightsUnavailable(
            f"No pretrained ImageNet weights for {spec.name}: {spec.weight_file} is not in {looked}, "
            f"and the download failed ({type(error).__name__}). {advice}"
        ) from None
    return base, WeightsInfo(True, f"keras-download-{spec.weight_file}", "ImageNet weights downloaded by Keras")


def build_head(num_classes: int, head_units: int = 128, dropout: float = 0.3, seed: int = 42) -> list:
    """The lesson's new head, not yet wired to anything: Dense(128, relu) → Dropout(0.3) → Dense(softmax).

    Initialisers and dropout carry explicit seeds so two builds with the same seed start identical,
    whatever else has drawn random numbers before.
    """
    return [
        keras.layers.Dense(head_units, activation="relu", name="head_dense",
                           kernel_initializer=keras.initializers.GlorotUniform(seed)),
        keras.layers.Dropout(dropout, seed=seed, name="head_dropout"),
        keras.layers.Dense(num_classes, activation="softmax", name="predictions",
                           kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
    ]


def build_classifier(
    base,
    num_classes: int,
    preprocessing: str = "tf",
    head_units: int = 128,
    dropout: float = 0.3,
    seed: int = 42,
    head: list | None = None,
):
    """The lesson's model: frozen base (``training=False``) → GAP → the head (``build_head``, or ``head``).

    Calling ``base`` here hangs this model's node on it: build on a base of your own (``private_copy``),
    never on the process-wide shared one, or every model built stays attached to it.
    """
    base.trainable = False
    size = base.input_shape[1]
    inputs = keras.Input(shape=(size, size, 3), name="pixels")
    x = preprocess_layer(preprocessing)(inputs)
    x = base(x, training=False)  # BatchNorm stays in inference mode, even when fine-tuning
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    for layer in head or build_head(num_classes, head_units, dropout, seed):
        x = layer(x)
    return keras.Model(inputs, x, name=f"{base.name}_transfer")


_shared_bases: dict[tuple, tuple] = {}


def shared_base(key: str, image_size: int, pretrained: bool, seed: int):
    """``(base, WeightsInfo)``: a frozen base built once per process, for reading photos only.

    Never made trainable and never wired into a student's model (see ``build_classifier``): the
    feature cache runs it, and ``private_copy`` gives each model its own.
    """
    memo_key = (key, image_size, pretrained, seed if not pretrained else None)
    if memo_key not in _shared_bases:
        base, info = build_base(key, image_size, pretrained, seed)
        base.trainable = False
        _shared_bases[memo_key] = (base, info)
    return _shared_bases[memo_key]


def private_copy(base):
    """A copy of ``base`` with its own layers and weights (equal to ``base``'s now)."""
    copy = keras.models.clone_model(base)
    copy.set_weights(base.get_weights())
    return copy


HEAD_LAYER_NAMES = ("head_dense", "head_dropout", "predictions")


def base_of(model):
    """The nested base model inside a classifier built by ``build_classifier``."""
    names = {"pixels", "preprocess", "pool", *HEAD_LAYER_NAMES}
    return next(layer for layer in model.layers if layer.name not in names)


def unfreeze_top(base, unfreeze: int) -> None:
    """Exactly the lesson: ``base.trainable = True`` then ``base.layers[:-unfreeze]`` frozen again.

    ``unfreeze = 0`` means "no fine-tuning" (the lesson's slice ``[:-0]`` would unfreeze everything).
    """
    if unfreeze <= 0:
        base.trainable = False
        return
    base.trainable = True
    for layer in base.layers[:-unfreeze]:
        layer.trainable = False


def count_params(weights) -> int:
    """Numbers in these weights (variables or arrays)."""
    return int(sum(math.prod(int(d) for d in w.shape) for w in weights))


def trainable_counts(base, unfreeze: int) -> dict:
    """Trainable/frozen layer and parameter counts of the base when its top ``unfreeze`` layers are unfrozen.

    BatchNorm moving statistics are never trained, so they always count as frozen.
    """
    layers = base.layers
    unfreeze = max(0, min(unfreeze, len(layers)))
    top = layers[len(layers) - unfreeze :] if unfreeze else []
    top_ids = {id(layer) for layer in top}
    trainable = sum(count_params(_learnable(layer)) for layer in top)
    total = count_params(base.weights)
    return {
        "layers_total": len(layers),
        "layers_trainable": sum(1 for layer in top if layer.weights),
        "layers_unfrozen": len(top),
        "layers_frozen": len(layers) - len(top),
        "params_trainable": trainable,
        "params_frozen": total - trainable,
        "params_total": total,
        "unfrozen_layer_names": [layer.name for layer in layers if id(layer) in top_ids],
    }


def _learnable(layer) -> list:
    """Weights an optimizer would change if the layer were trainable (not BatchNorm statistics)."""
    if isinstance(layer, keras.layers.BatchNormalization):
        return [layer.gamma, layer.beta] if layer.scale and layer.center else [
            w for w in (layer.gamma, layer.beta) if w is not None
        ]
    return list(layer.weights)


@dataclass(frozen=True)
class ArchitectureFacts:
    key: str
    params_total: int  # with the ImageNet classification top
    params_no_top: int
    layers_no_top: int
    layers_total: int
    default_size: int
    size_mb_float32: float  # the no-top weights stored as float32


def architecture_facts(key: str) -> ArchitectureFacts:
    """Counts from the real architectures (built with ``weights=None``), cached on disk per Keras version."""

    cache_file = config.cache_dir() / f"architecture-{version('keras')}.json"
    table = json.loads(cache_file.read_text()) if cache_file.is_file() else {}
    if key not in table:
        spec = base_spec(key)
        constructor = getattr(keras.applications, spec.constructor)
        shape = (spec.default_size, spec.default_size, 3)
        full = constructor(include_top=True, weights=None, input_shape=shape, **spec.kwargs)
        facts = {"params_total": full.count_params(), "layers_total": len(full.layers)}
        del full
        no_top = constructor(include_top=False, weights=None, input_shape=shape, **spec.kwargs)
        facts.update(
            params_no_top=no_top.count_params(),
            layers_no_top=len(no_top.layers),
            size_mb_float32=round(no_top.count_params() * 4 / 1e6, 1),
        )
        del no_top
        table = json.loads(cache_file.read_text()) if cache_file.is_file() else {}  # another session may have written
        table[key] = facts
        partial = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.{threading.get_ident()}.partial")
        partial.write_text(json.dumps(table, indent=1))
        os.replace(partial, cache_file)  # atomic: concurrent sessions never read half a file
    spec = base_spec(key)
    return ArchitectureFacts(key=key, default_size=spec.default_size, **table[key])
