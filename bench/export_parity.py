"""Sizes, agreement with Keras and ms per photo of every exported format, for one recipe (the closing-note figures).

    python bench/export_parity.py                       # the lesson's recipe: 224 px, 5 + 10 epochs, K = 30
    python bench/export_parity.py --image-size 96 --epochs2 0
    python bench/export_parity.py --model model.keras   # an existing model (test photos: tf_flowers if it was)

Prints the parity table (stderr) and parity.json (stdout). Times depend on what else the computer is doing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.export import bundle as export
from core.training import TrainConfig, train  # noqa: E402


def main(argv=None) -> int:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="export this .keras file instead of training one")
    parser.add_argument("--image-size", type=int, default=defaults.image_size)
    parser.add_argument("--epochs1", type=int, default=defaults.epochs1)
    parser.add_argument("--epochs2", type=int, default=defaults.epochs2)
    parser.add_argument("--unfreeze", type=int, default=defaults.unfreeze)
    parser.add_argument("--out", help="keep the exported files here (default: a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tll-bench-export-") as scratch:
        out = Path(args.out or scratch)
        start = time.perf_counter()
        if args.model:
            report = export.export_model_file(args.model, out)
        else:
            cfg = TrainConfig(image_size=args.image_size, epochs1=args.epochs1, epochs2=args.epochs2,
                              unfreeze=args.unfreeze)
            result = train(cfg)
            print(f"trained in {time.perf_counter() - start:.0f} s, test accuracy {result.test['accuracy']:.1%}",
                  file=sys.stderr)
            start = time.perf_counter()
            report = export.export_trained(result, out)
        print(f"exported in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        print(export.parity_table(report), file=sys.stderr)
        for problem in report.problems:
            print(f"note: {problem}", file=sys.stderr)
        json.dump(report.parity, sys.stdout, indent=1)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
