"""The Compare verdict (core.lesson.verdict): stated needs and limits in, a pick among bases that meet them out."""

from __future__ import annotations

import pytest

from core.lesson import architecture
from core.lesson.verdict import Needs, decide, relative_speed


def _row(key, name, size_mb, top1, weights=True):
    return {"key": key, "name": name, "size_mb": size_mb, "top1": top1, "weights_available": weights}


ROWS = [
    _row("mobilenet_v2", "Small", 9.0, 71.3),
    _row("tiny", "Tiny", 1.7, 60.3),
    _row("big", "Big", 58.9, 71.3, weights=False),
    _row("best", "Best", 16.0, 77.1, weights=False),
    _row("mid", "Mid", 94.7, 74.9),
]


def test_only_bases_that_can_train_here_are_picked_when_that_matters():
    verdict = decide(ROWS, Needs(on_phone=False, train_here=True))
    assert verdict.pick["name"] == "Mid"
    assert "cannot be trained here" in " ".join(verdict.left_out["Best"])
    assert decide(ROWS, Needs(on_phone=False, train_here=False)).pick["name"] == "Best"


def test_the_students_phone_budget_decides_what_fits():
    assert decide(ROWS, Needs(phone_budget_mb=20)).pick["name"] == "Small"
    assert decide(ROWS, Needs(phone_budget_mb=5)).pick["name"] == "Tiny"
    assert decide(ROWS, Needs(phone_budget_mb=100)).pick["name"] == "Mid"
    text = decide(ROWS, Needs(phone_budget_mb=5)).markdown(Needs(phone_budget_mb=5))
    assert "not under your 5 MB phone budget" in text and text.startswith("**Pick: Tiny**")


def test_the_pick_follows_the_numbers_not_the_names():
    swapped = [{**r, "name": {"Small": "Tiny", "Tiny": "Small"}.get(r["name"], r["name"])} for r in ROWS]
    assert decide(swapped, Needs()).pick["name"] == "Tiny"


def test_nothing_meets_the_needs_is_said_plainly():
    verdict = decide(ROWS, Needs(phone_budget_mb=1))
    assert verdict.pick is None and verdict.markdown(Needs(phone_budget_mb=1)).startswith("**No base meets")


@pytest.mark.parametrize("load", [1.0, 2.5, 7.0])
def test_speed_counts_relative_to_mobilenet_v2_so_load_does_not_flip_the_pick(load):
    latency = {"mobilenet_v2": 20.0 * load, "tiny": 10.0 * load, "mid": 90.0 * load}
    needs = Needs(on_phone=False, live_camera=True, max_slowdown=3.0)
    verdict = decide(ROWS, needs, latency)
    assert verdict.pick["name"] == "Small"  # Mid is 4.5x MobileNetV2's time, over the 3x limit, at any load
    assert "4.5× MobileNetV2's time per photo" in " ".join(verdict.left_out["Mid"])
    assert relative_speed(latency)["tiny"] == pytest.approx(0.5)


def test_speed_is_not_used_until_mobilenet_v2_is_timed():
    verdict = decide(ROWS, Needs(on_phone=False, live_camera=True), {"mid": 90.0})
    assert verdict.pick["name"] == "Mid" and any("Speed not used yet" in n for n in verdict.notes)


def test_on_the_real_table_the_pick_can_be_trained_here():
    rows = architecture.base_table()
    verdict = decide(rows, Needs())
    assert verdict.pick is not None and verdict.pick["weights_available"]
    assert all(r["weights_available"] for r in verdict.kept)
