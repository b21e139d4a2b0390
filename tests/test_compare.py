"""The Compare page (AppTest): real parameter counts (MobileNetV2 vs VGG16 first), the table, the live
speed test and the verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.lesson import architecture
from core.lesson.verdict import Needs, decide
from core.models import bases as models

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "app_pages" / "compare.py"


@pytest.fixture(scope="module")
def page() -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_headline_numbers_come_from_the_real_architectures(page):
    small, big = models.architecture_facts("mobilenet_v2"), models.architecture_facts("vgg16")
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["MobileNetV2 parameters (with top)"] == f"{small.params_total / 1e6:.1f}M"
    assert metrics["VGG16 parameters (with top)"] == f"{big.params_total / 1e6:.1f}M"
    headline = next(m.value for m in page.markdown if "× bigger" in m.value)
    assert f"{small.params_total:,}" in headline and f"{big.params_total:,}" in headline
    assert f"{big.params_total / small.params_total:.0f}× bigger" in headline and "With the ImageNet top" in headline
    # the part transfer learning borrows, counted from the same architectures
    assert f"{small.params_no_top / 1e6:.2f}M vs {big.params_no_top / 1e6:.2f}M" in headline
    assert f"{big.params_no_top / small.params_no_top:.1f}×" in headline


def test_the_lessons_3_4_million_is_explained_once(page):
    small = models.architecture_facts("mobilenet_v2")
    notes = [c.value for c in page.caption if "3.4M" in c.value]
    assert len(notes) == 1 and f"{small.params_total:,}" in notes[0] and "BatchNorm" in notes[0]


def test_table_lists_every_base_with_real_counts(page):
    frame = page.dataframe[0].value
    assert list(frame["Base"]) == [spec.name for spec in models.BASES.values()]
    for key, (_, row) in zip(models.BASES, frame.iterrows()):
        facts = models.architecture_facts(key)
        assert row["Parameters (with top)"] == facts.params_total
        assert row["Parameters (no top)"] == facts.params_no_top
        assert row["Layers (no top)"] == facts.layers_no_top
        assert row["Size MB (no top)"] == facts.size_mb_float32
        assert row["ImageNet top-1 %"] == models.base_spec(key).top1
        assert row["Top-1 source"] == models.base_spec(key).top1_source
        assert row["Pretrained weights here"] == ("yes" if models.weights_available(key) else "no")
    assert len(page.get("plotly_chart")) == 3  # parameters, size, accuracy vs size


def test_verdict_before_measuring_follows_the_stated_needs(page):  # core.lesson.verdict
    verdict = page.markdown[-1].value
    assert verdict == decide(architecture.base_table(), Needs()).markdown(Needs())
    assert verdict.startswith("**Pick: MobileNetV2**")  # the most accurate base trainable here under 20 MB


def test_measure_speed_live(page):
    page.multiselect(key="compare_measure_bases").set_value(["mobilenet_v2", "vgg16"]).run()
    page.button(key="compare_measure").click().run()
    assert not page.exception, [e.value for e in page.exception]
    latency = page.session_state["compare_latency"]
    assert set(latency) == {"mobilenet_v2", "vgg16"}
    assert all(r["ms_per_image"] > 0 and r["include_top"] for r in latency.values())
    assert latency["vgg16"]["params"] == models.architecture_facts("vgg16").params_total
    frame = page.dataframe[0].value
    speeds = dict(zip(frame["Base"], frame["ms per photo"]))
    assert speeds["VGG16"] == latency["vgg16"]["ms_per_image"]
    charts = page.get("plotly_chart")
    assert len(charts) == 4
    bars = json.loads(charts[-1].proto.spec)["data"][0]
    assert bars["y"] == ["MobileNetV2", "VGG16"]
    for ms, text in zip(bars["x"], bars["text"]):  # the verdict per bar is written, not only coloured
        assert text == f"{ms:.0f} ms " + ("✓" if ms < architecture.FAST_MS else "✗ slow")
    page.toggle(key="compare_need_live").set_value(True).run()  # speed counts relative to MobileNetV2
    assert "1.0× MobileNetV2's time per photo" in page.markdown[-1].value
    page.toggle(key="compare_need_live").set_value(False).run()
    # Pressing again within 10 minutes reuses the result instead of timing VGG16 again.
    page.button(key="compare_measure").click().run()
    assert page.session_state["compare_latency"]["vgg16"] == latency["vgg16"]
