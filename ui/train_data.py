"""The Train page's first section: which photos to train on (the flowers, or the student's own upload with
its dataset report). ``photos_section(seed)`` returns what to train on, or None when nothing can be."""

from __future__ import annotations

import streamlit as st

from core.photos import TF_FLOWERS, DatasetError, UploadError, check_folder, load_dataset, report_to_csv, skipped_to_csv
from core.utils import as_text, hide_paths
from ui import charts, own_photos, state, thumbnails
from ui.links import page_link

FLOWERS_LABEL, OWN_LABEL = "Flowers (tf_flowers)", "My own photos"
COLLECTED_LABEL, UPLOADED_LABEL = "The ones on my My photos page", "A zip or folder upload"


@st.cache_data(show_spinner="Looking at the photos…", max_entries=16)
def overview(spec: str, seed: int, upload_marker: str = "") -> dict:
    """Counts per class and split, and a few photos of each class.

    ``upload_marker`` tells one upload from the next: they are unpacked into the same session folder."""
    dataset = load_dataset(spec, seed)
    samples = {name: [] for name in dataset.class_names}
    for item in dataset.splits["train"]:
        if len(samples[dataset.class_names[item.label]]) < 4:
            samples[dataset.class_names[item.label]].append(item.path)
    counts = dataset.counts()
    rows = [{"class": n, **{s: counts[s][n] for s in ("train", "val", "test")}} for n in dataset.class_names]
    return {"source": dataset.source, "rows": rows, "samples": samples, "skipped": len(dataset.skipped),
            "near_duplicates": (dataset.near_duplicate_groups, dataset.near_duplicate_photos)}


def sample_photo(spec: str, seed: int) -> str:
    """One training photo of ``spec`` (for the augmentation preview)."""
    marker, _, _ = state.upload_check()
    own = own_photos.dataset()
    if own is not None and spec == str(own.folder):  # the collected photos change photo by photo
        marker = own.signature()
    found = overview(spec, seed, "" if spec == TF_FLOWERS else str(marker))
    return next(iter(found["samples"].values()))[0]


def _flowers(seed: int) -> str | None:
    try:
        found = overview(TF_FLOWERS, seed)
    except DatasetError as problem:
        st.error(str(problem))
        return None
    st.caption(f"Source: {hide_paths(found['source'])}")  # a student never reads the server's folders
    st.plotly_chart(charts.class_counts(found["rows"]), config=charts.PHONE_FRIENDLY)
    groups, photos = found["near_duplicates"]
    if groups:
        st.caption(f"{groups} groups of near-duplicate photos ({photos} photos: resized or re-saved copies of one "
                   "picture) were found; each group is kept in one split, so no photo is tested against its copy.")
    with st.expander("A few photos of each class"):
        for name, paths in found["samples"].items():
            st.markdown(f"**{name}**")
            st.image([thumbnails.thumbnail(path, 220) for path in paths], width=110,
                     alt=[f"A photo of {name}"] * len(paths))
    return TF_FLOWERS


def _check_new_upload(seed: int) -> None:
    """Unpack and check an upload once (a rerun with the same files does nothing)."""
    zipped = st.file_uploader("Upload a .zip of your photo folders", type=["zip"], key="train_upload")
    folder_files = st.file_uploader("…or choose a folder (works in desktop Chrome/Edge)",
                                    accept_multiple_files="directory", key="train_upload_folder")
    if not (zipped or folder_files):
        return
    marker = zipped.file_id if zipped else tuple(f.file_id for f in folder_files)
    if state.upload_check()[0] == marker:
        return
    area = state.upload_area()
    try:
        with st.spinner("Unpacking and checking your photos…"):
            extraction = area.replace(zipped) if zipped else area.replace_files([(f.name, f) for f in folder_files])
            _, report, error = check_folder(area.folder, seed, extraction=extraction)
        state.set_upload_check(marker, report, error)
    except UploadError as problem:
        state.set_upload_check(marker, None, str(problem))


def _collected_photos(own, seed: int) -> str | None:
    """The dataset built on the My photos page, checked like an upload."""
    report, _ = own_photos.report(own, seed)
    if report is not None:
        st.success(f"{report.total_images} photos in {len(report.class_names)} classes: "
                   f"{', '.join(map(as_text, report.class_names))}")
    return str(own.folder) if own_photos.report_panel(own, seed) else None


def _own_photos(seed: int) -> str | None:
    page_link("app_pages/my_photos.py", "Camera or gallery, class by class: My photos", icon="📸")
    own = own_photos.dataset()
    if own is not None and own.total_photos():
        which = st.radio("Which photos", [COLLECTED_LABEL, UPLOADED_LABEL], key="train_own_which", horizontal=True,
                         persist_state="session")
        if which == COLLECTED_LABEL:
            return _collected_photos(own, seed)
    st.markdown("Put each class's photos in its own folder (for example `healthy/`, `diseased/`, `unripe/`), "
                "or use `train/ val/ test/` folders that each hold the class folders. Zip it and upload it.")
    _check_new_upload(seed)
    _, report, error = state.upload_check()
    if error:
        st.error(error)
        return None
    if report is None:
        st.info("No photos uploaded yet. Until you upload some, you can train on the flowers.")
        return None
    st.success(f"{report.total_images} photos in {len(report.class_names)} classes: "
               f"{', '.join(map(as_text, report.class_names))}  ({report.layout.replace('-', ' ')})")
    st.plotly_chart(charts.class_counts(report.rows()), config=charts.PHONE_FRIENDLY)
    st.dataframe(report.rows(), hide_index=True)
    if report.sizes:
        s = report.sizes
        st.caption(f"Photo sizes: {s.min_width}–{s.max_width} px wide (median {s.median_width}), "
                   f"{s.min_height}–{s.max_height} px high (median {s.median_height}).")
    for advice in report.warnings:
        st.warning(as_text(f"{advice.message} {advice.advice}"))  # class names as typed
    for problem in report.problems:
        st.error(as_text(problem))
    if report.skipped_files:
        with st.expander(f"{len(report.skipped_files)} files left out, and why"):
            st.dataframe([{"file": s.path, "reason": s.reason} for s in report.skipped_files], hide_index=True)
    left, right = st.columns(2)
    left.download_button("Class list (CSV)", report_to_csv(report), "classes.csv", "text/csv", key="dl_classes")
    right.download_button("Files left out (CSV)", skipped_to_csv(report), "skipped.csv", "text/csv",
                          key="dl_skipped")
    return str(state.upload_area().folder) if report.can_train else None


def photos_section(seed: int) -> str | None:
    """The source choice and what it holds; returns the data to train on (``TrainConfig.data``) or None."""
    source = st.radio("Train on", [FLOWERS_LABEL, OWN_LABEL], key="train_source", horizontal=True,
                      persist_state="session")
    return _flowers(seed) if source == FLOWERS_LABEL else _own_photos(seed)
