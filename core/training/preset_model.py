"""The "best for small data" preset as one ordinary Keras model: raw pixels in, class probabilities out.

Only Keras's own layers, so ``core.inference.model_file`` loads it in safe mode like any other model of this app,
and plain Keras opens it anywhere. The mirrored view is a fixed 0/1 matrix (a non-trainable ``Dense`` on the width
axis, between two ``Permute`` layers): exact, and no custom code in the file. The crop view uses the same
``CenterCrop`` + ``Resizing`` layers that made the training features (``core.training.photo_features.crop_layers``).
"""

from __future__ import annotations

import numpy as np

from core.models.bases import preprocess_layer
from core.training.photo_features import _frozen_base, crop_layers
from core.utils.lazy import LazyModule

keras = LazyModule("keras")  # the presets import this module; listing them needs no TensorFlow


def mirror(size: int):
    """``[batch, size, size, 3] -> the same photos mirrored left-right``, with standard layers only."""
    inputs = keras.Input(shape=(size, size, 3))
    x = keras.layers.Permute((1, 3, 2))(inputs)  # width last
    flip = keras.layers.Dense(size, use_bias=False, trainable=False, name="mirror_matrix")
    x = keras.layers.Permute((1, 3, 2))(flip(x))
    model = keras.Model(inputs, x, name="mirror")
    flip.set_weights([np.eye(size, dtype=np.float32)[::-1]])
    return model


def build_model(preset, head, n_classes: int):
    """Every view of the photo through every member's pooled layers, the linear head on each view, the
    views' probabilities averaged."""
    size = preset.image_size
    pixels = keras.Input(shape=(size, size, 3), name="pixels")
    as_float = keras.layers.Rescaling(1.0, name="as_float")(pixels)
    fronts = [_frozen_base(m.base, size, "model", preset.layers)[0] for m in preset.members]
    preprocess = preprocess_layer("tf")
    linear = keras.layers.Dense(n_classes, name="linear_head")
    softmax = keras.layers.Softmax(name="probabilities")
    outputs = []
    for view in preset.views:
        x = as_float
        if view.startswith("crop"):
            for layer in crop_layers(size):
                x = layer(x)
        if view.endswith("flip"):
            x = mirror(size)(x)
        x = preprocess(x)
        features = [front(x) for front in fronts]
        joined = keras.layers.Concatenate(name=f"features_{view}")(features) if len(features) > 1 else features[0]
        outputs.append(softmax(linear(joined)))
    probabilities = keras.layers.Average(name="average_views")(outputs) if len(outputs) > 1 else outputs[0]
    model = keras.Model(pixels, probabilities, name=f"preset_{preset.key}")
    linear.set_weights([head.weights.astype(np.float32), head.bias.astype(np.float32)])
    return model
