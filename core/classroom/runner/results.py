"""A training's results on the server side: everything the pages show, the model itself on disk.

A worker hands back ``TrainResult.summary()`` plus the misclassified photos and the path of the saved
``.keras`` file. ``SavedResult`` rebuilds a ``TrainResult`` from that (from the pipe, or from the database
after a restart) whose ``model`` is read from disk only when a page asks for it, through a small shared
cache: a class's models are bounded in memory and the rest stay on disk.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import MISSING, dataclass, fields

from core.inference import load_trained_model
from core.training import EpochRecord, TrainConfig, TrainResult


def models_in_memory() -> int:
    return max(1, int(os.environ.get("TLL_MODELS_IN_MEMORY", "6")))


class ModelCache:
    """The last few models pages asked for, by file; older ones are dropped (they stay on disk)."""

    def __init__(self, capacity: int | None = None):
        self.capacity = capacity or models_in_memory()
        self._models: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()  # held only to look up and to store, never while a file loads
        self._loading: dict[tuple, threading.Lock] = {}  # one per file being loaded
        self.loads = 0

    def _cached(self, key: tuple):
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            return None

    def get(self, path: str):
        """The model in ``path``: from memory, or loaded once however many pages ask at the same time; a
        load never holds up pages asking for other models."""
        key = (path, os.stat(path).st_mtime_ns)
        found = self._cached(key)
        if found is not None:
            return found
        with self._lock:
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            found = self._cached(key)
            if found is not None:
                return found
            loaded = load_trained_model(path).model
            with self._lock:
                self.loads += 1
                self._models[key] = loaded
                self._loading.pop(key, None)
                while len(self._models) > self.capacity:
                    self._models.popitem(last=False)
            return loaded

    def __len__(self) -> int:
        return len(self._models)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


MODELS = ModelCache()


@dataclass(repr=False)
class SavedResult(TrainResult):
    """A ``TrainResult`` whose model lives in ``model_path`` (loaded on first use, shared cache)."""

    model_path: str | None = None
    run_id: int | None = None

    @property
    def model(self):  # noqa: F811 - replaces the base class's field with a lazy load
        if not self.model_path or not os.path.isfile(self.model_path):
            return None
        return MODELS.get(self.model_path)

    @model.setter
    def model(self, value) -> None:
        pass  # the model is the file; nothing is kept in this object

    def has_model(self) -> bool:
        return bool(self.model_path) and os.path.isfile(self.model_path)

    def model_key(self) -> str:
        if not self.has_model():
            return "none"
        return f"file-{self.model_path}-{os.stat(self.model_path).st_mtime_ns}"

    def __repr__(self) -> str:
        return f"SavedResult(run_id={self.run_id}, model_path={self.model_path!r}, test={self.test.get('accuracy')})"


def result_from_summary(summary: dict, misclassified: list[dict], model_path: str | None,
                        run_id: int | None = None) -> SavedResult:
    """The inverse of ``TrainResult.summary()`` (+ what it leaves out), tolerant of fields added later."""
    timings = dict(summary.get("timings", {}))
    timings["phase_test_accuracy"] = summary.get("phase_test_accuracy", {})
    values = {
        "model": None,
        "class_names": list(summary.get("class_names", [])),
        "config": TrainConfig.from_dict(summary.get("config", {})),
        "history": [EpochRecord(**record) for record in summary.get("history", [])],
        "test": summary.get("test", {}),
        "misclassified": misclassified,
        "dataset_source": summary.get("dataset_source", ""),
        "counts": summary.get("counts", {}),
        "skipped": summary.get("skipped", []),
        "timings": timings,
        "cache": summary.get("cache", {}),
        "stopped": bool(summary.get("stopped", False)),
        "weights": summary.get("weights", ""),
        "notes": list(summary.get("notes", [])),
        "base_counts": summary.get("base_counts", {}),
    }
    known = {f.name: f for f in fields(TrainResult)}
    values = {k: v for k, v in values.items() if k in known}
    for name, f in known.items():  # a field the engine added since this summary was written
        if name not in values and f.default is MISSING and f.default_factory is MISSING:
            values[name] = summary.get(name)
    return SavedResult(**values, model_path=model_path, run_id=run_id)
