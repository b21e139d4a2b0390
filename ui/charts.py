"""Every plotly figure the pages draw. Plain plotly: no Streamlit, no TensorFlow.

Colours come from ``ui.colours`` (Okabe-Ito, colour-blind safe) and never carry meaning alone: series also
differ by line dash, marker symbol or bar pattern, and verdicts are written in the text beside the mark.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ui import colours

PHONE_FRIENDLY = {"displayModeBar": False, "scrollZoom": False}
STATIC = {"displayModeBar": False, "staticPlot": True}


def _layout(fig: go.Figure, title: str, height: int = 340) -> go.Figure:
    fig.update_layout(title={"text": title, "font": {"size": 15}}, height=height,
                      margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.25),
                      hovermode="x unified")
    return fig


# ------------------------------------------------------------------------------------------ Train page
def learning_curves(epochs: list[dict], epochs1: int, metric: str = "accuracy") -> go.Figure:
    """Train (solid, circles) and validation (dotted, squares) ``metric`` per epoch; a dashed line where
    fine-tuning starts."""
    fig = go.Figure()
    x = [e["epoch"] for e in epochs]
    for key, name, colour, dash, symbol in ((metric, "train", colours.TRAIN, "solid", "circle"),
                                            (f"val_{metric}", "validation", colours.VALIDATION, "dot", "square")):
        fig.add_trace(go.Scatter(x=x, y=[e[key] for e in epochs], name=name, mode="lines+markers",
                                 line=dict(dash=dash, color=colour), marker=dict(symbol=symbol, size=8)))
    if any(e["phase"] == "fine-tune" for e in epochs):
        fig.add_vline(x=epochs1 + 0.5, line_dash="dash", line_color=colours.GREY,
                      annotation_text="fine-tuning starts", annotation_position="top left")
    fig.update_xaxes(title="epoch", dtick=1)
    fig.update_yaxes(title=metric, rangemode="tozero")
    return _layout(fig, metric.capitalize())


def _typed(names) -> list[str]:
    """Names a student typed, as plotly text: plotly reads a subset of HTML in labels (<b>, <span style=...>),
    so a class folder called "<b>roses" would come out styled; entities show the characters as typed."""
    return [str(n).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for n in names]


def confusion_matrix(matrix: list[list[int]], class_names: list[str]) -> go.Figure:
    """Counts in every cell (the numbers carry the meaning; the shade only helps the eye)."""
    class_names = _typed(class_names)
    fig = go.Figure(go.Heatmap(z=matrix, x=class_names, y=class_names, colorscale=colours.SEQUENTIAL, text=matrix,
                               texttemplate="%{text}", hovertemplate="true %{y}<br>predicted %{x}: %{z}<extra></extra>",
                               showscale=False))
    fig.update_xaxes(title="predicted", side="bottom")
    fig.update_yaxes(title="true", autorange="reversed")
    # Two short lines: one long title is cut off on a 360 px phone.
    fig = _layout(fig, "Confusion matrix (test photos)<br><sup>right answers on the diagonal</sup>", height=400)
    return fig.update_layout(margin=dict(t=64))


def per_class_accuracy(per_class: dict[str, dict]) -> go.Figure:
    names = list(per_class)
    values = [per_class[n]["accuracy"] for n in names]
    fig = go.Figure(go.Bar(x=values, y=_typed(names), orientation="h", marker_color=colours.BLUE,
                           text=[f"{v:.0%}" for v in values], textposition="auto"))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    return _layout(fig, "Accuracy per class (test photos)", height=60 + 40 * len(names))


def class_counts(rows: list[dict]) -> go.Figure:
    """Photos per class, stacked by split (each split its own colour and bar pattern)."""
    fig = go.Figure()
    for i, split in enumerate(("train", "val", "test")):
        fig.add_trace(go.Bar(x=_typed(r["class"] for r in rows), y=[r[split] for r in rows], name=split,
                             marker=dict(color=colours.series(i), pattern_shape=colours.pattern(i))))
    fig.update_layout(barmode="stack")
    return _layout(fig, "Photos per class", height=300)


def compare_runs(rows: list[dict], metric: str = "val_accuracy") -> go.Figure:
    """One line per run for ``metric`` (rows from ``core.training.curve_rows``): colour, dash and marker differ."""
    fig = go.Figure()
    runs = list(dict.fromkeys(r["run"] for r in rows))
    for i, run in enumerate(runs):
        picked = [r for r in rows if r["run"] == run and r["metric"] == metric]
        fig.add_trace(go.Scatter(x=[r["epoch"] for r in picked], y=[r["value"] for r in picked], name=run,
                                 mode="lines+markers", line=dict(color=colours.series(i), dash=colours.dash(i)),
                                 marker=dict(symbol=colours.symbol(i), size=8)))
    fig.update_xaxes(title="epoch", dtick=1)
    fig.update_yaxes(title=metric.replace("_", " "))
    return _layout(fig, f"{metric.replace('_', ' ').capitalize()} per run", height=380)


def side_by_side(labels: list[str], accuracies: list[float]) -> go.Figure:
    """Kiran's experiment: one labelled bar per approach (names on the axis, values on the bars)."""
    fig = go.Figure(go.Bar(x=labels, y=accuracies,
                           marker=dict(color=[colours.series(i + 2) for i in range(len(labels))],
                                       pattern_shape=[colours.pattern(i + 1) for i in range(len(labels))]),
                           text=[f"{a:.0%}" for a in accuracies], textposition="auto"))
    fig.update_yaxes(range=[0, 1], tickformat=".0%", title="test accuracy")
    return _layout(fig, "Same photos, same epochs", height=320)


# ---------------------------------------------------------------------------------------- Compare page
def log_bars(rows: list[dict], series: list[tuple[str, str]], title: str, unit: str) -> go.Figure:
    """Grouped horizontal bars on a log axis: one (field, label) series per colour and pattern."""
    fig = go.Figure()
    names = [r["name"] for r in rows]
    for i, (field, label) in enumerate(series):
        fig.add_bar(y=names, x=[r[field] for r in rows], name=label, orientation="h",
                    marker=dict(color=[colours.GREY, colours.BLUE][i % 2], pattern_shape=colours.pattern(i)),
                    hovertemplate="%{y}: %{x:,} " + unit + "<extra>" + label + "</extra>")
    fig.update_layout(title={"text": title, "font": {"size": 15}}, barmode="group", height=90 + 42 * len(rows),
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.15, "x": 0},
                      xaxis={"type": "log", "title": f"{unit} (log scale)"}, yaxis={"autorange": "reversed"})
    return fig


def _log_x_marker(fig: go.Figure, x: float, text: str, y: float) -> None:
    """A dashed vertical line with a label on a log x axis (annotations there take log10 positions)."""
    fig.add_vline(x=x, line_dash="dash", line_color=colours.GREY)
    fig.add_annotation(x=math.log10(x), y=y, yref="paper", yanchor="bottom", text=text, showarrow=False,
                       xanchor="left", font={"size": 11, "color": colours.GREY})


def accuracy_vs_size(rows: list[dict], phone_mb: float) -> go.Figure:
    """ImageNet top-1 against download size; bases over ``phone_mb`` are crosses (✗), the rest circles (✓)."""
    logs = [math.log10(r["size_mb"]) for r in rows]
    low, span = min(logs), (max(logs) - min(logs)) or 1.0
    fig = go.Figure()
    for fits, label, colour, symbol in ((True, f"✓ under {phone_mb:g} MB", colours.GOOD, "circle"),
                                        (False, f"✗ over {phone_mb:g} MB", colours.BAD, "x")):
        picked = [(r, v) for r, v in zip(rows, logs) if (r["size_mb"] < phone_mb) == fits]
        if not picked:
            continue
        # Labels lean inwards at the edges so a phone-width chart does not cut them off.
        where = ["top right" if (v - low) / span < 0.3 else "top left" if (v - low) / span > 0.9 else "top center"
                 for _, v in picked]
        fig.add_trace(go.Scatter(x=[r["size_mb"] for r, _ in picked], y=[r["top1"] for r, _ in picked],
                                 text=[r["name"] for r, _ in picked], mode="markers+text", textposition=where,
                                 name=label, marker={"size": 12, "color": colour, "symbol": symbol},
                                 hovertemplate="%{text}: %{y}% top-1, %{x} MB<extra></extra>"))
    _log_x_marker(fig, phone_mb, f"phone limit {phone_mb:g} MB", y=0.02)
    fig.update_layout(title={"text": "Accuracy vs size: up and left is better", "font": {"size": 15}}, height=380,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.25, "x": 0},
                      xaxis={"type": "log", "title": "no-top weights, MB (log scale)",
                             "range": [min(logs) - 0.2, max(logs) + 0.2]},
                      yaxis={"title": "ImageNet top-1 %"})
    return fig


def latency_bars(names: list[str], ms: list[float], fast_ms: float) -> go.Figure:
    """Milliseconds per photo; the text on each bar says whether it is under ``fast_ms`` (✓) or not (✗)."""
    fast = [m < fast_ms for m in ms]
    fig = go.Figure(go.Bar(
        y=names, x=ms, orientation="h",
        marker=dict(color=[colours.GOOD if f else colours.BAD for f in fast],
                    pattern_shape=["" if f else "/" for f in fast]),
        text=[f"{m:.0f} ms {'✓' if f else '✗ slow'}" for m, f in zip(ms, fast)], textposition="auto",
        hovertemplate="%{y}: %{x:.1f} ms per photo<extra></extra>",
    ))
    _log_x_marker(fig, fast_ms, f"{fast_ms:g} ms = {1000 / fast_ms:.0f} photos a second", y=1.0)
    fig.update_layout(title={"text": "Milliseconds per photo (shorter is faster)", "font": {"size": 15}},
                      height=90 + 42 * len(names), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis={"type": "log", "title": "ms per photo (log scale)"}, yaxis={"autorange": "reversed"})
    return fig


# ---------------------------------------------------------------------------------------- Predict page
def top_guesses(top: list[tuple[str, float]], sure: bool) -> go.Figure:
    """The model's top guesses; the best bar says in words whether the model is sure."""
    names = _typed(name for name, _ in top)[::-1]  # plotly draws the first bar at the bottom
    values = [p for _, p in top][::-1]
    best = colours.SURE if sure else colours.UNSURE
    marker = dict(color=[colours.OTHER] * (len(values) - 1) + [best],
                  pattern_shape=[""] * (len(values) - 1) + ["" if sure else "/"])
    texts = [f"{p:.0%}" for p in values]
    texts[-1] += " ✓ sure" if sure else " ? not sure"
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker=marker, text=texts, textposition="auto",
                           hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.update_layout(height=70 + 48 * len(values), margin={"l": 8, "r": 8, "t": 36, "b": 8}, showlegend=False,
                      title={"text": f"Top {len(values)} guesses", "font": {"size": 15}})
    fig.update_xaxes(range=[0, 1], tickformat=".0%", fixedrange=True)
    fig.update_yaxes(fixedrange=True, automargin=True)
    return fig


# ---------------------------------------------------------------------------------------- Concept page
LAYER_STATES = {  # state -> (legend label, colour, bar pattern)
    "frozen": ("❄️ frozen", colours.FROZEN, ""),
    "trainable": ("🔥 trainable", colours.TRAINABLE, "/"),
    "no params": ("no parameters (dotted stub)", colours.NO_PARAMS, "."),
}


def layer_bars(summary: dict) -> go.Figure:
    """One bar per base layer (log height = parameters), frozen / trainable by colour and pattern, then the
    new head; ``summary`` from ``core.models.unfreeze_summary``."""
    rows, head = summary["layers"], summary["head"]
    fig = go.Figure()
    stub = 3  # layers without parameters get a small stub so they stay visible on the log scale
    for state, (label, colour, pattern) in LAYER_STATES.items():
        chosen = [r for r in rows if r["state"] == state]
        fig.add_bar(x=[r["index"] for r in chosen], y=[r["params"] or stub for r in chosen], name=label,
                    marker=dict(color=colour, pattern_shape=pattern),
                    customdata=[[r["name"], r["type"], f"{r['params']:,}", r["block"].replace("_", " ")]
                                for r in chosen],
                    hovertemplate="%{customdata[0]} (%{customdata[1]})<br>%{customdata[3]}<br>"
                    "%{customdata[2]} parameters<extra></extra>")
    first_head = len(rows) + 4
    _, colour, pattern = LAYER_STATES["trainable"]
    fig.add_bar(x=[first_head + i for i in range(len(head))], y=[h["params"] or stub for h in head],
                name="🔥 new head", marker=dict(color=colour, pattern_shape=pattern),
                customdata=[[h["name"], h["type"], f"{h['params']:,}"] for h in head],
                hovertemplate="%{customdata[0]} (%{customdata[1]})<br>new head<br>%{customdata[2]} parameters"
                "<extra></extra>")
    fig.add_vline(x=len(rows) - summary["unfreeze"] - 0.5, line_dash="dash", line_color=colours.BLACK, line_width=1)
    # One tick in the middle of each of the paper's bottleneck stages (1-7), and one for the head.
    stages: dict[int, list[int]] = {}
    for r in rows:
        if r["block"].startswith("block_"):
            stages.setdefault(r["stage"], []).append(r["index"])
    ticks = [(min(i) + max(i)) / 2 for i in stages.values()] + [first_head + (len(head) - 1) / 2]
    fig.update_layout(barmode="overlay", bargap=0.15, height=340, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
                      yaxis={"type": "log", "title": "parameters", "range": [0, 6]},
                      xaxis={"tickvals": ticks, "ticktext": [str(s) for s in stages] + ["head"],
                             "title": "stages: photo in → answer out"})
    return fig


def feature_map_grid(maps: np.ndarray, cols: int = 4) -> go.Figure:
    """Feature maps (n, h, w in 0..1) in a ``cols``-wide grid of grey images (white = strong response)."""
    rows = -(-len(maps) // cols)
    h, w = maps.shape[1:]
    gap = 4
    canvas = np.ones((rows * (h + gap) - gap, cols * (w + gap) - gap), np.float32)
    for i, m in enumerate(maps):
        r, c = divmod(i, cols)
        canvas[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = m
    fig = go.Figure(go.Heatmap(z=canvas[::-1], colorscale="gray", showscale=False, hoverinfo="skip"))
    fig.update_layout(height=95 * rows, margin={"l": 0, "r": 0, "t": 0, "b": 0}, xaxis={"visible": False},
                      yaxis={"visible": False, "scaleanchor": "x"})
    return fig


# ----------------------------------------------------------------------------------------- honest accuracy
def fold_accuracies(accuracies: list[float], mean: float, sd: float, mode: str = "") -> go.Figure:
    """One bar per cross-validation fold (its accuracy written on it), the mean as a dashed line and
    mean ± one standard deviation as a grey band."""
    folds = [f"fold {i + 1}" for i in range(len(accuracies))]
    fig = go.Figure(go.Bar(x=folds, y=accuracies, marker_color=colours.BLUE, text=[f"{a:.1%}" for a in accuracies],
                           textposition="outside", name="each fold", hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    if accuracies:
        fig.add_hrect(y0=max(0.0, mean - sd), y1=min(1.0, mean + sd), fillcolor=colours.LIGHT_GREY, opacity=0.5,
                      line_width=0, annotation_text=f"± {sd * 100:.1f} points", annotation_position="bottom right")
        fig.add_hline(y=mean, line_dash="dash", line_color=colours.BLACK, annotation_text=f"mean {mean:.1%}",
                      annotation_position="top left")
    low = max(0.0, min(accuracies, default=0.0) - 0.1)
    fig.update_yaxes(range=[low, 1.02], tickformat=".0%", title="test accuracy of the fold")
    title = "Each fold's accuracy" + (f" ({mode})" if mode else "")
    return _layout(fig, title, height=320)


def threshold_curve(points: list[dict], chosen: float | None = None) -> go.Figure:
    """Coverage (share of test photos it would answer, solid, circles) and accuracy of those answered (dotted,
    squares) against the 'not sure below' threshold; a vertical line at the student's choice."""
    x = [p["threshold"] for p in points]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=[p["coverage"] for p in points], name="answered (coverage)", mode="lines+markers",
                             line=dict(color=colours.BLUE), marker=dict(symbol=colours.SYMBOLS[0], size=4)))
    fig.add_trace(go.Scatter(x=x, y=[p["accuracy"] for p in points], name="right, of those answered",
                             mode="lines+markers", line=dict(color=colours.ORANGE, dash="dot"),
                             marker=dict(symbol=colours.SYMBOLS[1], size=4)))
    if chosen is not None:
        fig.add_vline(x=chosen, line_dash="dash", line_color=colours.GREY, annotation_text=f"your {chosen:.0%}",
                      annotation_position="top left")
    fig.update_xaxes(title="say 'not sure' below this confidence", tickformat=".0%", range=[0, 1])
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return _layout(fig, "What a threshold costs (test photos)", height=340)


def class_map(points: list, teacher: bool = False) -> go.Figure:
    """The class's runs (``core.classroom.class_map.MapPoint``): one row per setting, test accuracy with its 95%
    interval as a bar; the viewer's own runs as large blue diamonds, everyone else's as small grey circles."""
    def shown(label: str) -> str:  # one setting a line: a phone's narrow axis keeps room for the points
        return label.replace(" · ", "<br>") if len(label) > 18 else label

    labels = list(dict.fromkeys(shown(p.label) for p in sorted(points, key=lambda p: (p.varies, p.label))))
    fig = go.Figure()
    groups = (("others", [p for p in points if not p.mine], colours.GREY, "circle", 9),
              ("yours", [p for p in points if p.mine], colours.BLUE, "diamond", 14))
    for name, group, colour, symbol, size in groups:
        if not group:
            continue
        hover = [f"{p.who or 'a classmate'}: {p.accuracy:.1%} ({p.low:.0%}–{p.high:.0%}, {p.n} test photos)"
                 + (" · reused" if p.reused else "") for p in group]
        fig.add_trace(go.Scatter(
            x=[p.accuracy for p in group], y=[shown(p.label) for p in group], mode="markers",
            name=name if not teacher else ("runs" if name == "others" else name),
            marker=dict(color=colour, symbol=symbol, size=size, line=dict(width=1, color=colours.BLACK)),
            error_x=dict(type="data", symmetric=False, array=[p.high - p.accuracy for p in group],
                         arrayminus=[p.accuracy - p.low for p in group], color=colour, thickness=1.5),
            text=hover, hovertemplate="%{text}<extra></extra>"))
    low, high = min((p.low for p in points), default=0.5), max((p.high for p in points), default=1.0)
    fig.update_xaxes(title="test accuracy, 95% interval", tickformat=".0%",
                     range=[max(0.0, low - 0.03), min(1.0, high + 0.03)])
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], automargin=True, tickfont=dict(size=11))
    lines = sum(label.count("<br>") + 1 for label in labels)
    fig = _layout(fig, "Each setting the class tried", height=max(240, 100 + 22 * lines + 12 * len(labels)))
    fig.update_layout(hovermode="closest")
    return fig
