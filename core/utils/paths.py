"""Where things live: the offline bundle, the Keras weight cache and our own cache.

Plain Python (no TensorFlow), so pages that need no model can import it cheaply.

A teacher without internet points ``TLL_OFFLINE_BUNDLE`` at a folder laid out as::

    <bundle>/keras/models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5
    <bundle>/flowers/<class>/*.jpg

Real sources (the Keras weight cache and download, tensorflow-datasets) are always tried as well.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def offline_bundle() -> Path | None:
    """The offline bundle folder, if the teacher configured one that exists."""
    value = os.environ.get("TLL_OFFLINE_BUNDLE", "").strip()
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    return path if path.is_dir() else None


def bundle_flowers_dir() -> Path | None:
    """``<bundle>/flowers`` (or ``TLL_FLOWERS_DIR``), a folder of class sub-folders."""
    explicit = os.environ.get("TLL_FLOWERS_DIR", "").strip()
    if explicit and Path(explicit).is_dir():
        return Path(explicit).resolve()
    bundle = offline_bundle()
    if bundle and (bundle / "flowers").is_dir():
        return bundle / "flowers"
    return None


def keras_cache_dir() -> Path:
    """The folder where Keras caches downloaded weights (``$KERAS_HOME/models``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def weight_search_dirs() -> list[Path]:
    """Folders that may hold Keras weight files, best first: Keras's own cache, then the bundle."""
    dirs = [keras_cache_dir()]
    bundle = offline_bundle()
    if bundle:
        dirs.append(bundle / "keras" / "models")
    return [d for d in dirs if d.is_dir()]


def find_weight_file(file_name: str) -> Path | None:
    for folder in weight_search_dirs():
        candidate = folder / file_name
        if candidate.is_file():
            return candidate
    return None


def weight_file_identity(file_name: str) -> str:
    """Names a weight file by name and size, for cache keys: a different file means a different result."""
    found = find_weight_file(file_name)
    return f"{file_name}:{found.stat().st_size}" if found else "missing"


def downloads_allowed() -> bool:
    """False when ``TLL_NO_DOWNLOADS=1``: an offline classroom skips download attempts and their timeouts."""
    return os.environ.get("TLL_NO_DOWNLOADS", "").strip().lower() not in ("1", "true", "yes")


def cache_dir() -> Path:
    """Our own on-disk cache (features, decoded tf_flowers export). ``TLL_CACHE_DIR`` overrides."""
    value = os.environ.get("TLL_CACHE_DIR", "").strip()
    path = Path(value).expanduser() if value else Path.home() / ".cache" / "transfer-learning-lab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def quiet_tensorflow_logs() -> None:
    """TensorFlow's C++ start-up chatter hides our own messages; keep warnings and errors."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
