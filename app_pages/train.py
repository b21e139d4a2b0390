"""Train page: pick photos and settings, train in the background with live curves, read honest results.

Session state: ``train_settings`` (the controls, kept across pages), ``train_job`` (a running
``core.jobs.TrainingJob``), ``latest_result`` (the newest ``core.train.TrainResult``, used by Predict),
``train_runs`` (``core.history.RunRecord`` list), ``upload_area`` / ``upload_report`` (own photos),
``kiran`` (the scratch-vs-transfer comparison).
"""

from __future__ import annotations

from dataclasses import asdict, replace

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import history
from core.data import TF_FLOWERS, DatasetError, load_dataset
from core.jobs import TrainingJob
from core.models import BASES, IMAGE_SIZES, weights_available
from core.train import AugmentConfig, TrainConfig
from ui import charts

FLOWERS_LABEL, OWN_LABEL = "Flowers (tf_flowers)", "My own photos"
LEARNING_RATES = [1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
BATCH_SIZES = [8, 16, 32, 64]
KIRAN_IMAGE_SIZE = 96  # the scratch CNN is slow on a CPU; both sides of the comparison use this size
DEFAULTS = asdict(TrainConfig())

st.title("🏋️ Train your classifier")
st.caption("Phase 1 trains a new head on a frozen ImageNet base. Phase 2 unfreezes the top layers and "
           "fine-tunes them gently. Every number below comes from a real run on this computer.")

settings = st.session_state.setdefault("train_settings", {**DEFAULTS, "source": FLOWERS_LABEL})
runs: list[history.RunRecord] = st.session_state.setdefault("train_runs", [])


# ----------------------------------------------------------------------------------------- data
@st.cache_data(show_spinner="Looking at the photos…", max_entries=16)
def dataset_overview(spec: str, seed: int, upload_marker: str = "") -> dict:
    """``upload_marker`` tells one upload from the next: they are unpacked into the same session folder."""
    dataset = load_dataset(spec, seed)
    samples = {name: [] for name in dataset.class_names}
    for item in dataset.splits["train"]:
        if len(samples[dataset.class_names[item.label]]) < 4:
            samples[dataset.class_names[item.label]].append(item.path)
    counts = dataset.counts()
    rows = [{"class": n, **{s: counts[s][n] for s in ("train", "val", "test")}} for n in dataset.class_names]
    return {"source": dataset.source, "rows": rows, "samples": samples, "skipped": len(dataset.skipped)}


def show_overview(overview: dict) -> None:
    st.caption(f"Source: {overview['source']}")
    st.plotly_chart(charts.class_counts(overview["rows"]), config=charts.PHONE_FRIENDLY)
    with st.expander("A few photos of each class"):
        for name, paths in overview["samples"].items():
            st.markdown(f"**{name}**")
            st.image(paths, width=110)


def own_photos_section() -> str | None:
    """The upload and its dataset report; returns the folder to train on, or None."""
    from core.report import check_folder, report_to_csv, skipped_to_csv
    from core.upload import UploadArea, UploadError

    st.markdown("Put each class's photos in its own folder (for example `healthy/`, `diseased/`, `unripe/`), "
                "or use `train/ val/ test/` folders that each hold the class folders. Zip it and upload it.")
    if "upload_area" not in st.session_state:
        st.session_state.upload_area = UploadArea()
    area = st.session_state.upload_area
    zipped = st.file_uploader("Upload a .zip of your photo folders", type=["zip"], key="train_upload")
    folder_files = st.file_uploader("…or choose a folder (works in desktop Chrome/Edge)",
                                    accept_multiple_files="directory", key="train_upload_folder")
    upload = zipped or (folder_files or None)
    if upload is not None:
        marker = (zipped.file_id if zipped else tuple(f.file_id for f in folder_files))
        if st.session_state.get("upload_marker") != marker:
            try:
                with st.spinner("Unpacking and checking your photos…"):
                    extraction = (area.replace(zipped) if zipped
                                  else area.replace_files([(f.name, f) for f in folder_files]))
                    dataset, report, error = check_folder(area.folder, settings["seed"], extraction=extraction)
                st.session_state.upload_report = (report, error)
            except UploadError as problem:
                st.session_state.upload_report = (None, str(problem))
            st.session_state.upload_marker = marker
    report, error = st.session_state.get("upload_report", (None, None))
    if error:
        st.error(error)
        return None
    if report is None:
        st.info("No photos uploaded yet. Until you upload some, you can train on the flowers.")
        return None
    st.success(f"{report.total_images} photos in {len(report.class_names)} classes: "
               f"{', '.join(report.class_names)}  ({report.layout.replace('-', ' ')})")
    st.plotly_chart(charts.class_counts(report.rows()), config=charts.PHONE_FRIENDLY)
    st.dataframe(report.rows(), hide_index=True)
    if report.sizes:
        s = report.sizes
        st.caption(f"Photo sizes: {s.min_width}–{s.max_width} px wide (median {s.median_width}), "
                   f"{s.min_height}–{s.max_height} px high (median {s.median_height}).")
    for advice in report.warnings:
        st.warning(f"{advice.message} {advice.advice}")
    for problem in report.problems:
        st.error(problem)
    if report.skipped_files:
        with st.expander(f"{len(report.skipped_files)} files left out, and why"):
            st.dataframe([{"file": s.path, "reason": s.reason} for s in report.skipped_files], hide_index=True)
    left, right = st.columns(2)
    left.download_button("Class list (CSV)", report_to_csv(report), "classes.csv", "text/csv", key="dl_classes")
    right.download_button("Files left out (CSV)", skipped_to_csv(report), "skipped.csv", "text/csv",
                          key="dl_skipped")
    return str(area.folder) if report.can_train else None


st.subheader("1 · Your photos")
source = st.radio("Train on", [FLOWERS_LABEL, OWN_LABEL], key="train_source", horizontal=True,
                  index=[FLOWERS_LABEL, OWN_LABEL].index(settings["source"]))
settings["source"] = source
data_spec: str | None = TF_FLOWERS
if source == FLOWERS_LABEL:
    try:
        show_overview(dataset_overview(TF_FLOWERS, int(settings["seed"])))
    except DatasetError as problem:
        st.error(str(problem))
        data_spec = None
else:
    data_spec = own_photos_section()


# ------------------------------------------------------------------------------------- settings
@st.cache_data(show_spinner=False)
def unfreeze_counts(base_key: str, k: int) -> dict:
    if base_key == "mobilenet_v2":
        from core.architecture import unfreeze_summary  # from the committed layer table: no TensorFlow

        summary = unfreeze_summary(k)
    else:
        from core.train import unfreeze_preview

        summary = unfreeze_preview(base_key, k)
    return {key: summary[key] for key in ("layers_total", "params_trainable", "params_frozen", "params_total")}


@st.cache_data(show_spinner="Making augmented copies…")
def augmentation_preview(photo: str, ops: tuple, size: int) -> list:
    from core.train import preview_augmentations

    return list(preview_augmentations(photo, AugmentConfig(*ops), size, n=6))


st.subheader("2 · Settings")
usable = [key for key in BASES if weights_available(key)]
missing = [BASES[key].name for key in BASES if key not in usable]
if not usable:
    st.error("No pretrained ImageNet weights are on this computer, so transfer learning cannot run. "
             "Ask your teacher to set TLL_OFFLINE_BUNDLE (see README) or connect to the internet.")
    st.stop()
if missing:
    st.caption(f"No pretrained weights here for {', '.join(missing)}: compare them on the Compare page.")
left, right = st.columns(2)
with left:
    base_key = st.selectbox("Base model", usable, format_func=lambda k: BASES[k].name, key="train_base",
                            index=usable.index(settings["base"]) if settings["base"] in usable else 0)
    image_size = st.selectbox("Image size (pixels)", IMAGE_SIZES, key="train_image_size",
                              index=IMAGE_SIZES.index(settings["image_size"]),
                              help="Smaller photos train faster; 224 is what the base was trained on.")
    epochs1 = st.number_input("Phase 1 epochs (head only)", 0, 50, int(settings["epochs1"]), key="train_epochs1")
    lr1 = st.select_slider("Phase 1 learning rate", LEARNING_RATES, value=settings["lr1"], key="train_lr1",
                           format_func=lambda v: f"{v:g}")
    batch_size = st.selectbox("Batch size", BATCH_SIZES, index=BATCH_SIZES.index(settings["batch_size"]),
                              key="train_batch_size")
with right:
    layer_total = unfreeze_counts(base_key, 0)["layers_total"]
    unfreeze = st.number_input(f"Unfreeze the top K layers (0–{layer_total}; 0 = no fine-tuning)", 0, layer_total,
                               min(int(settings["unfreeze"]), layer_total), key="train_unfreeze")
    counts = unfreeze_counts(base_key, int(unfreeze))
    st.caption(f"Trainable in the base: **{counts['params_trainable']:,}** of {counts['params_total']:,} "
               f"parameters ({counts['params_trainable'] / counts['params_total']:.0%}); the head is always trainable.")
    epochs2 = st.number_input("Phase 2 epochs (fine-tuning)", 0, 50, int(settings["epochs2"]), key="train_epochs2")
    lr2 = st.select_slider("Phase 2 learning rate", LEARNING_RATES, value=settings["lr2"], key="train_lr2",
                           format_func=lambda v: f"{v:g}", help="Keep it low: big steps wreck what the base knows.")
    seed = st.number_input("Seed (same seed + same settings = same result)", 0, 10_000, int(settings["seed"]),
                           key="train_seed")
preprocessing = st.radio(
    "Preprocessing", ["model", "lesson"], key="train_preprocessing", horizontal=True,
    index=["model", "lesson"].index(settings["preprocessing"]),
    format_func=lambda v: {"model": "Correct: the base's own (pixels to −1…1)",
                           "lesson": "The lesson's: divide by 255 (0…1)"}[v],
    help="MobileNetV2 learned on pixels scaled to −1…1. Feeding 0…1 is a mistake the lesson made: try both!",
)
augment = st.toggle("Augment the training photos (rotate, flip, zoom, shear)", value=settings["augment"],
                    key="train_augment")
ops = AugmentConfig(**settings["augment_ops"]) if isinstance(settings["augment_ops"], dict) else settings["augment_ops"]
if augment:
    cols = st.columns(4)
    ops = AugmentConfig(
        rotation=cols[0].checkbox("rotate ±20°", ops.rotation, key="train_aug_rotation"),
        flip=cols[1].checkbox("flip", ops.flip, key="train_aug_flip"),
        zoom=cols[2].checkbox("zoom ±20%", ops.zoom, key="train_aug_zoom"),
        shear=cols[3].checkbox("shear 0.1", ops.shear, key="train_aug_shear"),
    )
    st.caption(f"Each training photo gets {DEFAULTS['aug_views']} augmented copies, made once and reused "
               "(so fine-tuning stays fast). Validation and test photos are never augmented.")
    if ops.any() and data_spec and st.toggle("Show one photo augmented 6 ways", key="train_aug_preview"):
        overview = dataset_overview(data_spec, int(seed), str(st.session_state.get("upload_marker", "")))
        photo = next(iter(overview["samples"].values()))[0]
        st.image(augmentation_preview(photo, tuple(asdict(ops).values()), int(image_size)), width=110)

settings.update(base=base_key, image_size=int(image_size), epochs1=int(epochs1), epochs2=int(epochs2),
                unfreeze=int(unfreeze), lr1=lr1, lr2=lr2, batch_size=int(batch_size), seed=int(seed),
                preprocessing=preprocessing, augment=bool(augment), augment_ops=asdict(ops))


def current_config(**changes) -> TrainConfig:
    fields = {k: v for k, v in settings.items() if k in DEFAULTS and k != "augment_ops"}
    cfg = TrainConfig(**{**fields, "augment_ops": ops, "data": data_spec or TF_FLOWERS})
    return replace(cfg, **changes)


# ------------------------------------------------------------------------------------- training
def start_job(kind: str, cfg: TrainConfig) -> None:
    from core.train import train, train_from_scratch

    if kind == "kiran":
        def work(on_epoch, on_progress, should_stop):
            transfer = train(cfg, on_epoch, on_progress, should_stop)
            scratch = train_from_scratch(cfg, on_epoch, on_progress, should_stop)
            return {"transfer": transfer, "scratch": scratch}
    else:
        def work(on_epoch, on_progress, should_stop):
            return {"transfer": train(cfg, on_epoch, on_progress, should_stop)}
    st.session_state.train_job = TrainingJob(work, kind).start()
    st.session_state.train_job_config = cfg


def finish_job(job: TrainingJob) -> None:
    """Record a finished job's runs once; keep the newest model for the Predict page."""
    del st.session_state["train_job"]
    if job.state.status == "failed":
        st.session_state.train_error = job.state.error
        return
    results = job.state.result
    transfer = results["transfer"]
    label = {"high_lr": "try lr = 1e-2 in phase 2", "kiran": "Kiran: transfer learning"}.get(job.label)
    new_runs = [history.add_run(runs, transfer, label=label)]
    st.session_state.latest_result = transfer
    if "scratch" in results:
        new_runs.append(history.add_run(runs, results["scratch"], label="Kiran: CNN from scratch", kind="scratch"))
        st.session_state.kiran = {"scratch": results["scratch"].test["accuracy"],
                                  "transfer": transfer.test["accuracy"],
                                  "epochs": transfer.config.epochs1 + transfer.config.epochs2,
                                  "size": transfer.config.image_size}
    if "train_runs_pick" in st.session_state:  # overlay the new run(s) next to the ones picked before
        picked = st.session_state["train_runs_pick"] + [r.run_id for r in new_runs]
        st.session_state["train_runs_pick"] = picked[-4:]


def live_view(job: TrainingJob) -> None:
    state = job.state
    if state.status == "waiting":
        st.info(f"Waiting for a free spot: {state.waiting_for} other training(s) are using the computer.")
        return
    progress = state.progress
    fraction = progress.fraction if progress else 0.0
    eta = f" · about {progress.eta_seconds:.0f} s left" if progress and progress.eta_seconds is not None else ""
    message = progress.message if progress else "Starting (loading TensorFlow and the base model)…"
    st.progress(fraction, text=f"{message}{eta}{' · stopping…' if job.stopping else ''}")
    if state.epochs:
        epochs = [asdict(e) for e in state.epochs]
        cfg = st.session_state.get("train_job_config", current_config())
        left, right = st.columns(2)
        left.plotly_chart(charts.learning_curves(epochs, cfg.epochs1, "accuracy"), config=charts.PHONE_FRIENDLY,
                          key="live_acc")
        right.plotly_chart(charts.learning_curves(epochs, cfg.epochs1, "loss"), config=charts.PHONE_FRIENDLY,
                           key="live_loss")


@st.fragment(run_every=1.0)
def live_panel() -> None:
    job = st.session_state.get("train_job")
    if job is None:
        return
    if job.finished:
        finish_job(job)
        st.rerun(scope="app")
    live_view(job)


st.subheader("3 · Train")
job = st.session_state.get("train_job")
if job is not None and job.finished:
    finish_job(job)
    job = None
can_start = data_spec is not None and job is None
left, middle, right = st.columns(3)
if left.button("Train", key="train_start", type="primary", disabled=not can_start, width="stretch"):
    start_job("train", current_config())
if middle.button("Try lr = 1e-2 in phase 2", key="train_high_lr", disabled=not can_start, width="stretch",
                 help="Quiz question 2: what does a big fine-tuning learning rate do to the pretrained base?"):
    cfg = current_config(lr2=1e-2)
    start_job("high_lr", replace(cfg, epochs2=cfg.epochs2 or 5, unfreeze=cfg.unfreeze or 30))
if right.button("Kiran's experiment: from scratch vs transfer", key="train_kiran", disabled=not can_start,
                width="stretch", help=f"Both at {KIRAN_IMAGE_SIZE} px, same photos, same number of epochs."):
    start_job("kiran", current_config(image_size=KIRAN_IMAGE_SIZE))
if st.session_state.get("train_job") is not None:
    if st.button("Stop", key="train_stop", help="Stops between batches and keeps what was trained so far."):
        st.session_state.train_job.stop()
    live_panel()
if "train_error" in st.session_state:
    st.error(f"Training failed: {st.session_state.pop('train_error')}")


# -------------------------------------------------------------------------------------- results
def show_result(result) -> None:
    test, cfg = result.test, result.config
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
    if result.history:
        epochs = [asdict(e) for e in result.history]
        left, right = st.columns(2)
        left.plotly_chart(charts.learning_curves(epochs, cfg.epochs1, "accuracy"), config=charts.PHONE_FRIENDLY)
        right.plotly_chart(charts.learning_curves(epochs, cfg.epochs1, "loss"), config=charts.PHONE_FRIENDLY)
    left, right = st.columns(2)
    left.plotly_chart(charts.confusion_matrix(test["confusion_matrix"], result.class_names),
                      config=charts.PHONE_FRIENDLY, key="confusion")
    right.plotly_chart(charts.per_class_accuracy(test["per_class"]), config=charts.PHONE_FRIENDLY)
    wrong = result.misclassified[:12]
    with st.expander(f"Photos the model got wrong ({len(result.misclassified)} of {test['n']})"):
        if not wrong:
            st.write("None! Every test photo was classified correctly.")
        cols = st.columns(3)
        for i, row in enumerate(wrong):
            cols[i % 3].image(row["path"], caption=f"{row['true']} → {row['predicted']} ({row['confidence']:.0%})",
                              width="stretch")
    cache = ", ".join(f"{k} {v}" for k, v in result.cache.items() if k in ("pooled", "cut", "augmented"))
    st.caption(f"Data: {result.dataset_source}. Weights: {result.weights}. "
               f"Took {result.timings.get('total', 0):.1f} s" + (f" (feature cache: {cache})." if cache else "."))


latest = st.session_state.get("latest_result")
if latest is not None and st.session_state.get("train_job") is None:
    st.subheader("Results of your latest run")
    show_result(latest)

kiran = st.session_state.get("kiran")
if kiran:
    st.subheader("Kiran's experiment")
    st.plotly_chart(charts.side_by_side(["CNN from scratch", "Transfer learning"], [kiran["scratch"], kiran["transfer"]]),
                    config=charts.PHONE_FRIENDLY)
    st.caption(f"Both trained for {kiran['epochs']} epochs on the same photos at {kiran['size']} px. "
               "The pretrained base already knows edges, textures and shapes; the scratch CNN must learn them "
               "from a few hundred photos.")

if runs:
    st.subheader("Your runs")
    table = history.runs_table(runs)
    st.dataframe(table, hide_index=True)
    changed = history.changed_settings(runs)
    if changed:
        st.caption(f"Settings that differ between your runs: {', '.join(changed)}.")
    options = [r.run_id for r in runs]
    default = None if "train_runs_pick" in st.session_state else options[-3:]
    picked = st.multiselect("Overlay the curves of runs", options, default=default, key="train_runs_pick",
                            format_func=lambda i: next(f"#{r.run_id} {r.label}" for r in runs if r.run_id == i))
    if picked:
        rows = history.curve_rows(runs, picked)
        st.plotly_chart(charts.compare_runs(rows, "val_accuracy"), config=charts.PHONE_FRIENDLY, key="cmp_acc")
        st.plotly_chart(charts.compare_runs(rows, "val_loss"), config=charts.PHONE_FRIENDLY, key="cmp_loss")

if latest is not None and st.session_state.get("train_job") is None:
    if st.toggle("Prepare a download of the latest model (.keras)", key="train_prepare_download"):
        from core.export import model_bytes

        st.download_button("Download model.keras", model_bytes(latest), "model.keras", key="train_download")
    try:
        st.page_link("app_pages/predict.py", label="Try your model on a photo →", icon="📷")
    except StreamlitAPIException:  # the page runs on its own (tests), without the app's navigation
        st.caption("Open the Predict page to try your model on a photo.")
