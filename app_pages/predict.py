"""Predict: a student's own photo through a trained model, with an honest verdict and Grad-CAM.

A thin view: every computation is a ``core`` public name; no TensorFlow here. Per-student state goes
through ``ui.state``; the quick default model is shared (st.cache_resource) and only ever used for predicting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core.inference import RULE_EXPLANATION, SMALL_PHOTO, grad_cam, overlay, predict_photo, prepare_photo
from core.models import BASES, WeightsUnavailable
from core.photos import DatasetError, ImageProblem
from core.training import quick_default_model
from core.utils import as_text
from ui import accuracy_panels, charts, glossary, model_upload, secure_context, state

PHOTO_TYPES = ["jpg", "jpeg", "png", "webp", "heic", "heif", "gif", "bmp", "tif", "tiff"]


@dataclass
class ActiveModel:
    load: Callable[[], object]  # a model kept on disk is read only when a photo needs it
    class_names: list[str]
    image_size: int
    key: str  # changes when the model changes, for the per-photo memo
    description: str

    @property
    def model(self):
        return self.load()


@st.cache_resource(show_spinner=False)
def shared_quick_model():
    """Trained once per server and shared by everyone: read-only, used for predicting only."""
    return quick_default_model()


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _model_from_train_page() -> ActiveModel | None:
    result = state.latest_result()
    if result is None or not result.has_model():
        return None
    cfg = result.config
    base = BASES[cfg.base].name if cfg.base in BASES else cfg.base
    phases = f"phase 1 for {_epochs(cfg.epochs1)}"
    if cfg.epochs2 and cfg.unfreeze:
        phases += f", then phase 2 (top {cfg.unfreeze} layers unfrozen) for {_epochs(cfg.epochs2)}"
    else:
        phases += ", no fine-tuning"
    accuracy = (getattr(result, "test", None) or {}).get("accuracy")
    tested = f" It got {accuracy:.0%} of its test photos right." if accuracy is not None else ""
    stopped = " (Training was stopped early.)" if getattr(result, "stopped", False) else ""
    description = (
        f"Using **your model from the Train page**: {base} at {cfg.image_size} px, {phases}.{tested}{stopped}  \n"
        f"It knows {len(result.class_names)} classes: {', '.join(map(as_text, result.class_names))}."
    )
    return ActiveModel(lambda: result.model, list(result.class_names), int(cfg.image_size), f"train-{result.model_key()}",
                       description)


def _quick_model() -> ActiveModel | None:
    try:
        with st.spinner("Getting the quick flower model ready: about 20 seconds the first time it is ever trained, then it is kept for everyone..."):
            quick = shared_quick_model()
    except (DatasetError, WeightsUnavailable) as problem:  # no flowers or no weights on this computer
        st.error(f"The quick model cannot be trained here: {problem}", icon="🚫")
        return None
    description = (
        "Using the **quick flower model**: this model was trained in seconds on the flower photos, phase 1 only "
        f"(frozen base, new head, no fine-tuning).  \n{quick.summary_text}  \n"
        f"It knows {len(quick.class_names)} classes: {', '.join(map(as_text, quick.class_names))}. "
        "Train your own on the Train page and it will be used here instead."
    )
    return ActiveModel(lambda: quick.model, list(quick.class_names), int(quick.image_size), f"quick-{id(quick.model)}",
                       description)


def choose_model() -> ActiveModel | None:
    trained = model_upload.uploaded_model() or _model_from_train_page()  # an uploaded .keras wins
    if trained is not None:
        return trained
    if not state.uses_quick_model():
        st.info("You have not trained a model yet. Train one on the **Train** page, or use a quick ready-made one.")
        if st.button("Use the quick flower model", key="predict_quick_model", type="primary",
                     help="This model was trained in seconds on the flower photos, phase 1 only."):
            state.use_quick_model()
        else:
            st.caption("The quick model was trained in seconds on the flower photos, phase 1 only.")
            return None
    return _quick_model()


GENERATION_KEY = "predict_photo_generation"  # {"upload": n, "camera": n}: a new n empties that widget


def _new_photo_from(source: str) -> None:
    """A new photo from one widget empties the other, so the page shows only the photo being judged."""
    state.set_last_photo_source(source)
    generations = st.session_state.setdefault(GENERATION_KEY, {"upload": 0, "camera": 0})
    generations["camera" if source == "upload" else "upload"] += 1


def choose_photo():
    generations = st.session_state.setdefault(GENERATION_KEY, {"upload": 0, "camera": 0})
    upload = st.file_uploader(
        "Upload a photo", type=PHOTO_TYPES, key=f"predict_upload{generations['upload'] or ''}",
        on_change=_new_photo_from, args=("upload",),
        help="JPEG, PNG, WebP, HEIC (iPhone), GIF, BMP or TIFF. On a phone this can also open your camera.",
    )
    camera = None
    if secure_context.camera_allowed():  # browsers give the camera to https:// and localhost pages only
        camera = st.camera_input("Or take a photo with your camera", key=f"predict_camera{generations['camera'] or ''}",
                                 on_change=_new_photo_from, args=("camera",))
    else:
        st.info(secure_context.NOT_SECURE_MESSAGE, icon="🔒")
    sources = {"upload": upload, "camera": camera}
    last = state.last_photo_source()
    for name in (last, "camera" if last == "upload" else "upload"):
        if sources.get(name) is not None:
            return sources[name]
    return None


def analyse(active: ActiveModel, photo_bytes: bytes) -> dict:
    """Prepare and classify the photo once per (photo, model); Grad-CAM maps are added as they are asked for."""
    key = (hashlib.sha1(photo_bytes).hexdigest(), active.key)
    memo = state.prediction_memo()
    if memo is None or memo["key"] != key:
        display, model_input = prepare_photo(photo_bytes, active.image_size)
        prediction = predict_photo(active.model, active.class_names, model_input, top_k=3)
        memo = {"key": key, "display": display, "input": model_input, "prediction": prediction, "cams": {}}
        state.set_prediction_memo(memo)
    return memo


def show_result(active: ActiveModel, memo: dict) -> None:
    prediction = memo["prediction"]
    display, model_input = memo["display"], memo["input"]
    if prediction.sure:
        st.success(prediction.message, icon="✅")
    else:
        st.warning(prediction.message, icon="🤔")

    st.plotly_chart(charts.top_guesses(prediction.top, prediction.sure), config=charts.PHONE_FRIENDLY,
                    width="stretch")
    accuracy_panels.threshold(active, prediction)  # "not sure" below a confidence the student picks

    ranked = [name for name, _ in sorted(prediction.probabilities.items(), key=lambda kv: -kv[1])]
    target = st.selectbox("Show where the model looked for", ranked, key="predict_cam_class",
                          help="Pick another class to see what (if anything) in the photo looks like it to the model.")
    index = active.class_names.index(target)
    if index not in memo["cams"]:
        try:
            memo["cams"][index] = grad_cam(active.model, model_input, index)
        except ValueError as cannot:  # CannotExplain (a model of another shape), ModelRunFailed: for the student
            memo["cams"][index] = str(cannot)
    heatmap = memo["cams"][index]

    photo_col, cam_col = st.columns(2)
    width, height = display.info.get("original_size", display.size)
    with photo_col:
        st.image(display, caption=f"Your photo ({width}x{height} pixels)", width="stretch", alt="Your photo")
    if isinstance(heatmap, str):
        cam_col.info(heatmap)
    else:
        with cam_col:
            st.image(overlay(display, heatmap), caption=f"Where the model looked for {target}", width="stretch",
                     alt=f"Your photo with a heat map of where the model looked for {target}")
            glossary.heatmap_legend()
        rows, cols = heatmap.shape
        if float(heatmap.max()) <= 0:
            st.caption(f"**Where the model looked:** nothing in this photo pushed the model towards {as_text(target)}.")
        else:
            st.caption(f"**Where the model looked:** bright yellow areas pushed the model most towards "
                       f"{as_text(target)}, teal ones a little; dark purple areas hardly mattered. (Grad-CAM on a "
                       f"{rows}x{cols} grid, so it is blurry.)")

    if min(width, height) < SMALL_PHOTO:
        st.info(f"This photo is only {width}x{height} pixels. It was enlarged to {active.image_size}x"
                f"{active.image_size} for the model, so the model sees a blur: don't expect much.")
    with st.expander("What the model actually sees"):
        st.image(model_input, caption=f"{active.image_size}x{active.image_size} pixels, squashed to a square "
                 "(not cropped), just like the training photos", width=min(320, 2 * active.image_size),
                 alt="Your photo as the model sees it: small and squashed to a square")
    with st.expander("How does it decide whether it is sure?"):
        verdict = prediction.verdict
        st.write(RULE_EXPLANATION)
        st.write(f"For this photo: best class {verdict.confidence:.0%}, ahead of the next by "
                 f"{verdict.margin * 100:.0f} points, votes spread {verdict.entropy:.0%} "
                 f"(0% = all on one class, 100% = equal on every class).")
    glossary.expander(["Grad-CAM", "softmax", "entropy", "top-1"])


def main() -> None:
    st.title("📷 Predict")
    st.write("Show a model a photo it has never seen. It answers with a probability for every class it knows, "
             "tells you whether it is sure, and shows where in the photo it looked.")

    st.subheader("1. The model")
    active = choose_model()
    if active is None:
        return
    st.markdown(active.description)

    st.subheader("2. Your photo")
    photo = choose_photo()
    if photo is None:
        st.caption("Upload a photo or take one, and the model's answer appears here.")
        return

    st.subheader("3. The model's answer")
    try:
        memo = analyse(active, photo.getvalue())
    except ImageProblem as problem:
        st.error(problem.reason, icon="🚫")
        return
    except ValueError as error:  # e.g. a model and class list that do not match
        st.error(f"This model cannot classify the photo: {error}", icon="🚫")
        return
    show_result(active, memo)


main()
