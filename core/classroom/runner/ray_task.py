"""What runs on a lab computer: one training of ``core.classroom.runner.ray_backend`` as a Ray task.

The task writes the shipped photos to a private folder on this computer (once per photo set), checks they
are the server's photos (same content fingerprint), trains through ``core.training`` only (the recipe table
of ``core.classroom.runner.recipes``, as every backend), pushes its events to the server's mailbox actor, reads the
stop flag between batches, and returns each model as ``.keras`` bytes.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import ray

from core.classroom.runner.recipes import RECIPES
from core.inference import save_trained_model
from core.photos import load_dataset
from core.training import Callbacks, TrainConfig
from core.utils.priority import lower_priority

PROGRESS_EVERY_S = 0.25
STOP_POLL_S = 0.3
PHOTO_FOLDERS_KEPT = 4  # photo sets kept on each worker's disk


class _Sink:
    """The task's end of the mailbox: events in order, progress at most every 0.25 s, the stop flag read
    without blocking a training step."""

    def __init__(self, mailbox, job_id: str):
        self._mailbox, self._job_id = mailbox, job_id
        self._last_progress = 0.0
        self._stop_ref, self._stop_asked_at = None, 0.0
        self.stop_requested = False

    def send(self, kind: str, **fields) -> None:
        self._mailbox.push.remote(self._job_id, [{"type": kind, **fields}])

    def progress(self, recipe: str, progress) -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_EVERY_S or progress.fraction >= 1.0:
            self._last_progress = now
            self.send("progress", recipe=recipe, **asdict(progress))

    def should_stop(self) -> bool:
        if not self.stop_requested:
            if self._stop_ref is None and time.monotonic() - self._stop_asked_at >= STOP_POLL_S:
                self._stop_ref, self._stop_asked_at = self._mailbox.stop_requested.remote(self._job_id), time.monotonic()
            if self._stop_ref is not None and ray.wait([self._stop_ref], timeout=0)[0]:
                self.stop_requested, self._stop_ref = ray.get(self._stop_ref), None
                if self.stop_requested:
                    self.send("stopping")
        return self.stop_requested

    def flush(self) -> None:
        """Calls from one caller to an actor run in order: when this returns, every event is in the mailbox."""
        ray.get(self._mailbox.push.remote(self._job_id, []))


def _photos_folder(photos_box: list, fingerprint: str) -> Path:
    """The shipped photos on this computer's disk, fetched from the object store only if not already here."""
    root = Path(tempfile.gettempdir()) / "tll-ray-photos"
    root.mkdir(mode=0o700, exist_ok=True)  # students' photos: not for other users of a lab PC
    folder = root / fingerprint
    if (folder / ".complete").exists():
        os.utime(folder)
        return folder
    payload = ray.get(photos_box[0])
    partial = root / f".{fingerprint}.{os.getpid()}.{secrets.token_hex(3)}"
    for split in ("train", "val", "test"):
        (partial / split).mkdir(parents=True)
    for name, data in payload["files"]:
        (partial / name).parent.mkdir(parents=True, exist_ok=True)
        (partial / name).write_bytes(data)
    (partial / ".complete").touch()
    try:
        partial.rename(folder)
    except OSError:  # another training on this computer wrote the same photos first
        shutil.rmtree(partial, ignore_errors=True)
    folders = sorted((p for p in root.iterdir() if p.is_dir() and p != folder), key=lambda p: p.stat().st_mtime)
    for old in folders[: max(0, len(folders) - PHOTO_FOLDERS_KEPT + 1)]:
        if time.time() - old.stat().st_mtime > 3600:  # never the photos of a training that may still run
            shutil.rmtree(old, ignore_errors=True)
    return folder


def _relative(row: dict, folder: Path) -> dict:
    path = Path(row["path"]).resolve() if row.get("path") else None  # a temporary folder may sit behind a symlink
    if path and path.is_relative_to(folder.resolve()):
        return {**row, "path": str(path.relative_to(folder.resolve()))}
    return dict(row)


def train_task(job: dict, photos_box: list, fingerprint: str, source: str, mailbox) -> dict:
    """One job on a Ray worker, through the engine only; the models come back as ``.keras`` bytes."""
    sink = _Sink(mailbox, job["job_id"])
    node = socket.gethostname()
    sink.send("started", pid=os.getpid(), node=node)
    if job.get("nice"):
        lower_priority(int(job["nice"]))
    unknown = set(job["recipes"]) - set(RECIPES)
    if unknown:
        raise ValueError(f"unknown recipe(s): {sorted(unknown)}")
    cfg = TrainConfig.from_dict(job["config"])
    folder = _photos_folder(photos_box, fingerprint)
    dataset = load_dataset(str(folder), cfg.seed)
    if dataset.fingerprint() != fingerprint:
        raise RuntimeError(f"The photos did not arrive intact on {node}: their content differs from the server's.")
    dataset.source = source
    results = []
    for recipe in job["recipes"]:
        callbacks = Callbacks(on_epoch=lambda record, r=recipe: sink.send("epoch", recipe=r, **asdict(record)),
                              on_progress=lambda progress, r=recipe: sink.progress(r, progress),
                              should_stop=sink.should_stop)
        result = RECIPES[recipe](cfg, callbacks, dataset=dataset)
        with tempfile.TemporaryDirectory(prefix="tll-model-") as tmp:
            model = Path(save_trained_model(result, Path(tmp) / f"{recipe}.keras")).read_bytes()
        summary = result.summary()
        summary["skipped"] = [_relative(row, folder) for row in summary["skipped"]]
        results.append({"recipe": recipe, "summary": summary, "model": model,
                        "misclassified": [_relative(row, folder) for row in result.misclassified]})
        if sink.stop_requested:
            break
    sink.flush()
    return {"node": node, "results": results}
