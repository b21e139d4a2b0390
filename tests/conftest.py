"""Shared test set-up: the offline bundle in ../shared and a private cache folder per test session."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
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
