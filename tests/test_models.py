"""Base models: real parameter counts, preprocessing ranges, the lesson's head, unfreezing."""

from __future__ import annotations

import numpy as np
import pytest

from core.models import bases as models


@pytest.mark.parametrize("key, params_with_top", [("mobilenet_v2", 3_538_984), ("vgg16", 138_357_544)])
def test_parameter_counts_come_from_the_real_architecture(key, params_with_top):
    facts = models.architecture_facts(key)
    assert facts.params_total == params_with_top
    assert facts.params_no_top < facts.params_total


def test_registry_has_the_bases_the_lesson_compares():
    for key in ("mobilenet_v2", "mobilenet_v2_035", "vgg16", "resnet50", "efficientnet_b0", "inception_v3",
                "mobilenet_v3_small"):
        spec = models.base_spec(key)
        assert 0 < spec.top1 < 100 and spec.top1_source
    assert models.weights_available("mobilenet_v2") and models.weights_available("mobilenet_v2_035")
    assert not models.weights_available("vgg16")  # the offline bundle has no VGG16 weights


def test_missing_pretrained_weights_are_reported_not_faked():
    with pytest.raises(models.WeightsUnavailable, match="No pretrained ImageNet weights for VGG16"):
        models.build_base("vgg16", 96, pretrained=True)


@pytest.mark.parametrize("choice, low, high", [("model", -1.0, 1.0), ("lesson", 0.0, 1.0)])
def test_preprocessing_ranges(choice, low, high):
    mode = models.preprocessing_mode(models.base_spec("mobilenet_v2"), choice)
    layer = models.preprocess_layer_class()(mode)
    pixels = np.array([[[[0, 128, 255]]]], dtype=np.uint8)
    out = np.asarray(layer(pixels))
    assert out.min() == pytest.approx(low) and out.max() == pytest.approx(high)


def test_caffe_preprocessing_flips_to_bgr_and_subtracts_the_mean():
    layer = models.preprocess_layer_class()("caffe")
    out = np.asarray(layer(np.array([[[[255, 0, 0]]]], dtype=np.uint8)))[0, 0, 0]
    assert out == pytest.approx([-103.939, -116.779, 255 - 123.68], abs=1e-3)


@pytest.fixture(scope="module")
def mobilenet():
    base, info = models.build_base("mobilenet_v2", 96, pretrained=True)
    assert info.pretrained and "ImageNet" in info.description
    return base


def test_lesson_head_and_frozen_base(mobilenet):
    model = models.build_classifier(mobilenet, num_classes=5)
    assert [layer.name for layer in (model.get_layer(name) for name in models.HEAD_LAYER_NAMES)] == ["head_dense", "head_dropout", "predictions"]
    assert model.get_layer("head_dense").units == 128
    assert model.get_layer("head_dropout").rate == pytest.approx(0.3)
    assert model.output_shape == (None, 5)
    assert models.base_of(model) is mobilenet
    assert not mobilenet.trainable
    head_params = 1280 * 128 + 128 + 128 * 5 + 5
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == head_params


@pytest.mark.parametrize("k", [0, 1, 30, 100, 154])
def test_unfreezing_the_top_k_layers_like_the_lesson(mobilenet, k):
    models.unfreeze_top(mobilenet, k)
    try:
        trainable = [layer for layer in mobilenet.layers if layer.trainable and mobilenet.trainable]
        counts = models.trainable_counts(mobilenet, k)
        assert len(trainable) == k
        assert counts["layers_unfrozen"] == k and counts["layers_frozen"] == 154 - k
        assert trainable == mobilenet.layers[len(mobilenet.layers) - k :]
        # the optimizer sees exactly the learnable weights of the unfrozen layers (BN statistics never)
        learnable = sum(int(np.prod(w.shape)) for w in mobilenet.trainable_weights) if k else 0
        assert counts["params_trainable"] == learnable
        assert counts["params_trainable"] + counts["params_frozen"] == mobilenet.count_params()
    finally:
        models.unfreeze_top(mobilenet, 0)
