"""Caches in the long-running server have bounds: the twins' thumbnails, the photo-feature tables, the
augmentation preview."""

import numpy as np
from PIL import Image

from core.photos import twins
from core.training import photo_features
from core.utils.bounded import BoundedMemo


def test_a_bounded_memo_forgets_the_least_recently_used_first():
    memo = BoundedMemo(3)
    for key in "abc":
        memo[key] = key.upper()
    assert memo.get("a") == "A"  # used again: now the newest
    memo["d"] = "D"
    assert "b" not in memo and {k for k in "acd" if k in memo} == set("acd") and len(memo) == 3


def test_twins_thumbnails_stay_within_their_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(twins, "_memo", BoundedMemo(5))
    for i in range(12):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.full((8, 8, 3), i * 20, np.uint8)).save(path)
        twins.thumbnail(path)
    assert len(twins._memo) == 5


def test_photo_feature_tables_in_memory_are_bounded():
    assert isinstance(photo_features._memory, BoundedMemo)
    assert photo_features._memory.max_entries == photo_features.MEMORY_TABLES <= 8


def test_the_augmentation_preview_cache_has_a_maximum():
    import ast
    from pathlib import Path

    source = Path(__file__).resolve().parent.parent / "ui" / "train_settings.py"
    tree = ast.parse(source.read_text())
    preview = next(f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == "_augmentation_preview")
    keywords = {k.arg: k.value for d in preview.decorator_list if isinstance(d, ast.Call) for k in d.keywords}
    assert "max_entries" in keywords and ast.literal_eval(keywords["max_entries"]) <= 64
