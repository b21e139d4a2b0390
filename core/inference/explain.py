"""Grad-CAM: which parts of the photo pushed the model towards a class ("where the model looked").

Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization"
(arXiv:1610.02391). For one class: take the base's last feature map ``A`` (``h x w x channels``), the
gradient of the class score with respect to it, average that gradient over the map to get one weight
per channel, and add up the channels with those weights; negative values are cut to zero. The result
has the feature map's resolution (3x3 for MobileNetV2 at 96 px, 5x5 at 160 px, 7x7 at 224 px): coarse,
but honest about what the model can tell apart.

No Streamlit here. TensorFlow is imported inside ``grad_cam``, not at the top: the Predict page imports this
module before any model exists. ``overlay`` is plain NumPy + Pillow.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.models.bases import base_of


class CannotExplain(ValueError):
    """This model is not shaped like the lab's classifiers, so Grad-CAM cannot say where it looked."""


EXPLAINED_LAYERS = ("preprocess", "pool", "head_dense", "head_dropout", "predictions")


def explainable(model) -> str | None:
    """Why Grad-CAM cannot run on ``model`` (None: it can): it needs the lab's preprocess, a nested base with a
    4-D feature map, and the head."""
    names = [layer.name for layer in model.layers]
    missing = [name for name in EXPLAINED_LAYERS if name not in names]
    bases = [layer for layer in model.layers if layer.name not in {"pixels", *EXPLAINED_LAYERS}]
    if missing or len(bases) != 1 or len(getattr(bases[0], "output_shape", ()) or ()) != 4:
        return ("This model is not built like the models this app trains (a base model, then a pooling layer and "
                "a head), so “where the model looked” cannot be shown for it. Its answers above still count.")
    return None


def grad_cam(model, image_uint8: np.ndarray, class_index: int | None = None) -> np.ndarray:
    """Grad-CAM heatmap (float32, ``[h, w]``, 0..1) for one ``size x size x 3`` uint8 photo.

    ``model`` is a classifier built by ``core.models.bases.build_classifier`` (or loaded from a file saved by
    the lab). Its pieces are run by hand: the preprocess layer, the base with ``training=False`` (its
    output, the last feature map, is watched by the tape), the pooling, the head with dropout inactive.
    The class score is the pre-softmax logit of ``class_index`` (the most likely class if None), as in
    the paper: softmax probabilities saturate near 100% and would give vanishing gradients.

    All zeros means nothing in the photo argued *for* that class. Read-only: the model is not changed.
    A model of another shape raises ``CannotExplain`` (its message is for the student).
    """
    if hasattr(model, "grad_cam"):  # an uploaded model, run in its worker process (core.inference.isolated_model)
        return model.grad_cam(image_uint8, class_index)
    import tensorflow as tf

    image = np.asarray(image_uint8)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected one RGB photo of shape (size, size, 3), got {image.shape}")
    reason = explainable(model)
    if reason:
        raise CannotExplain(reason)
    base = base_of(model)
    preprocess = model.get_layer("preprocess")
    pool = model.get_layer("pool")
    dense = model.get_layer("head_dense")
    dropout = model.get_layer("head_dropout")
    predictions = model.get_layer("predictions")

    pixels = tf.convert_to_tensor(image[None].astype("float32"))
    feature_map = tf.convert_to_tensor(base(preprocess(pixels), training=False))
    with tf.GradientTape() as tape:
        tape.watch(feature_map)
        hidden = dropout(dense(pool(feature_map)), training=False)
        logits = tf.matmul(hidden, tf.convert_to_tensor(predictions.kernel))
        if predictions.use_bias:
            logits = logits + tf.convert_to_tensor(predictions.bias)
        if class_index is None:
            class_index = int(tf.argmax(logits[0]))
        if not 0 <= class_index < int(logits.shape[-1]):
            raise ValueError(f"class_index {class_index} is not between 0 and {int(logits.shape[-1]) - 1}")
        score = logits[0, class_index]
    gradients = tape.gradient(score, feature_map)[0]  # h x w x channels
    weights = tf.reduce_mean(gradients, axis=(0, 1))  # one weight per channel
    cam = tf.nn.relu(tf.reduce_sum(feature_map[0] * weights, axis=-1)).numpy().astype(np.float64)
    top = cam.max()
    if not np.isfinite(top) or top <= 1e-12:
        return np.zeros(cam.shape, dtype=np.float32)
    return (cam / top).astype(np.float32)


# viridis (matplotlib's default) at 0, 1/8, ... 1: its brightness rises steadily, so the scale reads the same
# for colour-blind students and in greyscale; jet's red/green middle does neither.
_VIRIDIS = np.array([[0x44, 0x01, 0x54], [0x47, 0x2D, 0x7B], [0x3B, 0x52, 0x8B], [0x2C, 0x72, 0x8E], [0x21, 0x91, 0x8C],
                     [0x28, 0xAE, 0x80], [0x5E, 0xC9, 0x62], [0xAD, 0xDC, 0x30], [0xFD, 0xE7, 0x25]], np.float32)


def heat_colours(values: np.ndarray) -> np.ndarray:
    """0 -> dark purple, 0.5 -> teal, 1 -> bright yellow (viridis). uint8 ``[..., 3]``."""
    x = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float32)), 0.0, 1.0)
    anchors = np.linspace(0.0, 1.0, len(_VIRIDIS))
    channels = [np.interp(x, anchors, _VIRIDIS[:, c]) for c in range(3)]
    return (np.stack(channels, axis=-1) + 0.5).astype(np.uint8)


def resize_heatmap(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The heatmap stretched to ``size`` = ``(width, height)`` with bilinear interpolation, float32 0..1."""
    heat = np.nan_to_num(np.asarray(heatmap, dtype=np.float32), nan=0.0)
    if heat.ndim != 2:
        raise ValueError(f"a heatmap is 2-D, got shape {heat.shape}")
    resized = Image.fromarray(heat).resize(size, Image.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def heatmap_legend(width: int = 256, height: int = 12) -> np.ndarray:
    """The overlay's colour scale as a uint8 image, 0 (left) to 1 (right): the legend beside the overlay."""
    return np.repeat(heat_colours(np.linspace(0.0, 1.0, width))[None], height, axis=0)


def overlay(photo: Image.Image, heatmap: np.ndarray, alpha: float = 0.45) -> Image.Image:
    """The photo with the heatmap drawn over it (bright yellow = looked here most); same size as the photo."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError("alpha must be between 0 and 1")
    rgb = photo.convert("RGB")
    colours = heat_colours(resize_heatmap(heatmap, rgb.size)).astype(np.float32)
    blended = (1.0 - alpha) * np.asarray(rgb, dtype=np.float32) + alpha * colours
    return Image.fromarray(np.clip(blended + 0.5, 0, 255).astype(np.uint8))
