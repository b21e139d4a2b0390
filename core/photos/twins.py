"""Twin photos: the same picture resized or re-encoded (different bytes, same image), found from 16 x 16
colour thumbnails, and kept in one split when photos are split 70/15/15.

Pillow and NumPy only (no TensorFlow), so ``core.photos.datasets`` can use it on every split. The threshold and its
justification are in ``core.training.near_duplicates``, which adds a second test (what the frozen base sees) for
re-coloured and re-shot photos.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.photos.images import ImageProblem, open_rgb
from core.utils.bounded import BoundedMemo

THUMB_THRESHOLD = 0.97
THUMB_SIZE = 16
MEMO_ENTRIES = 20_000  # 3 KB each: the flowers and a class's own photos, at most ~60 MB
_memo = BoundedMemo(MEMO_ENTRIES)  # (path, size, mtime) -> thumbnail vector (or None: unreadable)


def thumbnail(path) -> np.ndarray | None:
    """The photo as a 16 x 16 colour thumbnail, mean removed, unit length (``None`` if it cannot be read).
    Remembered per (path, size, modification time)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _memo:
        return _memo.get(key)
    try:
        image = open_rgb(path, draft_size=4 * THUMB_SIZE)
        pixels = np.asarray(image.resize((THUMB_SIZE, THUMB_SIZE), Image.BOX), dtype=np.float32).ravel()
        pixels -= pixels.mean()
        vector = pixels / max(float(np.linalg.norm(pixels)), 1e-6)
    except (ImageProblem, OSError, ValueError):
        vector = None
    _memo[key] = vector
    return vector


def thumbnails(paths) -> np.ndarray:
    """One row per photo (a photo that cannot be read gets zeros: similar to nothing)."""
    rows = [thumbnail(p) for p in paths]
    empty = np.zeros(3 * THUMB_SIZE ** 2, np.float32)
    return np.stack([r if r is not None else empty for r in rows]) if rows else np.zeros((0, empty.size), np.float32)


def similar_pairs(vectors: np.ndarray, threshold: float, block: int = 1024) -> list[tuple[int, int, float]]:
    """``(i, j, cosine)`` for every pair ``i < j`` above ``threshold``, in blocks (memory stays small)."""
    z = np.asarray(vectors, dtype=np.float32)
    z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    pairs = []
    for start in range(0, len(z), block):
        sims = z[start : start + block] @ z.T
        rows, cols = np.nonzero(sims > threshold)
        for r, c in zip(rows.tolist(), cols.tolist()):
            if start + r < c:
                pairs.append((start + r, c, float(sims[r, c])))
    return pairs


def join(n: int, pairs) -> np.ndarray:
    """Group id (smallest member) of each of ``n`` items, joining every pair transitively."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, *_ in pairs:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return np.array([root(i) for i in range(n)], dtype=np.int64)


@dataclass(frozen=True)
class TwinsKept:
    groups: int  # groups of near-duplicate photos (resized, re-encoded copies of one picture)
    photos: int  # photos in those groups
    moved: int  # photos swapped into their group's split


def keep_twins_together(per_split: dict[str, dict[str, list[Path]]], seed: int = 0) -> TwinsKept:
    """Put each group of twin photos of a class into one split, in place, by *swapping* a twin with another
    photo of the same class from that split, so every class keeps its 70/15/15 counts. The group goes to the
    split holding most of it (ties: train, then val: a twin may train, never test alone). Returns how many
    groups and photos were found and how many photos moved. ``per_split`` is ``{split: {class_name: [paths]}}``."""
    splits = list(per_split)
    moved = groups = grouped = 0
    for name in sorted({c for s in splits for c in per_split[s]}):
        photos = [(s, p) for s in splits for p in per_split[s].get(name, [])]
        if len(photos) < 2:
            continue
        ids = join(len(photos), similar_pairs(thumbnails([p for _, p in photos]), THUMB_THRESHOLD))
        in_groups = {photos[i][1] for i in range(len(photos)) if (ids == ids[i]).sum() > 1}
        grouped += len(in_groups)
        rng = random.Random(f"{seed}:{name}:twins")
        for group in sorted({int(g) for g in ids if (ids == g).sum() > 1}):
            groups += 1
            members = [photos[i] for i in np.flatnonzero(ids == group)]
            where = [s for s, _ in members]
            target = max(splits, key=lambda s: (where.count(s), -splits.index(s)))
            for split, path in members:
                if split == target:
                    continue
                partners = [p for p in per_split[target][name] if p not in in_groups]
                if not partners:
                    continue  # nothing to swap with: leave it (the dataset report still counts the group)
                partner = rng.choice(partners)
                per_split[target][name] = [path if p == partner else p for p in per_split[target][name]]
                per_split[split][name] = [partner if p == path else p for p in per_split[split][name]]
                moved += 1
    return TwinsKept(groups, grouped, moved)
