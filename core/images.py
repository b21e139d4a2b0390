"""Reading photos safely: any format Pillow reads, EXIF rotation, odd modes, bombs.

Plain Python + Pillow + NumPy: no TensorFlow here.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

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
# (``open_rgb``, ``core.data.quick_check``), so the warning is noise. A process-wide filter, because
# ``warnings.catch_warnings`` is not thread-safe and Streamlit runs each session in its own thread.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

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


def to_rgb(image: Image.Image) -> Image.Image:
    """Upright RGB, whatever the photo's orientation tag and mode (RGBA, P, L, CMYK, I;16...)."""
    if getattr(image, "is_animated", False):
        image.seek(0)
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "RGBa", "LA", "La", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = array.max() or 1.0
        image = Image.fromarray(np.clip(array * (255.0 / top), 0, 255).astype(np.uint8), mode="L")
    return image.convert("RGB")


def too_large_reason(error: Exception) -> str:
    """``"too large: 900,000,000 pixels (limit 50,000,000)"`` for Pillow's DecompressionBombError, which
    refuses before we see the size and says "could be decompression bomb DOS attack"."""
    found = re.search(r"\((\d+) pixels\)", str(error))
    pixels = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
    return f"too large: {pixels} (limit {MAX_IMAGE_PIXELS:,})"


def open_rgb(source, draft_size: int | None = None) -> Image.Image:
    """Open a path or file-like object as an upright RGB image, or raise ImageProblem.

    ``draft_size`` lets JPEG decoding skip detail we would throw away when shrinking anyway.
    """
    try:
        # ``with``: a multi-frame file (GIF, TIFF) otherwise stays open until garbage collection.
        with Image.open(source) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageProblem(f"too large: {width}x{height} pixels (limit {MAX_IMAGE_PIXELS:,})")
            if draft_size and image.format == "JPEG":
                image.draft("RGB", (draft_size, draft_size))
            image.load()
            return to_rgb(image)
    except ImageProblem:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageProblem(too_large_reason(error)) from None
    except UnidentifiedImageError:
        raise ImageProblem("not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageProblem(f"cannot be decoded ({error})") from None


def load_array(source, size: int) -> np.ndarray:
    """A ``size x size x 3`` uint8 array, squashed like Keras's ``image_dataset_from_directory``."""
    image = open_rgb(source, draft_size=size)
    return np.asarray(image.resize((size, size), Image.BILINEAR), dtype=np.uint8)
