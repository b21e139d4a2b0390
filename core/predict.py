"""Classifying one photo with a trained model, and showing where it looked (Grad-CAM)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import config


@dataclass
class LoadedModel:
    model: object
    class_names: list[str]
    image_size: int
    metadata: dict


def load_trained_model(path: str) -> LoadedModel:
    from core.export import read_metadata
    from core.models import preprocess_layer_class

    config.quiet_tensorflow_logs()
    import keras

    metadata = read_metadata(path)
    preprocess_layer_class()  # registers the custom layer before loading
    model = keras.models.load_model(path, compile=False)
    return LoadedModel(model, list(metadata["class_names"]), int(metadata["image_size"]), metadata)


def classify_array(model, image: np.ndarray) -> np.ndarray:
    """Class probabilities for one ``size x size x 3`` uint8 photo."""
    return np.asarray(model.predict_on_batch(image[None].astype("float32")))[0]
