"""Disk per student for a dataset built on the My photos page: 3 classes x 150 photos, as stored (512 px JPEGs).

    python bench/own_photos_disk.py            # a table
    python bench/own_photos_disk.py --json     # one JSON object (also written to bench/results/own_photos_disk.json)

Two kinds of arriving photo, 150 per class of daisy / roses / tulips from the offline bundle's flowers:
"flowers as they are" (about 500 x 333 px JPEGs, so smaller than 512 px: kept at their size) and "phone-sized"
(the same photos enlarged to 4:3 at 2016 x 1512 with a little sensor grain, saved as a phone would at quality 92,
then shrunk to 512 px on arrival). The arriving bytes are counted too, to show what is not kept. Seconds per
photo are the server's work to store one (decode, shrink, re-encode, write) and depend on the machine's load.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from core.photos.own_dataset import LONGEST_SIDE, OwnDataset, default_budget_bytes  # noqa: E402
from core.utils.paths import bundle_flowers_dir  # noqa: E402

CLASSES = ("daisy", "roses", "tulips")
PER_CLASS = 150
MB = 1024 * 1024


def phone_sized(path: Path, seed: int) -> bytes:
    image = Image.open(path).convert("RGB").resize((2016, 1512), Image.BICUBIC)
    grain = np.random.default_rng(seed).normal(0, 4, (1512, 2016, 3))
    noisy = np.clip(np.asarray(image, dtype=np.float32) + grain, 0, 255).astype("uint8")
    out = io.BytesIO()
    Image.fromarray(noisy).save(out, "JPEG", quality=92)
    return out.getvalue()


def measure(kind: str, flowers: Path) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="tll-bench-own-"))
    own = OwnDataset(folder / "my_photos", budget_bytes=10_000 * MB)
    arriving, seconds = 0, 0.0
    try:
        for name in CLASSES:
            own.add_class(name)
            for i, path in enumerate(sorted((flowers / name).glob("*.jpg"))[:PER_CLASS]):
                content = path.read_bytes() if kind == "flowers as they are" else phone_sized(path, i)
                arriving += len(content)
                started = time.perf_counter()
                report = own.add_photos(name, [(path.name, content)])
                seconds += time.perf_counter() - started
                assert report.added, report.skipped
        photos = own.total_photos()
        stored = own.used_bytes()
        sides = [max(Image.open(p).size) for n in CLASSES for p in own.photos(n)]
        return {"kind": kind, "photos": photos, "arriving_mb": round(arriving / MB, 1),
                "stored_mb": round(stored / MB, 1), "kb_per_photo": round(stored / photos / 1024, 1),
                "largest_side_px": max(sides), "seconds_per_photo": round(seconds / photos, 3)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    flowers = bundle_flowers_dir()
    if flowers is None:
        sys.exit("No flowers: set TLL_OFFLINE_BUNDLE (the Makefile does) to the folder holding flowers/.")
    load = os.getloadavg()[0]
    rows = [measure(kind, flowers) for kind in ("flowers as they are", "phone-sized")]
    result = {"classes": len(CLASSES), "per_class": PER_CLASS, "longest_side_px": LONGEST_SIDE,
              "budget_mb": default_budget_bytes() // MB, "load_average_at_start": round(load, 1),
              "cores": os.cpu_count(), "rows": rows}
    (ROOT / "bench" / "results" / "own_photos_disk.json").write_text(json.dumps(result, indent=2) + "\n")
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{len(CLASSES)} classes x {PER_CLASS} photos, stored at most {LONGEST_SIDE} px "
          f"(load average {load:.1f} on {os.cpu_count()} cores)")
    for row in rows:
        print(f"  {row['kind']:<20} arriving {row['arriving_mb']:>6} MB -> stored {row['stored_mb']:>5} MB "
              f"({row['kb_per_photo']} KB a photo, largest side {row['largest_side_px']} px, "
              f"{row['seconds_per_photo']} s a photo)")


if __name__ == "__main__":
    main()
