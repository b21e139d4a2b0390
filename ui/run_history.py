"""The Train page's run history: every finished run of the session in a table, which settings differ between
them, and their curves overlaid. ``record`` files the results of a finished job."""

from __future__ import annotations

import streamlit as st

from core.training import TrainResult, add_run, changed_settings, curve_rows, runs_table
from ui import accuracy_panels, charts, kiran, state
from ui.labels import RUN_LABELS, SCRATCH_LABEL
from ui.train_settings import learning_rate_text

PICK_KEY = "train_runs_pick"  # the overlay's multiselect
OVERLAY_MAX = 4


def record(kind: str, results: dict[str, TrainResult]) -> None:
    """File a finished job's runs (a transfer run, and a scratch run for Kiran's experiment); its transfer model
    becomes the latest model (Predict uses it)."""
    runs = state.runs()
    transfer = results["transfer"]
    new = [add_run(runs, transfer, label=RUN_LABELS.get(kind))]
    state.set_latest_result(transfer)
    if "scratch" in results:
        new.append(add_run(runs, results["scratch"], label=SCRATCH_LABEL, kind="scratch"))
        kiran.record(results["scratch"], transfer)
    if PICK_KEY in st.session_state:  # overlay the new run(s) next to the ones picked before
        st.session_state[PICK_KEY] = (st.session_state[PICK_KEY] + [r.run_id for r in new])[-OVERLAY_MAX:]


def show() -> None:
    runs = state.runs()
    if not runs:
        return
    st.subheader("Your runs")
    table = [{**row, "lr1": learning_rate_text(row["lr1"]), "lr2": learning_rate_text(row["lr2"])}
             for row in runs_table(runs)]  # 2e-5, not 0.0000
    first = ["run", "test accuracy", "epochs1", "epochs2", "unfreeze", "lr1", "lr2"]  # what a phone shows first
    with st.container(key="train_runs_table"):
        st.dataframe(table, hide_index=True, column_order=first + [c for c in table[0] if c not in first])
    accuracy_panels.noise(runs)  # is the newest run's difference inside the noise?
    changed = changed_settings(runs)
    if changed:
        st.caption(f"Settings that differ between your runs: {', '.join(changed)}.")
    options = [r.run_id for r in runs]
    names = {r.run_id: f"#{r.run_id} {r.label}" for r in runs}
    default = None if PICK_KEY in st.session_state else options[-3:]
    picked = st.multiselect("Overlay the curves of runs", options, default=default, key=PICK_KEY,
                            format_func=names.get, max_selections=OVERLAY_MAX)
    if picked:
        rows = curve_rows(runs, picked)
        st.plotly_chart(charts.compare_runs(rows, "val_accuracy"), config=charts.PHONE_FRIENDLY, key="cmp_acc")
        st.plotly_chart(charts.compare_runs(rows, "val_loss"), config=charts.PHONE_FRIENDLY, key="cmp_loss")
