"""Near-duplicate photos: the same shot resized, re-encoded, re-coloured or taken a second later.

If one copy trains and its twin is a test photo, the test score is flattered. Two photos are near-duplicates
when their 16 x 16 colour thumbnails correlate (``THUMB_THRESHOLD``: survives resizing and JPEG damage) or
their pooled MobileNetV2 features are close (``THRESHOLD``: survives re-colouring and a second shot); how the
thresholds were chosen from the shared flowers is in the README ("Near-duplicates"). Photos joined by any chain
of similar pairs form one group, and ``keep_together`` moves each group into one split. The feature test needs
the base, so it runs in the dataset report, in cross-validation and in ``split_keeping_near_duplicates_together``
(the 70/15/15 split already keeps thumbnail twins together without TensorFlow: ``core.photos.twins``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.photos import twins
from core.photos.datasets import SPLITS, Dataset
from core.photos.twins import THUMB_THRESHOLD, thumbnail, thumbnails  # noqa: F401 - part of this module's surface
from core.training.photo_features import FeatureSpec, pooled_features

THRESHOLD = 0.92
FEATURE_BASE, FEATURE_SIZE = "mobilenet_v2", 224
MAX_PHOTOS = 20_000  # the similarity matrix is computed in blocks, but we do not try beyond this


@dataclass
class NearDuplicates:
    groups: list[list[str]]  # paths, only groups of two or more; biggest first
    threshold: float
    checked: int  # photos compared
    moved: list[str] = field(default_factory=list)  # photos moved to their group's split

    @property
    def photos_in_groups(self) -> int:
        return sum(len(g) for g in self.groups)

    def words(self) -> str:
        if not self.groups:
            return f"No near-duplicate photos among {self.checked:,}."
        moved = (f" {len(self.moved)} photo{'s were' if len(self.moved) != 1 else ' was'} moved so that each group "
                 "sits in one split." if self.moved else " Each group already sits in one split.")
        return (f"{len(self.groups)} group{'s' if len(self.groups) != 1 else ''} of near-duplicate photos "
                f"({self.photos_in_groups} photos) among {self.checked:,}: resized, re-encoded or re-shot copies of "
                f"the same picture.{moved} A twin in the test split would flatter the score.")


def similar_pairs(features: np.ndarray, threshold: float = THRESHOLD, block: int = 1024) -> list[tuple[int, int, float]]:
    """``(i, j, cosine)`` for every pair ``i < j`` above ``threshold``, computed in blocks (memory stays small)."""
    return twins.similar_pairs(features, threshold, block)


def group_ids(features: np.ndarray, threshold: float = THRESHOLD, thumbs: np.ndarray | None = None,
              thumb_threshold: float = THUMB_THRESHOLD) -> np.ndarray:
    """The group of every photo (the smallest index in its group): pairs similar in their features (or,
    when given, their thumbnails) joined transitively."""
    pairs = similar_pairs(features, threshold)
    if thumbs is not None and len(thumbs):
        pairs += similar_pairs(thumbs, thumb_threshold)
    return twins.join(len(features), pairs)


def groups_of(paths: list[str], ids: np.ndarray) -> list[list[str]]:
    members: dict[int, list[str]] = {}
    for path, g in zip(paths, ids.tolist()):
        members.setdefault(g, []).append(path)
    return sorted((m for m in members.values() if len(m) > 1), key=lambda m: (-len(m), m[0]))


def keep_together(dataset: Dataset, groups: list[list[str]]) -> list[str]:
    """Move every member of a group into the split that holds most of it (ties: train, then val: a twin
    may train, never test). Returns the paths moved. Photos keep their labels."""
    split_of = {item.path: split for split in SPLITS for item in dataset.splits[split]}
    moved = []
    for group in groups:
        present = [p for p in group if p in split_of]
        if len({split_of[p] for p in present}) < 2:
            continue
        target = max(SPLITS, key=lambda s: (sum(split_of[p] == s for p in present), -SPLITS.index(s)))
        for split in SPLITS:
            if split == target:
                continue
            leaving = [item for item in dataset.splits[split] if item.path in present]
            if leaving:
                dataset.splits[split] = [item for item in dataset.splits[split] if item.path not in present]
                dataset.splits[target] = dataset.splits[target] + leaving
                moved += [item.path for item in leaving]
    return moved


def find(dataset: Dataset, threshold: float = THRESHOLD, on_batch: Callable[[int, int], None] | None = None,
         should_stop: Callable[[], bool] | None = None) -> NearDuplicates:
    """Near-duplicate groups among all photos of ``dataset`` (pooled MobileNetV2 features, cached per photo)."""
    paths = sorted(item.path for split in SPLITS for item in dataset.splits[split])[:MAX_PHOTOS]
    features, kept = pooled_features(paths, FeatureSpec(FEATURE_BASE, FEATURE_SIZE), on_batch=on_batch,
                                     should_stop=should_stop)
    kept_paths = [paths[i] for i in kept]
    if len(kept_paths) < 2:
        return NearDuplicates([], threshold, len(kept_paths))
    ids = group_ids(features, threshold, thumbnails(kept_paths))
    return NearDuplicates(groups_of(kept_paths, ids), threshold, len(kept_paths))


def split_keeping_near_duplicates_together(dataset: Dataset, threshold: float = THRESHOLD, **kwargs) -> NearDuplicates:
    """``find`` then ``keep_together``: what a training's split does before it starts (class-folder
    layouts only: a student's own train/ val/ test/ folders are theirs to decide, but the report still counts)."""
    found = find(dataset, threshold, **kwargs)
    if dataset.layout != "split-folders":
        found.moved = keep_together(dataset, found.groups)
    return found
