"""Honest results: accuracy, loss, confusion matrix and per-class figures; a CLI for saved models.

``python -m core.evaluate MODEL.keras FOLDER`` prints JSON with accuracy, per-class figures and the
confusion matrix for any folder of class sub-folders (or train/ val/ test/ folders: all are used).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from core.inference.predict import load_trained_model
from core.photos.datasets import SPLITS, decode_split, load_folder


def evaluate_probabilities(probabilities: np.ndarray, labels: np.ndarray, class_names: list[str]) -> dict:
    """Metrics from predicted class probabilities ``[n, classes]`` and true integer labels."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    n_classes = len(class_names)
    predicted = probabilities.argmax(axis=1) if len(labels) else np.zeros(0, np.int64)
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    per_class = {}
    for i, name in enumerate(class_names):
        support = int(matrix[i].sum())
        predicted_as = int(matrix[:, i].sum())
        correct = int(matrix[i, i])
        per_class[name] = {
            "support": support,
            "precision": correct / predicted_as if predicted_as else 0.0,
            "recall": correct / support if support else 0.0,
            "accuracy": correct / support if support else 0.0,  # per-class accuracy is the class's recall
        }
    picked = probabilities[np.arange(len(labels)), labels] if len(labels) else np.zeros(0)
    return {
        "n": int(len(labels)),
        "accuracy": float((predicted == labels).mean()) if len(labels) else 0.0,
        "loss": float(-np.log(np.clip(picked, 1e-7, 1.0)).mean()) if len(labels) else 0.0,
        "confusion_matrix": matrix.tolist(),
        "class_names": list(class_names),
        "per_class": per_class,
    }


def misclassified(probabilities: np.ndarray, labels: np.ndarray, paths: list[str], class_names: list[str]) -> list[dict]:
    """Wrong test predictions, most confident first: what a student should look at."""
    predicted = probabilities.argmax(axis=1)
    rows = [
        {
            "path": paths[i],
            "true": class_names[labels[i]],
            "predicted": class_names[predicted[i]],
            "confidence": float(probabilities[i, predicted[i]]),
        }
        for i in np.flatnonzero(predicted != labels)
    ]
    return sorted(rows, key=lambda row: -row["confidence"])


def evaluate_saved_model(model_path: str, folder: str, batch_size: int = 32) -> dict:
    loaded = load_trained_model(model_path)
    dataset = load_folder(folder, seed=0)
    unknown = set(dataset.class_names) - set(loaded.class_names)
    if unknown:
        raise ValueError(f"The folder has classes the model was not trained on: {', '.join(sorted(unknown))}")
    images, labels, paths = [], [], []
    for split in SPLITS:
        x, y = decode_split(dataset, split, loaded.image_size)
        images.append(x)
        labels.append(np.array([loaded.class_names.index(dataset.class_names[i]) for i in y], np.int64))
        paths += dataset.paths(split)
    x, y = np.concatenate(images), np.concatenate(labels)
    probabilities = loaded.model.predict(x, batch_size=batch_size, verbose=0)
    result = evaluate_probabilities(probabilities, y, loaded.class_names)
    result["skipped"] = [{"path": s.path, "reason": s.reason} for s in dataset.skipped]
    result["misclassified"] = misclassified(probabilities, y, paths, loaded.class_names)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate", description="Evaluate a saved Transfer Learning Lab model on a folder.")
    parser.add_argument("model", help="a .keras file saved by `python -m core.train --save`")
    parser.add_argument("folder", help="a folder of class sub-folders (or train/ val/ test/ folders)")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    try:
        result = evaluate_saved_model(args.model, args.folder, args.batch_size)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
