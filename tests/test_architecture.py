"""core.lesson.architecture: the committed MobileNetV2 layer table against Keras, unfreezing sums against the real
model, first-layer feature maps, CPU latency and the base table (the verdict: test_verdict.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.lesson import architecture
from core.models import bases as models
from core.photos.images import load_array

ROOT = Path(__file__).resolve().parent.parent


# --- the layer table -------------------------------------------------------------------------------


def test_committed_layer_table_equals_a_fresh_build_from_keras():
    rebuilt = architecture.build_layer_table()
    committed = json.loads(architecture.TABLE_FILE.read_text())
    assert architecture.table_differences(committed, rebuilt) == [], "run: python -m core.lesson.architecture"
    # Byte for byte too (the Keras version line is informational only).
    rebuilt["keras_version"] = committed["keras_version"]
    assert architecture.render_table(rebuilt) == architecture.TABLE_FILE.read_text()


def test_cli_check_says_up_to_date(capsys):
    assert architecture.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_layer_table_describes_mobilenet_v2():
    table = architecture.read_layer_table()
    rows = table["layers"]
    assert (table["model"], table["alpha"], table["input_size"], table["include_top"]) == (
        "MobileNetV2",
        1.0,
        224,
        False,
    )
    assert len(rows) == 154
    assert [r["index"] for r in rows] == list(range(154))
    assert len({r["name"] for r in rows}) == 154
    assert rows[0]["type"] == "InputLayer" and rows[0]["output_shape"] == [224, 224, 3]
    assert [r["name"] for r in rows[1:4]] == ["Conv1", "bn_Conv1", "Conv1_relu"]
    assert rows[-1]["name"] == "out_relu" and rows[-1]["output_shape"] == [7, 7, 1280]
    assert sum(r["params"] for r in rows) == models.architecture_facts("mobilenet_v2").params_no_top
    for r in rows:  # BatchNorm: gamma and beta learn, the moving mean and variance never do
        if r["type"] == "BatchNormalization":
            assert r["learnable"] * 2 == r["params"]
        else:
            assert r["learnable"] == r["params"]
    blocks = list(dict.fromkeys(r["block"] for r in rows))
    assert blocks == ["input", "stem", *[f"block_{i}" for i in range(17)], "top"]
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    assert stages == list(range(9))  # stem, the paper's 7 bottleneck stages, the 1x1 conv top


def test_layer_table_loads_without_tensorflow():
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from core.lesson import architecture
        s = architecture.unfreeze_summary(30)
        assert s["params_trainable"] > 0 and len(architecture.read_layer_table()["layers"]) == 154
        print("tensorflow" in sys.modules, "keras" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False"]


# --- unfreezing ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pretrained_base():
    base, info = models.build_base("mobilenet_v2", 224, pretrained=True)
    assert info.pretrained
    return base


@pytest.mark.parametrize("k", [0, 1, 30, 100, 154])
def test_unfreeze_summary_agrees_with_the_real_model(pretrained_base, k):
    summary = architecture.unfreeze_summary(k)
    real = models.trainable_counts(pretrained_base, k)
    for key in (
        "layers_total",
        "layers_trainable",
        "layers_unfrozen",
        "layers_frozen",
        "params_trainable",
        "params_frozen",
        "params_total",
    ):
        assert summary[key] == real[key], key
    # Keras numbers the input layer per session (input_layer_3); the table stores the plain name.
    real_names = [
        architecture.INPUT_LAYER_NAME if n.startswith("input_layer") else n for n in real["unfrozen_layer_names"]
    ]
    assert summary["unfrozen_layer_names"] == real_names
    states = [layer["state"] for layer in summary["layers"]]
    assert states.count("trainable") == summary["layers_trainable"]


@pytest.mark.parametrize("k", [0, 30])
def test_whole_model_counts_match_keras(pretrained_base, k):
    model = models.build_classifier(pretrained_base, num_classes=architecture.LESSON_CLASSES)
    models.unfreeze_top(pretrained_base, k)
    try:
        summary = architecture.unfreeze_summary(k)
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        assert summary["model_params_trainable"] == trainable
        assert summary["model_params_total"] == model.count_params()
        assert summary["model_params_frozen"] == model.count_params() - trainable
        head = {layer.name: layer.count_params() for layer in (model.get_layer(name) for name in models.HEAD_LAYER_NAMES)}
        assert summary["head_params"] == sum(head.values()) + model.get_layer("pool").count_params()
    finally:
        models.unfreeze_top(pretrained_base, 0)


def test_unfreeze_summary_edges():
    none, everything = architecture.unfreeze_summary(0), architecture.unfreeze_summary(154)
    assert none["params_trainable"] == 0 and none["first_unfrozen"] is None
    assert all(layer["state"] != "trainable" for layer in none["layers"])
    assert architecture.unfreeze_summary(-5)["unfreeze"] == 0
    assert architecture.unfreeze_summary(999) == everything
    assert everything["params_frozen"] > 0  # BatchNorm statistics stay frozen even with everything unfrozen
    counts = [architecture.unfreeze_summary(k)["params_trainable"] for k in range(155)]
    assert counts == sorted(counts)


# --- feature maps ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def daisy(flowers_dir) -> np.ndarray:
    return load_array(sorted((flowers_dir / "daisy").glob("*.jpg"))[0], 224)


def test_first_layer_feature_maps(daisy):
    result = architecture.first_layer_feature_maps(daisy, n_maps=8)
    assert result.layer == "Conv1_relu" and result.channels_total == 32
    assert result.image.shape == (224, 224, 3) and result.image.dtype == np.uint8
    for maps, channels in ((result.pretrained, result.pretrained_channels), (result.random, result.random_channels)):
        assert maps.shape == (8, 112, 112) and maps.dtype == np.float32
        assert maps.min() >= 0.0 and maps.max() <= 1.0
        assert len(set(channels)) == 8 and all(0 <= c < 32 for c in channels)
        assert all(m.max() == pytest.approx(1.0) for m in maps)  # each map stretched to the full range
    assert not np.allclose(result.pretrained, result.random, atol=0.05)
    assert "ImageNet" in result.weights
    # The same photo gives the same maps (the random network is seeded); any photo size is resized.
    again = architecture.first_layer_feature_maps(daisy, n_maps=8)
    assert np.array_equal(again.pretrained, result.pretrained) and np.array_equal(again.random, result.random)
    big = np.asarray(np.kron(daisy[:150, :200], np.ones((2, 2, 1))), dtype=np.uint8)  # 300 x 400
    assert architecture.first_layer_feature_maps(big, n_maps=3).pretrained.shape == (3, 112, 112)


def test_feature_maps_without_pretrained_weights_raise(daisy, monkeypatch, tmp_path):
    import keras.src.utils.file_utils as file_utils

    monkeypatch.setenv("TLL_OFFLINE_BUNDLE", str(tmp_path / "nothing"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def offline(*args, **kwargs):
        raise OSError("no internet in this test")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(models.WeightsUnavailable, match="No pretrained ImageNet weights for MobileNetV2"):
        architecture.first_layer_feature_maps(daisy)


# --- comparing bases -------------------------------------------------------------------------------


def test_base_table_merges_registry_and_real_architecture():
    rows = architecture.base_table()
    assert [r["key"] for r in rows] == list(models.BASES)
    for row in rows:
        facts = models.architecture_facts(row["key"])
        spec = models.base_spec(row["key"])
        assert row["params_total"] == facts.params_total and row["params_no_top"] == facts.params_no_top
        assert row["layers_no_top"] == facts.layers_no_top and row["size_mb"] == facts.size_mb_float32
        assert row["size_mb_total"] == pytest.approx(facts.params_total * 4 / 1e6, abs=0.05)
        assert (row["top1"], row["top1_source"]) == (spec.top1, spec.top1_source)
        assert row["weights_available"] == models.weights_available(row["key"])
    by_key = {r["key"]: r for r in rows}
    assert by_key["mobilenet_v2"]["weights_available"] and by_key["mobilenet_v2"]["layers_no_top"] == 154


def test_measure_latency_small_and_fast():
    calls = []
    result = architecture.measure_latency(
        "mobilenet_v2", image_size=96, n_images=2, on_progress=lambda d, t: calls.append((d, t))
    )
    assert result["ms_per_image"] > 0 and result["ms_min"] > 0 and result["images_per_second"] > 0
    assert result["image_size"] == 96 and result["n_images"] == 2
    assert result["include_top"] is False  # at a size other than 224 the no-top base is timed
    assert result["params"] == models.architecture_facts("mobilenet_v2").params_no_top
    assert calls[-1] == (4, 4) and [d for d, _ in calls] == [1, 2, 3, 4]
