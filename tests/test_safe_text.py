"""What leaves the server is safe to show: no server paths in messages, names without hidden characters."""

from __future__ import annotations

import errno
import re
import tempfile
import unicodedata
from pathlib import Path

import pytest

from core.report import check_folder
from core.safe_text import UnsafeName, hide_paths, name_problem, normalise_name, student_error, visible

ANY_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:tmp|home|root|work|var|Users)\b|[A-Za-z]:\\")


@pytest.mark.parametrize("text, expected", [
    ("No such file or directory: '/tmp/tll-upload-ab12/v1/daisy/123.jpg'",
     "No such file or directory: '…/daisy/123.jpg'"),
    ("your photos in /home/kiran/flowers", "your photos in …/flowers"),
    ("tf_flowers offline copy at /srv/bundle/flowers (tensorflow-datasets not used)",
     "tf_flowers offline copy at …/flowers (tensorflow-datasets not used)"),
    (r"C:\Users\kiran\photos\a.jpg is gone", "…/photos/a.jpg is gone"),
    ("see https://keras.io/api/applications/ and train/val/test, 3/4 done",
     "see https://keras.io/api/applications/ and train/val/test, 3/4 done"),
    ("daisy/3.jpg: too large", "daisy/3.jpg: too large"),
])
def test_hide_paths(text, expected):
    assert hide_paths(text) == expected


def test_a_known_server_folder_with_spaces_is_hidden_whole(tmp_path, monkeypatch):
    folder = tmp_path / "my cache folder"
    monkeypatch.setenv("TLL_CACHE_DIR", str(folder))
    shown = hide_paths(f"cannot write {folder}/features/abc")
    assert str(tmp_path) not in shown and "cache folder" not in shown


def test_errors_a_student_reads_hold_no_server_path():
    try:
        open(Path(tempfile.gettempdir()) / "tll-upload-x" / "v1" / "daisy" / "gone.jpg", "rb")
    except FileNotFoundError as error:
        message = student_error(error)
    assert "gone.jpg" in message and "start the training again" in message
    assert not ANY_ABSOLUTE_PATH.search(message)
    assert "disk space" in student_error(OSError(errno.ENOSPC, "No space left on device"))
    other = student_error(RuntimeError("cannot read /var/lib/tll/jobs/17/model.keras"))
    assert other == "RuntimeError: cannot read …/17/model.keras"  # a file keeps its folder


def test_check_folder_messages_hold_no_server_path(tmp_path):
    _, _, error = check_folder(tmp_path / "nowhere")
    assert error and "nowhere" in error and str(tmp_path) not in error


@pytest.mark.parametrize("name", ["roses\u202e", "a\u0000b", "x\u009fy", "tab\there", "\u2067x", "a\u200fb",
                                  "zero\u200bwidth", "line\u2028break", "\u061c"])
def test_hidden_characters_are_refused_with_a_reason(name):
    assert name_problem(name)
    with pytest.raises(UnsafeName) as refused:
        normalise_name(name)
    assert refused.value.reason == name_problem(name)
    assert visible(name).isprintable()


@pytest.mark.parametrize("name", ["daisy", "Rosé", "गुलाब", "क्‍ष", "می‌خواهم", "日本の花", "sun flower-2"])
def test_ordinary_names_in_any_script_are_kept(name):
    """Devanagari and Persian need the zero-width (non-)joiner: it stays allowed."""
    assert name_problem(name) is None
    assert normalise_name(name) == unicodedata.normalize("NFC", name)


def test_decomposed_names_are_normalised():
    assert normalise_name(unicodedata.normalize("NFD", "Rosé")) == "Rosé"
