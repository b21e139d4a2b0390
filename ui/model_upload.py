"""The Predict page's "load a model you saved" box: a ``.keras`` file made by this app, uploaded back.

``core.inference.load_isolated`` checks the file before Keras reads it: a file that is too big, not ours, damaged,
carries code (a ``Lambda`` layer...) or would cost more memory than the server allows is refused with a message
and never runs. The model then runs in a memory-limited worker process, never in the server.
The loaded model is kept per session (one at a time) under this module's own session-state key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st

from core.inference import MAX_MODEL_BYTES, MB, load_isolated
from core.utils import as_text, student_error

UPLOAD_WIDGET = "predict_model_upload"
LOADED_KEY = "predict_uploaded_model"  # this page's own: (sha1 of the file, UploadedModel or error text)


@dataclass
class UploadedModel:
    """Quacks like the Predict page's ``ActiveModel``."""

    model: object
    class_names: list[str]
    image_size: int
    key: str
    description: str


def _describe(name: str, loaded) -> str:
    metadata = loaded.metadata
    cfg = metadata.get("config") or {}
    accuracy = metadata.get("test_accuracy")
    tested = f" It got {accuracy:.0%} of its test photos right when it was trained." if accuracy is not None else ""
    base = metadata.get("base_name") or metadata.get("base", "a base model")
    return (f"Using **the model you uploaded** ({name}): {base} at {loaded.image_size} px, trained on "
            f"{cfg.get('data', 'photos')}.{tested}  \n"
            f"It knows {len(loaded.class_names)} classes: {', '.join(map(as_text, loaded.class_names))}.")


def _load(upload) -> UploadedModel | str:
    data = upload.getvalue()
    digest = hashlib.sha1(data).hexdigest()
    saved = st.session_state.get(LOADED_KEY)
    if saved and saved[0] == digest:
        return saved[1]
    try:
        with st.spinner(f"Checking and loading {as_text(upload.name)}…"):
            loaded = load_isolated(data, upload.name)  # checked, then run by a memory-limited worker
        outcome = UploadedModel(loaded.model, loaded.class_names, loaded.image_size, f"upload-{digest}",
                                _describe(upload.name, loaded))
    except ValueError as problem:  # ModelFileProblem: written for the student
        outcome = str(problem)
    except Exception as error:  # noqa: BLE001 - anything else: say so, keep the page usable
        outcome = f"{as_text(upload.name)} could not be loaded: {student_error(error)}"
    st.session_state[LOADED_KEY] = (digest, outcome)
    return outcome


def uploaded_model() -> UploadedModel | None:
    """The uploader, and the model it holds (``None``: no file, or a file we refused, with the reason shown)."""
    with st.expander("Use a model you downloaded before (.keras)"):
        upload = st.file_uploader(
            "Your model.keras", type=["keras"], key=UPLOAD_WIDGET,
            help="The model.keras this app made (Train page → Take it home). Other model files are refused: "
                 "a model file can carry code, and we never run code from a file.")
        if upload is None:
            st.session_state.pop(LOADED_KEY, None)
            st.caption(f"Made by this app only, up to {MAX_MODEL_BYTES // MB} MB. It is checked before it is opened.")
            return None
        outcome = _load(upload)
        if isinstance(outcome, str):
            st.error(outcome, icon="🚫")
            return None
        st.success(f"Loaded {as_text(upload.name)}.", icon="✅")
    return outcome
