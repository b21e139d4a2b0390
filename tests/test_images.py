"""Decoding photos: every mode comes out upright RGB, and memory is bounded whatever the file holds."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import FLOWERS, ROOT
from PIL import Image

from core.photos import images
from core.photos.images import PEAK_BYTES, ImageProblem, load_array, open_rgb, reduction_factors

BIG = 5000  # 25 MP: above REDUCE_ABOVE_PIXELS, so the reducing path runs


def encoded(image: Image.Image, fmt: str = "PNG", **kwargs) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    buffer.seek(0)
    return buffer


def test_sixteen_bit_greyscale_is_scaled_to_its_own_maximum():
    values = np.array([[0, 30000, 60000, 15000]] * 4, dtype=np.uint16)
    rgb = np.asarray(open_rgb(encoded(Image.fromarray(values))))
    assert rgb.shape == (4, 4, 3)
    assert rgb[0, :, 0].tolist() == [0, 127, 255, 63]  # v * 255 / max, rounded down, as before


def test_a_big_sixteen_bit_photo_is_reduced_and_scaled_the_same_way():
    values = np.full((BIG, BIG), 1000, np.uint16)
    values[:, : BIG // 2] = 4000  # the left half is the brightest: 255 after scaling
    small = load_array(encoded(Image.fromarray(values)), 64)
    assert small[:, :20].min() == 255 and small[:, -20:].max() == 63


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparent_parts_become_white_without_a_dark_fringe(mode):
    """Half transparent black, half opaque white: a reduced copy must average premultiplied colour, else
    the transparent black bleeds into a grey band where the halves meet."""
    image = Image.new("RGBA", (BIG, BIG), (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (BIG // 2 + 1, BIG), (255, 255, 255, 255)), (BIG // 2 - 1, 0))
    if mode == "LA":
        image = image.convert("LA")
        source = encoded(image)
    elif mode == "P":
        palette = Image.new("P", (BIG, BIG), 1)
        palette.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
        palette.paste(0, (0, 0, BIG // 2, BIG))
        source = encoded(palette, transparency=0)
    else:
        source = encoded(image)
    rgb = load_array(source, 100)
    assert rgb.min() >= 250


@pytest.mark.parametrize("size", [BIG, 400])  # reduced, and converted whole
def test_exif_rotation_is_applied(size):
    image = Image.new("RGB", (size, size // 2), (250, 10, 10))
    image.paste((10, 10, 250), (0, 0, size // 10, size // 2))  # a blue stripe on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    upright = open_rgb(encoded(image, "PNG", exif=exif), draft_size=224)
    assert upright.height > upright.width  # portrait now
    pixels = np.asarray(upright)
    assert pixels[2, upright.width // 2, 2] > 200 and pixels[-3, upright.width // 2, 0] > 200  # stripe on top


@pytest.mark.parametrize("mode", ["CMYK", "L", "1", "I", "F", "P"])
def test_every_mode_becomes_rgb(mode):
    image = Image.new("RGB", (BIG, 3300), (0, 0, 0)).convert(mode)
    fmt = "TIFF" if mode in ("CMYK", "I", "F") else "PNG"
    out = open_rgb(encoded(image, fmt), draft_size=224)
    assert out.mode == "RGB" and out.height < 3300


def test_reduction_factors_keep_twice_the_target():
    assert reduction_factors(7071, 7071, 224, squash=True) == (15, 15)
    assert reduction_factors(24000, 2000, 224, squash=True) == (53, 4)
    assert reduction_factors(24000, 2000, 1024) == (11, 11)  # one factor: the shape is kept
    assert reduction_factors(3000, 2000, None) == (1, 1)


def test_ordinary_photos_decode_as_before():
    """A real flower JPEG and a 12 MP PNG are not reduced beyond the JPEG draft: same pixels as a
    direct Pillow decode + bilinear resize."""
    photo = sorted((FLOWERS / "daisy").glob("*.jpg"))[0]
    with Image.open(photo) as raw:
        raw.draft("RGB", (224, 224))
        expected = np.asarray(raw.convert("RGB").resize((224, 224), Image.BILINEAR))
    np.testing.assert_array_equal(load_array(photo, 224), expected)
    rng = np.random.default_rng(0)
    big = Image.fromarray(rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8))
    expected = np.asarray(big.resize((96, 96), Image.BILINEAR))
    np.testing.assert_array_equal(load_array(encoded(big), 96), expected)


def test_too_many_pixels_is_refused_before_decoding():
    header_only = encoded(Image.new("L", (8000, 8000)))
    with pytest.raises(ImageProblem, match="too large"):
        open_rgb(header_only)


# ------------------------------------------------------------------------------------ memory

_CHILD = """
import io, json, sys
from pathlib import Path
sys.path.insert(0, {root!r})
import numpy as np
from PIL import Image
from core.photos import images

def status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

data = Path(sys.argv[1]).read_bytes()
Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from here
start = status("VmRSS")
if sys.argv[2] == "predict":
    image = images.open_rgb(io.BytesIO(data), draft_size=1024)
    np.asarray(image.resize((224, 224), Image.BILINEAR))
else:
    images.load_array(io.BytesIO(data), 224)
print(json.dumps(status("VmHWM") - start))
"""


def _peak_bytes(path: Path, task: str) -> int:
    done = subprocess.run([sys.executable, "-c", _CHILD.format(root=str(ROOT)), str(path), task],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-800:]
    return json.loads(done.stdout)


def _can_measure_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return "VmHWM" in Path("/proc/self/status").read_text()
    except OSError:
        return False


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    grey16 = Image.new("I;16", (7071, 7071), 1000)
    grey16.paste(Image.new("I;16", (7071, 64), 60000), (0, 3000))
    grey16.save(folder / "grey16.png")  # ~100 KB; decoded the old way it took 1.3 GB
    del grey16
    Image.new("RGBA", (7071, 7071), (200, 30, 30, 128)).save(folder / "rgba.png")
    return folder


@pytest.mark.skipif(not _can_measure_peak(), reason="peak memory is read from Linux's /proc/self (VmHWM)")
@pytest.mark.parametrize("name, task", [("grey16.png", "predict"), ("grey16.png", "train"), ("rgba.png", "predict")])
def test_peak_memory_stays_under_the_stated_budget(hostile, name, task):
    """The README's budget for any accepted photo (``core.photos.images.PEAK_BYTES``), not a timing."""
    peak = _peak_bytes(hostile / name, task)
    assert 0 < peak <= PEAK_BYTES, f"{name} ({task}): {peak / 2**20:.0f} MB > {PEAK_BYTES / 2**20:.0f} MB"



def test_big_photos_are_decoded_a_few_at_a_time(monkeypatch):
    """Ten students sending a 50 MP photo at once must not take ten times the budget."""
    import threading
    import time

    monkeypatch.setattr(images, "REDUCE_ABOVE_PIXELS", 1000)  # small photos stand in for big ones
    monkeypatch.setattr(images, "_BIG_DECODES", threading.BoundedSemaphore(2))
    running, most = [0], [0]
    lock = threading.Lock()
    real = images._in_bands

    def slow_in_bands(*args, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return real(*args, **kwargs)

    monkeypatch.setattr(images, "_in_bands", slow_in_bands)
    data = encoded(Image.new("RGB", (200, 200), (9, 99, 199))).getvalue()
    results = []
    threads = [threading.Thread(target=lambda: results.append(load_array(io.BytesIO(data), 20))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6 and all(r[0, 0].tolist() == [9, 99, 199] for r in results)
    assert most[0] == 2


def test_a_thumbnail_is_a_small_upright_jpeg_or_none(tmp_path):
    from core.photos.images import thumbnail_jpeg

    photo = tmp_path / "wide.png"
    Image.new("RGB", (900, 300), (200, 30, 30)).save(photo)
    made = thumbnail_jpeg(photo, 150)
    with Image.open(io.BytesIO(made)) as small:
        assert small.format == "JPEG" and small.size == (150, 50)
        assert small.getpixel((75, 25))[0] > 150  # still red
    (tmp_path / "notes.jpg").write_text("not a photo")
    assert thumbnail_jpeg(tmp_path / "notes.jpg") is None
