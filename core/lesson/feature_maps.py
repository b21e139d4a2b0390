"""What MobileNetV2's first conv block makes of a photo, pretrained next to random: the Concept page's
"what does a pretrained base see?" panel.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.models import bases as models
from core.models.layer_table import TABLE_KEY, TABLE_SIZE
from core.photos.images import looks_like_image
from core.utils import paths as config

FEATURE_LAYER = "Conv1_relu"


@dataclass
class FeatureMaps:
    image: np.ndarray  # the photo as the network saw it, uint8 (224, 224, 3)
    pretrained: np.ndarray  # (n_maps, H, W) float32 in 0..1
    random: np.ndarray  # (n_maps, H, W) float32 in 0..1
    pretrained_channels: list[int]
    random_channels: list[int]
    layer: str
    channels_total: int  # maps the layer makes; the most active ``n_maps`` are shown
    weights: str  # where the pretrained weights came from


_feature_models: dict[tuple, object] = {}
_feature_lock = threading.Lock()


def _conv1_model(pretrained: bool, seed: int):
    """Input -> ``Conv1_relu`` of MobileNetV2, pretrained or randomly initialised (kept in memory)."""
    spec = models.base_spec(TABLE_KEY)
    where = config.find_weight_file(spec.weight_file) if pretrained else None
    memo_key = ("pretrained", str(where)) if pretrained else ("random", seed)
    with _feature_lock:
        if memo_key not in _feature_models or (pretrained and where is None):
            import keras  # here, not at the top: the Concept page imports this module and may never ask for maps

            base, info = models.build_base(TABLE_KEY, TABLE_SIZE, pretrained=pretrained, seed=seed)
            front = keras.Model(base.input, base.get_layer(FEATURE_LAYER).output, name=f"conv1_{memo_key[0]}")
            _feature_models[memo_key] = (front, info.description)
        return _feature_models[memo_key]


def _most_active(maps: np.ndarray, n_maps: int) -> tuple[np.ndarray, list[int]]:
    """The ``n_maps`` channels with the most spatial variation, each stretched to 0..1."""
    spread = maps.reshape(-1, maps.shape[-1]).std(axis=0)
    channels = [int(c) for c in np.argsort(-spread, kind="stable")[:n_maps]]
    chosen = np.moveaxis(maps[..., channels], -1, 0).astype(np.float32)
    low = chosen.min(axis=(1, 2), keepdims=True)
    high = chosen.max(axis=(1, 2), keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    return np.clip((chosen - low) / span, 0.0, 1.0).astype(np.float32), channels


def first_layer_feature_maps(image_uint8: np.ndarray, n_maps: int = 8, seed: int = 42) -> FeatureMaps:
    """What MobileNetV2's first conv block (Conv1 + BatchNorm + ReLU6) makes of a photo.

    Pretrained ImageNet weights next to a randomly initialised network (seeded), same photo, same
    preprocessing. Each side shows its ``n_maps`` most active channels (largest spatial spread),
    stretched to 0..1 for display. Raises ``models.WeightsUnavailable`` without pretrained weights.
    """
    image = np.asarray(image_uint8)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), not {image.shape}")
    if image.shape[:2] != (TABLE_SIZE, TABLE_SIZE):
        image = np.asarray(Image.fromarray(image.astype(np.uint8)).resize((TABLE_SIZE, TABLE_SIZE), Image.BILINEAR))
    image = image.astype(np.uint8)
    n_maps = max(1, min(int(n_maps), 32))
    pretrained_front, description = _conv1_model(True, seed)
    random_front, _ = _conv1_model(False, seed)
    batch = image[None].astype(np.float32) / 127.5 - 1.0  # MobileNetV2's own preprocessing
    trained_maps, trained_channels = _most_active(np.asarray(pretrained_front(batch, training=False))[0], n_maps)
    raw_random = np.asarray(random_front(batch, training=False))[0]
    random_maps, random_channels = _most_active(raw_random, n_maps)
    return FeatureMaps(
        image,
        trained_maps,
        random_maps,
        trained_channels,
        random_channels,
        FEATURE_LAYER,
        raw_random.shape[-1],
        description,
    )


def sample_flowers(limit: int = 3) -> dict[str, list[Path]]:
    """A few photos per class from the configured flower folder (``{}`` if none is configured)."""
    folder = config.bundle_flowers_dir()
    if folder is None:
        return {}
    samples = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        photos = sorted(p for p in sub.iterdir() if p.is_file() and looks_like_image(p))[:limit]
        if photos:
            samples[sub.name] = photos
    return samples
