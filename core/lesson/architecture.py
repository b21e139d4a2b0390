"""What is inside a base model, for the Concept and Compare pages: one import for the layer table
(``core.models.layer_table``), the unfreezing sums (``core.models.unfreeze_sums``), first-layer feature maps
(``core.lesson.feature_maps``) and the base comparison (``core.lesson.base_comparison``). The Compare verdict is
``core.lesson.verdict``.

No TensorFlow at import: the modules above import Keras only inside the functions that build a model.

``python -m core.lesson.architecture`` regenerates ``core/models/layer_tables/mobilenet_v2_1.0_224.json`` from the
real Keras architecture (``--check`` only compares; ``--latency`` times every base on this CPU).
"""

from __future__ import annotations

import argparse
import json
import sys

from core.lesson.base_comparison import FAST_MS, PHONE_MB, base_table, measure_latency
from core.lesson.feature_maps import FEATURE_LAYER, FeatureMaps, first_layer_feature_maps, sample_flowers
from core.models import bases as models
from core.models.layer_table import (
    INPUT_LAYER_NAME,
    TABLE_FILE,
    TABLE_KEY,
    TABLE_SIZE,
    build_layer_table,
    read_layer_table,
    render_table,
    table_differences,
    write_layer_table,
)
from core.models.unfreeze_sums import LESSON_CLASSES, LESSON_HEAD_UNITS, head_rows, unfreeze_summary

__all__ = [
    "FAST_MS", "FEATURE_LAYER", "INPUT_LAYER_NAME", "LESSON_CLASSES", "LESSON_HEAD_UNITS", "PHONE_MB", "TABLE_FILE",
    "TABLE_KEY", "TABLE_SIZE", "FeatureMaps", "base_table", "build_layer_table", "first_layer_feature_maps",
    "head_rows", "main", "measure_latency", "read_layer_table", "render_table", "sample_flowers", "table_differences",
    "unfreeze_summary", "write_layer_table",
]


# --------------------------------------------------------------------------- command line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.lesson.architecture", description=__doc__.splitlines()[0])
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
        print("up to date" if not problems else f"{TABLE_FILE} is out of date: run python -m core.lesson.architecture")
        return 1 if problems else 0
    write_layer_table(rebuilt)
    params = sum(r["params"] for r in rebuilt["layers"])
    print(f"wrote {TABLE_FILE}: {len(rebuilt['layers'])} layers, {params:,} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
