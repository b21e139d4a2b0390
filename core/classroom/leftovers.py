"""What a server killed with SIGKILL leaves behind, removed when the next one starts.

A job's working folder (``jobs/<id>``), the photo copy it trained on (``snapshots/<id>``) and the students'
unpacked uploads (``/tmp/tll-upload-*``, 6.7 MB per student in the probe) are removed by the server when a
training ends or a session closes, which a SIGKILL skips. At start no job runs yet, so whatever is in
``jobs/`` and ``snapshots/`` is left over; an upload folder is left over when the process named in it is gone.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from core.photos.upload_rules import TEMP_PREFIX


def _owner_gone(folder: Path) -> bool:
    """An upload folder is named ``tll-upload-<pid>-…`` by the process that made it: gone when that process is."""
    owner = folder.name[len(TEMP_PREFIX):].split("-")[0]
    if not owner.isdigit():  # made before folders carried their process id: left over once a day old
        return folder.stat().st_mtime < time.time() - 86400
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with the app's requirements
        return False
    return not psutil.pid_exists(int(owner))


def clean_leftovers(data_folder: Path, temp_folder: Path | None = None) -> dict[str, int]:
    """Remove the previous server's leftovers; returns how many folders of each kind went."""
    removed = {"jobs": 0, "snapshots": 0, "uploads": 0}
    for kind in ("jobs", "snapshots"):
        folder = Path(data_folder) / kind
        for child in folder.iterdir() if folder.is_dir() else ():
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
            removed[kind] += 1
    for child in Path(temp_folder or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        try:
            if child.is_dir() and _owner_gone(child):
                shutil.rmtree(child, ignore_errors=True)
                removed["uploads"] += 1
        except OSError:
            continue  # another user's folder, or gone already
    return removed
