"""What an uploaded model would cost to run, read from its architecture before anything is built.

A tiny file can describe a huge computation: an 18 KB model of Keras's own layers (a 1024 px input blown up
12 times by ``UpSampling2D``) took the server from 0.8 to 2.7 GB for one prediction. Here the layers listed in
``config.json`` are walked in order, following the photo's height, width and channels, to count parameters
and the largest activation (float32, one photo). Branches (residual blocks) keep their input's size, so
walking in order is close enough for a budget; a model over it is refused with the figures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MB = 1024 * 1024
MAX_PARAMETERS = 60_000_000  # ResNet50 / InceptionV3 with a head: ~25 M
MAX_ACTIVATION_MB = 512  # estimated memory to run one photo through (see ``estimate``); TLL_UPLOAD_MODEL_ACTIVATION_MB
LIVE_COPIES = 3  # a layer's input and output, and the framework's scratch space, live at once


@dataclass(frozen=True)
class ModelCost:
    parameters: int
    largest_activation: tuple[int, int, int]
    activation_bytes: int  # estimated memory for one photo: LIVE_COPIES x the largest activation

    def problem(self, name: str) -> str | None:
        """Why the server will not run this model (None: within budget)."""
        if self.parameters > MAX_PARAMETERS:
            return (f"{name} has {self.parameters / 1e6:.0f} million parameters; this server runs uploaded models up "
                    f"to {MAX_PARAMETERS / 1e6:.0f} million, so it was not loaded.")
        budget = activation_budget_mb()
        if self.activation_bytes > budget * MB:
            h, w, c = self.largest_activation
            return (f"{name} would need about {self.activation_bytes / MB:,.0f} MB of memory for one photo (a {h}x{w}x{c} "
                    f"layer inside); this server allows {budget:,} MB per uploaded model, so it "
                    "was not loaded. Models trained in this app need far less.")
        return None


def activation_budget_mb() -> int:
    return int(os.environ.get("TLL_UPLOAD_MODEL_ACTIVATION_MB", MAX_ACTIVATION_MB))


def _pair(value, default=1) -> tuple[int, int]:
    if value is None:
        return default, default
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and all(isinstance(v, (list, tuple)) for v in value):  # ((top, bottom), (left, right))
            return int(sum(value[0])), int(sum(value[1]))
        return int(value[0]), int(value[-1])
    return int(value), int(value)


def _out(size: int, kernel: int, stride: int, padding: str) -> int:
    if padding == "same":
        return -(-size // stride)
    return max(1, (size - kernel) // stride + 1)


def _layers(node):
    """Every leaf layer config in order, nested models (the base inside ours) opened."""
    config = node.get("config") or {}
    inner = config.get("layers") if isinstance(config, dict) else None
    if isinstance(inner, list):
        for layer in inner:
            if isinstance(layer, dict):
                yield from _layers(layer)
    else:
        yield node


def estimate(architecture: dict, image_size: int) -> ModelCost:
    h = w = int(image_size)
    c = 3
    parameters, largest = 0, (h, w, c)
    for layer in _layers(architecture):
        kind, cfg = str(layer.get("class_name")), layer.get("config") or {}
        if kind == "InputLayer":
            shape = cfg.get("batch_shape") or cfg.get("batch_input_shape") or []
            if len(shape) == 4 and all(isinstance(v, int) for v in shape[1:]):
                h, w, c = shape[1:]
        elif kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose"):
            kh, kw = _pair(cfg.get("kernel_size"))
            sh, sw = _pair(cfg.get("strides"))
            padding = str(cfg.get("padding", "valid")).lower()
            if kind == "Conv2DTranspose":
                h, w = h * sh, w * sw
            else:
                h, w = _out(h, kh, sh, padding), _out(w, kw, sw, padding)
            multiplier = int(cfg.get("depth_multiplier") or 1)
            if kind == "DepthwiseConv2D":
                parameters += kh * kw * c * multiplier
                c = c * multiplier
            elif kind == "SeparableConv2D":
                filters = int(cfg.get("filters") or c)
                parameters += kh * kw * c * multiplier + c * multiplier * filters
                c = filters
            else:
                filters = int(cfg.get("filters") or c)
                parameters += kh * kw * c * filters
                c = filters
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            ph, pw = _pair(cfg.get("pool_size"), 2)
            sh, sw = _pair(cfg.get("strides") or cfg.get("pool_size"), 2)
            padding = str(cfg.get("padding", "valid")).lower()
            h, w = _out(h, ph, sh, padding), _out(w, pw, sw, padding)
        elif kind == "UpSampling2D":
            fh, fw = _pair(cfg.get("size"), 2)
            h, w = h * fh, w * fw
        elif kind == "Resizing":
            h, w = int(cfg.get("height") or h), int(cfg.get("width") or w)
        elif kind == "ZeroPadding2D":
            ph, pw = _pair(cfg.get("padding"), 1)
            h, w = h + (ph if isinstance(cfg.get("padding"), list) else 2 * ph), w + (
                pw if isinstance(cfg.get("padding"), list) else 2 * pw)
        elif kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
            h = w = 1
        elif kind == "Flatten":
            h, w, c = 1, 1, h * w * c
        elif kind == "Dense":
            units = int(cfg.get("units") or c)
            parameters += c * units
            h, w, c = 1, 1, units
        elif kind == "BatchNormalization":
            parameters += 4 * c
        if h * w * c > largest[0] * largest[1] * largest[2]:
            largest = (h, w, c)
    return ModelCost(parameters, largest, LIVE_COPIES * 4 * largest[0] * largest[1] * largest[2])
