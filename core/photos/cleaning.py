"""Clean the data, then retrain (fastai's loop): the photos the trained model finds hardest, and two
actions on a student's own photos: move a photo to the class it really belongs to, or remove it.

*Hardest* means the highest loss, ``-log p(true class)``: a photo the model is confidently wrong about
is often a wrong label or a photo that shows something else, whichever split it sits in. We look at train,
validation and test photos alike.

The actions only ever touch files inside the student's own photo folder (the upload), never the shared
flowers or any other folder: the flowers can be looked at, not changed. A removed photo goes to a hidden
``.removed`` folder inside the upload (hidden folders are not read as classes), so it can be put back.

No TensorFlow at import time (the model is given by the caller).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.photos.datasets import SPLITS, Dataset
from core.photos.images import ImageProblem, load_array
from core.utils import paths as config

REMOVED_FOLDER = ".removed"
BATCH = 32


class CleaningError(ValueError):
    """An action that is not allowed or not possible; the message says why."""


@dataclass(frozen=True)
class PhotoLoss:
    path: str
    split: str
    true: str
    predicted: str
    confidence: float  # probability of the predicted class
    true_probability: float
    loss: float  # -log p(true class)
    editable: bool  # a student's own photo (move / remove allowed)

    @property
    def wrong(self) -> bool:
        return self.true != self.predicted


def photo_probabilities(model, paths: list[str], image_size: int, on_batch: Callable[[int, int], None] | None = None,
                        should_stop: Callable[[], bool] | None = None) -> tuple[np.ndarray, list[int]]:
    """Class probabilities of every photo that decodes (``kept`` indexes ``paths``), by the whole model."""
    rows, kept = [], []
    steps = -(-len(paths) // BATCH)
    for step in range(steps):
        if should_stop and should_stop():
            break
        images, ids = [], []
        for i in range(step * BATCH, min(len(paths), (step + 1) * BATCH)):
            try:
                images.append(load_array(paths[i], image_size))
                ids.append(i)
            except ImageProblem:
                continue
        if images:
            rows.append(np.asarray(model.predict_on_batch(np.stack(images).astype("float32"))))
            kept += ids
        if on_batch:
            on_batch(step + 1, steps)
    return (np.concatenate(rows) if rows else np.zeros((0, 0))), kept


def rank_by_loss(probabilities: np.ndarray, labels, paths: list[str], splits: list[str], class_names: list[str],
                 editable: list[bool]) -> list[PhotoLoss]:
    """Every photo with its loss, highest first."""
    p = np.asarray(probabilities, dtype=np.float64)
    rows = []
    for i, (label, path) in enumerate(zip(labels, paths)):
        predicted = int(p[i].argmax())
        true_p = float(p[i, int(label)])
        rows.append(PhotoLoss(path, splits[i], class_names[int(label)], class_names[predicted], float(p[i, predicted]),
                              true_p, float(-np.log(max(true_p, 1e-7))), bool(editable[i])))
    return sorted(rows, key=lambda r: (-r.loss, r.path))


def highest_losses(model, dataset: Dataset, image_size: int, top: int = 24, **progress) -> list[PhotoLoss]:
    """The ``top`` photos of all splits with the highest loss under ``model``."""
    items = [(split, item) for split in SPLITS for item in dataset.splits[split]]
    paths = [item.path for _, item in items]
    probabilities, kept = photo_probabilities(model, paths, image_size, **progress)
    own = owns_photos(dataset)
    ranked = rank_by_loss(probabilities, [items[i][1].label for i in kept], [paths[i] for i in kept],
                          [items[i][0] for i in kept], dataset.class_names,
                          [own and is_inside(paths[i], dataset.root) for i in kept])
    return ranked[:top]


# ------------------------------------------------------------------------------------------- the actions
def _protected_folders() -> list[Path]:
    """Folders no cleaning action may change: the shared flowers, the offline bundle, our tf_flowers export."""
    folders = [config.bundle_flowers_dir(), config.offline_bundle(), config.cache_dir() / "tf_flowers_export"]
    return [Path(f).resolve() for f in folders if f is not None]


def is_inside(path, folder) -> bool:
    if not folder:
        return False
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def owns_photos(dataset: Dataset) -> bool:
    """True for a student's own photo folder; False for the flowers (show only)."""
    if not dataset.root:
        return False
    root = Path(dataset.root).resolve()
    return not any(is_inside(root, protected) or is_inside(protected, root) for protected in _protected_folders())


def _check_editable(dataset: Dataset, path: str) -> tuple[Path, Path]:
    if not owns_photos(dataset):
        raise CleaningError("These are the shared flower photos: you can look at them, but only your own photos "
                            "can be moved or removed.")
    root, photo = Path(dataset.root).resolve(), Path(path).resolve()
    if not is_inside(photo, root) or photo == root:
        raise CleaningError("That photo is not in your photo folder, so it cannot be changed here.")
    if not photo.is_file():
        raise CleaningError(f"{photo.name} is not there any more (moved or removed already?).")
    return root, photo


def _class_folder(dataset: Dataset, root: Path, photo: Path) -> tuple[Path, str]:
    """``(folder holding the class folders, current class)`` for a photo, in either layout."""
    parts = photo.relative_to(root).parts
    if dataset.layout == "split-folders" and len(parts) >= 3:
        return root / parts[0], parts[1]
    if len(parts) >= 2:
        return root, parts[0]
    raise CleaningError(f"{photo.name} is not inside a class folder.")


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix, n = target.stem, target.suffix, 1
    while target.exists():
        target = folder / f"{stem}-{n}{suffix}"
        n += 1
    return target


def move_to_class(dataset: Dataset, path: str, new_class: str) -> Path:
    """Move one of the student's photos into the folder of ``new_class`` (same split folder, if any).
    Returns its new path. The dataset object is updated; reload it before training to re-split."""
    root, photo = _check_editable(dataset, path)
    if new_class not in dataset.class_names:
        raise CleaningError(f"There is no class called {new_class!r}. Choose one of: {', '.join(dataset.class_names)}.")
    parent, current = _class_folder(dataset, root, photo)
    if current == new_class:
        raise CleaningError(f"{photo.name} is already in {new_class}.")
    folder = parent / new_class
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, photo.name)
    photo.rename(target)
    label = dataset.class_names.index(new_class)
    _replace_item(dataset, str(photo), lambda item: type(item)(str(target), label))
    return target


def remove_photo(dataset: Dataset, path: str) -> Path:
    """Take one of the student's photos out of the dataset (kept in ``.removed`` inside the upload, so
    ``restore_photo`` can put it back). Returns where it went."""
    root, photo = _check_editable(dataset, path)
    relative = photo.relative_to(root)
    folder = root / REMOVED_FOLDER / relative.parent
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, photo.name)
    shutil.move(str(photo), target)
    _replace_item(dataset, str(photo), lambda item: None)
    return target


def restore_photo(dataset: Dataset, removed: str) -> Path:
    """Put a removed photo back where it was."""
    if not owns_photos(dataset):
        raise CleaningError("Only your own photos can be changed.")
    root = Path(dataset.root).resolve()
    trash = root / REMOVED_FOLDER
    source = Path(removed).resolve()
    if not is_inside(source, trash) or not source.is_file():
        raise CleaningError("That photo is not among the removed ones.")
    relative = source.relative_to(trash)
    target = _free_name(root / relative.parent, relative.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), target)
    return target


def _replace_item(dataset: Dataset, path: str, change) -> None:
    resolved = str(Path(path).resolve())
    for split in SPLITS:
        kept = []
        for item in dataset.splits[split]:
            if str(Path(item.path).resolve()) == resolved:
                item = change(item)
            if item is not None:
                kept.append(item)
        dataset.splits[split] = kept
