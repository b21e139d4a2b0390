"""What a classroom keeps: students, their runs (settings, curves, results, model file) and quiz attempts.

The database itself is ``core.classroom.database``, nicknames and codes ``core.classroom.identity``, runs
``core.classroom.run_records``; this module is the students, their sessions, jobs and quiz attempts.

Identity without passwords, safe against guessing: a nickname (unique in the class) gets a random student
id and a 4-word **return code** shown once. Each browser holds an unguessable session token (in the page
address); the database keeps only hashes of codes and tokens. Every read takes the student from the token,
never an id from the page, so no id a student types can reach another student's work. Wrong return codes
are throttled per nickname.
"""


from __future__ import annotations

import hmac
import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from core.classroom.database import DB_NAME, MIGRATIONS, SCHEMA_VERSION, Database, data_dir
from core.classroom.guess_throttle import GuessThrottle, TryLater
from core.classroom.identity import (
    CODE_ITERATIONS,
    NICKNAME_MAX,
    WRONG_NICKNAME_OR_CODE,
    LoginRefused,
    NicknameProblem,
    clean_nickname,
    hash_code,
    hash_token,
    new_return_code,
    nickname_key,
    normalise_code,
)
from core.classroom.run_records import RunRecords
from core.utils.lookalikes import skeleton

LOCAL_STUDENT_ID, LOCAL_NICKNAME = "0" * 16, "This computer"


@dataclass(frozen=True)
class Student:
    id: str
    nickname: str


class Store(Database, RunRecords):
    """One data folder: students, sessions, jobs, runs and quiz attempts."""

    def __init__(self, folder: Path | str | None = None):
        self.guesses = GuessThrottle()
        super().__init__(folder)

    def student_folder(self, student_id: str) -> Path:
        if not all(c in "0123456789abcdef" for c in student_id) or not student_id:
            raise ValueError("not a student id")
        return self.folder / "students" / student_id

    # ------------------------------------------------------------------------------------ identity
    def join(self, nickname: str) -> tuple[Student, str, str]:
        """A new student: ``(student, return_code, session_token)``. The code is shown once, never stored."""
        name = clean_nickname(nickname)
        code, salt = new_return_code(), secrets.token_bytes(16)
        student = Student(secrets.token_hex(8), name)
        now = time.time()
        taken = NicknameProblem(f"Someone in this class is already “{name}” (or a name that looks the same). If "
                                "that is you, use your return code below; otherwise pick another nickname.")
        try:
            with self._db() as db:
                if self._lookalike(db, name) is not None:
                    raise taken
                db.execute("INSERT INTO students (id, nickname, nickname_key, code_salt, code_hash, created, last_seen)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (student.id, name, name.casefold(), salt, hash_code(code, salt), now, now))
        except sqlite3.IntegrityError:
            raise taken from None
        return student, code, self.new_session(student.id)

    @staticmethod
    def _lookalike(db, name: str):
        """The student whose nickname looks like ``name`` ("Bob", "Ｂob", "Bоb" with a Cyrillic о), or None."""
        row = db.execute("SELECT * FROM students WHERE nickname_key = ?", (name.casefold(),)).fetchone()
        if row is not None:
            return row
        wanted = skeleton(name)
        for row in db.execute("SELECT * FROM students WHERE nickname_key != ''"):
            if skeleton(row["nickname"]) == wanted:
                return row
        return None

    def new_session(self, student_id: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._db() as db:
            db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (hash_token(token), student_id, time.time()))
        return token

    def student_for_token(self, token: str | None) -> Student | None:
        if not token or len(token) > 100:
            return None
        with self._db(read=True) as db:
            row = db.execute("SELECT s.id, s.nickname FROM sessions t JOIN students s ON s.id = t.student_id "
                             "WHERE t.token_hash = ?", (hash_token(token),)).fetchone()
        return Student(row["id"], row["nickname"]) if row else None

    def come_back(self, nickname: str, code: str, client: str = "") -> tuple[Student, str]:
        """Nickname + return code -> ``(student, new session token)``. Wrong tries slow down their sender
        (``client``: the browser's address or session) and, past a budget, the whole server; the account is
        never locked, and an unknown nickname gets the same answer as a wrong code."""
        name = clean_nickname(nickname)
        with self._db(read=True) as db:
            row = self._lookalike(db, name)

        def is_right() -> bool:  # an unknown nickname costs the same hashing time as a wrong code
            typed = hash_code(code, row["code_salt"] if row is not None else b"no such student!")
            return row is not None and hmac.compare_digest(typed, row["code_hash"])

        try:
            right = self.guesses.check(client or "?", is_right)
        except TryLater as wait:
            raise LoginRefused(str(wait)) from None
        if not right:
            raise LoginRefused(WRONG_NICKNAME_OR_CODE)
        self.touch(row["id"])
        return Student(row["id"], row["nickname"]), self.new_session(row["id"])

    def new_return_code(self, student_id: str) -> str:
        """For the teacher, when a student forgot theirs: the old code stops working."""
        code, salt = new_return_code(), secrets.token_bytes(16)
        with self._db() as db:
            db.execute("UPDATE students SET code_salt = ?, code_hash = ?, failed_logins = 0, locked_until = 0 "
                       "WHERE id = ?", (salt, hash_code(code, salt), student_id))
        return code

    def local_student(self) -> Student:
        """The one student of a single-user app on this computer (``make run``): no nickname asked."""
        salt = secrets.token_bytes(16)
        with self._db() as db:  # nickname_key "" cannot be typed (empty nicknames are refused)
            db.execute("INSERT OR IGNORE INTO students (id, nickname, nickname_key, code_salt, code_hash, created, "
                       "last_seen) VALUES (?, ?, '', ?, ?, ?, ?)", (LOCAL_STUDENT_ID, LOCAL_NICKNAME, salt,
                                                                   hash_code(secrets.token_hex(), salt),
                                                                   time.time(), time.time()))
        return Student(LOCAL_STUDENT_ID, LOCAL_NICKNAME)

    def touch(self, student_id: str) -> None:
        with self._db() as db:
            db.execute("UPDATE students SET last_seen = ? WHERE id = ?", (time.time(), student_id))

    def students(self) -> list[dict]:
        with self._db(read=True) as db:
            rows = db.execute("SELECT id, nickname, created, last_seen FROM students ORDER BY nickname_key")
            return [dict(r) for r in rows]

    # ------------------------------------------------------------------------------------ runs and jobs
    def record_job(self, student_id: str, job_id: str, label: str, kind: str, status: str, submitted: float,
                   started: float | None = None, finished: float | None = None, error: str | None = None) -> None:
        with self._db() as db:
            db.execute("INSERT INTO jobs (id, student_id, label, kind, status, submitted, started, finished, error) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status, "
                       "started = excluded.started, finished = excluded.finished, error = excluded.error",
                       (job_id, student_id, label, kind, status, submitted, started, finished, error))

    def interrupted_jobs(self) -> int:
        """At start-up: trainings that were waiting or running when the server stopped are marked failed."""
        with self._db() as db:
            return db.execute("UPDATE jobs SET status = 'failed', finished = ?, error = ? WHERE status IN "
                              "('waiting', 'running')", (time.time(), "The server was restarted during this "
                                                         "training, so it did not finish. Train again.")).rowcount

    def unseen_failure(self, student_id: str) -> dict | None:
        """A failed training the student was not told about yet (e.g. the server restarted during it)."""
        with self._db(read=True) as db:
            row = db.execute("SELECT id, label, error FROM jobs WHERE student_id = ? AND status = 'failed' AND "
                             "seen = 0 ORDER BY finished DESC LIMIT 1", (student_id,)).fetchone()
        return dict(row) if row else None

    def mark_seen(self, student_id: str, job_id: str) -> None:
        with self._db() as db:
            db.execute("UPDATE jobs SET seen = 1 WHERE student_id = ? AND id = ?", (student_id, job_id))

    # ------------------------------------------------------------------------------------ quiz
    def add_quiz_attempt(self, student_id: str, answers: dict, correct: int, total: int) -> None:
        with self._db() as db:
            db.execute("INSERT INTO quiz_attempts (student_id, created, answers, correct, total) VALUES (?, ?, ?, ?, ?)",
                       (student_id, time.time(), json.dumps({str(k): v for k, v in answers.items()}), correct, total))

    def quiz_attempts(self, student_id: str | None = None) -> list[dict]:
        """One student's attempts (or everyone's, for the teacher), oldest first, answers keyed by question id."""
        query = ("SELECT q.*, s.nickname FROM quiz_attempts q JOIN students s ON s.id = q.student_id"
                 + (" WHERE q.student_id = ?" if student_id else "") + " ORDER BY q.id")
        with self._db(read=True) as db:
            rows = db.execute(query, (student_id,) if student_id else ()).fetchall()
        return [{**dict(r), "answers": {int(k): v for k, v in json.loads(r["answers"]).items()}} for r in rows]


__all__ = ["CODE_ITERATIONS", "DB_NAME", "MIGRATIONS", "NICKNAME_MAX", "SCHEMA_VERSION", "WRONG_NICKNAME_OR_CODE",
           "LoginRefused", "NicknameProblem", "Store", "Student", "clean_nickname", "data_dir", "new_return_code",
           "nickname_key", "normalise_code"]
