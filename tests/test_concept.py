"""The Concept page (AppTest): Kiran's story, the unfreeze slider and its live counts, first-layer feature maps,
and that it opens without TensorFlow."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from core.lesson import architecture, reference
from core.lesson.claims import CLAIMS, LESSON_TRAIN_PHOTOS
from ui import state

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "app_pages" / "concept.py"


def _page() -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=180)  # a shared, busy machine: loading MobileNetV2 can take a minute
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if label in m.label)


def test_story_and_default_counts():
    at = _page()
    text = " ".join(m.value for m in at.markdown)
    for words in ("200 photos", "Freeze", "new head"):
        assert words in text
    assert at.slider(key="concept_unfreeze").value == 30
    summary = architecture.unfreeze_summary(30)
    assert _metric(at, "Trainable parameters") == f"{summary['model_params_trainable']:,}"
    assert _metric(at, "Frozen parameters") == f"{summary['model_params_frozen']:,}"
    assert at.get("plotly_chart")  # the layer diagram


def test_slider_drives_the_counts():
    at = _page()
    seen = []
    for k in (0, 3, 100, 154, 30):
        at.slider(key="concept_unfreeze").set_value(k).run()
        assert not at.exception
        summary = architecture.unfreeze_summary(k)
        trainable = _metric(at, "Trainable parameters")
        assert trainable == f"{summary['model_params_trainable']:,}"
        assert _metric(at, "Frozen parameters") == f"{summary['model_params_frozen']:,}"
        seen.append(trainable)
    assert len(set(seen)) == 5  # every position gives a different count
    at.slider(key="concept_unfreeze").set_value(1).run()  # the top layer (out_relu) has no parameters
    assert _metric(at, "Trainable parameters") == seen[0]
    at.slider(key="concept_unfreeze").set_value(0).run()
    assert _metric(at, "Trainable parameters") == f"{architecture.unfreeze_summary(0)['head_params']:,}"
    assert any("only the new head learns" in c.value for c in at.caption)


def test_diagram_colours_follow_the_slider():
    at = _page()
    at.slider(key="concept_unfreeze").set_value(100).run()
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = {trace["name"]: trace for trace in figure["data"]}
    summary = architecture.unfreeze_summary(100)
    assert len(bars["🔥 trainable"]["x"]) == summary["layers_trainable"]
    assert len(bars["🔥 new head"]["x"]) == len(summary["head"])
    assert min(bars["🔥 trainable"]["x"]) >= 154 - 100 > max(bars["❄️ frozen"]["x"])


def test_the_layer_diagram_is_also_said_in_words():
    at = _page()
    at.slider(key="concept_unfreeze").set_value(30).run()
    words = next(m.value for m in at.markdown if "**stage 7**" in m.value)
    summary = architecture.unfreeze_summary(30)
    assert all(f"**stage {stage}**" in words for stage in range(1, 8))
    counts = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) parameters", words)]
    assert sum(counts[:-1]) == summary["params_total"] and counts[-1] == summary["head_params"]
    assert "13 trainable, 5 frozen" in words  # stage 6 is split by the lesson's 30 layers
    at.slider(key="concept_unfreeze").set_value(0).run()
    words = next(m.value for m in at.markdown if "**stage 7**" in m.value)
    assert "trainable," not in words.split("**new head**")[0]


def test_feature_maps_on_demand():
    at = _page()
    assert at.selectbox(key="concept_flower").options  # sample photos from the offline bundle
    at.selectbox(key="concept_flower").set_value("daisy").run()
    at.button(key="concept_feature_maps").click().run()
    assert not at.exception, [e.value for e in at.exception]
    result = at.session_state["concept_maps"]
    assert result.pretrained.shape == result.random.shape == (8, 112, 112)
    assert 0.0 <= result.pretrained.min() and result.pretrained.max() <= 1.0
    assert len(at.get("plotly_chart")) == 3  # the layer diagram, pretrained maps, random maps
    assert any("Conv1_relu" in c.value for c in at.caption)
    at.slider(key="concept_unfreeze").set_value(5).run()  # the maps stay while the student plays on
    assert len(at.get("plotly_chart")) == 3


def _run_in_fresh_process(body: str, env_extra: dict | None = None) -> dict:
    import os

    script = (
        textwrap.dedent(
            f"""
        import json, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        started = time.perf_counter()
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(PAGE)!r}, default_timeout=60)
        at.run()
        seconds = time.perf_counter() - started
        out = {{"seconds": seconds, "exceptions": [e.value for e in at.exception],
               "tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules}}
        """
        )
        + textwrap.dedent(body)
        + "\nprint(json.dumps(out))\n"
    )
    env = {**os.environ, **(env_extra or {})}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_page_opens_without_tensorflow():
    out = _run_in_fresh_process(
        """
        at.slider(key="concept_unfreeze").set_value(80).run()
        out["tensorflow_after_slider"] = "tensorflow" in sys.modules
        out["metrics"] = {m.label: m.value for m in at.metric}
        """
    )
    assert out["exceptions"] == []
    assert not out["tensorflow"] and not out["keras"] and not out["tensorflow_after_slider"]
    summary = architecture.unfreeze_summary(80)
    assert f"{summary['model_params_trainable']:,}" in out["metrics"].values()


def test_without_bundle_the_student_uploads_and_missing_weights_are_explained(tmp_path, flowers_dir):
    photo = sorted((flowers_dir / "tulips").glob("*.jpg"))[0]
    out = _run_in_fresh_process(
        f"""
        out["warnings"] = [w.value for w in at.warning]
        out["selectboxes"] = len(at.selectbox)
        out["disabled_before"] = at.button(key="concept_feature_maps").disabled
        at.file_uploader(key="concept_upload").upload("tulip.jpg", open({str(photo)!r}, "rb").read(), "image/jpeg").run()
        out["disabled_after"] = at.button(key="concept_feature_maps").disabled
        import keras.src.utils.file_utils as file_utils  # no download in the test, whatever the network

        def offline(*args, **kwargs):
            raise OSError("offline")

        file_utils.get_file = offline
        at.button(key="concept_feature_maps").click().run()
        out["errors"] = [e.value for e in at.error]
        out["exceptions_after"] = [e.value for e in at.exception]
        """,
        env_extra={
            "TLL_OFFLINE_BUNDLE": str(tmp_path / "no-bundle"),
            "KERAS_HOME": str(tmp_path / "keras"),
            "TLL_FLOWERS_DIR": "",
        },
    )
    assert out["exceptions"] == [] and out["exceptions_after"] == []
    assert any("not on this computer" in w for w in out["warnings"])
    assert out["selectboxes"] == 0
    assert out["disabled_before"] and not out["disabled_after"]
    assert any("No pretrained weights" in e for e in out["errors"])


# --- the lesson's claims beside this app's measurements ------------------------------------------------------


def _claim_tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric if m.label in {c.stage for c in CLAIMS}}


@pytest.fixture
def fake_reference():
    """A reference result on disk for the photos here (its figures are made up: only the display is tested),
    removed afterwards."""
    reference._key_memo.clear()
    key = reference.current_key()
    figures = {k: {"test_accuracy": a, "n_test": 150, "seconds": 1.0}
               for k, a in {"scratch": 0.41, "phase1": 0.77, "phase2": 0.88}.items()}
    reference._store(key, {"key": key, "computed_at": "now", "cpu_count": 2, "settings": "test settings",
                           "transfer_config": reference.TRANSFER.to_dict(),
                           "scratch_config": reference.SCRATCH.to_dict(), "figures": figures})
    yield
    reference._cache_file(key).unlink()


def _cell_lines(at: AppTest) -> list[str]:
    """What the claims' cells say under the lesson's figures (measured figures, or how a run differs)."""
    return [m.value for m in (*at.markdown, *at.caption) if m.value.startswith(("Measured here", "Your ", "The reference"))]


def test_lesson_figures_are_labelled_as_its_claims_with_conditions():
    reference._key_memo.clear()
    at = _page()
    text = " ".join(m.value for m in at.markdown)
    captions = [c.value for c in at.caption]
    for claim in CLAIMS:
        assert f"↑ the lesson's claim ({claim.source})" in captions
    assert "Colab T4 GPU" in text and f"{LESSON_TRAIN_PHOTOS:,}" in text and "30 epochs" in text
    # the first screen teaches: the tiles hold the lesson's figures, never a blank
    assert _claim_tiles(at) == {claim.stage: claim.figure for claim in CLAIMS}
    assert not any("Not measured here yet" in c.value for c in at.caption)
    if reference.cached_measurement() is None:  # nothing measured yet: no figure pretends to be one, and it can be measured
        assert _cell_lines(at) == []
        assert any("No run with the lesson's settings" in c.value for c in at.caption)


def _run(accuracies: dict, **settings) -> SimpleNamespace:
    return SimpleNamespace(timings={"phase_test_accuracy": accuracies}, test={"n": 12},
                           config=replace(reference.TRANSFER, **settings))


def test_only_a_run_with_the_claims_settings_fills_its_cell(fake_reference):
    at = _page()
    lines = _cell_lines(at)
    assert "Measured here: **77%** (the reference run)" in lines and "Measured here: **88%** (the reference run)" in lines
    # the reference's scratch CNN runs at 96 px for 15 epochs: said, not passed off as the story's figure
    scratch = next(line for line in lines if "41%" in line)
    assert "not with the lesson's settings" in scratch and "96 px, not 224 px" in scratch and "15, not 30" in scratch
    assert "concept_reference_start" not in [b.key for b in at.button]

    # a student's own run with the lesson's settings comes first
    at.session_state[state.LATEST_RESULT] = _run({"phase1": 0.61, "phase2": 0.66})
    at.run()
    lines = _cell_lines(at)
    assert "Measured here: **61%** (your latest run)" in lines and "Measured here: **66%** (your latest run)" in lines

    # a 96 px, 10-layer, lr 1e-2 run never stands beside the lesson's 90–95%: the reference's figure does
    at.session_state[state.LATEST_RESULT] = _run({"phase1": 0.70, "phase2": 0.22}, image_size=96, unfreeze=10, lr2=1e-2)
    at.run()
    lines = _cell_lines(at)
    assert not any("22%" in line for line in lines)
    assert "Measured here: **88%** (the reference run)" in lines


def test_without_a_comparable_run_the_cell_says_how_the_run_differs():
    reference._key_memo.clear()
    at = AppTest.from_file(str(PAGE), default_timeout=180)
    at.session_state[state.LATEST_RESULT] = _run({"phase1": 0.70, "phase2": 0.22}, image_size=96, unfreeze=10,
                                                 lr2=1e-2)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if reference.cached_measurement() is not None:
        pytest.skip("a reference run is cached on this machine: its comparable figures fill the cells")
    assert _claim_tiles(at) == {claim.stage: claim.figure for claim in CLAIMS}
    phase2 = next(line for line in _cell_lines(at) if "22%" in line)
    assert not phase2.startswith("Measured here")
    for words in ("image size: 96 px, not 224 px", "layers unfrozen: 10, not 30", "learning rate: 0.01, not 1e-05"):
        assert words in phase2
