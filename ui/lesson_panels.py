"""Panels that hold the app to the lesson: its claims beside measurements, the code of a run, and where the
app's code differs from the lesson's.

Each panel is one function a page calls. Nothing here imports TensorFlow at module level (the Quiz and Concept
pages stay TensorFlow-free); measurements run through ``core.engine`` in the background.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core import reference
from core.lesson_claims import CLAIMS, LESSON_TRAIN_PHOTOS, claim_caption
from core.stats import accuracy_interval
from ui import state


@dataclass(frozen=True)
class Measured:
    accuracy: float
    n: int | None  # test photos, when known
    source: str  # "your latest run", "the reference run", ...


def _measurements() -> tuple[dict[str, Measured], dict | None]:
    """Per claim key, this app's figure: the student's own latest run first, the server's reference else."""
    found: dict[str, Measured] = {}
    result = state.latest_result()
    if result is not None:
        phases = result.timings.get("phase_test_accuracy", {})
        n = int(result.test["n"])
        for key in ("phase1", "phase2"):
            if key in phases:
                found[key] = Measured(float(phases[key]), n, "your latest run")
    kiran = state.kiran()
    if kiran:
        found["scratch"] = Measured(float(kiran["scratch"]), None,
                                    f"your Kiran experiment ({kiran['size']} px, {kiran['epochs']} epochs)")
    ref = reference.cached() if len(found) < len(CLAIMS) else None
    if ref:
        for key, figure in ref["figures"].items():
            found.setdefault(key, Measured(figure["test_accuracy"], figure["n_test"], "the reference run"))
    return found, ref


def _measured_words(measured: Measured | None) -> str:
    if measured is None:
        return "not measured yet"
    if measured.n:
        interval = accuracy_interval(measured.accuracy, measured.n)
        return (f"{measured.source}, {measured.n} test photos (95% interval "
                f"{interval.low:.0%}–{interval.high:.0%})")
    return measured.source


@st.fragment(run_every=3)
def _reference_progress() -> None:
    """Live progress of the server's reference run (reruns itself until it is done)."""
    runner = reference.runner
    if runner.running:
        progress = runner.progress
        fraction = progress.fraction if progress else 0.0
        st.progress(fraction, text=progress.message if progress else "Starting the reference run…")
    elif runner.error:
        st.error(f"The reference run failed: {runner.error}")
    elif reference.cached() is not None:
        st.success("The reference run is done: the figures above now come from it (reload the page to see them).")


def _reference_button(key: str) -> None:
    runner = reference.runner
    if not runner.running and st.button("Measure the reference on this server (a few minutes, once for everyone)",
                                        key=f"{key}_reference_start"):
        runner.start()
    if runner.running or runner.error:
        _reference_progress()
    st.caption(f"Reference settings: {reference.settings_words()}")


def claims_beside_measurements(key: str) -> None:
    """The lesson's three figures, labelled as its claims with their conditions, each beside this app's figure."""
    found, ref = _measurements()
    st.markdown("**The lesson's figures beside what this app measures**")
    for column, claim in zip(st.columns(len(CLAIMS)), CLAIMS):
        measured = found.get(claim.key)
        column.metric(claim.stage, f"{measured.accuracy:.0%}" if measured else "—",
                      help=f"Measured here: {_measured_words(measured)}.")
        column.markdown(f"Lesson's claim: **{claim.figure}**")
    with st.expander("Whose numbers are these? (conditions)"):
        st.markdown("\n".join(f"- {claim_caption(claim)}" for claim in CLAIMS))
        st.markdown(
            f"- **Measured here**: on this computer's flowers (about 200 photos per species, like Kiran, so about "
            f"700 training photos, not the lesson's {LESSON_TRAIN_PHOTOS:,}); accuracy on the test photos, which "
            "swings by several points with only about 150 of them.\n"
            + "\n".join(f"- {claim.stage}: {_measured_words(found.get(claim.key))}." for claim in CLAIMS)
        )
        if ref:
            st.caption(f"Reference run measured {ref['computed_at']} on {ref['cpu_count']} CPU cores: "
                       f"{ref['settings']}")
    if ref is None and len(found) < len(CLAIMS):
        _reference_button(key)
