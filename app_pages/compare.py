"""Compare base models: parameters, size, published accuracy and measured CPU speed, then a verdict.

A thin view over ``core.lesson`` (the base comparison). Counting parameters builds each architecture once (weights=None;
cached on disk by ``core.models.bases.architecture_facts`` and here with ``st.cache_data``). The speed test
runs only when asked. Figures live in ``ui.charts``; the speed results seen so far in ``ui.state``.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from core.lesson import FAST_MS, base_table, measure_latency
from core.models import DEFAULT_BASE, read_layer_table
from ui import charts, glossary, state, verdict_panel

KEEP_SECONDS = 600
N_PHOTOS = 8
HEADLINE = (DEFAULT_BASE, "vgg16")  # the lesson's base against the classic giant


@st.cache_data(show_spinner=False)
def _base_table() -> list[dict]:
    return base_table()


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
    result = measure_latency(key, n_images=n_images, on_progress=on_progress)
    board[(key, n_images)] = (time.time(), result)
    return result


def _millions(n: int) -> str:
    return f"{n / 1e6:.1f}M"


def _headline(rows: dict[str, dict]) -> None:
    small, big = (rows[k] for k in HEADLINE)
    a, b = st.columns(2)
    a.metric(f"{small['name']} parameters (with top)", _millions(small["params_total"]), border=True,
             help=f"Without the ImageNet top: {small['params_no_top']:,}")
    b.metric(f"{big['name']} parameters (with top)", _millions(big["params_total"]), border=True,
             help=f"Without the ImageNet top: {big['params_no_top']:,}")
    ratio = big["params_total"] / small["params_total"]
    borrowed = big["params_no_top"] / small["params_no_top"]
    gap = big["top1"] - small["top1"]
    accuracy = "yet scores about the same" if abs(gap) < 2 else f"and scores {gap:+.1f} points"
    st.markdown(
        f"With the ImageNet top: **{small['name']}: {small['params_total']:,}** parameters · "
        f"**{big['name']}: {big['params_total']:,}**, so {big['name']} is **{ratio:.0f}× bigger**, {accuracy} on "
        f"ImageNet ({small['top1']:g}% vs {big['top1']:g}% top-1). The part transfer learning borrows (no top) is "
        f"**{small['params_no_top'] / 1e6:.2f}M vs {big['params_no_top'] / 1e6:.2f}M**: about "
        f"**{borrowed:.1f}×**. Most of {big['name']}'s size is its top, which we throw away."
    )
    table = read_layer_table()
    if table.get("key") == small["key"]:
        batchnorm = sum(layer["params"] for layer in table["layers"] if layer["type"] == "BatchNormalization")
        st.caption(f"The lesson says ~3.4M for {small['name']}: the paper's rounded count. Keras counts "
                   f"{small['params_total']:,} because it includes every BatchNorm layer's numbers ({batchnorm:,} "
                   f"here), which such counts often leave out: without them, "
                   f"{small['params_total'] - batchnorm:,}.")


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
        latency = state.measured_latency()
        bar = st.progress(0.0, text="Starting…")
        for i, key in enumerate(chosen):

            def report(done: int, total: int, i=i, key=key) -> None:
                bar.progress(min(1.0, (i + done / total) / len(chosen)), text=f"Timing {names[key]}…")

            bar.progress(i / len(chosen), text=f"Building {names[key]}…")
            latency[key] = _latency(key, N_PHOTOS, report)
        bar.progress(1.0, text="Done")
    latency = state.measured_latency()
    measured = [r for r in rows if r["key"] in latency]
    if not measured:
        st.caption("Press the button: VGG16 takes a few seconds, and that's the point.")
        return
    fig = charts.latency_bars([r["name"] for r in measured], [latency[r["key"]]["ms_per_image"] for r in measured],
                              FAST_MS)
    st.plotly_chart(fig, key="compare_latency_chart", config=charts.PHONE_FRIENDLY)
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

both = "with ImageNet top", "no top (what we borrow)"
st.plotly_chart(charts.log_bars(table_rows, [("params_total", both[0]), ("params_no_top", both[1])], "Parameters",
                                "parameters"), key="compare_params_chart", config=charts.PHONE_FRIENDLY)
st.plotly_chart(charts.log_bars(table_rows, [("size_mb_total", both[0]), ("size_mb", both[1])],
                                "Download size (float32 weights)", "MB"),
                key="compare_size_chart", config=charts.PHONE_FRIENDLY)
st.plotly_chart(charts.accuracy_vs_size(table_rows, verdict_panel.phone_budget()), key="compare_accuracy_chart",
                config=charts.PHONE_FRIENDLY)

_measure(table_rows)

st.subheader("All the numbers")
latency_now = state.measured_latency()
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
    "Top-1 = share of ImageNet validation photos whose first guess is right, as published (see source)."
)

glossary.expander(["top-1", "ImageNet", "log scale", "no top / include_top", "parameters"])
st.subheader("🧭 Verdict")
verdict_panel.show(table_rows, latency_now)
