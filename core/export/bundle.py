"""Take it home: a trained model as files that work without this app, checked against each other.

``python -m core.export MODEL.keras --out DIR`` (and the Train page's Export panel) writes into DIR:

* ``model.keras``: raw pixels in, preprocessing inside, class names and settings in its metadata;
* ``model.tflite`` (float32) and ``model_int8.tflite`` (8-bit weights), see ``core.export.litert``;
* ``labels.txt``, ``model_card.md`` (``core.export.model_card``), ``parity.json`` (``core.export.parity``);
* ``predict.py``: 20 lines that classify a photo with LiteRT, Pillow and numpy (no TensorFlow);
* ``transfer_learning_lab_model.zip``: all of the above, for one download.

The ``.keras`` file is written first; a later step that fails (a conversion, a measurement) is reported in
``ExportReport.problems`` and the rest is still written. Saving and loading the ``.keras`` file itself lives in
``core.inference.model_file`` (its names are re-exported here for older callers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.export import litert, parity
from core.export.model_card import model_card
from core.inference.model_file import (  # noqa: F401 - re-exported: core.train and older callers import them from here
    METADATA_NAME,
    ModelFileProblem,
    load_checked,
    model_metadata,
    read_metadata,
    save_model_file,
    save_trained_model,
    versions,
)
from core.photos.datasets import TF_FLOWERS, Dataset, DatasetError, load_dataset
from core.photos.images import ImageProblem, load_array
from core.utils.safe_text import hide_paths

MAX_PHOTOS = 200
ZIP_NAME = "transfer_learning_lab_model.zip"
KERAS_FILE, LABELS_FILE, CARD_FILE, PARITY_FILE, SCRIPT_FILE = (
    "model.keras", "labels.txt", "model_card.md", "parity.json", "predict.py")
SCRIPT_TEMPLATE = Path(__file__).resolve().parent / "take_home" / "predict.py"
ZIP_ORDER = (KERAS_FILE, *litert.FILE_NAMES.values(), LABELS_FILE, CARD_FILE, PARITY_FILE, SCRIPT_FILE)


class ExportError(RuntimeError):
    """The export could not even write the ``.keras`` file; the message says why."""


@dataclass
class ParityPhotos:
    images: np.ndarray  # [n, size, size, 3] uint8
    labels: np.ndarray  # indices into the model's class names
    description: str


@dataclass
class ExportReport:
    folder: Path
    zip_path: Path | None
    files: list[str]  # written, in the zip's order
    parity: dict  # what parity.json holds
    problems: list[str] = field(default_factory=list)  # what failed or was not measured, in words

    @property
    def complete(self) -> bool:
        return not self.problems


def model_bytes(result) -> bytes:
    """The saved ``.keras`` file as bytes (for a download button)."""
    with tempfile.TemporaryDirectory(prefix="tll-export-") as folder:
        return save_trained_model(result, Path(folder) / KERAS_FILE).read_bytes()


# ---------------------------------------------------------------------------------------------------
# Test photos


def pick_test_photos(dataset: Dataset, class_names: list[str], image_size: int, limit: int = MAX_PHOTOS,
                seed: int = 0) -> ParityPhotos | None:
    """Up to ``limit`` photos of the dataset's test split (a seeded sample if there are more), labelled with
    the model's class indices; photos of classes the model does not know are left out. ``None``: no photos."""
    items = [i for i in dataset.splits.get("test", []) if dataset.class_names[i.label] in class_names]
    if len(items) > limit:
        picked = np.random.default_rng(seed).choice(len(items), limit, replace=False)
        items = [items[i] for i in sorted(picked)]
    images, labels = [], []
    for item in items:
        try:
            images.append(load_array(item.path, image_size))
        except ImageProblem:
            continue  # a photo that no longer opens is simply not compared
        labels.append(class_names.index(dataset.class_names[item.label]))
    if not images:
        return None
    return ParityPhotos(np.stack(images), np.array(labels, np.int64), f"{len(images)} test photos of {hide_paths(dataset.source)}")


def _photos_for(data: str | None, metadata: dict, limit: int) -> tuple[ParityPhotos | None, str]:
    """Test photos for a model file: ``data`` if given, else tf_flowers if the model was trained on it."""
    spec = data or (TF_FLOWERS if (metadata.get("config") or {}).get("data") == TF_FLOWERS else None)
    if spec is None:
        return None, ("the model was trained on photos that are not on this computer's list of datasets "
                      "(pass --data FOLDER with its photos to measure)")
    seed = int((metadata.get("config") or {}).get("seed", 42))
    try:
        dataset = load_dataset(spec, seed)  # the model's own seed gives back the split it was tested on
    except (DatasetError, OSError) as error:
        return None, f"its photos could not be loaded ({error})"
    photos = pick_test_photos(dataset, list(metadata["class_names"]), int(metadata["image_size"]), limit)
    return photos, "" if photos else "there are no test photos of the model's classes"


# ---------------------------------------------------------------------------------------------------
# The export


def _progress(on_progress, fraction: float, message: str) -> None:
    if on_progress is not None:
        on_progress(fraction, message)


def export_bundle(model, metadata: dict, folder: str | Path, photos: ParityPhotos | None = None,
                  no_photos_reason: str = "there were no test photos", on_progress=None) -> ExportReport:
    """Write every file into ``folder`` and zip them. ``on_progress(fraction, message)`` follows the steps."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _progress(on_progress, 0.02, "Saving model.keras")
        save_model_file(model, metadata, folder / KERAS_FILE)
        names = list(metadata["class_names"])
        (folder / LABELS_FILE).write_text("\n".join(names) + "\n", encoding="utf-8")
        shutil.copyfile(SCRIPT_TEMPLATE, folder / SCRIPT_FILE)
    except (OSError, ValueError) as error:
        raise ExportError(f"The model could not be saved in {folder.name}: {error}") from error
    problems: list[str] = []

    conversions = litert.convert(model, folder, lambda done, message: _progress(on_progress, 0.05 + 0.75 * done,
                                                                                 message))
    errors = {c.kind: c.error for c in conversions if c.path is None}
    problems += [f"{litert.FILE_NAMES[kind]} could not be made: {error}" for kind, error in errors.items()]

    _progress(on_progress, 0.85, "Comparing the formats on the test photos")
    files = {parity.KERAS: folder / KERAS_FILE, **{c.kind: c.path for c in conversions}}
    if photos is None:
        problems.append(f"Agreement between the formats was not measured: {no_photos_reason}. "
                        "File sizes and speeds were measured on made-up pixels.")
    try:
        rows = parity.measure(model, files, photos.images if photos else None, photos.labels if photos else None,
                              int(metadata["image_size"]), errors)
    except Exception as error:  # noqa: BLE001 - a measurement that fails must not lose the files
        rows = []
        problems.append(f"The formats could not be compared: {type(error).__name__}: {error}")
    problems += [f"{row.label} could not be run: {row.error}" for row in rows
                 if row.error and row.format not in errors]
    report = {
        "image_size": int(metadata["image_size"]),
        "class_names": names,
        "photos": photos.description if photos else f"none: {no_photos_reason}",
        "method": "each photo on its own (batch of 1), as a phone app would; ms per photo is the median after one "
                  f"warm-up run, on this computer's CPU ({os.cpu_count()} cores seen)",
        "formats": [row.as_dict() for row in rows],
        "summary": summary_sentence(rows),
        "versions": versions(),
        "problems": problems,
    }
    (folder / PARITY_FILE).write_text(json.dumps(report, indent=1), encoding="utf-8")
    _progress(on_progress, 0.95, "Writing the model card and the zip")
    (folder / CARD_FILE).write_text(model_card(metadata, report), encoding="utf-8")
    written = [name for name in ZIP_ORDER if (folder / name).is_file()]
    zip_path = _zip(folder, written)
    _progress(on_progress, 1.0, "Done")
    return ExportReport(folder, zip_path, written, report, problems)


def summary_sentence(rows: list[parity.FormatParity]) -> str:
    """One sentence a student can read: does the small file answer like the big one?"""
    by_format = {row.format: row for row in rows}
    keras_row = by_format.get(parity.KERAS)
    parts = []
    for kind in (litert.FLOAT32, litert.INT8):
        row = by_format.get(kind)
        if row is None or row.size_bytes is None:
            continue
        smaller = f"{keras_row.size_bytes / row.size_bytes:.1f}x smaller than" if keras_row and keras_row.size_bytes else ""
        if row.top1_agreement_percent is None:
            parts.append(f"{row.file} is {smaller} the Keras file (agreement not measured)")
            continue
        text = (f"{row.file} ({smaller} the Keras file) gives Keras's answer on {row.top1_agreement_percent:.1f}% "
                f"of {row.photos} test photos")
        if row.disagreements:
            text += (f" (it differs on {row.disagreements}; Keras itself was sure about "
                     f"{row.disagreements_keras_sure or 'none'} of them)")
        parts.append(text)
    return ("; ".join(parts) + ".") if parts else ""


def _zip(folder: Path, names: list[str]) -> Path:
    target = folder / ZIP_NAME
    partial = folder / f".{ZIP_NAME}.{os.getpid()}.partial"
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.write(folder / name, name)
    os.replace(partial, target)
    return target


def export_trained(result, folder: str | Path, dataset: Dataset | None = None, on_progress=None,
                   limit: int = MAX_PHOTOS) -> ExportReport:
    """Export a ``TrainResult`` (the Train page). The test photos are found again from its settings
    (same data, same seed, same split) unless ``dataset`` is given."""
    metadata = model_metadata(result)
    cfg = result.config
    photos, reason = None, ""
    try:
        dataset = dataset or load_dataset(cfg.data, cfg.seed)
        photos = pick_test_photos(dataset, list(result.class_names), int(cfg.image_size), limit)
        reason = "" if photos else "the photos had no test split big enough to hold any photo"
    except (DatasetError, OSError) as error:
        reason = f"the training photos are no longer available ({error})"
    return export_bundle(result.model, metadata, folder, photos, reason, on_progress)


def export_model_file(path: str | Path, folder: str | Path, data: str | None = None, on_progress=None,
                      limit: int = MAX_PHOTOS) -> ExportReport:
    """Export a ``.keras`` file made by this app (checked and loaded in safe mode, ``core.inference.model_file``)."""
    model, metadata = load_checked(path)
    photos, reason = _photos_for(data, metadata, limit)
    return export_bundle(model, metadata, folder, photos, reason, on_progress)


# ---------------------------------------------------------------------------------------------------
# Command line


def parity_table(report: ExportReport) -> str:
    lines = [f"{'format':32} {'size':>9} {'agree':>8} {'max diff':>9} {'ms/photo':>9}"]
    for row in report.parity["formats"]:
        agree = "—" if row["top1_agreement_percent"] is None else f"{row['top1_agreement_percent']:.1f}%"
        diff = "—" if row["max_abs_probability_diff"] is None else f"{row['max_abs_probability_diff']:.4f}"
        size = "—" if row["size_bytes"] is None else f"{row['size_bytes'] / 1e6:.1f} MB"
        ms = "—" if row["ms_per_photo"] is None else f"{row['ms_per_photo']:.1f}"
        lines.append(f"{row['label']:32} {size:>9} {agree:>8} {diff:>9} {ms:>9}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a .keras file made by this app (python -m core.train --save, or the Train page)")
    parser.add_argument("--out", required=True, help="folder to write the files and the zip into")
    parser.add_argument("--data", help="photos to compare the formats on (tf_flowers, a folder or a .zip); "
                                       "default: tf_flowers if the model was trained on it")
    parser.add_argument("--max-photos", type=int, default=MAX_PHOTOS)
    args = parser.parse_args(argv)

    def show(fraction: float, message: str) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    try:
        report = export_model_file(args.model, args.out, args.data, show, args.max_photos)
    except (ModelFileProblem, ExportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(parity_table(report), file=sys.stderr)
    for problem in report.problems:
        print(f"note: {problem}", file=sys.stderr)
    json.dump({"folder": str(report.folder), "zip": str(report.zip_path), "files": report.files,
               "problems": report.problems, "parity": report.parity}, sys.stdout, indent=1)
    print()
    return 0 if len(report.files) == len(ZIP_ORDER) else 1  # 1: some files are missing (model.keras is there)


if __name__ == "__main__":
    sys.exit(main())
