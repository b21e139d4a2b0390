"""Reading photos safely: any format Pillow reads, EXIF rotation, odd modes, bombs.

Plain Python + Pillow + NumPy: no TensorFlow here.
"""

from __future__ import annotations

import io
import os
import re
import threading
import warnings
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

try:  # HEIC/HEIF photos from iPhones, where the optional plugin is installed.
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIC_SUPPORTED = True
except ImportError:  # pragma: no cover - depends on the machine
    HEIC_SUPPORTED = False

# A photo bigger than this is refused rather than decoded: a 40-megapixel phone photo fits,
# a "decompression bomb" (tiny file, gigantic canvas) does not.
MAX_IMAGE_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# Pillow warns between 1x and 2x the limit (and refuses above 2x): we check every size ourselves
# (``open_rgb``, ``core.photos.datasets.quick_check``), so the warning is noise. A process-wide filter, because
# ``warnings.catch_warnings`` is not thread-safe and Streamlit runs each session in its own thread.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# The most memory preparing any accepted photo may take (``open_rgb`` with a ``draft_size``), above what the
# process held before: the decoded photo at up to 4 bytes a pixel (Pillow's widest storage: RGB, RGBA,
# CMYK, 32-bit; 191 MB at 50 MP), one band being converted and the much smaller reduced copy. Checked by
# tests/test_images.py, measured by bench/hostile_photos.py, stated in the README.
PEAK_BYTES = 256 * 1024 * 1024
_ORIENTATION_TAG = 0x0112
# Photos up to this size are converted whole (banded, so no extra full copy): they decode exactly as they
# always did. Bigger ones are shrunk by whole factors straight after decoding.
REDUCE_ABOVE_PIXELS = 16_000_000
# How many such big photos one process decodes at once (Streamlit runs every session in a thread of one
# process): the server's memory for photos stays under TLL_BIG_DECODES x PEAK_BYTES however many arrive.
_BIG_DECODES = threading.BoundedSemaphore(
    max(1, int(os.environ["TLL_BIG_DECODES"])) if os.environ.get("TLL_BIG_DECODES", "").isdigit() else 2
)

IMAGE_SUFFIXES = {
    ".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif",
}
IGNORED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


class ImageProblem(ValueError):
    """A file that cannot be used as a training photo; ``reason`` is shown to the student."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def is_hidden_or_system(path: Path) -> bool:
    parts = [p.lower() for p in path.parts]
    return any(p == "__macosx" or p.startswith(".") for p in parts) or path.name.lower() in IGNORED_NAMES


def looks_like_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not is_hidden_or_system(path)


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_WIDE_MODES = ("I;16", "I;16B", "I;16L", "I")  # more than 8 bits per channel: scaled to the photo's own maximum
BAND_PIXELS = 1_000_000  # converted a band of rows at a time, so no full-size copy is ever made


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_ORIENTATION_TAG, 1) or 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block just means "not rotated"
        return 1


def upright_size(source) -> tuple[int, int] | None:
    """A photo's ``(width, height)`` as displayed (EXIF rotation applied), from its header only; None if
    it cannot be opened. ``source`` is a path or a file-like object (rewound first)."""
    try:
        if hasattr(source, "seek"):
            source.seek(0)
        with Image.open(source) as image:
            width, height = image.size
            orientation = _orientation(image)
    except Exception:  # noqa: BLE001 - only informative: unreadable photos are reported where they are decoded
        return None
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info)


def _working_mode(image: Image.Image) -> str:
    """The mode a band is converted to before averaging: averaging must happen on real values (not
    palette indices). Pillow's ``reduce`` premultiplies RGBA and LA itself, so a transparent pixel's
    colour does not bleed into its neighbours."""
    if _has_alpha(image):
        return "RGBA"
    if image.mode in _WIDE_MODES:
        return "I"
    if image.mode in ("L", "1"):
        return "L"
    if image.mode == "F":
        return "F"
    return "RGB"


def _convert(band: Image.Image, mode: str) -> Image.Image:
    if band.mode == mode:
        return band
    if band.mode in ("P", "PA") and mode != "L":
        band = band.convert("RGBA")  # the palette's transparency becomes alpha
    return band.convert(mode) if band.mode != mode else band


def _in_bands(image: Image.Image, mode: str, factors: tuple[int, int] = (1, 1), scale: float | None = None
              ) -> Image.Image:
    """``image`` converted to ``mode`` and reduced by ``factors`` one band of rows at a time: memory is the
    output plus one band, never a second full-size copy. ``scale`` maps 16/32-bit values to 0..255 first."""
    width, height = image.size
    fx, fy = factors
    out = Image.new(mode, (-(-width // fx), -(-height // fy)))
    rows = max(fy, BAND_PIXELS // max(width, 1) // fy * fy)
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(height, top + rows)))
        if scale is not None:
            band = _convert(band, "I").point(lambda v: v * scale)
        band = _convert(band, mode)
        if fx > 1 or fy > 1:
            band = band.reduce((fx, fy))
        out.paste(band, (0, top // fy))
    return out


def _to_8_bit(image: Image.Image, top: float) -> Image.Image:
    """A greyscale image of 16- or 32-bit integers as 8-bit "L", scaled so ``top`` becomes 255."""
    return _in_bands(image, "L", scale=255.0 / (top or 1.0))


def _on_white(image: Image.Image) -> Image.Image:
    """Transparent parts on white, a band of rows at a time."""
    width, height = image.size
    out = Image.new("RGB", image.size, (255, 255, 255))
    rows = max(1, BAND_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        band = _convert(image.crop((0, top, width, min(height, top + rows))), "RGBA")
        out.paste(band, (0, top), mask=band.getchannel("A"))
    return out


def to_rgb(image: Image.Image, orientation: int | None = None, wide_top: float | None = None) -> Image.Image:
    """Upright RGB, whatever the photo's orientation tag and mode (RGBA, P, L, CMYK, I;16...).

    ``orientation`` and ``wide_top`` (the largest value of a 16/32-bit photo) come from the original when
    ``image`` is a reduced copy of it. The result is the only full copy made: modes are converted in bands.
    """
    if getattr(image, "is_animated", False):
        image.seek(0)
    orientation = _orientation(image) if orientation is None else orientation
    if image.mode in _WIDE_MODES:
        image = _to_8_bit(image, image.getextrema()[1] if wide_top is None else wide_top)
    if _has_alpha(image):
        image = _on_white(image)
    elif image.mode != "RGB":
        image = _in_bands(image, "RGB")
    if orientation in _TRANSPOSE:
        image = image.transpose(_TRANSPOSE[orientation])
    return image


def too_large_reason(error: Exception) -> str:
    """``"too large: 900,000,000 pixels (limit 50,000,000)"`` for Pillow's DecompressionBombError, which
    refuses before we see the size and says "could be decompression bomb DOS attack"."""
    found = re.search(r"\((\d+) pixels\)", str(error))
    pixels = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
    return f"too large: {pixels} (limit {MAX_IMAGE_PIXELS:,})"


def reduction_factors(width: int, height: int, draft_size: int | None, squash: bool = False) -> tuple[int, int]:
    """How much a photo can be shrunk at once (whole factors, across and down), keeping at least twice
    ``draft_size`` pixels: the later bilinear resize to ``draft_size`` then looks the same (Pillow's
    ``reducing_gap=2``). ``squash``: each side is resized to ``draft_size`` (each side has its own factor);
    otherwise the longer side is, keeping the shape (one factor)."""
    if not draft_size:
        return 1, 1
    if squash:
        return max(1, width // (2 * draft_size)), max(1, height // (2 * draft_size))
    factor = max(1, max(width, height) // (2 * draft_size))
    return factor, factor


def open_rgb(source, draft_size: int | None = None, squash: bool = False) -> Image.Image:
    """Open a path or file-like object as an upright RGB image, or raise ImageProblem.

    ``draft_size`` says the photo will be shrunk to about that size (each side, with ``squash``; else the
    longer side): JPEGs are then decoded at a smaller scale (the decoder's draft mode), and any photo
    still much bigger is reduced by whole factors right after decoding, before any conversion. Peak memory
    is the decoded photo (at most ``MAX_IMAGE_PIXELS`` x 4 bytes) plus the much smaller result, whatever
    the mode: see ``PEAK_BYTES``.
    """
    try:
        # ``with``: a multi-frame file (GIF, TIFF) otherwise stays open until garbage collection.
        with Image.open(source) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageProblem(f"too large: {width}x{height} pixels (limit {MAX_IMAGE_PIXELS:,})")
            if draft_size and image.format == "JPEG":
                image.draft("RGB", (draft_size, draft_size))  # the size is now the (smaller) decoded one
            big = image.width * image.height > REDUCE_ABOVE_PIXELS
            with _BIG_DECODES if big else nullcontext():
                image.load()
                if getattr(image, "is_animated", False):
                    image.seek(0)
                factors = reduction_factors(*image.size, draft_size, squash)
                if factors == (1, 1) or not big:
                    return to_rgb(image)  # may be ``image`` itself: leaving ``with`` closes only the file
                orientation = _orientation(image)
                wide_top = image.getextrema()[1] if image.mode in _WIDE_MODES else None
                # Averaging needs real values: 32-bit integers (Pillow cannot reduce "I;16"), colours (not
                # palette indices).
                reduced = _in_bands(image, _working_mode(image), factors)
                image.close()  # frees the full-size pixels now, before the small copy is converted
        return to_rgb(reduced, orientation, wide_top)
    except ImageProblem:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageProblem(too_large_reason(error)) from None
    except UnidentifiedImageError:
        raise ImageProblem("not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageProblem(f"cannot be decoded ({error})") from None


def thumbnail_jpeg(source, size: int = 220) -> bytes | None:
    """A small upright JPEG of the photo (longer side ``size``), or None if it cannot be read: pages show
    these instead of the full photos, which the browser would otherwise receive resized on every rerun."""
    try:
        image = open_rgb(source, draft_size=size)
    except ImageProblem:
        return None
    image.thumbnail((size, size), Image.BILINEAR)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def load_array(source, size: int) -> np.ndarray:
    """A ``size x size x 3`` uint8 array, squashed like Keras's ``image_dataset_from_directory``."""
    image = open_rgb(source, draft_size=size, squash=True)
    return np.asarray(image.resize((size, size), Image.BILINEAR), dtype=np.uint8)
