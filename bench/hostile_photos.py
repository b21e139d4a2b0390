"""Peak memory and time of preparing hostile photos: small files that decode to huge canvases.

    python bench/hostile_photos.py            # before (core/photos/images.py at --before) and after (the tree now)
    python bench/hostile_photos.py --json     # one JSON object instead of the table

Each photo is prepared in a fresh process, twice: as Predict does (``open_rgb`` with ``draft_size=1024``,
a 224 px model input and the display copy) and as training does (``load_array(path, 224)``). Peak memory
is the growth of the process's peak resident set (VmHWM, reset through ``/proc/self/clear_refs`` just before
the photo is read), so it counts Pillow's own buffers as well as NumPy's. Linux only.

"before" imports ``core/photos/images.py`` as it was at the commit ``--before`` (``git show``), untouched.
Timings depend on the machine (and on other work running); memory figures barely do.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BEFORE_COMMIT = "474e98c"  # the last commit with the old core/photos/images.py (decoding before the hostile-photo checks)
MB = 1024 * 1024
SIDE = 7071  # 7071 x 7071 = 49,999,041 pixels: just under the 50 MP limit


def make_photos(folder: Path) -> dict[str, Path]:
    """The hostile photos: files of kilobytes to a few megabytes, canvases of ~50 megapixels."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    photos: dict[str, Path] = {}

    def save(name: str, image, **kwargs) -> None:
        path = folder / name
        image.save(path, **kwargs)
        photos[name] = path

    grey16 = Image.new("I;16", (SIDE, SIDE), 1000)
    grey16.paste(Image.new("I;16", (SIDE, 64), 60000), (0, SIDE // 2))
    save("grey16_7071.png", grey16, optimize=True)  # the 97 KB 16-bit PNG
    del grey16
    rgb = Image.new("RGB", (7000, 7000), (40, 120, 60))
    save("rgb_49mp.png", rgb, optimize=True)  # the 146 KB RGB PNG
    save("rgb_49mp.jpg", rgb, quality=60)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the old code made a full-size upright copy
    save("rgb_49mp_rotated.jpg", rgb, quality=60, exif=exif)
    save("cmyk_49mp.tif", rgb.convert("CMYK"), compression="tiff_deflate")
    del rgb
    rgba = Image.new("RGBA", (SIDE, SIDE), (200, 30, 30, 128))
    save("rgba_7071.png", rgba, optimize=True)
    del rgba
    palette = Image.new("P", (SIDE, SIDE), 3)
    palette.putpalette([i % 256 for i in range(768)])
    save("palette_transparent_7071.png", palette, transparency=3, optimize=True)
    save("palette_7071.gif", palette)
    del palette
    wide = Image.fromarray(np.full((2000, 24_000), 500, np.uint16))  # a 48 MP strip, 16-bit
    save("grey16_strip_24000x2000.png", wide, optimize=True)
    return photos


def _images_module(which: str, before: str):
    if which == "after":
        from core.photos import images

        return images
    source = subprocess.run(["git", "show", f"{before}:core/photos/images.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    path = Path(tempfile.mkdtemp(prefix="tll-bench-")) / "images_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("images_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(which: str, path: str, task: str, before: str) -> dict:
    """Runs in a fresh process: prepare one photo, report peak memory growth and time."""
    import numpy as np
    from PIL import Image

    images = _images_module(which, before)
    data = Path(path).read_bytes()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    start_rss = _status("VmRSS")
    start = time.perf_counter()
    error = None
    try:
        if task == "predict":  # core.inference.predict.prepare_photo's work
            image = images.open_rgb(io.BytesIO(data), draft_size=1024)
            model_input = np.asarray(image.resize((224, 224), Image.BILINEAR), dtype=np.uint8)
            scale = min(1.0, 1024 / max(image.size))
            display = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
            shapes = [list(model_input.shape), list(display.size)]
        else:  # what training decodes
            shapes = [list(images.load_array(io.BytesIO(data), 224).shape)]
    except Exception as problem:  # noqa: BLE001 - a refused photo is a result too
        error, shapes = f"{type(problem).__name__}: {problem}", []
    seconds = time.perf_counter() - start
    return {"peak_mb": (_status("VmHWM") - start_rss) / MB, "seconds": seconds, "shapes": shapes, "error": error}


def measure(which: str, path: Path, task: str, before: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", which, str(path), task, "--before", before],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    if done.returncode != 0:
        return {"peak_mb": None, "seconds": None, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=BEFORE_COMMIT, help="git commit of the old core/photos/images.py")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--tasks", default="predict,train")
    parser.add_argument("--child", nargs=3, metavar=("WHICH", "PATH", "TASK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.before)))
        return
    from core.photos.images import MAX_IMAGE_PIXELS, PEAK_BYTES

    results = []
    with tempfile.TemporaryDirectory(prefix="tll-hostile-") as folder:
        photos = make_photos(Path(folder))
        for name, path in photos.items():
            for task in args.tasks.split(","):
                row = {"photo": name, "file_kb": round(path.stat().st_size / 1024), "task": task}
                for which in ("before", "after"):
                    row[which] = measure(which, path, task, args.before)
                results.append(row)
                if not args.json:
                    b, a = row["before"], row["after"]
                    print(f"{name:32} {row['file_kb']:>6} KB  {task:8} "
                          f"before {_fmt(b)}   after {_fmt(a)}", flush=True)
    budget = PEAK_BYTES / MB
    worst = max((r["after"]["peak_mb"] or 0) for r in results)
    summary = {"budget_mb": budget, "worst_after_mb": worst, "within_budget": worst <= budget,
               "max_image_pixels": MAX_IMAGE_PIXELS, "results": results}
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"\nbudget (core.photos.images.PEAK_BYTES): {budget:,.0f} MB; worst after: {worst:,.0f} MB "
              f"({'within' if worst <= budget else 'OVER'} budget). Machine: {os.cpu_count()} CPUs.")


def _fmt(result: dict) -> str:
    if result.get("peak_mb") is None:
        return f"failed ({result.get('error')})"
    text = f"{result['peak_mb']:7,.0f} MB {result['seconds']:5.2f} s"
    return text + (f" [{result['error'][:40]}]" if result.get("error") else "")


if __name__ == "__main__":
    main()
