"""My photos: build a dataset of your own, class by class, with one thumb (camera snapshots or many photos picked
at once), look through it, tidy it, and download it as a zip. The Train page trains on it like any upload.

A thin view: ``core.photos.own_dataset`` does the work, ``ui.own_photos`` knows where the dataset lives.
"""

from __future__ import annotations

import time

import streamlit as st

from core.photos import IMAGE_SUFFIXES, AddReport, OwnDatasetError, UploadError, megabytes
from core.utils import as_text
from ui import camera_facing, own_photos, thumbnails
from ui.links import page_link

CLASS_KEY = "my_photos_class"
SELECT_NEXT = "my_photos_select_next"  # a class to select on the next run (the radio exists by then)
FLASH = "my_photos_flash"
CAMERA_ROUND = "my_photos_camera_round"  # a new camera widget after each snapshot: live again, one tap away
PICK_ROUND = "my_photos_pick_round"
TIDY_ROUND = "my_photos_tidy_round"
PAGE_KEY = "my_photos_page"
PER_PAGE = 12
FLASH_S = 20.0
CAMERA, PICK, TIDY, EDIT = "📷 Camera", "🖼️ Pick photos", "🔎 Look and tidy", "✏️ Rename or delete"
CAMERA_NAMES = {camera_facing.BACK: "📷 Back camera", camera_facing.FRONT: "🤳 Front camera"}
PHOTO_TYPES = sorted(s.lstrip(".") for s in IMAGE_SUFFIXES)


def flash(kind: str, text: str) -> None:
    st.session_state[FLASH] = (kind, text, time.monotonic())


def show_flash() -> None:
    """What the last action did, for ``FLASH_S`` seconds: a rerun the student did not ask for (the sidebar's
    heartbeat, another widget) must not wipe it before it was read."""
    kind, text, made = st.session_state.get(FLASH, (None, None, 0.0))
    if kind and time.monotonic() - made <= FLASH_S:
        getattr(st, kind)(text)
    else:
        st.session_state.pop(FLASH, None)


def added_words(report: AddReport, where: str) -> tuple[str, str]:
    """What the student reads after adding photos: how many and where, and each photo left out with the reason."""
    lines = []
    if report.added:
        lines.append(f"Added {len(report.added)} photo(s) {where}.")
    for skipped in report.skipped[:8]:
        lines.append(f"Left out {as_text(skipped.name)}: {skipped.reason}.")
    if len(report.skipped) > 8:
        lines.append(f"…and {len(report.skipped) - 8} more left out.")
    if report.full:
        lines.append(report.full)
    kind = "success" if report.added and not report.skipped else "warning" if report.added else "error"
    return kind, "  \n".join(lines) or "No photos were added."


def next_round(key: str) -> None:
    st.session_state[key] = st.session_state.get(key, 0) + 1


def select_changed(change, words) -> None:
    """Add or rename a class (``change`` returns its name), then select it and say ``words(name)``; or say why not."""
    try:
        name = change()
    except OwnDatasetError as problem:
        st.error(str(problem))
        return
    st.session_state[SELECT_NEXT] = name
    flash("success", words(name))
    st.rerun()


def new_class_form(own, expanded: bool) -> None:
    with st.expander("➕ New class", expanded=expanded), st.form("my_photos_new_class", clear_on_submit=True,
                                                                 border=False):
        name = st.text_input("Class name (for example healthy, diseased, unripe)", max_chars=40,
                             key="my_photos_new_name")
        if st.form_submit_button("Add class", type="primary", width="stretch"):
            select_changed(lambda: own.add_class(name), lambda made: f"Class **{as_text(made)}** is ready: add its "
                           "photos below.")


def camera(own, name: str) -> None:
    facing = st.segmented_control("Camera", [camera_facing.BACK, camera_facing.FRONT], default=camera_facing.BACK,
                                  required=True, key="my_photos_facing", label_visibility="collapsed",
                                  format_func=CAMERA_NAMES.get)
    camera_facing.prefer(facing)
    round_ = st.session_state.get(CAMERA_ROUND, 0)
    # The class is in the key: a snapshot for a class deleted meanwhile (another tab) is dropped, never misfiled.
    shot = st.camera_input(f"A photo for {as_text(name)}", key=f"my_photos_camera_{name}_{facing}_{round_}", resolution="720p")
    st.caption("Each photo goes straight into this class, and the camera is ready for the next one.")
    if shot is not None:
        report = own.add_photos(name, [("camera photo", shot)])
        next_round(CAMERA_ROUND)
        flash(*added_words(report, f"to **{as_text(name)}**: it has {own.counts()[name]} now"))
        st.rerun()


def pick(own, name: str) -> None:
    files = st.file_uploader(f"Choose photos for {as_text(name)} (as many as you like)", type=PHOTO_TYPES,
                             accept_multiple_files=True, key=f"my_photos_pick_{name}_{st.session_state.get(PICK_ROUND, 0)}")
    st.caption("Phone photos (HEIC too) are made smaller (512 px) and their location data removed as they arrive.")
    if files:
        with st.spinner(f"Making {len(files)} photo(s) smaller…"):
            report = own.add_photos(name, [(f.name, f) for f in files])
        next_round(PICK_ROUND)
        flash(*added_words(report, f"to **{as_text(name)}**: it has {own.counts()[name]} now"))
        st.rerun()


def tidy(own, name: str, classes: list[str]) -> None:
    photos = own.photos(name)[::-1]  # newest first: the photo just taken is on the first page
    if not photos:
        st.caption("No photos in this class yet.")
        return
    pages = -(-len(photos) // PER_PAGE)
    page = min(st.session_state.get(PAGE_KEY, {}).get(name, 0), pages - 1)
    shown = photos[page * PER_PAGE:(page + 1) * PER_PAGE]
    round_ = st.session_state.get(TIDY_ROUND, 0)
    chosen = []
    with st.container(horizontal=True, gap="small"):
        for i, path in enumerate(shown):
            with st.container(width=104, gap=None):
                st.image(thumbnails.thumbnail(str(path), 200), width=96, alt=f"Your photo #{page * PER_PAGE + i + 1}")
                if st.checkbox(f"#{page * PER_PAGE + i + 1}", key=f"my_photos_tick_{round_}_{path.name}"):
                    chosen.append(path.name)
    if pages > 1:
        left, middle, right = st.columns([1, 2, 1], vertical_alignment="center")
        if left.button("◀ Newer", disabled=page == 0, key="my_photos_newer", width="stretch"):
            turn(name, page - 1)
        middle.caption(f"Page {page + 1} of {pages}")
        if right.button("Older ▶", disabled=page >= pages - 1, key="my_photos_older", width="stretch"):
            turn(name, page + 1)
    others = [c for c in classes if c != name]
    if st.button(f"🗑️ Remove {len(chosen)} ticked photo(s)", disabled=not chosen, key="my_photos_remove",
                 width="stretch"):
        for photo in chosen:
            own.remove_photo(name, photo)
        done(f"Removed {len(chosen)} photo(s) from **{as_text(name)}**.")
    if others:
        target = st.selectbox("Move ticked photos to", others, format_func=as_text, key="my_photos_move_to")
        if st.button(f"↪️ Move {len(chosen)} ticked photo(s) to {as_text(target)}", disabled=not chosen,
                     key="my_photos_move", width="stretch"):
            for photo in chosen:
                own.move_photo(name, photo, target)
            done(f"Moved {len(chosen)} photo(s) from **{as_text(name)}** to **{as_text(target)}**.")


def turn(name: str, page: int) -> None:
    st.session_state.setdefault(PAGE_KEY, {})[name] = page
    st.rerun()


def done(text: str) -> None:
    next_round(TIDY_ROUND)  # fresh tick boxes
    flash("success", text)
    st.rerun()


def edit(own, name: str, count: int) -> None:
    with st.form("my_photos_rename", border=False):
        new_name = st.text_input("New name", value=name, max_chars=40, key=f"my_photos_rename_{name}")
        if st.form_submit_button("Rename", width="stretch"):
            select_changed(lambda: own.rename_class(name, new_name),
                           lambda renamed: f"**{as_text(name)}** is now called **{as_text(renamed)}**.")
    sure = st.checkbox(f"Yes, delete {as_text(name)} and its {count} photo(s)", key=f"my_photos_sure_{name}")
    if st.button(f"Delete {as_text(name)}", disabled=not sure, key="my_photos_delete", width="stretch"):
        gone = own.delete_class(name)
        flash("success", f"Deleted **{as_text(name)}** and its {gone} photo(s).")
        st.rerun()


def whole_dataset(own) -> None:
    st.subheader("Your dataset")
    can_train = own_photos.report_panel(own)
    used = own.used_bytes()
    st.caption(f"{own.total_photos()} photos, {megabytes(used)} of your {megabytes(own.budget_bytes)} photo space.")
    if can_train:
        page_link("app_pages/train.py", "Train on these photos: Train page → My own photos", icon="🏋️")
    if own.total_photos():
        st.download_button("⬇️ Download as a zip (the lesson's train/ val/ test/ folders, for Colab)",
                           lambda: own.zip_bytes(), "my_dataset.zip", "application/zip", key="my_photos_zip",
                           width="stretch", on_click="ignore")
    with st.expander("Open a zip of photo folders here (to add to it)"):
        zipped = st.file_uploader("A .zip with one folder per class", type=["zip"],
                                  key=f"my_photos_zip_in_{st.session_state.get(PICK_ROUND, 0)}")
        if zipped is not None:
            try:
                with st.spinner("Opening the zip and making its photos smaller…"):
                    report = own.add_zip(zipped)
            except (UploadError, OwnDatasetError) as problem:
                st.error(str(problem))
                return
            next_round(PICK_ROUND)
            made = f" (new classes: {', '.join(map(as_text, report.classes_made))})" if report.classes_made else ""
            flash(*added_words(report, f"from the zip{made}: your dataset has {own.total_photos()} now"))
            st.rerun()


st.title("📸 My photos")
st.caption(f"Build your own dataset one class at a time: snap photos or pick many from your gallery. The lesson's "
           f"advice: {own_photos.ADVICE_LOW}–{own_photos.ADVICE_HIGH} photos per class.")
own = own_photos.dataset()
if own is None:
    st.stop()
show_flash()
classes = own.classes()
new_class_form(own, expanded=len(classes) < 2)  # open until the two classes a classifier needs
if not classes:
    st.info("Start with a class: type its name above (at least two classes are needed to train).")
    st.stop()
if st.session_state.get(SELECT_NEXT) in classes:
    st.session_state[CLASS_KEY] = st.session_state.pop(SELECT_NEXT)
counts = own.counts()
# Plain names as options: a label that changed with every photo would make the browser reset the choice.
current = st.radio("Class", classes, format_func=as_text, horizontal=True, key=CLASS_KEY)
st.caption(" · ".join(f"{as_text(name)}: {counts[name]}" for name in classes))
count = counts[current]
aim = f"aim for {own_photos.ADVICE_LOW}–{own_photos.ADVICE_HIGH}"
st.progress(min(count / own_photos.ADVICE_LOW, 1.0), text=f"**{as_text(current)}**: {count} photo(s) ({aim})")
mode = st.segmented_control("What to do", [CAMERA, PICK, TIDY, EDIT], default=CAMERA, required=True,
                            key="my_photos_mode", label_visibility="collapsed")
try:
    if mode == CAMERA:
        camera(own, current)
    elif mode == PICK:
        pick(own, current)
    elif mode == TIDY:
        tidy(own, current, classes)
    else:
        edit(own, current, count)
except OwnDatasetError as problem:  # e.g. the class was deleted in another tab a moment ago
    st.error(f"{problem} Nothing was changed.")
st.divider()
whole_dataset(own)
