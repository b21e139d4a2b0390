"""Grad-CAM (core.inference.explain): the heatmap's resolution, range and dependence on the class; the overlay."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FLOWERS
from PIL import Image

from core.inference.explain import grad_cam, heat_colours, overlay
from core.inference.predict import classify_array, prepare_photo


def _photo(class_name: str, size: int, index: int = 0) -> np.ndarray:
    return prepare_photo(sorted((FLOWERS / class_name).glob("*.jpg"))[index], size)[1]


@pytest.mark.slow
def test_heatmap_has_the_last_feature_map_shape_and_range(flowers_model):
    from core.models.bases import base_of

    model = flowers_model.model
    x = _photo("sunflowers", 96)
    heatmap = grad_cam(model, x)
    assert heatmap.shape == (3, 3) == tuple(base_of(model).output.shape[1:3])  # the last feature map
    assert heatmap.dtype == np.float32
    assert heatmap.min() >= 0.0 and heatmap.max() == pytest.approx(1.0)
    assert heatmap.std() > 0.01  # not constant


@pytest.mark.slow
def test_default_class_is_the_prediction_and_class_index_matters(flowers_model):
    model = flowers_model.model
    x = _photo("daisy", 96, 3)
    best = int(np.argmax(classify_array(model, x)))
    np.testing.assert_allclose(grad_cam(model, x), grad_cam(model, x, best), atol=1e-6)
    maps = [grad_cam(model, x, i) for i in range(len(flowers_model.class_names))]
    assert any(not np.allclose(maps[0], other, atol=1e-3) for other in maps[1:])
    for heatmap in maps:
        assert heatmap.shape == (3, 3) and 0.0 <= heatmap.min() and heatmap.max() <= 1.0
    with pytest.raises(ValueError):
        grad_cam(model, x, len(flowers_model.class_names))


@pytest.mark.slow
def test_grad_cam_leaves_the_model_alone(flowers_model):
    from core.models.bases import base_of

    model = flowers_model.model
    before = [w.copy() for w in model.get_weights()]
    trainable = base_of(model).trainable
    grad_cam(model, _photo("tulips", 96), 1)
    assert base_of(model).trainable == trainable
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_5x5_at_160_pixels():
    from core.models.bases import build_base, build_classifier

    base, _ = build_base("mobilenet_v2", 160, True, 42)
    model = build_classifier(base, 4)  # an untrained head is enough to check shapes
    x = _photo("roses", 160)
    maps = [grad_cam(model, x, i) for i in range(4)]
    assert all(m.shape == (5, 5) for m in maps)
    assert all(m.max() == pytest.approx(1.0) for m in maps if m.max() > 0)
    assert any(not np.allclose(maps[0], m) for m in maps[1:])


def test_overlay_matches_the_photo_size():
    photo = Image.new("RGB", (333, 217), (30, 90, 40))
    heatmap = np.array([[0, 0.5, 1], [0, 0.2, 0.4], [0.1, 0.1, 0.1]], dtype=np.float32)
    result = overlay(photo, heatmap)
    assert result.size == photo.size and result.mode == "RGB"
    assert overlay(photo, heatmap, alpha=0.0).tobytes() == photo.tobytes()
    pixels = np.asarray(overlay(photo, heatmap, alpha=1.0))
    assert pixels[0, -1, 0] > 200 and pixels[0, -1, 1] > 200 and pixels[0, -1, 2] < 60  # hot corner: bright yellow
    assert pixels[-1, 0, 2] > pixels[-1, 0, 0] and pixels[-1, 0].max() < 120  # cold corner: dark purple
    with pytest.raises(ValueError):
        overlay(photo, heatmap, alpha=2)


@pytest.mark.slow
def test_overlay_on_a_prepared_photo(flowers_model):
    display, x = prepare_photo(sorted((FLOWERS / "sunflowers").glob("*.jpg"))[1], 96)
    result = overlay(display, grad_cam(flowers_model.model, x))
    assert result.size == display.size


def test_heat_colours_run_dark_purple_to_yellow_and_get_steadily_brighter():
    colours = heat_colours(np.array([0.0, 0.5, 1.0]))
    assert colours.dtype == np.uint8 and colours.shape == (3, 3)
    assert colours[0, 2] > colours[0, 0] > colours[0, 1]  # 0 is dark purple
    assert colours[2, 0] > 240 and colours[2, 1] > 220 and colours[2, 2] < 50  # 1 is bright yellow
    # brightness (Rec. 709 luma) rises all along the scale: readable without telling red from green
    scale = heat_colours(np.linspace(0, 1, 101)).astype(float)
    luma = scale @ np.array([0.2126, 0.7152, 0.0722])
    assert np.all(np.diff(luma) > 0)
