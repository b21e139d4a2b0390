"""The lesson's augmentation on pixels: random rotation, flip, zoom and shear (Keras preprocessing layers)."""

from __future__ import annotations

import keras
import numpy as np

from core.photos.images import load_array
from core.training.settings import SHEAR_FACTORS, AugmentConfig

CHUNK = 64  # 700 photos at 224 px would be 420 MB of floats at once


def augmenter(ops: AugmentConfig, seed: int):
    """A ``keras.Sequential`` of the switched-on augmentations, each seeded."""
    layers = []
    if ops.rotation:
        layers.append(keras.layers.RandomRotation(20 / 360, fill_mode="nearest", seed=seed))
    if ops.flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed + 1))
    if ops.zoom:
        layers.append(keras.layers.RandomZoom(0.2, fill_mode="nearest", seed=seed + 2))
    if ops.shear:
        shear = SHEAR_FACTORS[ops.shear_amount]
        layers.append(keras.layers.RandomShear(x_factor=shear, y_factor=shear, fill_mode="nearest", seed=seed + 3))
    return keras.Sequential(layers, name="augment")


def augment_images(images: np.ndarray, ops: AugmentConfig, seed: int) -> np.ndarray:
    """One random augmentation of each uint8 photo (used by the cache and the preview grid)."""
    layer = augmenter(ops, seed)
    chunks = [np.asarray(layer(images[i : i + CHUNK].astype("float32"), training=True))
              for i in range(0, len(images), CHUNK)]
    if not chunks:
        return images.copy()
    return np.clip(np.concatenate(chunks), 0, 255).astype(np.uint8)


def preview_augmentations(photo: str, ops: AugmentConfig, size: int, n: int = 6, seed: int = 0) -> np.ndarray:
    """``n`` random augmentations of one photo, for the preview grid."""
    image = load_array(photo, size)
    return augment_images(np.repeat(image[None], n, axis=0), ops, seed)
