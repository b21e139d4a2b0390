"""The reference run (core.lesson.reference): computed once, cached by settings and photos, read without TensorFlow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest
from conftest import ROOT, is_share_of

from core.lesson import reference
from core.training import Callbacks


@pytest.fixture
def tiny_reference(monkeypatch, small_flowers):
    """The reference on 3 classes x 12 photos at 96 px, 1 + 1 epochs (the real one takes minutes)."""
    monkeypatch.setenv("TLL_FLOWERS_DIR", str(small_flowers))
    monkeypatch.setattr(reference, "TRANSFER", replace(reference.TRANSFER, image_size=96, epochs1=1, epochs2=1,
                                                        unfreeze=5))
    monkeypatch.setattr(reference, "SCRATCH", replace(reference.SCRATCH, image_size=96, epochs1=1))
    reference._key_memo.clear()
    yield small_flowers
    reference._key_memo.clear()


def test_no_flowers_means_no_reference_and_no_download(monkeypatch, tmp_path):
    monkeypatch.setenv("TLL_FLOWERS_DIR", "")
    monkeypatch.setenv("TLL_OFFLINE_BUNDLE", str(tmp_path / "nothing"))
    reference._key_memo.clear()
    assert reference.current_key() is None
    assert reference.cached_measurement() is None
    reference._key_memo.clear()


def test_the_key_follows_the_settings_and_the_photos(tiny_reference, monkeypatch):
    key = reference.current_key()
    assert key and reference.current_key() == key
    monkeypatch.setattr(reference, "SCRATCH", replace(reference.SCRATCH, epochs1=2))
    reference._key_memo.clear()
    assert reference.current_key() != key
    monkeypatch.setattr(reference, "SCRATCH", replace(reference.SCRATCH, epochs1=1))
    reference._key_memo.clear()
    assert reference.current_key() == key
    extra = sorted((tiny_reference / "daisy").glob("*.jpg"))[0]
    shutil.copy(sorted((ROOT.parent / "shared" / "flowers" / "daisy").glob("*.jpg"))[-1], extra.with_name("new.jpg"))
    reference._key_memo.clear()
    assert reference.current_key() != key


@pytest.mark.slow
def test_computed_once_then_read_from_the_cache(tiny_reference):
    assert reference.cached_measurement() is None
    seen = []
    result = reference.compute(Callbacks(on_progress=lambda p: seen.append(p.fraction)))
    assert set(result["figures"]) == {"scratch", "phase1", "phase2"}
    for figure in result["figures"].values():
        assert figure["n_test"] == result["counts"]["test"] and is_share_of(figure["test_accuracy"], figure["n_test"])
    assert result["counts"]["train"] + result["counts"]["val"] + result["counts"]["test"] == 36
    assert seen and max(seen) <= 1.0 and seen == sorted(seen)  # one progress bar for both parts
    assert reference.cached_measurement() == json.loads(json.dumps(result))

    # A fresh process finds it on disk, without TensorFlow.
    code = textwrap.dedent(
        """
        import json, sys
        from dataclasses import replace
        from core.lesson import reference
        reference.TRANSFER = replace(reference.TRANSFER, image_size=96, epochs1=1, epochs2=1, unfreeze=5)
        reference.SCRATCH = replace(reference.SCRATCH, image_size=96, epochs1=1)
        found = reference.cached_measurement()
        print(json.dumps({"figures": found and found["figures"], "tensorflow": "tensorflow" in sys.modules}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TLL_FLOWERS_DIR": str(tiny_reference)})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"figures": result["figures"], "tensorflow": False}


@pytest.mark.slow
def test_the_teachers_queue_runs_the_real_reference_once_and_reports_progress(tiny_reference, monkeypatch):
    from core.classroom.runner import AlreadyTraining, service

    monkeypatch.setenv("TLL_TRAINING_BACKEND", "thread")
    job = service.start_server_job("reference")
    with pytest.raises(AlreadyTraining):
        service.start_server_job("reference")  # a second ask joins nothing new: one of each kind at a time
    assert job.wait(600) and job.state.status == "done", job.state.error
    assert job.state.progress is not None and job.state.progress.fraction > 0.5
    kept = service.server_result("reference")
    assert set(kept["figures"]) == {"scratch", "phase1", "phase2"}
    assert reference.cached_measurement()["figures"] == kept["figures"]  # every page reads the same figures
