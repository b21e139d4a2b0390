"""What leaves the server is safe to show: no server paths in messages, names without hidden characters."""

from __future__ import annotations

import errno
import re
import tempfile
import unicodedata
from pathlib import Path

import pytest

from core.photos.report import check_folder
from core.utils.safe_text import UnsafeName, hide_paths, name_problem, normalise_name, student_error, visible

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


def _strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_an_exported_model_file_carries_no_absolute_path(tmp_path):
    """What travels inside a student's .keras file (``core.inference.model_file``), read back raw."""
    import json
    import zipfile
    from types import SimpleNamespace

    import keras

    from core.inference.model_file import METADATA_NAME, save_trained_model
    from core.training import TrainConfig

    upload = tmp_path / "tll-upload-x" / "v1"
    result = SimpleNamespace(
        model=keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")]),
        config=TrainConfig(data=str(upload), image_size=96),
        class_names=["daisy", "roses"],
        test={"n": 4, "accuracy": 0.5, "per_class": {}},
        counts={"train": {"daisy": 3, "roses": 3}},
        dataset_source=f"your photos in {upload}",
        weights=f"ImageNet weights from {tmp_path}/keras/models/mobilenet_v2.h5",
        stopped=False,
    )
    path = save_trained_model(result, tmp_path / "out" / "model.keras")
    with zipfile.ZipFile(path) as archive:
        metadata = json.loads(archive.read(METADATA_NAME))
    leaks = [text for text in _strings(metadata) if str(tmp_path) in text or ANY_ABSOLUTE_PATH.search(text)]
    assert leaks == []
    assert metadata["class_names"] == ["daisy", "roses"] and "v1" in metadata["dataset_source"]
