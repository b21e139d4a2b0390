"""Uploaded models: their cost is checked before they run, they run in a memory-limited worker (the worst case
fails that student only), and Grad-CAM works on every model the app accepts or says it cannot."""

import json
import os
import zipfile

import numpy as np
import psutil
import pytest

from core.inference.explain import CannotExplain, grad_cam
from core.inference.isolated_model import WORKER, ModelRunFailed, load_isolated
from core.inference.model_file import METADATA_NAME, ModelFileProblem, check_model_file


def _keras_file(model, path, image_size: int, class_names=("daisy", "rose")) -> bytes:
    """``model`` saved by Keras with the app's metadata entry added: what a student could craft."""
    model.save(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(METADATA_NAME, json.dumps({"format": "transfer-learning-lab/1", "class_names": list(class_names),
                                                    "image_size": image_size}))
    return path.read_bytes()


def _upsampling_bomb(factor: int, size: int = 1024):
    import keras

    return keras.Sequential([keras.Input((size, size, 3), name="pixels"), keras.layers.Rescaling(1 / 255, name="preprocess"),
                             keras.layers.UpSampling2D(factor), keras.layers.GlobalAveragePooling2D(name="pool"),
                             keras.layers.Dense(2, activation="softmax", name="predictions")])


def _lab_shaped(size: int = 64):
    """The lab's layer names around a tiny nested base: what Grad-CAM needs."""
    import keras

    pixels = keras.Input((size, size, 3), name="pixels")
    base = keras.Sequential([keras.Input((size, size, 3)), keras.layers.Conv2D(4, 3, strides=2, activation="relu")],
                            name="tiny_base")
    x = base(keras.layers.Rescaling(1 / 127.5, offset=-1, name="preprocess")(pixels))
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(0.2, name="head_dropout")(keras.layers.Dense(8, activation="relu", name="head_dense")(x))
    return keras.Model(pixels, keras.layers.Dense(2, activation="softmax", name="predictions")(x))


def test_the_18_kb_upsampling_model_is_refused_before_it_runs_with_the_figures(tmp_path):
    data = _keras_file(_upsampling_bomb(12), tmp_path / "bomb.keras", 1024)
    assert len(data) < 64 * 1024  # tiny on disk
    with pytest.raises(ModelFileProblem, match=r"MB of memory for one photo.*12288x12288x3.*allows 512 MB"):
        check_model_file(tmp_path / "bomb.keras")
    server = psutil.Process().memory_info().rss
    with pytest.raises(ModelFileProblem):
        load_isolated(data, "bomb.keras")
    assert psutil.Process().memory_info().rss - server < 200 * 1024**2  # nothing was built here


def test_a_model_over_the_worker_memory_fails_that_request_only(tmp_path, monkeypatch):
    """Within the cost estimate but over a small worker limit: the worker dies, the server carries on."""
    monkeypatch.setenv("TLL_UPLOAD_MODEL_MEMORY_MB", "1800")
    monkeypatch.setenv("TLL_UPLOAD_MODEL_ACTIVATION_MB", "10000")  # the estimate lets it through
    WORKER.close()
    data = _keras_file(_upsampling_bomb(6), tmp_path / "big.keras", 1024)  # 6144² x 3 floats: ~450 MB a copy
    server = psutil.Process().memory_info().rss
    with pytest.raises(ModelRunFailed, match="needed more memory than this server gives an uploaded model"):
        load_isolated(data, "big.keras")
    assert psutil.Process().memory_info().rss - server < 200 * 1024**2
    monkeypatch.undo()
    WORKER.close()
    small = load_isolated(_keras_file(_lab_shaped(), tmp_path / "ok.keras", 64), "ok.keras")  # a new worker
    assert small.model.predict_on_batch(np.zeros((1, 64, 64, 3), np.float32)).shape == (1, 2)


def test_grad_cam_works_on_a_lab_shaped_upload_and_says_it_cannot_on_another_shape(tmp_path):
    photo = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    lab = load_isolated(_keras_file(_lab_shaped(), tmp_path / "lab.keras", 64), "lab.keras")
    heatmap = grad_cam(lab.model, photo, 1)
    assert heatmap.ndim == 2 and heatmap.shape == (31, 31) and np.isfinite(heatmap).all()
    worker_pid = WORKER.pid()
    other = load_isolated(_keras_file(_upsampling_bomb(1, 64), tmp_path / "flat.keras", 64), "flat.keras")
    with pytest.raises(CannotExplain, match="cannot be shown"):
        grad_cam(other.model, photo, 0)
    assert WORKER.pid() == worker_pid  # a refusal, not a crash
    assert os.path.exists(other.model.path)
