"""The classroom store: students, sessions, runs and quiz attempts survive a restart; nobody reaches another
student's work; nicknames, return codes and the schema behave."""

from __future__ import annotations

import sqlite3

import pytest

from core.classroom import database as store_module  # the schema and its migrations live there
from core.classroom.store import LoginRefused, NicknameProblem, Store


def test_everything_comes_back_after_a_restart(tmp_path):
    first = Store(tmp_path)
    sam, code, token = first.join("Sam")
    first.add_run(sam.id, "my run", "transfer", {"test": {"accuracy": 0.8}}, [{"path": None}], "/m.keras", "job-1")
    first.add_quiz_attempt(sam.id, {1: "b", 2: "a"}, 1, 8)
    restarted = Store(tmp_path)  # a new server process on the same data folder
    assert restarted.student_for_token(token) == sam
    runs = restarted.runs(sam.id)
    assert [(r["label"], r["test_accuracy"], r["model_path"]) for r in runs] == [("my run", 0.8, "/m.keras")]
    assert restarted.quiz_attempts(sam.id)[0]["answers"] == {1: "b", 2: "a"}


def test_two_students_never_see_each_others_work(tmp_path):
    data = Store(tmp_path)
    sam, _, sam_token = data.join("Sam")
    alex, _, alex_token = data.join("Alex")
    data.add_run(sam.id, "sam's", "transfer", {"test": {"accuracy": 0.9}}, [], None)
    data.add_quiz_attempt(sam.id, {1: "a"}, 1, 8)
    assert data.student_for_token(alex_token) == alex
    assert data.runs(alex.id) == [] and data.quiz_attempts(alex.id) == []
    # Guessing: a student id or a made-up token is not a session.
    assert data.student_for_token(sam.id) is None
    assert data.student_for_token(sam_token[:-1] + ("A" if sam_token[-1] != "A" else "B")) is None
    assert data.student_for_token("") is None and data.student_for_token(None) is None
    with pytest.raises(ValueError):
        data.student_folder("../" + sam.id)


def test_a_nickname_is_taken_once_and_the_return_code_brings_a_student_back(tmp_path):
    data = Store(tmp_path)
    sam, code, _ = data.join("Sam")
    with pytest.raises(NicknameProblem, match="already"):
        data.join("  sam ")  # same name, other case and spaces
    again, token = data.come_back("SAM", code.upper().replace(" ", "-"))
    assert again == sam and data.student_for_token(token) == sam
    with pytest.raises(LoginRefused, match="do not match"):
        data.come_back("Samantha", code)  # the same answer as a wrong code: nobody learns who is in the class


def test_a_classmate_guessing_codes_cannot_lock_the_owner_out(tmp_path):
    data = Store(tmp_path)
    sam, code, _ = data.join("Sam")
    for _ in range(20):  # a classmate's phone guesses fast
        with pytest.raises(LoginRefused):
            data.come_back("Sam", "apple apple apple apple", client="10.0.0.66")
    assert data.come_back("Sam", code, client="10.0.0.7")[0] == sam  # the owner's phone gets in at once
    with pytest.raises(LoginRefused, match="wait"):
        data.come_back("Sam", code, client="10.0.0.66")  # the guesser's phone waits, even with the right code
    new_code = data.new_return_code(sam.id)  # the teacher gives a new one
    assert data.come_back("Sam", new_code, client="10.0.0.7")[0] == sam
    with pytest.raises(LoginRefused, match="do not match"):
        data.come_back("Sam", code, client="10.0.0.7")  # the old one no longer works


@pytest.mark.parametrize("name", ["", "   ", "x" * 25, "Sam\u202e", "A\u0085B", "tab\there"])
def test_bad_nicknames_are_refused_with_a_reason(tmp_path, name):
    with pytest.raises(NicknameProblem):
        Store(tmp_path).join(name)


def test_codes_and_tokens_are_not_stored_in_clear(tmp_path):
    data = Store(tmp_path)
    _, code, token = data.join("Sam")
    raw = (tmp_path / store_module.DB_NAME).read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("*-wal"))
    assert code.encode() not in raw and token.encode() not in raw


def test_the_schema_is_migrated_from_an_older_version(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:1])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 1)
    old = Store(tmp_path)
    sam, _, token = old.join("Sam")
    upgrade = [*store_module.MIGRATIONS, ["ALTER TABLE students ADD COLUMN colour TEXT DEFAULT 'green'"]]
    monkeypatch.setattr(store_module, "MIGRATIONS", upgrade)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 2)
    new = Store(tmp_path)
    assert new.schema_version() == 2 and new.student_for_token(token) == sam
    with sqlite3.connect(tmp_path / store_module.DB_NAME) as db:
        assert db.execute("SELECT colour FROM students").fetchone() == ("green",)


def test_a_data_folder_from_a_newer_version_is_refused(tmp_path, monkeypatch):
    Store(tmp_path)
    with sqlite3.connect(tmp_path / store_module.DB_NAME) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(RuntimeError, match="newer version"):
        Store(tmp_path)


def test_jobs_interrupted_by_a_restart_are_reported_once(tmp_path):
    data = Store(tmp_path)
    sam, _, _ = data.join("Sam")
    data.record_job(sam.id, "job-1", "Train", "train", "running", 1.0, 2.0)
    assert Store(tmp_path).interrupted_jobs() == 1
    failure = data.unseen_failure(sam.id)
    assert failure["id"] == "job-1" and "restarted" in failure["error"]
    data.mark_seen(sam.id, "job-1")
    assert data.unseen_failure(sam.id) is None


def test_only_the_newest_model_files_are_kept(tmp_path):
    data = Store(tmp_path)
    sam, _, _ = data.join("Sam")
    for i in range(4):
        data.add_run(sam.id, f"run {i}", "transfer", {"test": {"accuracy": i / 10}}, [], f"/m{i}.keras")
    assert data.forget_models(sam.id, keep=2) == ["/m1.keras", "/m0.keras"]
    assert [r["model_path"] for r in data.runs(sam.id)] == [None, None, "/m2.keras", "/m3.keras"]
    assert data.best_runs()[0]["label"] == "run 3"
