"""How many shared flowers this computer has, so the pages' words fit the photos really here (the offline
bundle has 998, tf_flowers online 3,670) instead of assuming one of them.

Lists the photos (no TensorFlow) and never starts a download: ``None`` when the flowers are not here yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.photos.datasets import TF_FLOWERS, load_dataset
from core.utils import paths as config

SEED = 42  # the split every page and the reference run use


@dataclass(frozen=True)
class FlowerCounts:
    photos: int
    classes: int
    train: int
    val: int
    test: int

    @property
    def per_class(self) -> int:
        return round(self.photos / max(1, self.classes))

    def words(self) -> str:
        """"about 200 photos per species (998 in all: 698 training, 150 validation, 150 test)"."""
        about = round(self.per_class, -1) if self.per_class >= 50 else self.per_class
        return (f"about {about:,} photos per species ({self.photos:,} in all: {self.train:,} training, "
                f"{self.val:,} validation, {self.test:,} test)")


def flowers_here() -> bool:
    exported = config.cache_dir() / "tf_flowers_export" / "test"
    return exported.is_dir() or config.bundle_flowers_dir() is not None


def flower_counts(seed: int = SEED) -> FlowerCounts | None:
    """The shared flowers' counts and split here, or ``None`` if they are not on disk."""
    if not flowers_here():
        return None
    dataset = load_dataset(TF_FLOWERS, seed)
    sizes = {split: len(items) for split, items in dataset.splits.items()}
    return FlowerCounts(sum(sizes.values()), len(dataset.class_names), sizes.get("train", 0), sizes.get("val", 0),
                        sizes.get("test", 0))
