"""Train page: pick photos and settings, train in the background with live curves, read honest results.

A thin view: each section is a ``ui`` module (photos, settings form -> ``TrainConfig``, job control, results,
run history, Kiran's experiment); the engine does the work; shared values go through ``ui.state``.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from ui import (
    accuracy_panels,
    glossary,
    identity,
    kiran,
    lesson_panels,
    run_history,
    state,
    train_data,
    train_results,
    train_settings,
    training_job,
)
from ui.class_map_panel import class_map_panel

st.title("🏋️ Train your classifier")
st.caption("Phase 1 trains a new head on a frozen ImageNet base. Phase 2 unfreezes the top layers and "
           "fine-tunes them gently. Your runs' numbers come from real runs on this computer; figures from the "
           "developers' benchmarks are labelled as such.")
training_job.collect(run_history.record)  # a training that ended since the last rerun files its runs

st.subheader("1 · Your photos")
seed = train_settings.seed()
data_spec = train_data.photos_section(seed)
accuracy_panels.near_duplicates(data_spec, seed)  # near-duplicate photos

st.subheader("2 · Settings")
followed = training_job.running() or state.latest_result()  # after a refresh: that run's settings, not defaults
train_settings.follow_run(followed.config if followed is not None else None)
cfg = train_settings.settings_form(data_spec, lambda spec: train_data.sample_photo(spec, seed))
lesson_panels.differences(cfg)

st.subheader("3 · Train")
try:
    cfg.validate()
    problem = None
except ValueError as error:
    problem = str(error)
can_start = data_spec is not None and training_job.running() is None and problem is None
if problem:
    st.warning(f"These settings cannot train: {problem}.")
left, middle, right = st.columns(3)
if left.button("Train", key="train_start", type="primary", disabled=not can_start, width="stretch"):
    training_job.start("train", cfg)
if middle.button("Try lr = 1e-2 in phase 2", key="train_high_lr", disabled=not can_start, width="stretch",
                 help="Quiz question 2: what does a big fine-tuning learning rate do to the pretrained base?"):
    training_job.start("high_lr", replace(cfg, lr2=1e-2, epochs2=cfg.epochs2 or 5, unfreeze=cfg.unfreeze or 30))
if right.button("Kiran's experiment: from scratch vs transfer", key="train_kiran", disabled=not can_start,
                width="stretch", help=kiran.BUTTON_HELP):
    training_job.start("kiran", kiran.config(cfg), kiran.RECIPES)
training_job.controls()
accuracy_panels.crossval(cfg if can_start else None)  # how much does the split matter?
accuracy_panels.preset(cfg, can_start, training_job.start)  # the "best for small data" preset beside the lesson's recipe

latest = state.latest_result()
if latest is not None and training_job.running() is None:
    train_results.show(latest, training_job.start, photos_changed=train_data.overview.clear)
kiran.show()
run_history.show()
with st.expander("🗺️ The class's runs: what each setting gave", expanded=False):
    you = identity.current_student()
    class_map_panel(you.id if you else None)
lesson_panels.show_code_of_run(cfg)
glossary.expander(["epoch", "learning rate", "frozen / trainable", "fine-tuning", "augmentation", "preprocessing",
                   "BatchNorm", "confusion matrix", "validation / test photos", "95% interval"])
