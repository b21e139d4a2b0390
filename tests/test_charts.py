"""ui/charts.py: one palette (Okabe-Ito), and no chart whose meaning is carried by colour alone."""

from __future__ import annotations

import numpy as np
import pytest

from ui import charts, colours

OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
EPOCHS = [{"epoch": e, "phase": "head" if e <= 2 else "fine-tune", "accuracy": 0.5 + e / 10, "val_accuracy": 0.5,
           "loss": 1 / e, "val_loss": 1.0} for e in (1, 2, 3)]


def looks(trace) -> tuple:
    """What tells a trace apart from the others without colour."""
    line = getattr(trace, "line", None)
    marker = getattr(trace, "marker", None)
    pattern = getattr(marker, "pattern", None) if marker is not None else None
    return (getattr(line, "dash", None), getattr(marker, "symbol", None),
            str(getattr(pattern, "shape", None)) if pattern is not None else None)


def test_the_palette_is_okabe_ito():
    assert set(colours.SERIES) == OKABE_ITO
    for name in ("TRAIN", "VALIDATION", "GOOD", "BAD", "FROZEN", "TRAINABLE", "SURE", "UNSURE"):
        assert getattr(colours, name) in OKABE_ITO, name


@pytest.mark.parametrize("figure", [
    lambda: charts.learning_curves(EPOCHS, 2),
    lambda: charts.class_counts([{"class": "a", "train": 5, "val": 2, "test": 1}]),
    lambda: charts.compare_runs([{"run": f"#{i}", "epoch": 1, "phase": "head", "metric": "val_accuracy",
                                  "value": 0.5} for i in range(4)]),
    lambda: charts.log_bars([{"name": "A", "x": 1, "y": 2}], [("x", "with top"), ("y", "no top")], "t", "MB"),
], ids=["learning curves", "class counts", "compare runs", "log bars"])
def test_series_differ_by_more_than_colour(figure):
    traces = figure().data
    assert len(traces) >= 2
    assert len({looks(t) for t in traces}) == len(traces), [looks(t) for t in traces]
    assert all(t.name for t in traces)  # and each is named in the legend


def test_fine_tuning_start_is_marked_with_words():
    fig = charts.learning_curves(EPOCHS, 2)
    assert [a.text for a in fig.layout.annotations] == ["fine-tuning starts"]


def test_phone_limit_and_speed_verdicts_are_symbols_and_words():
    rows = [{"name": "Small", "size_mb": 9.0, "top1": 71.3}, {"name": "Big", "size_mb": 58.9, "top1": 71.3}]
    fig = charts.accuracy_vs_size(rows, phone_mb=20)
    assert [(t.name, t.marker.symbol, list(t.text)) for t in fig.data] == [
        ("✓ under 20 MB", "circle", ["Small"]), ("✗ over 20 MB", "x", ["Big"])]
    bars = charts.latency_bars(["Small", "Big"], [12.0, 180.0], fast_ms=50).data[0]
    assert list(bars.text) == ["12 ms ✓", "180 ms ✗ slow"]


@pytest.mark.parametrize("sure, word", [(True, "✓ sure"), (False, "? not sure")])
def test_top_guesses_say_whether_the_model_is_sure(sure, word):
    bars = charts.top_guesses([("daisy", 0.7), ("roses", 0.2), ("tulips", 0.1)], sure).data[0]
    assert list(bars.y) == ["tulips", "roses", "daisy"]  # best on top
    assert bars.text[-1] == f"70% {word}" and bars.text[0] == "10%"


def test_confusion_matrix_prints_its_counts():
    heat = charts.confusion_matrix([[3, 1], [0, 4]], ["a", "b"]).data[0]
    assert heat.texttemplate == "%{text}" and [list(r) for r in heat.text] == [[3, 1], [0, 4]]


def test_layer_bars_mark_trainable_layers_by_pattern_too():
    layers = [{"index": i, "name": f"l{i}", "type": "Conv2D", "params": 10, "block": "block_1", "stage": 1,
               "state": "frozen" if i < 2 else "trainable"} for i in range(3)]
    fig = charts.layer_bars({"layers": layers, "head": [{"name": "dense", "type": "Dense", "params": 5}], "unfreeze": 1})
    by_name = {t.name: t for t in fig.data}
    assert by_name["❄️ frozen"].marker.pattern.shape != by_name["🔥 trainable"].marker.pattern.shape
    assert list(by_name["🔥 trainable"].x) == [2]


def test_layer_bars_tell_every_state_apart_by_pattern_not_only_colour():
    patterns = [pattern for _label, _colour, pattern in charts.LAYER_STATES.values()]
    assert len(set(patterns)) == len(patterns) == 3


def test_feature_map_grid_lays_maps_out_four_wide():
    fig = charts.feature_map_grid(np.zeros((8, 10, 10), np.float32))
    assert np.asarray(fig.data[0].z).shape == (2 * 10 + 4, 4 * 10 + 3 * 4)


def test_class_names_a_student_typed_reach_plotly_as_text_not_its_html():
    from ui import charts

    names = ["<b>roses", "daisy & co"]
    shown = ["&lt;b&gt;roses", "daisy &amp; co"]
    assert list(charts.confusion_matrix([[1, 0], [0, 1]], names).data[0].x) == shown
    assert list(charts.per_class_accuracy({n: {"accuracy": 0.5} for n in names}).data[0].y) == shown
    assert list(charts.class_counts([{"class": n, "train": 1, "val": 1, "test": 1} for n in names]).data[0].x) == shown
    assert list(charts.top_guesses([(names[0], 0.9), (names[1], 0.1)], True).data[0].y) == shown[::-1]
