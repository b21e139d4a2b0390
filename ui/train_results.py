"""The results of the latest run on the Train page, one panel per function, called in order by ``show``.

Panels written elsewhere (the accuracy interval and photo cleaning, the export) plug in as one call line each
in ``show``; the code of this run sits under the run history (it follows the settings, not the result).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.models import BASES
from core.training import TrainConfig, TrainResult
from core.utils import hide_paths
from ui import accuracy_panels, charts, export_panel, thumbnails

WRONG_SHOWN = 12


def headline(result: TrainResult) -> None:
    """Test accuracy, the accuracy after each phase, and whether the run was stopped early."""
    test = result.test
    phase_acc = result.timings.get("phase_test_accuracy", {})
    cols = st.columns(3)
    cols[0].metric("Test accuracy", f"{test['accuracy']:.1%}", help=f"{test['n']} test photos never seen in training")
    if "phase1" in phase_acc and "phase2" in phase_acc:
        cols[1].metric("After phase 1", f"{phase_acc['phase1']:.1%}")
        cols[2].metric("After fine-tuning", f"{phase_acc['phase2']:.1%}",
                       delta=f"{(phase_acc['phase2'] - phase_acc['phase1']) * 100:+.1f} points")
    else:
        cols[1].metric("Time", f"{result.timings.get('total', 0):.1f} s")
    if result.stopped:
        st.warning("You stopped this run early: these are the results of what was trained so far.")
    for note in result.notes:
        st.info(note)


def _epochs(n: int) -> str:
    return f"{n} epoch" + ("" if n == 1 else "s")


def settings_used(result: TrainResult) -> None:
    """The settings the run really used (what the sliders sent), in one line."""
    cfg = result.config
    fine = (f"then the top {cfg.unfreeze} base layers for {_epochs(cfg.epochs2)} at learning rate {cfg.lr2:g}"
            if cfg.epochs2 and cfg.unfreeze else "no fine-tuning")
    st.caption(f"This run: {BASES[cfg.base].name if cfg.base in BASES else cfg.base} at "
               f"{cfg.image_size} px; the head for {_epochs(cfg.epochs1)} at learning rate {cfg.lr1:g}, {fine}; "
               f"batch {cfg.batch_size}, seed {cfg.seed}{', augmented' if cfg.augment else ''}.")


def curves(result: TrainResult) -> None:
    if not result.history:
        return
    epochs = [asdict(e) for e in result.history]
    left, right = st.columns(2)
    for column, metric in ((left, "accuracy"), (right, "loss")):
        column.plotly_chart(charts.learning_curves(epochs, result.config.epochs1, metric),
                            config=charts.PHONE_FRIENDLY, key=f"result_{metric}")


def confusion(result: TrainResult) -> None:
    left, right = st.columns(2)
    left.plotly_chart(charts.confusion_matrix(result.test["confusion_matrix"], result.class_names),
                      config=charts.PHONE_FRIENDLY, key="confusion")
    right.plotly_chart(charts.per_class_accuracy(result.test["per_class"]), config=charts.PHONE_FRIENDLY,
                       key="per_class")


def mistakes(result: TrainResult) -> None:
    wrong = result.misclassified[:WRONG_SHOWN]
    with st.expander(f"Photos the model got wrong ({len(result.misclassified)} of {result.test['n']})"):
        if not wrong:
            st.write("None! Every test photo was classified correctly.")
        cols = st.columns(3)
        for i, row in enumerate(wrong):
            cols[i % 3].image(thumbnails.thumbnail(row["path"]), caption=f"{row['true']} → {row['predicted']} ({row['confidence']:.0%})",
                              width="stretch", alt=f"A photo of {row['true']} the model called {row['predicted']}")


def provenance(result: TrainResult) -> None:
    cache = ", ".join(f"{k} {v}" for k, v in result.cache.items() if k in ("pooled", "cut", "augmented"))
    st.caption(f"Data: {hide_paths(result.dataset_source)}. Weights: {hide_paths(result.weights)}. "
               f"Took {result.timings.get('total', 0):.1f} s" + (f" (feature cache: {cache})." if cache else "."))



def try_it() -> None:
    try:
        st.page_link("app_pages/predict.py", label="Try your model on a photo →", icon="📷")
    except StreamlitAPIException:  # the page runs on its own (tests), without the app's navigation
        st.caption("Open the Predict page to try your model on a photo.")


def show(result: TrainResult, start: Callable[[str, TrainConfig], None], photos_changed: Callable[[], None]) -> None:
    """``start`` and ``photos_changed``: the page's actions, for the cleaning panel (retrain, photos moved)."""
    st.subheader("Results of your latest run")
    headline(result)
    settings_used(result)
    accuracy_panels.interval(result)  # the accuracy's uncertainty
    curves(result)
    confusion(result)
    mistakes(result)
    accuracy_panels.cleaning(result, start, photos_changed)  # the hardest photos, move/remove own photos, retrain
    provenance(result)
    export_panel.show(result)  # model.keras, LiteRT files, model card, parity table, one zip
    try_it()
