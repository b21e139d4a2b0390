"""Compare base models: parameters, size, published accuracy and measured CPU speed, then a verdict.

A thin view over ``core.architecture``. Counting parameters builds each architecture once (weights=None;
cached on disk by ``core.models.architecture_facts`` and here with ``st.cache_data``). The speed test
runs only when asked. Session state: ``compare_measure_bases`` (which bases to time),
``compare_latency`` (results so far, by base key).
"""

from __future__ import annotations

import math
import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import architecture
from core.models import DEFAULT_BASE

LATENCY_KEY = "compare_latency"
KEEP_SECONDS = 600
N_PHOTOS = 8
HEADLINE = (DEFAULT_BASE, "vgg16")  # the lesson's base against the classic giant
GREEN, GREY, RED = "#2E7D5B", "#9AA5B1", "#C8553D"


@st.cache_data(show_spinner=False)
def _base_table() -> list[dict]:
    return architecture.base_table()


@st.cache_resource
def _latency_board() -> dict:
    """Speed results shared by everyone using this server: (base, photos) -> (time measured, result)."""
    return {}


def _latency(key: str, n_images: int, on_progress) -> dict:
    """A result under 10 minutes old is reused, so a class pressing the button together does not
    time VGG16 thirty times (timings are per computer, not per student)."""
    board = _latency_board()
    kept = board.get((key, n_images))
    if kept and time.time() - kept[0] < KEEP_SECONDS:
        return kept[1]
    result = architecture.measure_latency(key, n_images=n_images, on_progress=on_progress)
    board[(key, n_images)] = (time.time(), result)
    return result


def _millions(n: int) -> str:
    return f"{n / 1e6:.1f}M"


def _headline(rows: dict[str, dict]) -> None:
    small, big = (rows[k] for k in HEADLINE)
    a, b = st.columns(2)
    a.metric(f"{small['name']} parameters", _millions(small["params_total"]), border=True)
    b.metric(f"{big['name']} parameters", _millions(big["params_total"]), border=True)
    ratio = big["params_total"] / small["params_total"]
    gap = big["top1"] - small["top1"]
    accuracy = "yet scores about the same" if abs(gap) < 2 else f"and scores {gap:+.1f} points"
    st.markdown(
        f"**{small['name']}: {small['params_total']:,}** parameters · **{big['name']}: {big['params_total']:,}**. "
        f"{big['name']} is **{ratio:.0f}× bigger**, {accuracy} on ImageNet "
        f"({small['top1']:g}% vs {big['top1']:g}% top-1)."
    )


def _log_bars(rows: list[dict], series: list[tuple[str, str, str]], title: str, unit: str) -> go.Figure:
    fig = go.Figure()
    names = [r["name"] for r in rows]
    for field, label, colour in series:
        fig.add_bar(
            y=names,
            x=[r[field] for r in rows],
            name=label,
            orientation="h",
            marker_color=colour,
            hovertemplate="%{y}: %{x:,} " + unit + "<extra>" + label + "</extra>",
        )
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        barmode="group",
        height=90 + 42 * len(rows),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.15, "x": 0},
        xaxis={"type": "log", "title": f"{unit} (log scale)"},
        yaxis={"autorange": "reversed"},
    )
    return fig


def _log_x_marker(fig: go.Figure, x: float, text: str, y: float) -> None:
    """A dashed vertical line with a label on a log x axis (annotations there take log10 positions)."""
    fig.add_vline(x=x, line_dash="dash", line_color=GREY)
    fig.add_annotation(
        x=math.log10(x),
        y=y,
        yref="paper",
        yanchor="bottom",
        text=text,
        showarrow=False,
        xanchor="left",
        font={"size": 11, "color": GREY},
    )


def _accuracy_figure(rows: list[dict]) -> go.Figure:
    logs = [math.log10(r["size_mb"]) for r in rows]
    low, span = min(logs), (max(logs) - min(logs)) or 1.0
    # Labels lean inwards at the edges so a phone-width chart does not cut them off.
    where = [
        "top right" if (v - low) / span < 0.3 else "top left" if (v - low) / span > 0.9 else "top center" for v in logs
    ]
    fig = go.Figure(
        go.Scatter(
            x=[r["size_mb"] for r in rows],
            y=[r["top1"] for r in rows],
            text=[r["name"] for r in rows],
            mode="markers+text",
            textposition=where,
            marker={"size": 12, "color": [GREEN if r["size_mb"] < architecture.PHONE_MB else RED for r in rows]},
            hovertemplate="%{text}: %{y}% top-1, %{x} MB<extra></extra>",
        )
    )
    _log_x_marker(fig, architecture.PHONE_MB, f"phone limit {architecture.PHONE_MB:g} MB", y=0.02)
    fig.update_layout(
        title={"text": "Accuracy vs size: up and left is better", "font": {"size": 15}},
        height=360,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"type": "log", "title": "no-top weights, MB (log scale)", "range": [min(logs) - 0.2, max(logs) + 0.2]},
        yaxis={"title": "ImageNet top-1 %"},
    )
    return fig


def _table(rows: list[dict], latency: dict) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "Base": [r["name"] for r in rows],
            "Parameters (with top)": [r["params_total"] for r in rows],
            "Parameters (no top)": [r["params_no_top"] for r in rows],
            "Size MB (no top)": [r["size_mb"] for r in rows],
            "Layers (no top)": [r["layers_no_top"] for r in rows],
            "ImageNet top-1 %": [r["top1"] for r in rows],
            "ms per photo": [latency.get(r["key"], {}).get("ms_per_image") for r in rows],
            "Pretrained weights here": ["yes" if r["weights_available"] else "no" for r in rows],
            "Top-1 source": [r["top1_source"] for r in rows],
        }
    )
    return frame


def _measure(rows: list[dict]) -> None:
    st.subheader("⏱️ How fast on this computer?")
    st.write("Time one photo at a time through each whole network, on this computer's CPU.")
    names = {r["key"]: r["name"] for r in rows}
    chosen = st.multiselect(
        "Bases to time", list(names), default=list(names), format_func=names.get, key="compare_measure_bases"
    )
    if st.button("Measure speed", key="compare_measure", type="primary", disabled=not chosen):
        latency = st.session_state.setdefault(LATENCY_KEY, {})
        bar = st.progress(0.0, text="Starting…")
        for i, key in enumerate(chosen):

            def report(done: int, total: int, i=i, key=key) -> None:
                bar.progress(min(1.0, (i + done / total) / len(chosen)), text=f"Timing {names[key]}…")

            bar.progress(i / len(chosen), text=f"Building {names[key]}…")
            latency[key] = _latency(key, N_PHOTOS, report)
        bar.progress(1.0, text="Done")
    latency = st.session_state.get(LATENCY_KEY, {})
    measured = [r for r in rows if r["key"] in latency]
    if not measured:
        st.caption("Press the button: VGG16 takes a few seconds, and that's the point.")
        return
    fig = go.Figure(
        go.Bar(
            y=[r["name"] for r in measured],
            x=[latency[r["key"]]["ms_per_image"] for r in measured],
            orientation="h",
            marker_color=[GREEN if latency[r["key"]]["ms_per_image"] < architecture.FAST_MS else RED for r in measured],
            text=[f"{latency[r['key']]['ms_per_image']:.0f} ms" for r in measured],
            textposition="auto",
            hovertemplate="%{y}: %{x:.1f} ms per photo<extra></extra>",
        )
    )
    _log_x_marker(
        fig,
        architecture.FAST_MS,
        f"{architecture.FAST_MS:g} ms = {1000 / architecture.FAST_MS:.0f} photos a second",
        y=1.0,
    )
    fig.update_layout(
        title={"text": "Milliseconds per photo (shorter is faster)", "font": {"size": 15}},
        height=90 + 42 * len(measured),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"type": "log", "title": "ms per photo (log scale)"},
        yaxis={"autorange": "reversed"},
    )
    st.plotly_chart(fig, key="compare_latency_chart", config={"displayModeBar": False})
    sizes = sorted({f"{latency[r['key']]['image_size']} px" for r in measured})
    st.caption(
        f"Median of {latency[measured[0]['key']]['n_images']} photos, one at a time after a warm-up, "
        f"whole ImageNet classifier (with top) at each model's own size ({', '.join(sizes)}), random weights: "
        "speed doesn't depend on what the weights are. Results are kept for 10 minutes."
    )


st.title("⚖️ Which base model?")
st.write("Transfer learning starts from a network someone else trained. Which one should Kiran borrow?")
with st.spinner("Counting every model's parameters (building VGG16 takes a few seconds the first time)…"):
    table_rows = _base_table()
by_key = {r["key"]: r for r in table_rows}
_headline(by_key)

st.plotly_chart(
    _log_bars(
        table_rows,
        [("params_total", "with ImageNet top", GREY), ("params_no_top", "no top (what we borrow)", GREEN)],
        "Parameters",
        "parameters",
    ),
    key="compare_params_chart",
    config={"displayModeBar": False},
)
st.plotly_chart(
    _log_bars(
        table_rows,
        [("size_mb_total", "with ImageNet top", GREY), ("size_mb", "no top (what we borrow)", GREEN)],
        "Download size (float32 weights)",
        "MB",
    ),
    key="compare_size_chart",
    config={"displayModeBar": False},
)
st.plotly_chart(_accuracy_figure(table_rows), key="compare_accuracy_chart", config={"displayModeBar": False})

_measure(table_rows)

st.subheader("All the numbers")
latency_now = st.session_state.get(LATENCY_KEY, {})
st.dataframe(
    _table(table_rows, latency_now),
    hide_index=True,
    key="compare_table",
    column_config={
        "Parameters (with top)": st.column_config.NumberColumn(format="localized"),
        "Parameters (no top)": st.column_config.NumberColumn(format="localized"),
        "ms per photo": st.column_config.NumberColumn(format="%.1f"),
    },
)
st.caption(
    "Parameter and layer counts come from the real Keras architectures. Size = parameters × 4 bytes. "
    "Top-1 = share of ImageNet test photos whose first guess is right, as published (see source)."
)

st.subheader("🧭 Verdict")
verdict_rows = [{**r, "ms_per_image": latency_now.get(r["key"], {}).get("ms_per_image")} for r in table_rows]
st.markdown(architecture.verdict(verdict_rows))
