"""core.inference.predict (photos in, honest verdicts out, the quick default model) and the Predict page."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from conftest import FLOWERS, ROOT
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.inference import predict as lab_predict
from core.inference.predict import (
    MAX_ENTROPY,
    MIN_CONFIDENCE,
    REASON_CLOSE_CALL,
    REASON_CONFIDENT,
    REASON_LOW_CONFIDENCE,
    REASON_UNFAMILIAR,
    judge,
    normalised_entropy,
    predict_photo,
    predict_probabilities,
    prepare_photo,
)
from core.photos.images import ImageProblem
from ui import state

FIVE = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]


def _jpeg(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **kwargs)
    return buffer.getvalue()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# --- prepare_photo ------------------------------------------------------------------------------------


def test_exif_rotated_photo_is_turned_upright():
    # Stored 60 wide x 40 high, left half red, right half blue; orientation 6 = "rotate 90° clockwise to view".
    stored = Image.new("RGB", (60, 40), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 30, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    display, model_input = prepare_photo(_jpeg(stored, exif=exif), 96)
    assert display.mode == "RGB" and display.size[0] < display.size[1]  # portrait now
    assert display.info["original_size"] == (40, 60)
    top, bottom = model_input[10, 48], model_input[-10, 48]
    assert top[0] > 200 and top[2] < 60  # the stored left (red) is now at the top
    assert bottom[2] > 200 and bottom[0] < 60
    assert model_input.shape == (96, 96, 3) and model_input.dtype == np.uint8


def test_rgba_png_transparency_becomes_white():
    image = Image.new("RGBA", (50, 50), (0, 128, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 25, 50))  # left half fully transparent
    display, model_input = prepare_photo(_png(image), 96)
    assert display.mode == "RGB"
    assert tuple(model_input[48, 5]) == (255, 255, 255)
    assert tuple(model_input[48, 90]) == (0, 128, 0)


def test_greyscale_and_cmyk_become_rgb():
    grey = Image.linear_gradient("L").resize((120, 80))
    display, model_input = prepare_photo(_png(grey), 96)
    assert display.mode == "RGB" and model_input.shape == (96, 96, 3)
    assert np.array_equal(model_input[..., 0], model_input[..., 1])
    cmyk = Image.new("CMYK", (70, 70), (0, 255, 255, 0))  # pure red in CMYK
    _, model_input = prepare_photo(_jpeg(cmyk), 96)
    red = model_input[48, 48].astype(int)
    assert red[0] > 200 and red[1] < 60 and red[2] < 60


@pytest.mark.parametrize("fmt", ["WEBP", "HEIF", "GIF", "TIFF", "BMP"])
def test_other_formats_phones_and_computers_make(fmt):
    from core.photos.images import HEIC_SUPPORTED

    if fmt == "HEIF" and not HEIC_SUPPORTED:
        pytest.skip("pillow-heif is not installed")
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (200, 30, 30)).save(buffer, fmt)
    display, model_input = prepare_photo(buffer.getvalue(), 96)
    assert display.size == (120, 90) and model_input.shape == (96, 96, 3)
    assert abs(int(model_input[48, 48, 0]) - 200) < 8 and model_input[48, 48, 1] < 45


def test_tiny_photo_is_upscaled():
    tiny = Image.fromarray(np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8))
    display, model_input = prepare_photo(_png(tiny), 96)
    assert model_input.shape == (96, 96, 3)
    assert display.info["original_size"] == (8, 8)
    assert min(display.size) >= 64  # big enough to see on a phone


def test_huge_photo_is_downscaled(tmp_path):
    huge = Image.new("RGB", (4000, 3000), (200, 180, 20))
    path = tmp_path / "huge.jpg"
    huge.save(path, quality=80)
    for source in (path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes())):
        display, model_input = prepare_photo(source, 160)
        assert max(display.size) == lab_predict.DISPLAY_MAX and display.size[0] > display.size[1]
        assert display.info["original_size"] == (4000, 3000)
        assert model_input.shape == (160, 160, 3)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_over_the_pixel_limit_is_refused_with_a_clear_message():
    bomb = Image.new("1", (8000, 7000))  # 56 megapixels, a tiny file
    with pytest.raises(ImageProblem, match="too large.*50 megapixels"):
        prepare_photo(_png(bomb), 96)


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"this is not a photo at all", "not a photo we can read"),
        (b"", "empty"),
        (_jpeg(Image.new("RGB", (300, 300), (9, 99, 199)))[:400], "damaged"),
    ],
)
def test_corrupted_bytes_give_a_clear_problem(payload, words):
    with pytest.raises(ImageProblem, match=words) as caught:
        prepare_photo(payload, 96)
    assert "Traceback" not in caught.value.reason and len(caught.value.reason) < 300


def test_missing_file_is_an_image_problem(tmp_path):
    with pytest.raises(ImageProblem, match="no file"):
        prepare_photo(tmp_path / "nope.jpg", 96)


# --- the verdict rule on synthetic probabilities ----------------------------------------------------


def test_entropy_is_normalised():
    assert normalised_entropy([1, 0, 0, 0, 0]) == pytest.approx(0.0)
    assert normalised_entropy([0.2] * 5) == pytest.approx(1.0)
    assert normalised_entropy([0.5, 0.5]) == pytest.approx(1.0)


def test_uniform_probabilities_are_not_sure():
    verdict = judge([0.2] * 5, FIVE)
    assert not verdict.sure and verdict.reason == REASON_UNFAMILIAR
    assert "Not sure" in verdict.message and "daisy, dandelion, roses, sunflowers or tulips" in verdict.message
    two = predict_probabilities([0.5, 0.5], ["cats", "dogs"])
    assert not two.sure and two.reason == REASON_CLOSE_CALL


def test_confident_when_peaked():
    prediction = predict_probabilities([0.01, 0.02, 0.9, 0.04, 0.03], FIVE)
    assert prediction.sure and prediction.reason == REASON_CONFIDENT
    assert prediction.label == "roses" and "roses (90%)" in prediction.message


def test_each_reason_of_the_rule():
    close = judge([0.02, 0.49, 0.47, 0.01, 0.01], FIVE)  # 2 points apart, votes not spread
    assert close.entropy <= MAX_ENTROPY and close.reason == REASON_CLOSE_CALL
    assert "dandelion" in close.message and "roses" in close.message
    low = judge([0.58, 0.37, 0.05, 0.0, 0.0], FIVE)  # 21 points ahead but below 60%
    assert low.confidence < MIN_CONFIDENCE and low.entropy <= MAX_ENTROPY and low.reason == REASON_LOW_CONFIDENCE
    spread = judge([0.62, 0.1, 0.1, 0.09, 0.09], FIVE)  # 62% and far ahead, but the rest spread out
    assert spread.entropy > MAX_ENTROPY and spread.reason == REASON_UNFAMILIAR
    binary = judge([0.7, 0.3], ["cats", "dogs"])  # entropy is not used for two classes
    assert binary.sure


def test_top_k_sorted_and_rule_shape():
    prediction = predict_probabilities([0.1, 0.3, 0.05, 0.5, 0.05], FIVE, top_k=3)
    assert [name for name, _ in prediction.top] == ["sunflowers", "dandelion", "daisy"]
    assert predict_probabilities([0.6, 0.4], ["a", "b"], top_k=3).top == [("a", 0.6), ("b", 0.4)]
    with pytest.raises(ValueError):
        judge([0.5, 0.5], FIVE)


# --- real models ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick():
    from core.training import quick_default_model

    return quick_default_model(image_size=96, epochs1=2)


def _test_split_photos(class_name: str) -> list[str]:
    from core.photos import datasets as data

    dataset = data.load_dataset(data.TF_FLOWERS, 42)
    return [p for p in dataset.paths("test") if f"/{class_name}/" in p.replace("\\", "/")]


@pytest.mark.slow
def test_quick_default_model_predicts_a_real_sunflower(quick):
    model, class_names, image_size = quick.model, quick.class_names, quick.image_size
    assert image_size == 96 and "sunflowers" in class_names
    assert "phase 1 only" in quick.summary_text and "no fine-tuning" in quick.summary_text
    assert f"it got {quick.test_accuracy:.0%} of" in quick.summary_text
    photos = _test_split_photos("sunflowers")  # the 29 sunflowers the model never trained on
    assert photos and all(Path(p).resolve().is_relative_to(FLOWERS.resolve()) for p in photos)
    predictions = [predict_photo(model, class_names, prepare_photo(p, image_size)[1], top_k=3) for p in photos]
    for prediction in predictions:
        probabilities = [p for _, p in prediction.top]
        assert len(prediction.top) == 3 and probabilities == sorted(probabilities, reverse=True)
        assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    right = [p for p in predictions if p.label == "sunflowers"]
    assert len(right) >= 0.6 * len(predictions)  # 2 epochs at 96 px: about 80%
    assert sum(p.sure for p in right) >= len(right) / 2
    best = max(right, key=lambda p: p.confidence)
    assert best.sure and best.confidence > 0.9 and "sunflowers" in best.message


@pytest.mark.slow
def test_predict_photo_resizes_and_checks_class_count(quick):
    model, class_names = quick.model, quick.class_names
    photo = sorted((FLOWERS / "daisy").glob("*.jpg"))[0]
    _, big_input = prepare_photo(photo, 160)  # the wrong size for a 96 px model: resized, not refused
    assert len(predict_photo(model, class_names, big_input).top) == 3
    with pytest.raises(ValueError, match="outputs"):
        predict_photo(model, class_names[:2], big_input)
    grey = np.full((96, 96, 3), 128, np.uint8)
    assert not predict_photo(model, class_names, grey).sure  # a blank grey square is not a flower


@pytest.mark.slow
def test_quick_model_is_kept_on_disk_and_a_restart_loads_it_instead_of_training(quick, monkeypatch):
    from core.training import quick_model

    def no_training(*args):
        raise AssertionError("trained again although the same model is on disk")

    monkeypatch.setattr(quick_model, "_train", no_training)
    again = quick_model.quick_default_model(image_size=96, epochs1=2)
    assert again.model is not quick.model  # read back from the file, not the same object in memory
    assert (again.class_names, again.image_size, again.summary_text) == (
        quick.class_names, quick.image_size, quick.summary_text)
    photo = prepare_photo(sorted((FLOWERS / "tulips").glob("*.jpg"))[0], 96)[1]
    before = predict_photo(quick.model, quick.class_names, photo).probabilities
    after = predict_photo(again.model, again.class_names, photo).probabilities
    assert after == pytest.approx(before, abs=1e-5)


def test_a_damaged_quick_model_file_is_trained_again_not_an_error(tmp_path):
    from core.training import quick_model

    path = tmp_path / "quick.keras"
    path.write_bytes(b"half a zip file")
    path.with_suffix(".json").write_text('{"summary_text": "x", "test_accuracy": 0.9}')
    assert quick_model._load_saved(path) is None
    assert quick_model._load_saved(tmp_path / "missing.keras") is None


# --- the Predict page ----------------------------------------------------------------------------------


def _page() -> AppTest:
    return AppTest.from_file(str(ROOT / "app_pages" / "predict.py"), default_timeout=120)


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_page_without_a_model_offers_the_quick_model():
    at = _page().run()
    assert not at.exception
    assert at.button(key="predict_quick_model").label == "Use the quick flower model"
    assert "trained in seconds on the flower photos, phase 1 only" in _texts(at.caption) + _texts(at.button)
    assert [u.key for u in at.file_uploader] == ["predict_model_upload"]  # no photo inputs until there is a model


@pytest.mark.slow
def test_page_uses_the_model_from_the_train_page(flowers_model):
    at = _page()
    at.session_state[state.LATEST_RESULT] = flowers_model
    at.run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "predict_quick_model"]
    described = _texts(at.markdown)
    assert "your model from the Train page" in described and "96 px" in described
    assert ", ".join(flowers_model.class_names) in described
    uploader, camera = at.file_uploader(key="predict_upload"), at.camera_input(key="predict_camera")
    assert uploader.label == "Upload a photo" and not uploader.disabled and not camera.disabled
    assert any("heic" in t for t in at.file_uploader(key="predict_upload").allowed_type)


@pytest.mark.slow
def test_page_classifies_an_uploaded_photo_and_survives_a_bad_one(flowers_model):
    at = _page()
    at.session_state[state.LATEST_RESULT] = flowers_model
    at.run()
    photo = sorted((FLOWERS / "roses").glob("*.jpg"))[0].read_bytes()
    at.file_uploader(key="predict_upload").upload("rose.jpg", photo, "image/jpeg").run()
    assert not at.exception and not at.error
    verdicts = _texts(at.success) + _texts(at.warning)
    assert "sure" in verdicts.lower()
    assert "Where the model looked" in _texts(at.caption)
    assert len(at.get("plotly_chart")) == 1
    chooser = at.selectbox(key="predict_cam_class")
    assert sorted(chooser.options) == sorted(flowers_model.class_names)
    chooser.select(chooser.options[-1]).run()
    assert not at.exception and chooser.options[-1] in _texts(at.caption)

    at.file_uploader(key="predict_upload").upload("broken.jpg", b"definitely not a jpeg", "image/jpeg").run()
    assert not at.exception
    assert "not a photo we can read" in _texts(at.error)
    assert not at.file_uploader(key="predict_upload").disabled  # still usable: try another photo
    at.file_uploader(key="predict_upload").upload("rose.jpg", photo, "image/jpeg").run()
    assert not at.exception and not at.error


@pytest.mark.slow
def test_quick_model_button_loads_the_shared_model(flowers_model, monkeypatch):
    from core.training import quick_model
    from core.training.quick_model import QuickModel

    fake = QuickModel(flowers_model.model, flowers_model.class_names, 96, "A tiny stand-in model.")
    calls = []
    monkeypatch.setattr(quick_model, "quick_default_model", lambda *a, **k: calls.append(1) or fake)
    st.cache_resource.clear()
    try:
        at = _page().run()
        at.button(key="predict_quick_model").click().run()
        assert not at.exception
        described = _texts(at.markdown)
        assert "quick flower model" in described and "trained in seconds on the flower photos, phase 1 only" in described
        assert "A tiny stand-in model." in described
        at.run()  # the choice is remembered for this student, and the model is not trained again
        assert "quick flower model" in _texts(at.markdown) and len(calls) == 1
    finally:
        st.cache_resource.clear()
