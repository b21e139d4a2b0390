"""Uploaded models run in a worker process with a memory limit, never in the server.

``IsolatedModel`` stands in for a Keras model on the Predict page (``input_shape``, ``predict_on_batch``, and
``grad_cam``, which ``core.inference.explain.grad_cam`` hands over to it). Every uploaded model of every
student goes through one worker (``core.inference.model_worker``), one request at a time; its address space is
capped at ``TLL_UPLOAD_MODEL_MEMORY_MB``. A model that needs more kills only that worker: the student is told,
the next request starts a fresh one, the server and the other students carry on.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from core.inference.explain import CannotExplain
from core.inference.model_file import MAX_MODEL_BYTES, MB, ModelFileProblem, check_model_file
from core.inference.model_worker import _array, _payload
from core.inference.predict import LoadedModel
from core.utils.paths import PROJECT_ROOT

DEFAULT_MEMORY_MB = 3000  # TensorFlow itself reserves ~1.5 GB of address space; a lab model needs ~0.2 GB more


class ModelRunFailed(ValueError):
    """The uploaded model could not run in its worker; the message is for the student."""


def memory_limit_mb() -> int:
    return int(os.environ.get("TLL_UPLOAD_MODEL_MEMORY_MB", DEFAULT_MEMORY_MB))


def _limit_memory(limit_bytes: int):
    def apply():  # runs in the child before it starts Python
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return apply


class _Worker:
    """The one worker process, started when first needed and again after it died."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
        return subprocess.Popen([sys.executable, "-m", "core.inference.model_worker"], cwd=PROJECT_ROOT, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,  # its stderr: the server log
                                preexec_fn=_limit_memory(memory_limit_mb() * 1024**2))

    def ask(self, request: dict) -> dict:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()
            try:
                self._process.stdin.write(json.dumps(request) + "\n")
                self._process.stdin.flush()
                line = self._process.stdout.readline()
            except (BrokenPipeError, OSError):
                line = ""
            if not line:  # the worker died (out of memory, most likely): the next request starts a new one
                self._process.kill()
                self._process.wait()
                self._process = None
                return {"memory": True}
            return json.loads(line)

    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.kill()
                self._process.wait()
                self._process = None


WORKER = _Worker()


class IsolatedModel:
    """An uploaded ``.keras`` file (already checked by ``check_model_file``), run by the worker."""

    def __init__(self, path: str, image_size: int, name: str = "model.keras", worker: _Worker = WORKER):
        self.path, self.name, self.worker = str(path), name, worker
        self.input_shape = (None, int(image_size), int(image_size), 3)

    def _ask(self, do: str, image: np.ndarray, **extra) -> np.ndarray:
        answer = self.worker.ask({"do": do, "path": self.path, "name": self.name, "image": _payload(image), **extra})
        if "ok" in answer:
            return _array(answer["ok"])
        if "cannot_explain" in answer:
            raise CannotExplain(answer["cannot_explain"])
        if "memory" in answer:
            raise ModelRunFailed(f"{self.name} needed more memory than this server gives an uploaded model "
                                 f"({memory_limit_mb():,} MB), so it stopped. Only your prediction was affected.")
        raise ModelRunFailed(answer.get("problem") or f"{self.name} could not run here ({answer.get('error')}).")

    def predict_on_batch(self, batch) -> np.ndarray:
        return self._ask("predict", np.asarray(batch, dtype=np.float32))

    def grad_cam(self, image_uint8: np.ndarray, class_index: int | None = None) -> np.ndarray:
        return self._ask("grad_cam", np.asarray(image_uint8, dtype=np.uint8), class_index=class_index)


def _kept_folder():
    folder = Path(tempfile.gettempdir()) / "tll-uploaded-models"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


KEPT_FILES = 40  # uploaded model files kept for their worker (oldest removed first)


def load_isolated(data: bytes, file_name: str = "model.keras"):
    """An upload checked without running anything (size, zip, metadata, no code, cost), then run once in the
    worker on a blank photo: a ``LoadedModel`` whose ``model`` is an ``IsolatedModel``. Problems raise a
    ``ValueError`` for the student (``ModelFileProblem`` or ``ModelRunFailed``)."""
    if len(data) > MAX_MODEL_BYTES:
        raise ModelFileProblem(f"{file_name} is {len(data) / MB:.0f} MB; the limit is {MAX_MODEL_BYTES / MB:.0f} MB.")
    if not file_name.lower().endswith(".keras"):
        raise ModelFileProblem(f"{file_name} is not a .keras file. Upload the model.keras this app made.")
    folder = _kept_folder()
    path = folder / f"{hashlib.sha256(data).hexdigest()}.keras"
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(path)
    os.utime(path)
    for old in sorted(folder.glob("*.keras"), key=lambda p: p.stat().st_mtime)[:-KEPT_FILES]:
        old.unlink(missing_ok=True)
    metadata = check_model_file(path, file_name)
    model = IsolatedModel(str(path), int(metadata["image_size"]), file_name)
    size = int(metadata["image_size"])
    probabilities = model.predict_on_batch(np.zeros((1, size, size, 3), np.float32))
    if probabilities.shape[-1] != len(metadata["class_names"]):
        raise ModelFileProblem(f"{file_name} is inconsistent: {probabilities.shape[-1]} outputs but "
                               f"{len(metadata['class_names'])} class names.")
    return LoadedModel(model, list(metadata["class_names"]), size, metadata)
