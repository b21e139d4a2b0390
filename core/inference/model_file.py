"""The ``.keras`` file a student takes home, and loading one back without trusting it.

A model file made by this app is Keras's own zip (``config.json``, ``model.weights.h5``, ``metadata.json``)
plus one entry of ours, ``transfer_learning_lab.json``: the class names, the image size and the settings.
Raw 0..255 pixels go in (the ``preprocess`` layer inside, Keras's own ``Rescaling``, does the rest), class
probabilities come out: plain Keras opens the file, with no code of ours.

Loading an uploaded file is treated like opening a stranger's email attachment. Before Keras sees it we
check, without running anything: its size (``MAX_MODEL_BYTES``), that it is a whole, undamaged zip (CRCs),
that it carries our metadata, and that its architecture lists only Keras's own layers (and ``tll>Preprocess``,
the custom layer in files saved by earlier versions): a ``Lambda`` layer, a Python function or any other custom
class is refused, never deserialized. Then Keras loads it with ``safe_mode=True`` (which refuses lambdas too, as a second lock).
Every refusal is a ``ModelFileProblem`` (a ``ValueError``) with a message a student can act on.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from platform import python_version

from core.inference.model_cost import estimate
from core.models.bases import base_spec, preprocess_layer_class, preprocessing_mode
from core.photos.datasets import TF_FLOWERS
from core.utils import paths as config
from core.utils.lazy import LazyModule
from core.utils.safe_text import hide_paths

keras = LazyModule("keras")  # checking a file and reading its metadata need no TensorFlow

METADATA_NAME = "transfer_learning_lab.json"
FORMAT = "transfer-learning-lab/1"
MB = 1024 * 1024
MAX_MODEL_BYTES = 200 * MB  # an InceptionV3/ResNet50 model is ~100 MB; Streamlit's upload limit is 200 MB
MAX_UNPACKED_BYTES = 400 * MB  # what the entries claim to hold, unpacked (zip bombs)
MAX_ENTRIES = 64  # ours have 4
# What a Keras model zip may contain. Anything else (assets, extra code) is not from this app.
ALLOWED_ENTRIES = {"config.json", "metadata.json", "model.weights.h5", METADATA_NAME}
# The custom layer earlier versions saved (new files have none); anything else registered ("package>Name") is
# code we do not know.
OUR_LAYERS = {"tll>Preprocess"}
# Layers and serialized objects that carry Python code. Keras's safe mode refuses lambdas as well;
# we refuse before Keras reads anything.
CODE_CLASSES = {"Lambda", "TFOpLambda", "SlicingOpLambda", "__lambda__", "__python_function__"}


class ModelFileProblem(ValueError):
    """A model file we will not load; the message says why, for a student."""


# ---------------------------------------------------------------------------------------------------
# Saving


def without_paths(value):
    """``value`` (JSON-like) with every absolute path in its strings cut to its last part: a model file
    must not tell where on which computer it was made."""
    if isinstance(value, str):
        return hide_paths(value)
    if isinstance(value, dict):
        return {key: without_paths(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_paths(item) for item in value]
    return value


def _data_label(spec: str) -> str:
    if spec == TF_FLOWERS:
        return TF_FLOWERS
    return f"own photos ({Path(str(spec)).name})"


def versions() -> dict:
    found = {"python": python_version()}
    for package in ("tensorflow-cpu", "tensorflow", "keras", "ai-edge-litert"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def model_metadata(result) -> dict:
    """What travels inside the ``.keras`` file: enough to classify, to write a model card and to retrain.

    No absolute paths: the data folder and the weight file are named by their last part only
    (``save_model_file`` cuts any path left in a string).
    """
    cfg = result.config
    settings = cfg.to_dict()
    settings["data"] = _data_label(cfg.data)
    test = result.test or {}
    return {
        "format": FORMAT,
        "class_names": list(result.class_names),
        "image_size": int(cfg.image_size),
        "base": cfg.base,
        "base_name": base_spec(cfg.base).name,
        "preprocessing": preprocessing_mode(base_spec(cfg.base), cfg.preprocessing),
        "config": settings,
        "test_accuracy": test.get("accuracy"),
        "test": {"n": test.get("n", 0), "accuracy": test.get("accuracy"), "per_class": test.get("per_class", {})},
        "counts": result.counts,
        "dataset_source": result.dataset_source,
        "weights": getattr(result, "weights", ""),
        "stopped": bool(getattr(result, "stopped", False)),
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }


def _predicting_copy(model):
    """The model without its optimizer state (Adam's two numbers per trained weight): smaller, same answers."""
    if getattr(model, "optimizer", None) is None:
        return model
    preprocess_layer_class()  # a model loaded from an earlier version's file may hold the old layer
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def save_model_file(model, metadata: dict, path: str | Path) -> Path:
    """``model.save`` plus our metadata entry in the same zip (Keras ignores entries it does not know).

    Written next to the target and renamed at the end, so a failure never leaves half a file.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError("save to a file ending in .keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial.keras")
    try:
        _predicting_copy(model).save(partial)
        with zipfile.ZipFile(partial, "a") as archive:
            archive.writestr(METADATA_NAME, json.dumps(without_paths(metadata), indent=1, default=str))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def save_trained_model(result, path: str | Path) -> Path:
    return save_model_file(result.model, model_metadata(result), path)


# ---------------------------------------------------------------------------------------------------
# Checking and loading


def _open_zip(path: Path, name: str) -> zipfile.ZipFile:
    if not path.is_file():
        raise ModelFileProblem(f"There is no model file at {name}.")
    size = path.stat().st_size
    if size == 0:
        raise ModelFileProblem(f"{name} is empty (0 bytes). Download or save the model again.")
    if size > MAX_MODEL_BYTES:
        raise ModelFileProblem(f"{name} is {size / MB:.0f} MB; the limit is {MAX_MODEL_BYTES / MB:.0f} MB. "
                               "Models made by this app are much smaller: is this the right file?")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise ModelFileProblem(
            f"{name} is not a whole .keras file: it is damaged or incomplete (perhaps the download was cut "
            "off). Download or save the model again.") from None


def _check_entries(archive: zipfile.ZipFile, name: str) -> None:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise ModelFileProblem(f"{name} holds far more than a model made by this app; it was not loaded.")
    unknown = sorted(i.filename for i in infos if i.filename not in ALLOWED_ENTRIES)
    if unknown:
        raise ModelFileProblem(f"{name} contains files a model made by this app never has "
                               f"({', '.join(unknown[:3])}); it was not loaded.")
    try:
        bad = archive.testzip()  # reads every entry and checks its CRC
    except Exception:  # noqa: BLE001 - zlib/struct errors from a damaged entry
        bad = "?"
    if bad:
        raise ModelFileProblem(f"{name} is damaged (a part of it does not match its checksum). "
                               "Download or save the model again.")


def _read_json(archive: zipfile.ZipFile, entry: str, what: str, name: str):
    try:
        return json.loads(archive.read(entry))
    except Exception:  # noqa: BLE001 - bad JSON, bad CRC, bad encoding: all "damaged"
        raise ModelFileProblem(f"{name} is damaged: its {what} cannot be read.") from None


def _metadata_from(archive: zipfile.ZipFile, name: str) -> dict:
    if METADATA_NAME not in archive.namelist():
        raise ModelFileProblem(
            f"{name} was not made by Transfer Learning Lab: it has no class names inside, so we cannot tell "
            "what its answers mean. Train a model on the Train page and download it from there.")
    metadata = _read_json(archive, METADATA_NAME, "class names", name)
    names = metadata.get("class_names") if isinstance(metadata, dict) else None
    size = metadata.get("image_size") if isinstance(metadata, dict) else None
    if (not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) for n in names)
            or not isinstance(size, int) or not 32 <= size <= 1024):
        raise ModelFileProblem(f"{name} has damaged or missing class names or image size; it was not loaded.")
    return metadata


def read_metadata(path: str | Path, name: str | None = None) -> dict:
    """Our metadata entry, or a ``ModelFileProblem`` saying the file is not one of ours."""
    path = Path(path)
    with _open_zip(path, name or path.name) as archive:
        return _metadata_from(archive, name or path.name)


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def code_inside(architecture) -> list[str]:
    """Names of objects in a Keras ``config.json`` that would run code we did not write (empty: none)."""
    found = []
    for node in _walk(architecture):
        if "class_name" not in node:
            continue
        cls, module, registered = str(node.get("class_name")), node.get("module"), node.get("registered_name")
        if registered in OUR_LAYERS:
            continue
        if cls in CODE_CLASSES:
            found.append(cls)
        elif module is not None and not (module == "keras" or str(module).startswith("keras.")):
            found.append(f"{module}.{cls}")
        elif isinstance(registered, str) and ">" in registered:
            found.append(registered)
    return sorted(set(found))


def check_model_file(path: str | Path, name: str | None = None) -> dict:
    """Everything we can check without running anything; returns our metadata."""
    path = Path(path)
    name = name or path.name
    with _open_zip(path, name) as archive:
        _check_entries(archive, name)
        if "config.json" not in archive.namelist() or "model.weights.h5" not in archive.namelist():
            raise ModelFileProblem(f"{name} is not a Keras model file (no architecture or weights inside).")
        metadata = _metadata_from(archive, name)
        architecture = _read_json(archive, "config.json", "architecture", name)
        code = code_inside(architecture)
    if code:
        raise ModelFileProblem(
            f"{name} contains code ({', '.join(code[:3])}), which a model made by this app never has. "
            "Running it could do anything on this computer, so it was not loaded.")
    too_costly = estimate(architecture, metadata["image_size"]).problem(name) if isinstance(architecture, dict) else None
    if too_costly:
        raise ModelFileProblem(too_costly)
    return metadata


def load_checked(path: str | Path, name: str | None = None):
    """``(keras model, metadata)`` from a file that passed ``check_model_file``, loaded in Keras safe mode."""
    name = name or Path(path).name
    metadata = check_model_file(path, name)
    config.quiet_tensorflow_logs()
    preprocess_layer_class()  # files saved by earlier versions hold "tll>Preprocess": registered before loading
    try:
        model = keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - h5py, JSON and Keras errors all mean "cannot use this file"
        raise ModelFileProblem(f"{name} could not be loaded: it is damaged or was made by something else "
                               f"({type(error).__name__}).") from None
    outputs = int(model.output_shape[-1])
    if outputs != len(metadata["class_names"]):
        raise ModelFileProblem(f"{name} is inconsistent: {outputs} outputs but "
                               f"{len(metadata['class_names'])} class names.")
    return model, metadata


def load_uploaded(data: bytes, file_name: str = "model.keras"):
    """``load_checked`` for the bytes of an upload: the size is checked before anything is written."""
    if len(data) > MAX_MODEL_BYTES:
        raise ModelFileProblem(f"{file_name} is {len(data) / MB:.0f} MB; the limit is {MAX_MODEL_BYTES / MB:.0f} MB.")
    if not file_name.lower().endswith(".keras"):
        raise ModelFileProblem(f"{file_name} is not a .keras file. Upload the model.keras this app made.")
    with tempfile.TemporaryDirectory(prefix="tll-model-") as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(data)
        return load_checked(path, file_name)
