"""What is inside a base model, for the Concept and Compare pages: one import for the layer table
(``core.layer_table``), the unfreezing sums (``core.unfreeze_sums``), first-layer feature maps
(``core.feature_maps``) and the base comparison (``core.base_comparison``), plus the Compare verdict.

No TensorFlow at import: the modules above import Keras only inside the functions that build a model.

``python -m core.architecture`` regenerates ``core/layer_tables/mobilenet_v2_1.0_224.json`` from the
real Keras architecture (``--check`` only compares; ``--latency`` times every base on this CPU).
"""

from __future__ import annotations

import argparse
import json
import sys

from core import models
from core.base_comparison import FAST_MS, PHONE_MB, base_table, measure_latency
from core.feature_maps import FEATURE_LAYER, FeatureMaps, first_layer_feature_maps, sample_flowers
from core.layer_table import (
    INPUT_LAYER_NAME,
    TABLE_FILE,
    TABLE_KEY,
    TABLE_SIZE,
    build_layer_table,
    layer_table,
    render_table,
    table_differences,
    write_layer_table,
)
from core.unfreeze_sums import LESSON_CLASSES, LESSON_HEAD_UNITS, head_rows, unfreeze_summary

__all__ = [
    "FAST_MS", "FEATURE_LAYER", "INPUT_LAYER_NAME", "LESSON_CLASSES", "LESSON_HEAD_UNITS", "PHONE_MB", "TABLE_FILE",
    "TABLE_KEY", "TABLE_SIZE", "FeatureMaps", "base_table", "build_layer_table", "first_layer_feature_maps",
    "head_rows", "layer_table", "main", "measure_latency", "render_table", "sample_flowers", "table_differences",
    "unfreeze_summary", "verdict", "write_layer_table",
]


def verdict(rows: list[dict], phone_mb: float = PHONE_MB, fast_ms: float = FAST_MS) -> str:
    """A short "which base should I pick?" in Markdown, derived only from the numbers in ``rows``.

    Rows are ``base_table()`` rows, optionally with ``ms_per_image`` from ``measure_latency``.
    Rules: fits on a phone if ``size_mb < phone_mb``; fast if ``ms_per_image < fast_ms``; the pick
    is the most accurate base that fits (and is fast, when measured).
    """
    if not rows:
        return "No base models to compare."
    measured = [r for r in rows if r.get("ms_per_image") is not None]
    phone = [r for r in rows if r["size_mb"] < phone_mb]
    fast = [r for r in measured if r["ms_per_image"] < fast_ms]
    lines = []
    if phone:
        names = "; ".join(f"{r['name']}, {r['size_mb']:g} MB" for r in sorted(phone, key=lambda r: r["size_mb"]))
        lines.append(f"- **Fits on a phone** (under {phone_mb:g} MB): {names}.")
    else:
        lines.append(f"- None of these fits in {phone_mb:g} MB.")
    if measured:
        if fast:
            names = "; ".join(
                f"{r['name']}, {r['ms_per_image']:.0f} ms" for r in sorted(fast, key=lambda r: r["ms_per_image"])
            )
            lines.append(
                f"- **Fast on this computer** (under {fast_ms:g} ms a photo, smooth on a live camera): {names}."
            )
        else:
            lines.append(f"- None of the measured bases manages a photo in under {fast_ms:g} ms here.")
        quick = min(measured, key=lambda r: r["ms_per_image"])
        slow = max(measured, key=lambda r: r["ms_per_image"])
        if slow is not quick:
            ratio = slow["ms_per_image"] / max(quick["ms_per_image"], 1e-9)
            lines.append(
                f"- **Slowest**: {slow['name']} needs {slow['ms_per_image']:.0f} ms a photo, "
                f"{ratio:.0f}× longer than {quick['name']}."
            )
    best = max(rows, key=lambda r: r["top1"])
    lines.append(f"- **Most accurate on ImageNet**: {best['name']} ({best['top1']:g}% top-1, {best['size_mb']:g} MB).")
    per_mb = max(rows, key=lambda r: r["top1"] / max(r["size_mb"], 1e-9))
    lines.append(
        f"- **Most accuracy per MB**: {per_mb['name']} ({per_mb['top1'] / max(per_mb['size_mb'], 1e-9):.1f} top-1 points per MB)."
    )
    pool = [r for r in phone if r in fast] if measured else phone
    if pool:
        pick = max(pool, key=lambda r: (r["top1"], -r["size_mb"]))
        why = "small enough for a phone" + (" and fast here" if measured else "")
        text = f"**Pick: {pick['name']}**: the most accurate base that is {why}."
        if not pick["weights_available"]:
            ready = [r for r in pool if r["weights_available"]]
            text += " Its pretrained weights are not on this computer yet"
            text += f"; of those that are, {max(ready, key=lambda r: r['top1'])['name']} is best." if ready else "."
        if not measured:
            text += " Measure the speed to check it is quick enough too."
    else:
        limits = "both small and fast enough" if measured else f"small enough for a phone ({phone_mb:g} MB)"
        text = f"**No base is {limits}**: pick the one closest to your limits."
    return text + "\n\n" + "\n".join(lines)


# --------------------------------------------------------------------------- command line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.architecture", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare the committed table with Keras")
    parser.add_argument("--latency", nargs="*", metavar="KEY", help="time bases on this CPU (all if no key)")
    parser.add_argument("--size", type=int, default=None, help="image size for --latency (default: each base's own)")
    parser.add_argument("--n", type=int, default=8, help="photos to time per base")
    args = parser.parse_args(argv)
    if args.latency is not None:
        for key in args.latency or list(models.BASES):
            result = measure_latency(key, args.size, args.n)
            top = "with top" if result["include_top"] else "no top"
            print(
                f"{result['name']:<26} {result['image_size']} px {top:<8} {result['ms_per_image']:8.1f} ms/photo "
                f"(min {result['ms_min']:.1f}, build {result['build_seconds']:.1f} s)"
            )
        return 0
    rebuilt = build_layer_table()
    if args.check:
        committed = json.loads(TABLE_FILE.read_text()) if TABLE_FILE.is_file() else {}
        problems = table_differences(committed, rebuilt)
        for problem in problems[:20]:
            print(problem)
        print("up to date" if not problems else f"{TABLE_FILE} is out of date: run python -m core.architecture")
        return 1 if problems else 0
    write_layer_table(rebuilt)
    params = sum(r["params"] for r in rebuilt["layers"])
    print(f"wrote {TABLE_FILE}: {len(rebuilt['layers'])} layers, {params:,} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
