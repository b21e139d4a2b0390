"""Shared test set-up: the offline bundle in ../shared and a private cache folder per test session."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FLOWERS = SHARED / "flowers"
sys.path.insert(0, str(ROOT))

if not FLOWERS.is_dir():  # pragma: no cover - the assets are part of the test environment
    raise pytest.UsageError(f"The tests need the offline bundle at {SHARED} (flowers/ and keras/models/).")

os.environ["TLL_OFFLINE_BUNDLE"] = str(SHARED)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TLL_NO_DOWNLOADS"] = "1"  # tests never touch the internet
# A cache private to this test run: tests must not depend on what an earlier run left behind. The parallel
# workers (pytest-xdist) share the one their controller made, so photo features are computed once per run.
_SHARED_CACHE = os.environ.get("TLL_TEST_RUN_CACHE") if os.environ.get("PYTEST_XDIST_WORKER") else None
_CACHE = Path(_SHARED_CACHE or tempfile.mkdtemp(prefix="tll-test-cache-"))
os.environ["TLL_CACHE_DIR"] = os.environ["TLL_TEST_RUN_CACHE"] = str(_CACHE)


@pytest.fixture(autouse=True)
def _private_classroom_data(tmp_path_factory, monkeypatch):
    """Each test gets its own classroom data folder (students, runs, models) and a fresh training runner."""
    monkeypatch.setenv("TLL_DATA_DIR", str(tmp_path_factory.mktemp("tll-data")))
    service = sys.modules.get("core.classroom.runner.service")
    if service:
        service.reset_for_tests()
    gate = sys.modules.get("core.classroom.teacher_gate")
    if gate:
        gate.reset_for_tests()  # the server-wide count of wrong teacher codes starts at zero
    yield
    service = sys.modules.get("core.classroom.runner.service")
    if service:
        service.reset_for_tests()


def pytest_sessionfinish(session, exitstatus):
    if not hasattr(session.config, "workerinput"):  # the controller cleans up once its workers are done
        shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def flowers_dir() -> Path:
    return FLOWERS


@pytest.fixture
def small_flowers(tmp_path) -> Path:
    """12 photos of each of 3 flower classes, copied into a class-folder layout."""
    return make_flower_subset(tmp_path / "small", classes=("daisy", "roses", "tulips"), per_class=12)


def make_flower_subset(target: Path, classes=("daisy", "roses", "tulips"), per_class=12, layout="class") -> Path:
    """Real tf_flowers photos copied into ``target``: ``layout`` "class" (one folder per class)
    or "split" (train/ val/ test/ of class folders, 60/20/20)."""
    for name in classes:
        photos = sorted((FLOWERS / name).glob("*.jpg"))[:per_class]
        for i, photo in enumerate(photos):
            if layout == "split":
                split = "train" if i < per_class * 0.6 else "val" if i < per_class * 0.8 else "test"
                folder = target / split / name
            else:
                folder = target / name
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(photo, folder / photo.name)
    return target


def is_share_of(accuracy: float, n: int, rounding: float = 1e-6) -> bool:
    """True when ``accuracy`` is a whole number of right answers out of ``n`` photos: a figure measured on real
    photos, not any number between 0 and 1. ``rounding``: how far a printed figure may be from its fraction."""
    right = accuracy * n
    return n > 0 and 0 <= accuracy <= 1 and abs(right - round(right)) <= rounding


# The small model the test files that need a trained one share: the shared flowers at 96 px, both phases, trained
# well enough that its 8-bit LiteRT copy agrees with it (test_export). Trained once per test run, by whichever
# process (pytest-xdist worker) asks first; the others wait on the lock and read the saved file.
SHARED_MODEL_SETTINGS = {"epochs1": 10, "epochs2": 2, "unfreeze": 20, "image_size": 96}


@pytest.fixture(scope="session")
def flowers_model_file() -> Path:
    """The shared model's ``.keras`` file (trained on first use); beside it ``summary.json``."""
    from core.export import save_trained_model
    from core.training import TrainConfig, train

    folder = Path(os.environ["TLL_TEST_RUN_CACHE"]) / "shared_model"
    folder.mkdir(parents=True, exist_ok=True)
    model, about = folder / "model.keras", folder / "summary.json"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not about.is_file():  # written last: the model file is complete when it exists
            result = train(TrainConfig(**SHARED_MODEL_SETTINGS))
            save_trained_model(result, model)
            partial = about.with_suffix(".partial")
            partial.write_text(json.dumps({"summary": result.summary(), "misclassified": result.misclassified}))
            os.replace(partial, about)
    return model


@pytest.fixture(scope="session")
def flowers_model(flowers_model_file):
    """The shared model as the Train page holds a finished run: a ``TrainResult`` with the model in memory."""
    from core.classroom.runner.results import result_from_summary
    from core.inference import load_trained_model
    from core.training import TrainResult

    about = json.loads((flowers_model_file.parent / "summary.json").read_text())
    saved = result_from_summary(about["summary"], about["misclassified"], str(flowers_model_file))
    values = {f.name: getattr(saved, f.name) for f in fields(TrainResult) if f.name != "model"}
    return TrainResult(model=load_trained_model(flowers_model_file).model, **values)
