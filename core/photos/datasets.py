"""Datasets: tf_flowers (tensorflow-datasets or the offline bundle) and students' own photo folders.

No TensorFlow import at module level: listing, splitting and hashing photos is plain Python, so a page
can show a dataset report without paying for TensorFlow.
"""

from __future__ import annotations

import hashlib
import os
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from core.photos.images import (
    MAX_IMAGE_PIXELS,
    ImageProblem,
    is_hidden_or_system,
    load_array,
    looks_like_image,
    too_large_reason,
)
from core.photos.twins import keep_twins_together
from core.photos.upload import unpack_zip_to_temp
from core.photos.upload_rules import OWN_PHOTOS_MARKER, TEMP_PREFIX
from core.utils import paths as config
from core.utils.safe_text import name_problem, visible

SPLITS = ("train", "val", "test")
SPLIT_FOLDER_NAMES = {"train": ("train", "training"), "val": ("val", "valid", "validation"), "test": ("test", "testing")}
LESSON_FRACTIONS = (0.70, 0.15, 0.15)
TF_FLOWERS = "tf_flowers"


class DatasetError(ValueError):
    """A dataset that cannot be trained on; the message says why, in words a student understands."""


@dataclass(frozen=True)
class ImageItem:
    path: str
    label: int


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class Dataset:
    class_names: list[str]
    splits: dict[str, list[ImageItem]]
    source: str
    layout: str  # "split-folders" (train/ val/ test/) or "class-folders" (we split 70/15/15)
    root: str = ""
    skipped: list[SkippedFile] = field(default_factory=list)
    near_duplicate_groups: int = 0  # groups of resized/re-encoded copies found (each kept in one split)
    near_duplicate_photos: int = 0

    def counts(self) -> dict[str, dict[str, int]]:
        """Images per class per split: ``{split: {class_name: n}}``."""
        result = {}
        for split, items in self.splits.items():
            tally = Counter(item.label for item in items)
            result[split] = {name: tally.get(i, 0) for i, name in enumerate(self.class_names)}
        return result

    def labels(self, split: str) -> np.ndarray:
        return np.array([item.label for item in self.splits[split]], dtype=np.int64)

    def paths(self, split: str) -> list[str]:
        return [item.path for item in self.splits[split]]

    def check_testable(self) -> None:
        """A training ends by testing on photos it never saw: refuse to start one that could not."""
        if not self.splits.get("test"):
            raise DatasetError(
                "The test split has no photos, so the model could not be tested on photos it never saw. Give each "
                "class at least 3 photos (15% of them, at least one, are then kept for testing), or put some "
                "photos of each class in the test folder.")

    def digests(self, split: str) -> list[str]:
        return [file_digest(item.path) for item in self.splits[split]]

    def copy(self) -> Dataset:
        """A copy whose photo lists can change (photos dropped) without touching this one."""
        return replace(self, splits={name: list(items) for name, items in self.splits.items()},
                       skipped=list(self.skipped))

    def drop(self, files: list[SkippedFile]) -> None:
        """Leave these photos out of every split and list them as skipped, with their reasons."""
        paths = {f.path for f in files}
        for name in self.splits:
            self.splits[name] = [item for item in self.splits[name] if item.path not in paths]
        self.skipped.extend(files)

    def fingerprint(self) -> str:
        """Content key: the bytes of every photo, its label and its split (not where it lives)."""
        hasher = hashlib.sha256()
        hasher.update("\x1f".join(self.class_names).encode())
        for split in SPLITS:
            for item, digest in zip(self.splits[split], self.digests(split)):
                hasher.update(f"{split}:{item.label}:{digest};".encode())
        return hasher.hexdigest()[:24]


_digest_memo: dict[tuple[str, int, int], str] = {}


def file_digest(path: str) -> str:
    """SHA-1 of a file's bytes, remembered per (path, size, mtime) so warm runs skip re-reading."""
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    digest = _digest_memo.get(key)
    if digest is None:
        with open(path, "rb") as handle:
            digest = hashlib.sha1(handle.read()).hexdigest()
        _digest_memo[key] = digest
    return digest


def quick_check(path: Path) -> str | None:
    """Why a file is unusable, judged from its header only (fast); ``None`` if it looks fine."""
    if not looks_like_image(path):
        return "not an image file (by its name)"
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Image.DecompressionBombError as error:
        return too_large_reason(error)
    except Exception:  # noqa: BLE001 - any Pillow failure means "not an image we can read"
        return "not an image Pillow can read"
    if width * height > MAX_IMAGE_PIXELS:
        return f"too large: {width}x{height} pixels (limit {MAX_IMAGE_PIXELS:,})"
    return None


def _visible_subdirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not is_hidden_or_system(p))


def _scan_class_folders(folder: Path, skipped: list[SkippedFile]) -> dict[str, list[Path]]:
    """``{class_name: [photo paths]}``, sorted; unusable files go to ``skipped``."""
    classes: dict[str, list[Path]] = {}
    for class_dir in _visible_subdirs(folder):
        if problem := name_problem(class_dir.name):  # a hidden or disguised class name (core.utils.safe_text)
            skipped.append(SkippedFile(visible(str(class_dir)), f"class folder {problem}"))
            continue
        photos = []
        for path in sorted(class_dir.rglob("*")):
            if path.is_dir() or is_hidden_or_system(path.relative_to(folder)):
                continue
            if path.is_symlink():
                skipped.append(SkippedFile(str(path), "symbolic link (not followed)"))
                continue
            problem = name_problem(str(path.relative_to(class_dir))) or quick_check(path)
            if problem:
                skipped.append(SkippedFile(visible(str(path)), problem))
            else:
                photos.append(path)
        classes.setdefault(unicodedata.normalize("NFC", class_dir.name), []).extend(photos)  # NFD == NFC twin
    return classes


def _find_split_folders(folder: Path) -> dict[str, Path] | None:
    names = {p.name.lower(): p for p in _visible_subdirs(folder)}
    found = {}
    for split, aliases in SPLIT_FOLDER_NAMES.items():
        match = next((names[a] for a in aliases if a in names), None)
        if match is None:
            return None
        found[split] = match
    return found


def _unwrap(folder: Path) -> Path:
    """A zip often holds one wrapping folder (``flowers/daisy/...``): look inside it."""
    while True:
        subdirs = _visible_subdirs(folder)
        files = [p for p in folder.iterdir() if p.is_file() and looks_like_image(p)]
        inner_has_photos = len(subdirs) == 1 and any(looks_like_image(p) for p in subdirs[0].iterdir())
        if len(subdirs) == 1 and not files and not inner_has_photos and _find_split_folders(folder) is None:
            folder = subdirs[0]
        else:
            return folder


def split_per_class(
    photos_by_class: dict[str, list[Path]], seed: int, fractions=LESSON_FRACTIONS
) -> dict[str, dict[str, list[Path]]]:
    """Stratified, deterministic split: each class is shuffled with ``seed`` and cut 70/15/15."""
    result = {split: {} for split in SPLITS}
    for name, photos in photos_by_class.items():
        shuffled = sorted(photos)
        random.Random(f"{seed}:{name}").shuffle(shuffled)
        n = len(shuffled)
        n_train = round(n * fractions[0])
        n_val = round(n * fractions[1])
        if n >= 3:  # every split gets at least one photo of every class when it can
            n_train = min(max(n_train, 1), n - 2)
            n_val = min(max(n_val, 1), n - n_train - 1)
        result["train"][name] = shuffled[:n_train]
        result["val"][name] = shuffled[n_train : n_train + n_val]
        result["test"][name] = shuffled[n_train + n_val :]
    return result


def _check_trainable(class_names: list[str], per_split: dict[str, dict[str, list[Path]]]) -> None:
    if not class_names:
        raise DatasetError("No class folders with photos were found. Put each class's photos in its own folder.")
    if len(class_names) < 2:
        raise DatasetError(
            f"Only one class was found ({class_names[0]!r}). A classifier needs at least two classes to tell apart."
        )
    totals = {name: sum(len(per_split[s].get(name, [])) for s in SPLITS) for name in class_names}
    empty = [name for name, n in totals.items() if n == 0]
    if empty:
        raise DatasetError(f"These classes have no usable photos: {', '.join(empty)}. Add photos or remove the folder.")
    if not any(per_split["train"].get(name) for name in class_names):
        raise DatasetError("The train split has no photos.")


def load_folder(folder: str | Path, seed: int = 42, source: str | None = None) -> Dataset:
    """A dataset from ``folder``: ``train/ val/ test/`` of class folders, or class folders we split."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DatasetError(f"Folder not found: {root}")
    root = _unwrap(root.resolve())
    skipped: list[SkippedFile] = []
    split_dirs = _find_split_folders(root)
    twins = None  # given train/ val/ test/ folders, the student's own split is kept as it is
    if split_dirs:
        layout = "split-folders"
        per_split = {split: _scan_class_folders(path, skipped) for split, path in split_dirs.items()}
        class_names = sorted(set().union(*(per_split[s].keys() for s in SPLITS)))
    else:
        layout = "class-folders"
        by_class = _drop_duplicate_photos(_scan_class_folders(root, skipped), skipped)
        class_names = sorted(by_class)
        per_split = split_per_class(by_class, seed)
        twins = keep_twins_together(per_split, seed)  # a resized/re-encoded copy never tests its twin (core.photos.twins)
    _check_trainable(class_names, per_split)
    splits = {
        split: [
            ImageItem(str(path), label)
            for label, name in enumerate(class_names)
            for path in per_split[split].get(name, [])
        ]
        for split in SPLITS
    }
    _drop_duplicates_across_splits(splits, skipped)
    return Dataset(class_names, splits, source or _own_source(root), layout, str(root), skipped,
                   twins.groups if twins else 0, twins.photos if twins else 0)


def _own_source(root: Path) -> str:
    """A student's upload lives in a server's temporary folder: its path would mean nothing to them."""
    if any(part.startswith(TEMP_PREFIX) for part in root.parts):
        return "your uploaded photos"
    if (root / OWN_PHOTOS_MARKER).is_file():
        return "the photos you collected on the My photos page"
    return f"your photos in {root}"


def _drop_duplicate_photos(by_class: dict[str, list[Path]], skipped: list[SkippedFile]) -> dict[str, list[Path]]:
    """Identical files are one photo: keep the first, before splitting, so the split stays 70/15/15."""
    seen: dict[str, Path] = {}
    result = {}
    for name, photos in by_class.items():
        kept = []
        for path in photos:
            first = seen.setdefault(file_digest(str(path)), path)
            if first != path:
                skipped.append(SkippedFile(str(path), f"duplicate of {first.parent.name}/{first.name}"))
            else:
                kept.append(path)
        result[name] = kept
    return result


def _drop_duplicates_across_splits(splits: dict[str, list[ImageItem]], skipped: list[SkippedFile]) -> None:
    """The same photo in train and test would flatter the test score: keep its first copy only."""
    seen: dict[str, str] = {}
    for split in SPLITS:
        kept = []
        for item in splits[split]:
            digest = file_digest(item.path)
            first = seen.setdefault(digest, split)
            if first != split:
                skipped.append(SkippedFile(item.path, f"duplicate of a photo already in {first}"))
            else:
                kept.append(item)
        splits[split] = kept


def load_dataset(spec: str = TF_FLOWERS, seed: int = 42) -> Dataset:
    """``tf_flowers``, a folder, or a ``.zip`` of photos (extracted safely into a private folder)."""
    if spec == TF_FLOWERS:
        return load_tf_flowers(seed)
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".zip" and path.is_file():
        folder, extraction = unpack_zip_to_temp(path)
        dataset = load_folder(folder, seed, source=f"your photos from {path.name}")
        dataset.skipped[:0] = [SkippedFile(f"{path.name}: {s.name}", s.reason) for s in extraction.problems]
        return dataset
    return load_folder(path, seed)


def load_tf_flowers(seed: int = 42) -> Dataset:
    """tf_flowers split 70/15/15. Order of preference: a tensorflow-datasets copy already on disk,
    the teacher's offline bundle, then a tensorflow-datasets download."""
    exported = config.cache_dir() / "tf_flowers_export"
    if (exported / "test").is_dir():
        return load_folder(exported, seed, source=f"tf_flowers via tensorflow-datasets (exported to {exported})")
    bundle = config.bundle_flowers_dir()
    if bundle is not None:
        return load_folder(bundle, seed, source=f"tf_flowers offline copy at {bundle} (tensorflow-datasets not used)")
    if not config.downloads_allowed():
        raise DatasetError(
            "tf_flowers is not on this machine, downloads are switched off (TLL_NO_DOWNLOADS) and no offline "
            "copy is configured. Set TLL_OFFLINE_BUNDLE to a folder holding flowers/<class>/*.jpg."
        )
    try:
        _export_tf_flowers(exported)
    except Exception as error:  # noqa: BLE001 - tfds raises many kinds of network errors
        raise DatasetError(
            "tf_flowers could not be downloaded (no internet?) and no offline copy is configured. "
            "Set TLL_OFFLINE_BUNDLE to a folder holding flowers/<class>/*.jpg. "
            f"Details: {type(error).__name__}: {error}"
        ) from None
    return load_folder(exported, seed, source=f"tf_flowers via tensorflow-datasets (exported to {exported})")


def _export_tf_flowers(target: Path) -> None:
    """Write tfds's lesson split (``train[:70%]``, ``train[70%:85%]``, ``train[85%:]``) as JPEG folders."""
    import tensorflow_datasets as tfds  # here, not at the top: only a download needs it (seconds, TensorFlow)

    splits, info = tfds.load(
        TF_FLOWERS, split=["train[:70%]", "train[70%:85%]", "train[85%:]"], as_supervised=True, with_info=True
    )
    names = info.features["label"].names
    partial = target.with_name(target.name + ".partial")
    for split, data in zip(SPLITS, splits):
        for i, (image, label) in enumerate(tfds.as_numpy(data)):
            folder = partial / split / names[int(label)]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{i:05d}.jpg", quality=95)
    partial.rename(target)


def decode_split(dataset: Dataset, split: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """All photos of a split as ``(uint8 images [n, size, size, 3], labels)``.

    Photos that fail to decode (truncated files...) are dropped from the split and added to
    ``dataset.skipped``, so one bad file never stops a run.
    """
    images, kept = [], []
    for item in dataset.splits[split]:
        try:
            images.append(load_array(item.path, size))
            kept.append(item)
        except ImageProblem as problem:
            dataset.skipped.append(SkippedFile(item.path, problem.reason))
    dataset.splits[split] = kept
    if not images:
        return np.zeros((0, size, size, 3), np.uint8), np.zeros((0,), np.int64)
    return np.stack(images), dataset.labels(split)
