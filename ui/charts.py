"""Plotly figures for the Train page. Plain plotly: no Streamlit, no TensorFlow."""

from __future__ import annotations

import plotly.graph_objects as go

PHONE_FRIENDLY = {"displayModeBar": False, "scrollZoom": False}
COLOURS = ["#2E7D5B", "#D9822B", "#3A6EA5", "#B23A48", "#7A5C99", "#5C946E", "#C4A000", "#4D4D4D"]


def _layout(fig: go.Figure, title: str, height: int = 340) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(orientation="h", y=-0.25), hovermode="x unified")
    return fig


def learning_curves(epochs: list[dict], epochs1: int, metric: str = "accuracy") -> go.Figure:
    """Train and validation ``metric`` per epoch; a dashed line where fine-tuning starts."""
    fig = go.Figure()
    x = [e["epoch"] for e in epochs]
    for key, name, dash in ((metric, "train", "solid"), (f"val_{metric}", "validation", "dot")):
        fig.add_trace(go.Scatter(x=x, y=[e[key] for e in epochs], name=name, mode="lines+markers",
                                 line=dict(dash=dash, color=COLOURS[0] if name == "train" else COLOURS[1])))
    if any(e["phase"] == "fine-tune" for e in epochs):
        fig.add_vline(x=epochs1 + 0.5, line_dash="dash", line_color="#888",
                      annotation_text="fine-tuning starts", annotation_position="top left")
    fig.update_xaxes(title="epoch", dtick=1)
    fig.update_yaxes(title=metric, rangemode="tozero")
    return _layout(fig, metric.capitalize())


def confusion_matrix(matrix: list[list[int]], class_names: list[str]) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=matrix, x=class_names, y=class_names, colorscale="Greens", text=matrix,
                               texttemplate="%{text}", hovertemplate="true %{y}<br>predicted %{x}: %{z}<extra></extra>",
                               showscale=False))
    fig.update_xaxes(title="predicted", side="bottom")
    fig.update_yaxes(title="true", autorange="reversed")
    return _layout(fig, "Confusion matrix (test photos)", height=380)


def per_class_accuracy(per_class: dict[str, dict]) -> go.Figure:
    names = list(per_class)
    values = [per_class[n]["accuracy"] for n in names]
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color=COLOURS[0],
                           text=[f"{v:.0%}" for v in values], textposition="auto"))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    return _layout(fig, "Accuracy per class (test photos)", height=60 + 40 * len(names))


def class_counts(rows: list[dict]) -> go.Figure:
    fig = go.Figure()
    for i, split in enumerate(("train", "val", "test")):
        fig.add_trace(go.Bar(x=[r["class"] for r in rows], y=[r[split] for r in rows], name=split,
                             marker_color=COLOURS[i]))
    fig.update_layout(barmode="stack")
    return _layout(fig, "Photos per class", height=300)


def compare_runs(rows: list[dict], metric: str = "val_accuracy") -> go.Figure:
    """One line per run for ``metric`` (rows from ``core.history.curve_rows``)."""
    fig = go.Figure()
    runs = list(dict.fromkeys(r["run"] for r in rows))
    for i, run in enumerate(runs):
        picked = [r for r in rows if r["run"] == run and r["metric"] == metric]
        fig.add_trace(go.Scatter(x=[r["epoch"] for r in picked], y=[r["value"] for r in picked], name=run,
                                 mode="lines+markers", line=dict(color=COLOURS[i % len(COLOURS)])))
    fig.update_xaxes(title="epoch", dtick=1)
    fig.update_yaxes(title=metric.replace("_", " "))
    return _layout(fig, f"{metric.replace('_', ' ').capitalize()} per run", height=380)


def side_by_side(labels: list[str], accuracies: list[float]) -> go.Figure:
    fig = go.Figure(go.Bar(x=labels, y=accuracies, marker_color=[COLOURS[3], COLOURS[0]][: len(labels)],
                           text=[f"{a:.0%}" for a in accuracies], textposition="auto"))
    fig.update_yaxes(range=[0, 1], tickformat=".0%", title="test accuracy")
    return _layout(fig, "Same photos, same epochs", height=320)
