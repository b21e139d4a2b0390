"""Saving a trained classifier as one ``.keras`` file that carries its class names and settings."""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict
from pathlib import Path

METADATA_NAME = "transfer_learning_lab.json"


def model_metadata(result) -> dict:
    cfg = result.config
    from core.models import base_spec, preprocessing_mode

    return {
        "class_names": result.class_names,
        "image_size": cfg.image_size,
        "base": cfg.base,
        "preprocessing": preprocessing_mode(base_spec(cfg.base), cfg.preprocessing),
        "config": asdict(cfg),
        "test_accuracy": result.test["accuracy"],
        "dataset_source": result.dataset_source,
    }


def save_trained_model(result, path: str | Path) -> Path:
    """``model.save`` plus a metadata entry inside the same zip; Keras ignores entries it does not know."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError("save to a file ending in .keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    result.model.save(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(METADATA_NAME, json.dumps(model_metadata(result), indent=1, default=str))
    return path


def read_metadata(path: str | Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        if METADATA_NAME not in archive.namelist():
            raise ValueError(f"{Path(path).name} was not saved by Transfer Learning Lab (no class names inside)")
        return json.loads(archive.read(METADATA_NAME))


def model_bytes(result) -> bytes:
    """The saved ``.keras`` file as bytes (for a download button)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tll-export-") as folder:
        path = save_trained_model(result, Path(folder) / "model.keras")
        return path.read_bytes()
