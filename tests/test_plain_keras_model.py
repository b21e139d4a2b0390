"""The ``model.keras`` a student takes home opens with plain Keras (no code of this project on the path, safe mode
on) and answers like the app; files saved by earlier versions, with the app's own layer inside, still load here."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import FLOWERS, ROOT

from core.inference import model_file
from core.models.bases import preprocess_layer, preprocess_layer_class

DATA = Path(__file__).parent / "data"
MODES = ("tf", "lesson", "caffe", "none")
EARLIER = DATA / "earlier_version.keras"  # made by commit 2ff5096 with the old layer (tll>Preprocess)

# Run by a fresh Python in isolated mode (-I: no PYTHONPATH, no current folder, no user site-packages), with a
# temporary folder as its working directory: only Keras and what it needs can be imported.
PLAIN_KERAS = """
import json, sys
import numpy as np
import keras

pixels = np.load("pixels.npy")
answers, refusals = {}, {}
for name in sys.argv[1:]:
    try:
        answers[name] = keras.saving.load_model(name).predict(pixels, verbose=0).tolist()  # safe_mode=True
    except Exception as error:
        refusals[name] = str(error)
ours = sorted(m for m in sys.modules if m.split(".")[0] in ("core", "ui", "app_pages", "conftest"))
print(json.dumps({"answers": answers, "refusals": refusals, "our_modules": ours, "path": sys.path}))
"""


def run_isolated(folder: Path, code: str, *args: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-I", "-c", code, *args], cwd=folder, capture_output=True, text=True,
                         timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def plain_keras_answers(folder: Path, pixels: np.ndarray, *files: str) -> dict:
    np.save(folder / "pixels.npy", pixels)
    report = json.loads(run_isolated(folder, PLAIN_KERAS, *files).strip().splitlines()[-1])
    assert report["our_modules"] == []
    assert str(ROOT) not in report["path"] and "" not in report["path"]
    return report


def _metadata(size: int, mode: str) -> dict:
    return {"format": model_file.FORMAT, "class_names": ["daisy", "roses", "tulips"], "image_size": size,
            "preprocessing": mode, "config": {"data": "tf_flowers", "seed": 42}, "test": {"n": 0}}


def _tiny_model(preprocess, size: int = 32):
    import keras

    inputs = keras.Input((size, size, 3), name="pixels")
    x = preprocess(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(3))(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(3, activation="softmax", kernel_initializer=keras.initializers.GlorotUniform(4))(x)
    return keras.Model(inputs, outputs)


def _pixels(n: int = 4, size: int = 32) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, size, size, 3)).astype("float32")


@pytest.mark.parametrize("mode", MODES)
def test_the_preprocessing_is_keras_own_layers_and_gives_what_it_gave_before(mode):
    import keras

    new = _tiny_model(preprocess_layer(mode))
    old = _tiny_model(preprocess_layer_class()(mode, name="preprocess"))
    assert model_file.code_inside(json.loads(new.to_json())) == []
    assert not any(">" in str(node.get("registered_name")) for node in model_file._walk(json.loads(new.to_json()))
                   if isinstance(node, dict))
    assert new.get_layer("preprocess").trainable_weights == []  # nothing in it can be trained
    x = _pixels()
    np.testing.assert_array_equal(new.predict(x, verbose=0), old.predict(x, verbose=0))  # bit for bit
    inside = keras.Model(new.input, new.get_layer("preprocess").output).predict(x, verbose=0)
    expected = {"tf": keras.applications.mobilenet_v2.preprocess_input(x.copy()),
                "caffe": keras.applications.vgg16.preprocess_input(x.copy()),
                "lesson": x / 255.0, "none": x}[mode]
    np.testing.assert_allclose(inside, expected, rtol=0, atol=1e-5)


def test_models_of_every_preprocessing_open_with_plain_keras_and_answer_like_the_app(tmp_path):
    files = []
    for mode in MODES:
        model_file.save_model_file(_tiny_model(preprocess_layer(mode)), _metadata(32, mode), tmp_path / f"{mode}.keras")
        files.append(f"{mode}.keras")
    shutil.copy(EARLIER, tmp_path / "earlier.keras")
    pixels = _pixels()
    report = plain_keras_answers(tmp_path, pixels, *files, "earlier.keras")
    assert sorted(report["answers"]) == sorted(files)
    for name in files:
        app_model, _ = model_file.load_checked(tmp_path / name)
        app = app_model.predict(pixels, verbose=0)
        assert np.abs(np.array(report["answers"][name]) - app).max() <= 1e-6
    # Why this matters: plain Keras cannot open a file of an earlier version (its layer is the app's own code).
    assert "Could not locate class 'Preprocess'" in report["refusals"]["earlier.keras"]


def test_a_file_saved_by_an_earlier_version_still_loads_in_the_app():
    model, metadata = model_file.load_checked(EARLIER)
    assert metadata["class_names"] == ["daisy", "roses", "tulips"]
    assert model.get_layer("preprocess").mode == "tf"  # the old layer came back as itself
    expected = json.loads((DATA / "earlier_version.json").read_text())["probabilities"]
    np.testing.assert_allclose(model.predict(_pixels(3), verbose=0), expected, rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def trained_file(flowers_model, flowers_model_file):
    return flowers_model, flowers_model_file


@pytest.mark.slow
def test_a_trained_model_from_take_it_home_opens_with_plain_keras_and_answers_like_the_app(trained_file, tmp_path):
    from core.inference import load_trained_model
    from core.inference.predict import prepare_photo

    result, path = trained_file
    shutil.copy(path, tmp_path / "model.keras")
    photos = [sorted((FLOWERS / name).glob("*.jpg"))[-1] for name in result.class_names]
    pixels = np.stack([prepare_photo(photo, 96)[1] for photo in photos]).astype("float32")
    plain = np.array(plain_keras_answers(tmp_path, pixels, "model.keras")["answers"]["model.keras"])
    app = load_trained_model(path).model.predict(pixels, verbose=0)
    assert plain.shape == (len(photos), len(result.class_names))
    assert np.abs(plain - app).max() <= 1e-6


@pytest.mark.slow
def test_the_model_cards_lines_classify_a_photo_in_plain_keras_like_the_app(trained_file, tmp_path):
    from core.export.model_card import keras_lines
    from core.inference import load_trained_model
    from core.inference.predict import prepare_photo

    result, path = trained_file
    metadata = model_file.read_metadata(path)
    shutil.copy(path, tmp_path / "model.keras")
    photo = sorted((FLOWERS / "roses").glob("*.jpg"))[-1]
    shutil.copy(photo, tmp_path / "photo.jpg")
    printed = ast.literal_eval(run_isolated(tmp_path, "\n".join(keras_lines(metadata))).strip().splitlines()[-1])
    app = load_trained_model(path).model.predict(prepare_photo(photo, 96)[1][None].astype("float32"), verbose=0)[0]
    assert list(printed) == result.class_names
    assert list(printed.values()) == [f"{p:.1%}" for p in app]
