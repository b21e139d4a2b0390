"""Unfreezing sums: which layers and parameters train when the top ``unfreeze`` layers of MobileNetV2 are
unfrozen, exactly like the lesson (``base.layers[:-unfreeze]`` frozen), from the committed layer table.

No TensorFlow: the Concept page's slider and the Train page call this on every move.
"""

from __future__ import annotations

import inspect

from core.models import bases as models
from core.models.layer_table import TABLE_FILE, cached_table

# The lesson's head on tf_flowers: GAP -> Dense(128, relu) -> Dropout -> Dense(5, softmax).
LESSON_CLASSES = 5
LESSON_HEAD_UNITS = inspect.signature(models.build_classifier).parameters["head_units"].default


def head_rows(
    last_channels: int, num_classes: int = LESSON_CLASSES, head_units: int = LESSON_HEAD_UNITS
) -> list[dict]:
    """The lesson's new head (see ``models.build_classifier``), with its parameter counts."""
    dense = last_channels * head_units + head_units
    out = head_units * num_classes + num_classes
    return [
        {"name": "pool", "type": "GlobalAveragePooling2D", "params": 0, "learnable": 0},
        {"name": "head_dense", "type": "Dense", "params": dense, "learnable": dense},
        {"name": "head_dropout", "type": "Dropout", "params": 0, "learnable": 0},
        {"name": "predictions", "type": "Dense", "params": out, "learnable": out},
    ]


def unfreeze_summary(unfreeze: int, num_classes: int = LESSON_CLASSES, head_units: int = LESSON_HEAD_UNITS) -> dict:
    """Counts for "unfreeze the top ``unfreeze`` layers", exactly like the lesson (``base.layers[:-unfreeze]``
    frozen).

    ``unfreeze = 0`` means everything in the base is frozen. The base keys match ``models.trainable_counts``;
    ``model_params_*`` add the new head (always trainable), as ``model.summary()`` would count them.
    ``layers`` gives each base layer's state for a diagram: "frozen", "trainable" or "no params".
    """
    table = cached_table(str(TABLE_FILE))
    rows = table["layers"]
    n = len(rows)
    unfreeze = max(0, min(int(unfreeze), n))
    top = rows[n - unfreeze :] if unfreeze else []
    trainable = sum(r["learnable"] for r in top)
    total = sum(r["params"] for r in rows)
    head = head_rows(rows[-1]["output_shape"][-1], num_classes, head_units)
    head_params = sum(h["params"] for h in head)
    layers = [
        {
            "index": r["index"],
            "name": r["name"],
            "type": r["type"],
            "block": r["block"],
            "stage": r["stage"],
            "params": r["params"],
            "learnable": r["learnable"],
            "state": "no params" if not r["params"] else "trainable" if r["index"] >= n - unfreeze else "frozen",
        }
        for r in rows
    ]
    return {
        "unfreeze": unfreeze,
        "layers_total": n,
        "layers_trainable": sum(1 for r in top if r["params"]),
        "layers_unfrozen": len(top),
        "layers_frozen": n - len(top),
        "params_trainable": trainable,
        "params_frozen": total - trainable,
        "params_total": total,
        "unfrozen_layer_names": [r["name"] for r in top],
        "first_unfrozen": top[0]["name"] if top else None,
        "head_params": head_params,
        "model_params_trainable": trainable + head_params,
        "model_params_frozen": total - trainable,
        "model_params_total": total + head_params,
        "layers": layers,
        "head": head,
    }


def unfreeze_counts(base_key: str, unfreeze: int) -> dict:
    """Parameters of ``base_key`` with its top ``unfreeze`` layers unfrozen: ``layers_total``, ``params_trainable``,
    ``params_frozen``, ``params_total`` (the base only). MobileNetV2 comes from its committed layer table (no
    TensorFlow); other bases build their architecture once."""
    if base_key == models.DEFAULT_BASE:
        summary = unfreeze_summary(unfreeze)
    else:
        base, _ = models.shared_base(base_key, 96, pretrained=False, seed=0)  # the architecture is all we need
        summary = models.trainable_counts(base, unfreeze)
    return {key: summary[key] for key in ("layers_total", "params_trainable", "params_frozen", "params_total")}
