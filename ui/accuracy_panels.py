"""Honest accuracy panels, one call line each in the pages:

* ``interval(result)``: the test accuracy's 95% interval in words, and a warning when the test split is small.
* ``crossval(cfg)``: "How much does the split matter?" k-fold cross-validation, phase 1 in seconds or the
  whole recipe in minutes (progress and Stop), as a chart of each fold.
* ``noise(runs)``: whether the newest run's difference from the one before is inside the noise.
* ``near_duplicates(data_spec, seed)``: groups of near-duplicate photos.
* ``cleaning(result)``: the photos with the highest loss; move / remove for the student's own photos; retrain.
* ``threshold(active, prediction)`` (Predict): "say 'not sure' below X%", with its cost on the test photos.

Thin views: the work is in ``core.utils`` (intervals), ``core.training`` (cross-validation, near-duplicates, the
preset), ``core.photos`` (cleaning) and ``core.inference`` (the threshold). Session-state keys here are private to these panels (prefix ``accuracy_``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace

import streamlit as st

from core.classroom.runner import server_result
from core.inference import answer_or_not_sure, confidence_curve, point_at_threshold, threshold_words
from core.photos import (
    TF_FLOWERS,
    CleaningError,
    highest_losses,
    load_dataset,
    move_to_class,
    owns_photos,
    photo_probabilities,
    remove_photo,
)
from core.training import (
    PRESETS,
    Callbacks,
    CrossValResult,
    TrainConfig,
    head_crossval,
    read_preset_benchmark,
    split_keeping_near_duplicates_together,
)
from core.utils import accuracy_interval, difference_from_accuracies, interval_words, small_test_warning
from ui import charts, server_measurement, state, thumbnails

FOLDS = 5
GALLERY = 12


def interval(result) -> None:
    n = int(result.test.get("n", 0))
    span = accuracy_interval(result.test["accuracy"], n)
    st.caption(f"**How sure is that number?** {interval_words(span)}")
    warning = small_test_warning(n)
    if warning:
        st.warning(warning)


def noise(runs) -> None:
    if len(runs) < 2 or not runs[-1].test_n or not runs[-2].test_n:
        return
    before, after = runs[-2], runs[-1]
    check = difference_from_accuracies(before.test_accuracy, before.test_n, after.test_accuracy, after.test_n,
                                       names=(f"run #{before.run_id}", f"run #{after.run_id}"))
    text = f"Run #{after.run_id} vs run #{before.run_id}: {check.words}"
    (st.info if check.inside_noise else st.success)(text)


# ----------------------------------------------------------------------------------------- cross-validation
def _show_crossval(result) -> None:
    st.plotly_chart(charts.fold_accuracies(result.accuracies, result.mean, result.sd,
                                           "phase 1 only" if result.mode == "head" else "whole recipe"),
                    config=charts.PHONE_FRIENDLY, key=f"accuracy_folds_{result.mode}")
    st.write(result.words())
    if result.n:
        st.caption(f"All folds together: {result.correct} of {result.n} photos right, each tested once by a model "
                   f"that never saw it. {interval_words(result.pooled, 'photos')}")
    for note in result.notes:
        st.caption(note)


def _whole_recipe_crossval() -> None:
    """The whole recipe's cross-validation: minutes per fold, so the teacher runs it once for the class (in the
    training queue, on the app's default settings) and everyone reads the result here."""
    st.markdown(f"**The whole recipe, {FOLDS} folds** (both phases; minutes per fold, so your teacher runs it once "
                "for the class, on the app's default settings)")
    found = server_result("crossval")
    if found:
        names = {f.name for f in fields(CrossValResult)}
        _show_crossval(CrossValResult(**{k: v for k, v in found.items() if k in names}))
    server_measurement.panel("crossval", f"The whole recipe, {FOLDS} folds (minutes)", "accuracy_cv")


def crossval(cfg: TrainConfig | None) -> None:
    if cfg is None:
        return
    with st.expander("How much does the split matter? Cross-validation"):
        st.write(f"Deal every photo into {FOLDS} folds; train {FOLDS} times, each time testing on one fold and "
                 "training on the others. Every photo is a test photo once, and the spread between folds shows how "
                 "much one test split can swing.")
        if st.button(f"Phase 1, {FOLDS} folds (seconds once the photos are read)", key="accuracy_cv_head"):
            bar = st.progress(0.0, text="Reading the photos…")
            result = head_crossval(replace(cfg, epochs1=max(1, cfg.epochs1)), FOLDS,
                                   Callbacks(on_progress=lambda p: bar.progress(min(1.0, p.fraction), text=p.message)))
            bar.empty()
            st.session_state["accuracy_cv_result"] = result
        if "accuracy_cv_result" in st.session_state:
            _show_crossval(st.session_state["accuracy_cv_result"])
        _whole_recipe_crossval()


# ----------------------------------------------------------------------------------------------- preset


def preset(cfg: TrainConfig | None, can_start: bool, start: Callable[[str, TrainConfig], None]) -> None:
    """The "best for small data" preset, offered beside the lesson's recipe with its measured figures;
    ``start(kind, cfg)`` queues a training (the Train page's job control)."""
    best = PRESETS["best"]
    with st.expander(f"Towards Kiran's 92%: the '{best.title}' preset"):
        st.write(best.summary)
        figures = read_preset_benchmark()
        if figures:
            st.caption(figures.words())
        st.caption("Reading the photos takes a few minutes the first time, then seconds.")
        st.caption("It replaces both phases: your epoch and learning-rate settings are not used. The test photos "
                   "stay unseen; train and validation photos both teach the head (nothing is tuned on them).")
        if st.button(f"Train the '{best.title}' preset", key="accuracy_preset_train", disabled=not can_start or cfg is None):
            start("preset_best", replace(cfg, preset=best.key))


# ------------------------------------------------------------------------------------------- the photos
def near_duplicates(data_spec: str | None, seed: int) -> None:
    if data_spec is None:
        return
    with st.expander("Near-duplicate photos"):
        st.caption("Resized, re-encoded, re-coloured or re-shot copies of one picture. The split already keeps "
                   "resized copies together; this also compares what the frozen base sees in each photo.")
        key = f"accuracy_near_{data_spec}_{seed}"
        if st.button("Look for near-duplicates", key="accuracy_near_button"):
            with st.spinner("The frozen base looks at every photo once…"):
                st.session_state[key] = split_keeping_near_duplicates_together(load_dataset(data_spec, seed))
        found = st.session_state.get(key)
        if found is None:
            return
        st.write(found.words())
        for group in found.groups[:8]:
            st.image([thumbnails.thumbnail(path, 180) for path in group[:6]], width=90,
                     alt=[f"Near-duplicate photo {i + 1} of this group" for i in range(len(group[:6]))])


def cleaning(result, start: Callable[[str, TrainConfig], None], photos_changed: Callable[[], None]) -> None:
    """``start(kind, cfg)`` retrains; ``photos_changed()`` tells the page a photo was moved or removed."""
    cfg = result.config
    with st.expander("Clean your data: the photos the model finds hardest"):
        st.caption("Highest loss first (the model is most sure of another class), from train, validation and test. "
                   "A wrong label or a photo of something else hurts training.")
        key = f"accuracy_clean_{id(result)}"
        if st.button("Find the hardest photos", key="accuracy_clean_find"):
            with st.spinner("The trained model looks at every photo…"):
                dataset = load_dataset(cfg.data, cfg.seed)
                st.session_state[key] = (dataset, highest_losses(result.model, dataset, cfg.image_size, GALLERY))
        if key not in st.session_state:
            return
        dataset, rows = st.session_state[key]
        if not owns_photos(dataset):
            st.info("These are the shared flowers: look, but they cannot be changed. Upload your own photos to clean them.")
        cols = st.columns(3)
        for i, row in enumerate(rows):
            with cols[i % 3]:
                st.image(thumbnails.thumbnail(row.path), width="stretch", caption=f"{row.split}: labelled {row.true}, model says "
                         f"{row.predicted} ({row.confidence:.0%})", alt=f"A photo labelled {row.true}")
                if row.editable:
                    _photo_actions(dataset, row, i, photos_changed)
        if st.session_state.get("accuracy_cleaned"):
            st.success(f"You changed {st.session_state['accuracy_cleaned']} photo(s). Retrain and compare the new "
                       "run with the previous one in your runs below.")
            if st.button("Retrain with the same settings", key="accuracy_retrain"):
                st.session_state["accuracy_cleaned"] = 0
                start("train", cfg)


def _photo_actions(dataset, row, i: int, photos_changed: Callable[[], None]) -> None:
    others = [c for c in dataset.class_names if c != row.true]
    target = st.selectbox("Wrong label → move to", others, key=f"accuracy_move_to_{i}")
    left, right = st.columns(2)
    try:
        if left.button("Move", key=f"accuracy_move_{i}"):
            move_to_class(dataset, row.path, target)
            _changed(photos_changed)
        if right.button("Remove", key=f"accuracy_remove_{i}"):
            remove_photo(dataset, row.path)
            _changed(photos_changed)
    except CleaningError as problem:
        st.error(str(problem))


def _changed(photos_changed: Callable[[], None]) -> None:
    st.session_state["accuracy_cleaned"] = st.session_state.get("accuracy_cleaned", 0) + 1
    photos_changed()
    for key in [k for k in st.session_state if str(k).startswith("accuracy_clean_")]:
        del st.session_state[key]
    st.rerun()


# -------------------------------------------------------------------------------------------- Predict
def threshold(active, prediction) -> None:
    """``active``: the Predict page's model (model, class_names, image_size, key); ``prediction``: its answer."""
    with st.expander("Say 'not sure' below a confidence you choose"):
        chosen = st.slider("Not sure below", 0, 99, 60, 5, format="%d%%", key="accuracy_threshold") / 100
        answers, message = answer_or_not_sure(list(prediction.probabilities.values()), active.class_names, chosen)
        (st.success if answers else st.warning)(message)
        key = f"accuracy_curve_{active.key}"
        if key not in st.session_state and st.button("Measure the trade-off on the test photos", key="accuracy_measure"):
            latest = state.latest_result()
            data, seed = ((latest.config.data, latest.config.seed) if active.key.startswith("train-") and latest
                          else (TF_FLOWERS, 42))
            with st.spinner("The model answers every test photo…"):
                dataset = load_dataset(data, seed)
                paths = dataset.paths("test")
                probabilities, kept = photo_probabilities(active.model, paths, active.image_size)
                labels = [dataset.splits["test"][i].label for i in kept]
                st.session_state[key] = confidence_curve(probabilities, labels)
        points = st.session_state.get(key)
        if points:
            st.plotly_chart(charts.threshold_curve([p.as_dict() for p in points], chosen),
                            config=charts.PHONE_FRIENDLY, key="accuracy_threshold_chart")
            st.write(threshold_words(point_at_threshold(points, chosen)))
