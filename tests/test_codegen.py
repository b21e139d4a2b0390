"""The code of a run (core.lesson.codegen): the emitted Keras 3 script runs offline and trains; the notebook holds the
same code; ``python -m core.train --emit-code`` writes it without training."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import replace

import nbformat
import pytest
from conftest import ROOT, SHARED, is_share_of

from core.lesson.codegen import SHEAR_FACTORS, STEP_MARK, emit_notebook, emit_script, sections
from core.training import AugmentConfig, TrainConfig

TINY = TrainConfig(image_size=96, epochs1=1, epochs2=1, unfreeze=5, batch_size=8, augment=True)


def _offline_keras_home(tmp_path):
    """A private KERAS_HOME whose models/ holds the shared ImageNet weights (a link, never a copy in the repo)."""
    models = tmp_path / "keras" / "models"
    models.mkdir(parents=True)
    for weights in (SHARED / "keras" / "models").glob("*.h5"):
        (models / weights.name).symlink_to(weights.resolve())
    return models.parent


def test_the_script_is_python_and_follows_the_settings():
    script = emit_script(TrainConfig())
    tree = ast.parse(script)
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names} | {node.module.split(".")[0] for node in ast.walk(tree)
                                           if isinstance(node, ast.ImportFrom) and node.module}
    assert "tensorflow_datasets" not in imported and "tensorflow" not in imported  # offline, Keras 3 only
    called = {node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
              for node in ast.walk(tree) if isinstance(node, ast.Call)}
    assert not called & {"ImageDataGenerator", "flow_from_directory"}
    for line in ("IMG_SIZE = 224", "EPOCHS_1 = 5", "EPOCHS_2 = 10", "UNFREEZE = 30", "LR_2 = 1e-05", "SEED = 42",
                 "include_top=False", 'weights="imagenet"', "base_model.trainable = False",
                 "base_model.layers[:-UNFREEZE]", "layers.GlobalAveragePooling2D()", "layers.Dense(128",
                 "layers.Dropout(0.3", "offset=-1", "round(n * 0.70)"):
        assert line in script, line
    assert "augment = " not in script  # no augmentation asked for
    changed = emit_script(replace(TrainConfig(), image_size=160, epochs2=0, lr1=3e-4, preprocessing="lesson",
                                  augment=True, seed=7))
    for line in ("IMG_SIZE = 160", "LR_1 = 0.0003", "SEED = 7", "layers.Rescaling(1 / 255)", "RandomFlip",
                 "No phase 2"):
        assert line in changed, line
    assert "Phase 2: fine-tuning" not in changed


def test_every_lesson_difference_is_commented():
    script = emit_script(replace(TrainConfig(), augment=True))
    assert len(re.findall(r"LESSON", script)) >= 6
    for words in ("preprocess_input", "ImageDataGenerator", "0.1 DEGREES", "tfds.load", "a few thousand"):
        assert words in script, words


def test_shear_is_named_for_what_it_does():
    visible = emit_script(replace(TrainConfig(), augment=True, augment_ops=AugmentConfig(shear_amount="visible")))
    lesson = emit_script(replace(TrainConfig(), augment=True, augment_ops=AugmentConfig(shear_amount="lesson")))
    assert f"x_factor={SHEAR_FACTORS['visible']:g}" in visible and "10% of the image" in visible
    assert f"x_factor={SHEAR_FACTORS['lesson']:g}" in lesson and "too small to see" in lesson


def test_other_bases_use_their_own_preprocessing():
    assert "vgg16.preprocess_input" in emit_script(replace(TrainConfig(), base="vgg16"))
    assert "rescales raw 0..255" in emit_script(replace(TrainConfig(), base="efficientnet_b0"))
    assert "alpha=0.35" in emit_script(replace(TrainConfig(), base="mobilenet_v2_035"))


def _code_cells(raw: bytes) -> list:
    notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[0].cell_type == "markdown"
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_the_notebook_holds_the_same_code_one_cell_per_lesson_step():
    cells = _code_cells(emit_notebook(TINY, data_dir="photos"))
    code = [re.sub(r"\A#@title .*\n", "", cell.source) for cell in cells]  # Colab's title of the folded cell
    assert code == [part.rstrip("\n") for part in sections(TINY, "photos")]
    assert "\n\n".join(code) + "\n" == emit_script(TINY, data_dir="photos")
    steps = [cell.source for cell in cells if STEP_MARK in cell.source]
    assert [re.findall(rf"{STEP_MARK} (\d+):", source) for source in steps] == [[str(n)] for n in range(1, 9)]
    header, helpers = cells[0], cells[1]
    assert STEP_MARK not in header.source + helpers.source and "def load_photo" in helpers.source
    assert helpers.metadata["cellView"] == "form" and helpers.metadata["jupyter"]["source_hidden"]


def _lesson_step_titles() -> dict[int, str]:
    lesson = (SHARED / "lesson" / "lesson-2-transfer-learning.txt").read_text(encoding="utf-8")
    return {int(n): title.strip() for n, title in re.findall(r"^# ── Step (\d+): (.*?) ──$", lesson, re.M)}


@pytest.mark.parametrize("cfg", [TrainConfig(), replace(TrainConfig(), epochs2=0), replace(TINY, base="vgg16")])
def test_the_steps_are_the_lessons_steps_1_to_8_in_order(cfg):
    lesson = _lesson_step_titles()
    assert sorted(lesson) == list(range(1, 9))
    script = emit_script(cfg)
    ours = {int(n): title.strip() for n, title in re.findall(rf"^{STEP_MARK} (\d+): (.*?) ──$", script, re.M)}
    assert list(ours) == list(range(1, 9))
    base = "MobileNetV2" if cfg.base == "mobilenet_v2" else "VGG16"
    for n in range(1, 8):
        assert ours[n] == lesson[n].replace("MobileNetV2", base), n
    assert ours[8].startswith("Predict")
    # The lesson's code reads first in order: no model code before Step 3, no training before Step 5.
    assert script.index("keras.applications.") > script.index(f"{STEP_MARK} 3:")
    assert script.index("model.fit(") > script.index(f"{STEP_MARK} 5:")


SETTINGS = [  # (base, preprocessing choice, augment, augmentation ops)
    ("mobilenet_v2", "model", False, AugmentConfig()), ("mobilenet_v2", "model", True, AugmentConfig()),
    ("mobilenet_v2", "lesson", False, AugmentConfig()), ("mobilenet_v2", "lesson", True, AugmentConfig()),
    ("vgg16", "model", True, AugmentConfig()), ("vgg16", "lesson", False, AugmentConfig()),
    ("efficientnet_b0", "model", False, AugmentConfig()),
    ("mobilenet_v2", "model", True, AugmentConfig(rotation=False, flip=False, zoom=False, shear=False)),
]


@pytest.mark.parametrize(("base", "preprocessing", "augment", "ops"), SETTINGS)
def test_the_header_says_what_the_code_does(base, preprocessing, augment, ops):
    script = emit_script(replace(TrainConfig(), base=base, preprocessing=preprocessing, augment=augment,
                                 augment_ops=ops))
    header = " ".join(ast.get_docstring(ast.parse(script)).split())
    code = script[script.index(f"{STEP_MARK} 1:"):]
    divides = "layers.Rescaling(1 / 255)" in code
    assert ("not divided by 255" in header) == (not divides)
    assert ("divided by 255 as in the lesson" in header) == divides
    assert ("scaled to -1..1" in header) == ("layers.Rescaling(1 / 127.5, offset=-1)" in code)
    assert ("BGR minus ImageNet's mean pixel, the way" in header) == ("rgb_to_bgr" in code)
    assert ("rescales them inside itself" in header) == ("no scaling here" in code)
    augments = "augment = keras.Sequential(" in code
    assert augments == (augment and ops.any())
    assert ("augmentation uses Keras 3 preprocessing layers" in header) == augments
    assert ("no augmentation in this run" in header) == (not augments)
    assert "layers.Lambda" not in code  # a Lambda would make a model.keras that Keras's safe mode refuses


def test_cli_writes_a_valid_notebook_without_training(tmp_path):
    target = tmp_path / "run.ipynb"
    done = subprocess.run(
        [sys.executable, "-m", "core.train", "--image-size", "128", "--epochs2", "0", "--preprocessing", "lesson",
         "--emit-notebook", str(target)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    cells = _code_cells(target.read_bytes())
    expected = _code_cells(emit_notebook(replace(TrainConfig(), image_size=128, epochs2=0, preprocessing="lesson")))
    assert [cell.source for cell in cells] == [cell.source for cell in expected]
    assert "IMG_SIZE = 128" in cells[0].source and "No phase 2" in "".join(cell.source for cell in cells)
    assert "Epoch" not in done.stderr  # nothing was trained
    refused = subprocess.run([sys.executable, "-m", "core.train", "--label-smoothing", "0.1", "--emit-notebook",
                              str(tmp_path / "no.ipynb")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "label-smoothing" in refused.stderr and not (tmp_path / "no.ipynb").exists()


@pytest.mark.slow
def test_an_emitted_script_trains_offline_and_prints_a_test_accuracy(tmp_path, small_flowers):
    script = tmp_path / "run.py"
    script.write_text(emit_script(TINY, data_dir="not-used"))
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "KERAS_HOME": str(_offline_keras_home(tmp_path)), "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": ""}
    done = subprocess.run([sys.executable, str(script), str(small_flowers)], cwd=work, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "Classes: ['daisy', 'roses', 'tulips']" in out
    counts = re.search(r"photos: (\d+) train, (\d+) val, (\d+) test", out)
    assert counts and sum(map(int, counts.groups())) == 36
    for phase in ("after phase 1", "after fine-tuning"):
        accuracy = re.search(rf"Test accuracy {phase}: ([\d.]+)%", out)
        assert accuracy and is_share_of(float(accuracy.group(1)) / 100, int(counts.group(3)), 0.01), out[-2000:]
    assert (work / "model.keras").is_file()


def test_cli_writes_the_script_without_training(tmp_path):
    target = tmp_path / "run.py"
    done = subprocess.run(
        [sys.executable, "-m", "core.train", "--data", str(tmp_path / "my_photos"), "--image-size", "160",
         "--epochs2", "3", "--augment", "--emit-code", str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    script = target.read_text()
    assert script == emit_script(replace(TrainConfig(), data=str(tmp_path / "my_photos"), image_size=160, epochs2=3,
                                         augment=True))
    assert f"DATA_DIR = {str(tmp_path / 'my_photos')!r}" in script
    assert "Epoch" not in done.stderr  # nothing was trained


# --- the Train page's panels (ui.lesson_panels) ------------------------------------------------------------


def _panels_app(cfg_kwargs: dict):
    def app(cfg_kwargs):
        from core.training import AugmentConfig, TrainConfig
        from ui import lesson_panels

        ops = AugmentConfig(shear_amount=lesson_panels.shear_choice(True))
        cfg = TrainConfig(**cfg_kwargs, augment_ops=ops)
        lesson_panels.differences(cfg)
        lesson_panels.show_code_of_run(cfg)

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(app, args=(cfg_kwargs,), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_code_panel_shows_the_runs_script_and_the_controls_it_maps():
    at = _panels_app({"image_size": 160, "epochs1": 3, "augment": True})
    cfg = TrainConfig(image_size=160, epochs1=3, augment=True)
    code = at.get("code")[0].proto.code_text
    assert code.strip() == emit_script(cfg, "flowers").strip()
    table = at.dataframe[0].value
    assert "Unfreeze depth" in list(table["Control"]) and "EPOCHS_1 = 3" in list(table["This run"])
    at.radio(key="train_aug_shear_amount").set_value("lesson").run()
    assert f"x_factor={SHEAR_FACTORS['lesson']:g}" in at.get("code")[0].proto.code_text


def test_differences_panel_computes_the_head_and_offers_the_scaling_measurement():
    from core.lesson import architecture, reference

    at = _panels_app({})
    text = " ".join(m.value for m in at.markdown)
    head = architecture.unfreeze_summary(0)["head_params"]
    assert head == 1280 * 128 + 128 + 128 * 5 + 5  # MobileNetV2's 1,280 pooled features, Dense(128), 5 flowers
    assert f"**{head:,}**" in text
    for words in ("preprocess_input", "ImageDataGenerator", "0.1 *degrees*", "70/15/15"):
        assert words in text, words
    # Not measured yet: a student reads who can measure it (only the teacher starts server-wide work)
    assert reference.cached_measurement(reference.SCALING) is None  # no test measures it: this run's cache is new
    assert any("your teacher can measure it" in c.value for c in at.caption)
    assert not any("Pixels" in m.label for m in at.metric)


def test_the_augmenter_honours_the_shear_amount(flowers_dir):
    from core.photos.images import load_array
    from core.training import preview_augmentations

    photo = str(sorted((flowers_dir / "daisy").glob("*.jpg"))[0])
    original = load_array(photo, 96).astype(float)
    change = {}
    for amount in SHEAR_FACTORS:
        ops = AugmentConfig(rotation=False, flip=False, zoom=False, shear=True, shear_amount=amount)
        sheared = preview_augmentations(photo, ops, 96, n=6).astype(float)
        change[amount] = float(abs(sheared - original).mean())
    assert change["lesson"] < 1.0 < change["visible"], change  # 0.1° moves no pixel; 10% of the image does
    with pytest.raises(ValueError, match="shear amount"):
        replace(TrainConfig(), augment_ops=AugmentConfig(shear_amount="0.1")).validate()
