"""LiteRT (TensorFlow Lite) files from a Keras model, run with the maintained ``ai-edge-litert`` interpreter.

How the files are made, in the pinned versions (TensorFlow 2.21, Keras 3.15): the model is written once as a
SavedModel (``model.export(folder, format="tf_saved_model")``) and TensorFlow's ``TFLiteConverter`` turns that
folder into two files: float32, and dynamic-range quantised (``Optimize.DEFAULT`` with no representative data:
weights stored as 8-bit integers, activations stay float). Keras 3.15's ``format="litert"`` works as well, but
it rebuilds the SavedModel for every file, and it allows TensorFlow "select" ops, which the LiteRT interpreter
cannot run without the Flex delegate; we allow built-in ops only, so a model LiteRT cannot run fails here,
with a message, rather than on a phone.

The files are read by ``ai_edge_litert.interpreter.Interpreter`` (``tf.lite.Interpreter`` is deprecated).
Importing this module imports neither TensorFlow nor LiteRT.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.utils import paths as config

FLOAT32, INT8 = "float32", "int8"
FILE_NAMES = {FLOAT32: "model.tflite", INT8: "model_int8.tflite"}
# One conversion at a time per process: on a shared classroom server two at once only make both slower
# (each uses every core it can) and double the memory.
_CONVERTING = threading.Lock()


@dataclass
class Conversion:
    kind: str  # FLOAT32 or INT8
    path: Path | None  # None when it failed
    error: str = ""


def convert(model, folder: str | Path, on_step=None) -> list[Conversion]:
    """``model.tflite`` and ``model_int8.tflite`` in ``folder``. A failure is reported, never half-written.

    ``on_step(fraction, message)`` is told before each slow step (each takes tens of seconds at 224 px);
    ``fraction`` is how much of the conversion is done (0, 1/3, 2/3).
    """
    config.quiet_tensorflow_logs()
    import tensorflow as tf

    folder = Path(folder)
    step = on_step or (lambda fraction, message: None)
    if not _CONVERTING.acquire(blocking=False):
        step(0.0, "Waiting for another student's export to finish")
        _CONVERTING.acquire()
    try:
        return _convert(model, folder, step, tf)
    finally:
        _CONVERTING.release()


def _convert(model, folder: Path, step, tf) -> list[Conversion]:
    with tempfile.TemporaryDirectory(prefix="tll-savedmodel-") as saved:
        step(0.0, "Writing the model as a TensorFlow SavedModel")
        try:
            model.export(saved, format="tf_saved_model", verbose=False)
        except Exception as error:  # noqa: BLE001 - tracing can fail in many ways; both files are then impossible
            reason = f"the model could not be written as a SavedModel ({type(error).__name__}: {error})"
            return [Conversion(kind, None, reason) for kind in FILE_NAMES]
        results = []
        for done, (kind, name) in enumerate(FILE_NAMES.items(), start=1):
            step(done / 3, f"Converting to LiteRT, {'8-bit weights' if kind == INT8 else 'float32'}")
            try:
                converter = tf.lite.TFLiteConverter.from_saved_model(saved)
                converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
                if kind == INT8:
                    converter.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative data: dynamic range
                flat = converter.convert()
                results.append(Conversion(kind, _write_atomically(folder / name, flat)))
            except Exception as error:  # noqa: BLE001 - converter errors are many types; report and go on
                results.append(Conversion(kind, None, f"{type(error).__name__}: {str(error)[:300]}"))
    return results


def _write_atomically(path: Path, data: bytes) -> Path:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


class LiteRTModel:
    """A ``.tflite`` classifier: one ``size x size x 3`` photo of raw 0..255 pixels in, probabilities out."""

    def __init__(self, path: str | Path):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        self.interpreter = Interpreter(model_path=str(path))
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]

    @property
    def image_size(self) -> int:
        return int(self._input["shape"][1])

    def predict_one(self, image) -> np.ndarray:
        batch = np.asarray(image, dtype=np.float32)[None]
        self.interpreter.set_tensor(self._input["index"], batch)
        self.interpreter.invoke()
        return np.array(self.interpreter.get_tensor(self._output["index"])[0], dtype=np.float32)

    def predict_timed(self, images) -> tuple[np.ndarray, list[float]]:
        """Probabilities for each photo, one at a time as a phone app would, and the seconds each took."""
        self.predict_one(images[0])  # warm-up: the first call prepares the kernels
        rows, seconds = [], []
        for image in images:
            start = time.perf_counter()
            rows.append(self.predict_one(image))
            seconds.append(time.perf_counter() - start)
        return np.stack(rows), seconds
