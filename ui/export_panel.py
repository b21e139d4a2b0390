"""The Train page's "Take it home" panel: the latest model as files that work without this app.

One click exports ``model.keras``, LiteRT float32 and 8-bit ``.tflite`` files, labels, a model card, a
20-line ``predict.py`` and ``parity.json`` (``core.export.export_trained``); the panel shows the parity table,
so a student sees that the small file answers like the big one, and offers one zip to download.

The export's files live in a private temporary folder per session, removed with the session (or the next
export). Its session-state key is this panel's own (no other page reads it).
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

import streamlit as st

from core.export import agreement_text, difference_text, export_trained, keras_lines, model_bytes
from core.training import TrainResult
from core.utils import student_error

EXPORT_KEY = "export_latest"  # this panel's own: {"model": the exported model's key, "export": ExportFolder}


class ExportFolder:
    """A temporary folder holding one export; deleted when this object is (session end) or at exit."""

    def __init__(self):
        self.path = Path(tempfile.mkdtemp(prefix="tll-export-"))
        self.report = None
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def remove(self) -> None:
        self._cleanup()


def _size(n_bytes) -> str:
    return "—" if n_bytes is None else f"{n_bytes / 1e6:.1f} MB"


def parity_rows(parity: dict) -> list[dict]:
    """The parity table as a student reads it (the same words as the model card)."""
    return [{
        "file": row.get("file") or "not made",
        "format": row["label"],
        "size": _size(row.get("size_bytes")),
        "same answer as Keras": agreement_text(row),
        "largest probability difference": difference_text(row),
        "ms per photo": "—" if row.get("ms_per_photo") is None else f"{row['ms_per_photo']:.1f}",
        "accuracy on these photos": "—" if row.get("accuracy_percent") is None else f"{row['accuracy_percent']:.1f}%",
    } for row in parity.get("formats", [])]


def _current(result: TrainResult) -> ExportFolder | None:
    saved = st.session_state.get(EXPORT_KEY)
    return saved["export"] if saved and saved["model"] == result.model_key() else None


def _run_export(result: TrainResult) -> ExportFolder | None:
    previous = st.session_state.pop(EXPORT_KEY, None)
    if previous:
        previous["export"].remove()
    folder = ExportFolder()
    bar = st.progress(0.0, text="Starting the export…")
    try:
        folder.report = export_trained(result, folder.path,
                                            on_progress=lambda fraction, message: bar.progress(fraction, text=message))
    except Exception as error:  # noqa: BLE001 - the student must read why; the page must stay usable
        bar.empty()
        folder.remove()
        st.error(f"The export failed: {student_error(error)}. Your trained model is still here: download "
                 "model.keras with the button above.", icon="🚫")
        return None
    bar.empty()
    st.session_state[EXPORT_KEY] = {"model": result.model_key(), "export": folder}
    return folder


def show_report(report) -> None:
    parity = report.parity
    if parity.get("summary"):
        st.success(parity["summary"], icon="📦")
    st.dataframe(parity_rows(parity), hide_index=True)
    st.caption(f"Compared on {parity.get('photos')}. Speed: {parity.get('method')}. Other students' work on the "
               "same computer slows every format alike.")
    for problem in report.problems:
        st.warning(problem, icon="⚠️")
    size = report.zip_path.stat().st_size if report.zip_path else 0
    if report.zip_path:
        st.download_button(f"Download everything (zip, {size / 1e6:.0f} MB)", data=report.zip_path.read_bytes,
                           file_name=report.zip_path.name, mime="application/zip", key="export_zip", type="primary")
    with st.expander("What is in the zip?"):
        st.markdown(
            "- **model.keras**: your model for Keras (raw photo pixels in; it knows its class names). Plain "
            "Keras opens it anywhere, Colab too: the model card shows the lines.\n"
            "- **model.tflite**: the same model for LiteRT (TensorFlow Lite), the format phone apps use.\n"
            "- **model_int8.tflite**: its weights stored as 8-bit numbers instead of 32-bit: about a quarter "
            "of the size, with answers that can differ a little (the table shows how often).\n"
            "- **predict.py**: 20 lines that classify a photo with the .tflite file: "
            "`pip install ai-edge-litert pillow numpy`, then `python predict.py photo.jpg`.\n"
            "- **model_card.md**: what the model learned from, how well it does and what it cannot do.\n"
            "- **labels.txt** and **parity.json**: the class names, and the table above as data.")


def show(result: TrainResult) -> None:
    if not result.has_model():
        return
    st.subheader("Take it home")
    st.write("Your model as files that work without this app: for Keras, and for LiteRT, the format phone "
             "apps use. We check on your test photos that the small files answer like the big one.")
    left, right = st.columns(2)
    left.download_button("Download model.keras only", data=lambda: model_bytes(result),
                         file_name="model.keras", key="export_keras", width="stretch")
    with st.expander("Open model.keras in Colab, without this app"):
        st.caption("Upload model.keras and a photo named photo.jpg (Colab's Files panel, on the left), then run:")
        st.code("\n".join(keras_lines({"image_size": result.config.image_size, "class_names": result.class_names})),
                language="python")
    current = _current(result)
    label = "Export again" if current else "Export for phones and check it (about a minute)"
    if right.button(label, key="export_start", width="stretch",
                    help="Makes the LiteRT files, runs every format on your test photos, and zips it all."):
        current = _run_export(result)
    if current is not None and current.report is not None:
        show_report(current.report)
