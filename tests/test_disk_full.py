"""The store on a full or read-only disk: reads keep working, writes fail with one message, nothing is lost.

Needs root and ``unshare -m`` (a private mount namespace for a small tmpfs and a read-only bind mount): skipped
with the reason elsewhere.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.classroom.disk_space import CANNOT_SAVE, space_banner

PROBE = Path(__file__).with_name("disk_full_probe.py")
ROOT = Path(__file__).resolve().parent.parent


def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "needs root to mount a tmpfs in a private mount namespace"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    done = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if done.returncode != 0:
        return f"unshare -m is not allowed here: {done.stderr.decode().strip()}"
    return None


needs_mount = pytest.mark.skipif(_can_mount() is not None, reason=_can_mount() or "")


def _probe(shell: str) -> dict:
    done = subprocess.run(["unshare", "-m", "sh", "-c", shell], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@needs_mount
def test_a_full_disk_keeps_reads_working_and_refuses_writes_with_one_message(tmp_path):
    mnt = tmp_path / "data"
    mnt.mkdir()
    report = _probe(f"mount -t tmpfs -o size=1m tmpfs {mnt} && {sys.executable} {PROBE} full {mnt} -")
    assert report["token"] == {"ok": True, "value": "Sam"}
    assert report["quiz"] == {"ok": True, "value": 1}
    assert report["write_quiz"] == {"ok": False, "message": CANNOT_SAVE}
    assert report["join"] == {"ok": False, "message": CANNOT_SAVE}
    assert report["fresh_process_read"]["token"] == {"ok": True, "value": "Sam"}
    assert report["after_free_write"]["ok"], report  # recovers without a restart
    assert report["after_free_quiz"] == {"ok": True, "value": 2}  # the refused write left nothing behind
    assert report["integrity"] == "ok"


@needs_mount
def test_a_read_only_data_folder_keeps_reads_working_and_refuses_writes(tmp_path):
    src, view = tmp_path / "data", tmp_path / "view"
    src.mkdir()
    view.mkdir()
    report = _probe(f"{sys.executable} {PROBE} readonly {src} {view}")
    assert report["start"]["ok"], report
    assert report["token"] == {"ok": True, "value": "Sam"}
    assert report["quiz"] == {"ok": True, "value": 1}
    assert report["write_quiz"] == {"ok": False, "message": CANNOT_SAVE}


def test_the_teacher_banner_names_the_free_space(tmp_path, monkeypatch):
    monkeypatch.setattr("core.classroom.disk_space.free_bytes", lambda folder: 12 * 1024**2)
    assert "12 MB free" in space_banner(tmp_path)


def test_the_start_up_check_refuses_a_read_only_folder_and_warns_when_space_is_low(tmp_path, monkeypatch):
    from core.classroom.disk_space import start_up_check

    monkeypatch.setattr("core.classroom.disk_space.free_bytes", lambda folder: 40 * 1024**2)
    can_start, line = start_up_check(tmp_path)
    assert can_start and line.startswith("WARNING") and "40 MB free" in line
    monkeypatch.setattr("core.classroom.disk_space.writable", lambda folder: False)
    can_start, line = start_up_check(tmp_path)
    assert not can_start and "read-only" in line
