"""Faults: a damaged feature cache, a full disk, a read-only folder, several writers at once.

Every case must end the same way for the student: the run goes on (from memory, or by computing the
features again), the notes say what happened, and nothing half-written is left on disk.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from core.training import feature_store as store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Each test gets an empty cache folder and an empty memory cache."""
    monkeypatch.setenv("TLL_CACHE_DIR", str(tmp_path / "cache"))
    store.clear_memory()
    yield tmp_path / "cache"
    store.clear_memory()


def arrays(n: int = 20, seed: int = 0, width: int = 64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train_0": rng.random((n, width), dtype=np.float32),
        "train_labels": rng.integers(0, 3, n),
        "dropped_paths": np.array(["daisy/a.jpg", "roses/ß.png"], dtype=str),
    }


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def leftovers(cache: Path) -> list[str]:
    """Anything in the feature folder that is not a committed entry or a lock file."""
    folder = cache / "features"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if not (p.name.startswith(".") and p.name.endswith(".lock")) and not (p / store.MANIFEST).is_file())


def from_disk(key: str):
    store.clear_memory()
    return store.load_with_notes(key)


# ------------------------------------------------------------------------------------ damage


def test_an_entry_comes_back_exactly_and_read_only():
    original = arrays()
    assert store.store("k", original, {"part": "pooled"}) == []
    loaded, notes = from_disk("k")
    assert notes == [] and same(loaded, original)
    assert not loaded["train_0"].flags.writeable


@pytest.mark.parametrize("damage", ["truncate", "flip-data", "flip-header", "delete-array", "garble-manifest"])
def test_a_damaged_entry_is_thrown_away_and_reported(private_cache, damage):
    original = arrays()
    store.store("k", original, {})
    entry = private_cache / "features" / "k"
    target = entry / "train_0.npy"
    data = bytearray(target.read_bytes())
    if damage == "truncate":  # what a crash or a full disk mid-write leaves
        target.write_bytes(bytes(data[: len(data) // 2]))
    elif damage == "flip-data":
        data[-5] ^= 0x40
        target.write_bytes(bytes(data))
    elif damage == "flip-header":
        data[20] ^= 0x01  # inside the dtype/shape text
        target.write_bytes(bytes(data))
    elif damage == "delete-array":
        target.unlink()
    else:
        (entry / store.MANIFEST).write_text("{not json")

    loaded, notes = from_disk("k")
    assert loaded is None
    assert len(notes) == 1 and "thrown away and computed again" in notes[0]
    assert not entry.exists()
    # The caller recomputes and stores again: the next run is warm.
    assert store.store("k", original, {}) == []
    assert same(from_disk("k")[0], original)


def test_load_appends_its_notes_to_the_runs_notes(private_cache):
    store.store("k", arrays(), {})
    (private_cache / "features" / "k" / "train_0.npy").write_bytes(b"\x93NUMPY")
    store.clear_memory()
    notes = ["earlier note"]
    assert store.load("k", notes) is None
    assert notes[0] == "earlier note" and len(notes) == 2


def test_an_entry_of_the_old_format_is_replaced(private_cache):
    old = private_cache / "features" / "k"
    old.mkdir(parents=True)
    np.save(old / "train_0.npy", np.zeros(3))
    (old / "done").write_text("ok")
    loaded, notes = store.load_with_notes("k")
    assert loaded is None and "older version" in notes[0]
    assert store.store("k", arrays(), {}) == []
    assert from_disk("k")[0] is not None


# ------------------------------------------------------------------------- full or read-only disk


def test_a_full_disk_is_a_warning_and_leaves_nothing_behind(private_cache, monkeypatch):
    real_save = np.save
    calls = []

    def save_then_fill_the_disk(handle, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the first array is written, the second meets a full disk
            handle.write(b"\x93NUMPY partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(handle, array, **kwargs)

    monkeypatch.setattr(store.np, "save", save_then_fill_the_disk)
    original = arrays()
    notes = store.store("k", original, {})
    assert len(notes) == 1 and "disk is full" in notes[0] and "goes on from memory" in notes[0]
    assert leftovers(private_cache) == []
    assert not (private_cache / "features" / "k").exists()
    loaded, _ = store.load_with_notes("k")  # this process still has them in memory
    assert same(loaded, original)
    assert from_disk("k") == (None, [])  # and the next process computes them again


def _mount_tmpfs(folder: Path, options: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A real 1 MB filesystem (tmpfs) as the cache folder."""
    folder = tmp_path / "tiny"
    if not _mount_tmpfs(folder, "size=1m"):
        pytest.skip("mounting a tiny tmpfs needs root (the monkeypatched ENOSPC test covers the logic)")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_a_real_full_filesystem(tiny_filesystem, monkeypatch):
    monkeypatch.setenv("TLL_CACHE_DIR", str(tiny_filesystem))
    big = arrays(n=4000)  # 1 MB of features, more than the filesystem holds with its overhead
    notes = store.store("k", big, {})
    assert len(notes) == 1 and "disk is full" in notes[0]
    assert leftovers(tiny_filesystem) == []
    usage = os.statvfs(tiny_filesystem)
    assert usage.f_bfree / usage.f_blocks > 0.9, "the failed write must not leave the disk full"
    assert same(store.load("k"), big)
    small = arrays(n=20)  # a small entry still fits afterwards
    assert store.store("small", small, {}) == []
    assert same(from_disk("small")[0], small)


@pytest.fixture
def read_only_cache(tmp_path):
    """A cache folder nobody may write to: a read-only tmpfs as root, else chmod 555."""
    folder = tmp_path / "readonly"
    if _mount_tmpfs(folder, "ro,size=1m"):
        yield folder
        subprocess.run(["umount", str(folder)], check=False)
        return
    if os.geteuid() == 0:
        pytest.skip("running as root without mount permission: a chmod cannot make a folder read-only for root")
    (folder / "features").mkdir(parents=True)
    folder.chmod(0o555)
    (folder / "features").chmod(0o555)
    yield folder
    (folder / "features").chmod(0o755)
    folder.chmod(0o755)


def test_a_read_only_cache_folder_is_a_warning(read_only_cache, monkeypatch):
    monkeypatch.setenv("TLL_CACHE_DIR", str(read_only_cache))
    monkeypatch.setattr(store.config, "cache_dir", lambda: read_only_cache)  # cache_dir() would mkdir
    original = arrays()
    notes = store.store("k", original, {})
    assert len(notes) == 1 and "cannot be written to" in notes[0]
    assert same(store.load("k"), original)
    assert from_disk("k") == (None, [])


def test_a_write_error_of_any_other_kind_is_a_warning_too(private_cache, monkeypatch):
    def broken_rename(*args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(store.os, "rename", broken_rename)
    notes = store.store("k", arrays(), {})
    assert len(notes) == 1 and "Input/output error" in notes[0]
    assert leftovers(private_cache) == []


# ---------------------------------------------------------------------------------- budgets


def test_disk_budget_evicts_the_least_recently_used(private_cache, monkeypatch):
    one = arrays(n=1000, seed=1)  # ~260 KB each
    size_mb = sum(a.nbytes for a in one.values()) / store.MB
    monkeypatch.setenv("TLL_CACHE_MAX_MB", str(size_mb * 3.5))
    for i, key in enumerate(["a", "b", "c"]):
        assert store.store(key, arrays(n=1000, seed=i), {}) == []
        os.utime(private_cache / "features" / key / store.MANIFEST, (1000 + i, 1000 + i))
    assert from_disk("a")[0] is not None  # "a" is used again: "b" is now the least recently used
    assert store.store("d", arrays(n=1000, seed=3), {}) == []
    kept = sorted(p.name for p in (private_cache / "features").iterdir() if not p.name.startswith("."))
    assert kept == ["a", "c", "d"]
    assert store.disk_usage() <= size_mb * 3.5 * store.MB


def test_an_entry_bigger_than_the_disk_budget_is_not_written(private_cache, monkeypatch):
    monkeypatch.setenv("TLL_CACHE_MAX_MB", "0.01")
    notes = store.store("k", arrays(n=1000), {})
    assert len(notes) == 1 and "TLL_CACHE_MAX_MB" in notes[0]
    assert not (private_cache / "features" / "k").exists()


def test_memory_cache_is_bounded_in_bytes(monkeypatch):
    one = arrays(n=1000)
    size = sum(a.nbytes for a in one.values())
    monkeypatch.setenv("TLL_CACHE_MEMORY_MB", str(2.5 * size / store.MB))
    monkeypatch.setenv("TLL_CACHE_MAX_MB", "0")  # memory only
    for key in "abcd":
        store.store(key, arrays(n=1000), {})
        assert store.memory_usage() <= 2.5 * size
    assert store.load("a") is None and store.load("b") is None
    assert store.load("c") is not None and store.load("d") is not None
    huge = arrays(n=10_000)  # bigger than the whole memory budget: not kept, the others stay
    store.store("huge", huge, {})
    assert store.load("huge") is None and store.load("d") is not None


# ------------------------------------------------------------------------------ several processes

_WRITER = """
import sys, numpy as np
sys.path.insert(0, {root!r})
from core.training import feature_store as store
rng = np.random.default_rng(7)
arrays = {{"train_0": rng.random((3000, 64), dtype=np.float32), "train_labels": np.arange(3000)}}
notes = store.store("shared", arrays, {{}})
assert notes == [], notes
loaded, notes = store.load_with_notes("shared")
assert notes == [] and np.array_equal(loaded["train_0"], arrays["train_0"])
print("ok")
"""


def test_several_processes_write_the_same_entry_at_once(private_cache):
    env = {**os.environ, "TLL_CACHE_DIR": str(private_cache)}
    code = _WRITER.format(root=str(ROOT))
    writers = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [w.communicate(timeout=120) for w in writers]
    assert [w.returncode for w in writers] == [0] * 4, [r[1][-500:] for r in results]
    assert leftovers(private_cache) == []
    loaded, notes = from_disk("shared")
    assert notes == [] and loaded["train_0"].shape == (3000, 64)


def test_leftovers_of_a_crashed_writer_are_cleaned_up(private_cache):
    folder = private_cache / "features"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    crashed = folder / f"{store.TEMP_PREFIX}k-{int(dead.stdout)}-{uuid.uuid4().hex[:12]}"
    crashed.mkdir()
    (crashed / "train_0.npy").write_bytes(b"\x93NUMPY half")
    live = folder / f"{store.TEMP_PREFIX}k-{os.getppid()}-{uuid.uuid4().hex[:12]}"  # a writer still at work
    live.mkdir()
    store.store("other", arrays(), {})
    assert not crashed.exists()
    assert live.exists()


# ------------------------------------------------------------------------------- real trainings


@pytest.fixture(scope="module")
def tiny_photos(tmp_path_factory):
    from conftest import make_flower_subset

    return str(make_flower_subset(tmp_path_factory.mktemp("faults"), per_class=8))


def tiny_config(data: str):
    from core.training import TrainConfig

    return TrainConfig(data=data, epochs1=1, epochs2=1, unfreeze=19, image_size=96, batch_size=8, seed=3)


def history(result) -> np.ndarray:
    return np.array([[r.loss, r.val_loss] for r in result.history])


@pytest.mark.slow
def test_a_training_recovers_from_a_damaged_cache(private_cache, tiny_photos):
    from core.training import train

    first = train(tiny_config(tiny_photos))
    entries = [p for p in (private_cache / "features").iterdir() if not p.name.startswith(".")]
    assert len(entries) == 2  # pooled + the cut
    for entry in entries:  # what a crash mid-write used to leave: every array cut short
        for array in entry.glob("*.npy"):
            array.write_bytes(array.read_bytes()[: array.stat().st_size // 3])
    store.clear_memory()
    second = train(tiny_config(tiny_photos))
    assert second.cache["pooled"] == "cold"
    assert sum("could not be used" in note for note in second.notes) == 2
    np.testing.assert_allclose(history(second), history(first), rtol=1e-5)
    store.clear_memory()
    third = train(tiny_config(tiny_photos))  # the recomputed entries were saved whole
    assert third.cache["pooled"] == "warm" and not any("could not be used" in n for n in third.notes)


@pytest.mark.slow
def test_a_training_on_a_full_disk_completes(tiny_filesystem, tiny_photos, monkeypatch):
    from core.training import train

    monkeypatch.setenv("TLL_CACHE_DIR", str(tiny_filesystem))
    filler = tiny_filesystem / "filler"
    filler.write_bytes(b"\0" * 900_000)  # the disk is nearly full before the run starts
    result = train(tiny_config(tiny_photos))
    assert result.test["n"] > 0 and len(result.history) == 2
    assert any("disk is full" in note for note in result.notes)
    assert leftovers(tiny_filesystem) == []
    filler.unlink()
    usage = os.statvfs(tiny_filesystem)
    assert usage.f_bfree / usage.f_blocks > 0.9, "the failed write must not leave the disk full"


@pytest.mark.slow
def test_a_training_with_a_read_only_cache_completes(read_only_cache, tiny_photos, monkeypatch):
    from core.training import train

    monkeypatch.setattr(store.config, "cache_dir", lambda: read_only_cache)
    result = train(tiny_config(tiny_photos))
    assert result.test["n"] > 0
    assert any("cannot be written to" in note for note in result.notes)


@pytest.mark.slow
def test_an_upload_replaced_during_a_training_does_not_touch_it(tmp_path, tiny_photos, monkeypatch):
    """The student uploads new photos while their training runs: the training finishes on the photos it
    started with (its lease), and the new upload is what the next training sees."""
    import shutil
    import tempfile
    import zipfile

    from core.photos.upload_area import UploadArea
    from core.training import Callbacks, train

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    shutil.make_archive(str(first.with_suffix("")), "zip", tiny_photos)
    with zipfile.ZipFile(second, "w") as archive:
        archive.write(next(Path(tiny_photos, "daisy").iterdir()), "cats/a.jpg")
        archive.write(next(Path(tiny_photos, "roses").iterdir()), "dogs/b.jpg")
    area = UploadArea()
    area.replace(first)
    replaced = []

    def upload_again(progress):
        if not replaced and progress.stage == "features":  # the photos are being read right now
            area.replace(second)
            replaced.append(area.folder)

    with area.lease() as photos:
        result = train(tiny_config(str(photos.folder)), Callbacks(on_progress=upload_again))
    assert replaced and result.class_names == ["daisy", "roses", "tulips"] and result.test["n"] > 0
    assert result.skipped == []  # not one photo went missing
    assert sorted(p.name for p in area.folder.iterdir()) == ["cats", "dogs"]
    assert not photos.folder.exists()  # released: the old upload is gone now
    area.cleanup()


def test_a_cache_folder_that_cannot_be_created_is_a_miss_and_a_note(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TLL_CACHE_DIR", str(blocker / "cache"))  # mkdir fails: a file is in the way
    assert store.load_with_notes("k") == (None, [])
    notes = store.store("k", arrays(), {})
    assert len(notes) == 1 and "could not be saved" in notes[0]
    assert store.load("k") is not None  # from memory


# ------------------------------------------------------------------------------- one computation per key


def test_a_second_computation_of_the_same_key_waits_for_the_first(private_cache):
    import threading

    first_in, first_out, told = threading.Event(), threading.Event(), []
    outcome = {}

    def first():
        with store.computing(["abc123"], lambda: False) as held:
            outcome["first"] = held
            first_in.set()
            first_out.wait(10)

    def second():
        with store.computing(["abc123"], lambda: False, lambda: told.append(time.monotonic())) as held:
            outcome["second"] = (held, time.monotonic())

    a = threading.Thread(target=first)
    a.start()
    assert first_in.wait(10)
    b = threading.Thread(target=second)
    b.start()
    time.sleep(1.0)
    assert "second" not in outcome and len(told) == 1  # waiting, and said so once
    released = time.monotonic()
    first_out.set()
    a.join(10), b.join(10)
    assert outcome["first"] is True and outcome["second"][0] is True and outcome["second"][1] >= released


def test_waiting_for_another_computation_ends_when_the_student_stops(private_cache):
    with store.computing(["abc123"], lambda: False):
        with store.computing(["abc123"], lambda: True) as held:
            assert held is False


@pytest.mark.slow
def test_two_trainings_needing_the_same_features_compute_them_once(private_cache, tiny_photos, monkeypatch):
    """The second waits while the first reads the photos through the frozen base, then loads what it stored."""
    import threading

    from core.training import Callbacks, feature_cache, train

    inside, messages, results = threading.Event(), [], {}
    real_compute = feature_cache._compute

    def slow_compute(*args, **kwargs):
        inside.set()
        time.sleep(3.0)  # long enough for the second training to reach the cache and wait
        return real_compute(*args, **kwargs)

    monkeypatch.setattr(feature_cache, "_compute", slow_compute)

    def run(name):
        results[name] = train(tiny_config(tiny_photos), Callbacks(on_progress=lambda p: messages.append((name, p.message))))

    a = threading.Thread(target=run, args=("a",))
    a.start()
    assert inside.wait(120)
    b = threading.Thread(target=run, args=("b",))
    b.start()
    a.join(300), b.join(300)
    assert results["a"].cache["cut"] == "cold" and results["b"].cache["cut"] == "warm"
    assert ("b", feature_cache.WAITING_MESSAGE) in messages
    np.testing.assert_allclose(history(results["b"]), history(results["a"]), rtol=1e-5)
