"""``model_card.md``: what the model is, what it learned from, how well it does and what it cannot do.

Written from the metadata inside the ``.keras`` file (``core.inference.model_file.model_metadata``) and the parity
measurements, so the card of a model exported from the command line says the same as one from the page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.inference.predict import MAX_ENTROPY, MIN_CONFIDENCE, MIN_MARGIN
from core.photos.datasets import SPLITS


def _percent(value) -> str:
    return "not measured" if value is None else f"{value:.1%}"


def _epochs(n) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _size(n_bytes) -> str:
    return "—" if n_bytes is None else f"{n_bytes / 1e6:.1f} MB"


def agreement_text(row: dict) -> str:
    """"reference" for Keras itself, "99.3% of 149" for the others, "—" when not measured."""
    if row.get("format") == "keras" and row.get("photos"):
        return "(the reference)"
    value = row.get("top1_agreement_percent")
    return "—" if value is None else f"{value:.1f}% of {row.get('photos')}"


def difference_text(row: dict) -> str:
    """The largest probability difference in percentage points (0.17 -> "17 points")."""
    value = row.get("max_abs_probability_diff")
    if row.get("format") == "keras" or value is None:
        return "—"
    return f"{value * 100:.2g} percentage points" if value * 100 < 1 else f"{value * 100:.1f} percentage points"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def _data_section(metadata: dict) -> list[str]:
    names = metadata["class_names"]
    counts = metadata.get("counts") or {}
    lines = ["## The data", "", f"Source: {metadata.get('dataset_source') or 'not recorded'}.", ""]
    if counts:
        rows = [[name, *(counts.get(split, {}).get(name, 0) for split in SPLITS)] for name in names]
        rows.append(["**all**", *(sum(counts.get(split, {}).values()) for split in SPLITS)])
        lines += _table(["class", "train", "validation", "test"], rows)
    else:
        lines.append("Photos per split: not recorded in this model file.")
    return lines + [""]


def _settings_section(metadata: dict) -> list[str]:
    cfg = metadata.get("config") or {}
    base = metadata.get("base_name") or metadata.get("base", "?")
    lines = ["## How it was trained", "",
             f"- Base: {base}, {metadata.get('weights') or 'ImageNet weights'}; frozen in phase 1.",
             f"- Phase 1: a new head (Dense {cfg.get('head_units', '?')}, dropout {cfg.get('dropout', '?')}, softmax) "
             f"trained for {_epochs(cfg.get('epochs1', '?'))} at learning rate {cfg.get('lr1', '?')}."]
    if cfg.get("epochs2") and cfg.get("unfreeze"):
        lines.append(f"- Phase 2: the top {cfg['unfreeze']} base layers unfrozen and fine-tuned for "
                     f"{_epochs(cfg['epochs2'])} at learning rate {cfg.get('lr2', '?')} (BatchNorm kept in inference mode).")
    else:
        lines.append("- Phase 2: none (no fine-tuning).")
    augment = "on" if cfg.get("augment") else "off"
    lines += [f"- Photos {metadata['image_size']} x {metadata['image_size']} px, batch size {cfg.get('batch_size', '?')}, "
              f"augmentation {augment}, preprocessing `{metadata.get('preprocessing', '?')}` (inside the model), "
              f"seed {cfg.get('seed', '?')}."]
    if metadata.get("stopped"):
        lines.append("- Training was **stopped early**: the model saw fewer epochs than set.")
    return lines + [""]


def _results_section(metadata: dict) -> list[str]:
    test = metadata.get("test") or {}
    n = test.get("n") or 0
    accuracy = test.get("accuracy", metadata.get("test_accuracy"))
    lines = ["## How well it does", ""]
    if not n:
        return lines + ["Test accuracy: not measured (there were no test photos).", ""]
    lines += [f"Test accuracy: **{_percent(accuracy)}** on {n} test photos it never saw while training. "
              f"With about {n} test photos this figure moves by several points with a different random split, so "
              "small differences between two models mean little.", ""]
    per_class = test.get("per_class") or {}
    rows = [[name, c.get("support", 0), _percent(c.get("recall")), _percent(c.get("precision"))]
            for name, c in per_class.items()]
    if rows:
        lines += _table(["class", "test photos", "recognised (recall)", "right when it says so (precision)"], rows)
    return lines + [""]


def _files_section(parity: dict) -> list[str]:
    lines = ["## The files", ""]
    rows = []
    for row in parity.get("formats", []):
        agreement, diff = agreement_text(row), difference_text(row)
        rows.append([f"`{row['file']}`" if row.get("file") else "—", row["label"], _size(row.get("size_bytes")),
                     agreement, diff, "—" if row.get("ms_per_photo") is None else f"{row['ms_per_photo']:.1f}",
                     row.get("error") or ""])
    lines += _table(["file", "format", "size", "same best class as Keras", "largest probability difference",
                     "ms per photo", "problem"], rows)
    lines += ["", parity.get("summary", ""), ""]
    lines += ["- `predict.py` classifies a photo with `model.tflite`: `pip install ai-edge-litert pillow numpy`, then "
              "`python predict.py photo.jpg` (add `model_int8.tflite` as a second argument for the small file). It "
              "says \"not sure\" by the first two parts of the rule below (best class and its lead).",
              "- `labels.txt` lists the classes in the order of the model's outputs.",
              "- Input: an RGB photo squashed (not cropped) to a square of "
              f"{parity.get('image_size', '?')} x {parity.get('image_size', '?')} pixels, raw 0–255 values as "
              "float32; the preprocessing is inside the model. Output: one probability per class, adding up to 1.",
              ""]
    return lines


def keras_lines(metadata: dict, photo: str = "photo.jpg") -> list[str]:
    """Python that opens ``model.keras`` with Keras alone (Colab, a laptop) and classifies one photo, squashed with
    bilinear resampling to the model's size like the app's own photos."""
    size = metadata["image_size"]
    return ["import keras, numpy as np",
            'model = keras.saving.load_model("model.keras")',
            f'photo = np.array([keras.utils.load_img("{photo}", target_size=({size}, {size}), interpolation="bilinear")])',
            f"print({{name: f\"{{p:.1%}}\" for name, p in zip({list(metadata['class_names'])!r}, "
            "model.predict(photo, verbose=0)[0])})"]


def _open_section(metadata: dict) -> list[str]:
    return ["## Open it anywhere with Keras", "",
            "In Colab (or any Python with Keras 3): upload `model.keras` and a photo named `photo.jpg` (the Files "
            "panel on the left), then run these lines. Nothing from this app is needed: the preprocessing inside is made "
            "of Keras's own layers (`Rescaling`), so Keras opens it in its safe mode.", "",
            "```python", *keras_lines(metadata), "```", ""]


def _limits_section(metadata: dict) -> list[str]:
    names = metadata["class_names"]
    return [
        "## What it cannot do", "",
        f"- It only knows these {len(names)} classes: {', '.join(names)}. Show it anything else (a cat, a car, a "
        "face, a drawing) and it still answers with one of them, sometimes confidently.",
        f"- \"Not sure\" rule (used by the app): trust an answer only when the best class gets at least "
        f"{MIN_CONFIDENCE:.0%}, beats the runner-up by at least {MIN_MARGIN * 100:.0f} percentage points and, with "
        f"three or more classes, the votes are not spread out (normalised entropy at most {MAX_ENTROPY:.0%}). "
        "Otherwise say \"not sure\". Sure is not the same as right.",
        "- Its test photos came from the same collection as its training photos. Photos taken elsewhere (other "
        "light, angles, cameras, backgrounds) can be harder than the test accuracy suggests.",
        "- It learned from a few hundred photos per class at most; it has not seen every variety of each class.",
        "",
    ]


def model_card(metadata: dict, parity: dict, when: datetime | None = None) -> str:
    """The card as Markdown."""
    when = when or datetime.now(UTC)
    names = metadata["class_names"]
    versions = metadata.get("versions") or {}
    lines = [
        f"# Model card: {len(names)}-class photo classifier ({metadata.get('base_name') or metadata.get('base')})",
        "",
        f"Made with Transfer Learning Lab. Trained {metadata.get('saved_at', 'date not recorded')[:10]}, "
        f"exported {when.date().isoformat()}.",
        "",
        f"Classifies a photo as one of: {', '.join(names)}.",
        "",
    ]
    lines += _data_section(metadata) + _settings_section(metadata) + _results_section(metadata)
    lines += _files_section(parity) + _open_section(metadata) + _limits_section(metadata)
    exported_with = parity.get("versions") or {}
    lines += ["## Versions", "",
              "Trained with " + (", ".join(f"{k} {v}" for k, v in versions.items()) or "versions not recorded") + ".",
              "Exported with " + (", ".join(f"{k} {v}" for k, v in exported_with.items()) or "—") + ".", ""]
    return "\n".join(lines)
