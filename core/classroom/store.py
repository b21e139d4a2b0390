"""What a classroom keeps: students, their runs (settings, curves, results, model file) and quiz attempts.

SQLite (the standard library's ``sqlite3``) in a data folder the teacher chooses (``TLL_DATA_DIR``, default
``$XDG_DATA_HOME/transfer-learning-lab`` or ``~/.local/share/transfer-learning-lab``). The schema is made on
first start and migrated on upgrade (``schema_version``). Back it up by copying the folder while the server
is stopped; reset by deleting it.

Identity without passwords, safe against guessing: a nickname (unique in the class) gets a random student
id and a 4-word **return code** shown once. Each browser holds an unguessable session token (in the page
address); the database keeps only hashes of codes and tokens. Every read takes the student from the token,
never an id from the page, so no id a student types can reach another student's work. Wrong return codes
are throttled per nickname.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
import unicodedata
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.classroom.disk_space import ServerCannotSave
from core.classroom.guess_throttle import GuessThrottle, TryLater
from core.classroom.return_words import WORDS
from core.utils.lookalikes import skeleton

DB_NAME = "classroom.sqlite3"
NICKNAME_MAX = 24
WRONG_NICKNAME_OR_CODE = ("That nickname and return code do not match. Check both: the code is the four words you "
                          "were shown when you joined (your teacher can give you a new one).")
CODE_ITERATIONS = 60_000
LOCAL_STUDENT_ID, LOCAL_NICKNAME = "0" * 16, "This computer"

# Each entry upgrades the schema by one version; never edit a released entry, append a new one.
MIGRATIONS: list[list[str]] = [
    [  # 1: students, their browser sessions, runs, jobs and quiz attempts
        """CREATE TABLE students (id TEXT PRIMARY KEY, nickname TEXT NOT NULL, nickname_key TEXT NOT NULL UNIQUE,
           code_salt BLOB NOT NULL, code_hash BLOB NOT NULL, created REAL NOT NULL, last_seen REAL NOT NULL,
           failed_logins INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0)""",
        """CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, student_id TEXT NOT NULL REFERENCES students(id)
           ON DELETE CASCADE, created REAL NOT NULL)""",
        """CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, student_id TEXT NOT NULL REFERENCES students(id)
           ON DELETE CASCADE, job_id TEXT, label TEXT NOT NULL, kind TEXT NOT NULL, created REAL NOT NULL,
           test_accuracy REAL, summary TEXT NOT NULL, misclassified TEXT NOT NULL, model_path TEXT)""",
        "CREATE INDEX runs_by_student ON runs(student_id, id)",
        """CREATE TABLE jobs (id TEXT PRIMARY KEY, student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
           label TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, submitted REAL NOT NULL, started REAL,
           finished REAL, error TEXT, seen INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE quiz_attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, student_id TEXT NOT NULL
           REFERENCES students(id) ON DELETE CASCADE, created REAL NOT NULL, answers TEXT NOT NULL,
           correct INTEGER NOT NULL, total INTEGER NOT NULL)""",
        "CREATE INDEX quiz_by_student ON quiz_attempts(student_id, id)",
    ],
    [  # 2: a run's reuse key (core.classroom.run_key) and the run whose result and model file it reuses
        "ALTER TABLE runs ADD COLUMN run_key TEXT",
        "ALTER TABLE runs ADD COLUMN reused_from INTEGER",
        "CREATE INDEX runs_by_key ON runs(run_key, id)",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


class NicknameProblem(ValueError):
    """A nickname that cannot be used; the message says why."""


class LoginRefused(ValueError):
    """Wrong nickname or return code, or too many tries from one browser; the message says what to do."""


# SQLite's primary result codes meaning "the disk cannot take this": READONLY, IOERR, FULL, CANTOPEN
_DISK_ERRORS = {8, 10, 13, 14}


def _disk_trouble(error: sqlite3.Error) -> bool:
    return (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF in _DISK_ERRORS


# One connection per database file held open for the life of the process. In WAL mode the last connection to
# close deletes the -wal and -shm files and the next one must create them again, which a full or read-only
# disk refuses ("disk I/O error" on every read); while this one stays open they stay, so reads keep working.
_kept_open: dict[Path, sqlite3.Connection] = {}
KEPT_OPEN_MAX = 4
_kept_lock = threading.Lock()


def _keep_open(path: Path) -> None:
    if path in _kept_open:
        return
    with _kept_lock:
        if path in _kept_open:
            return
        try:
            db = sqlite3.connect(path, timeout=30, check_same_thread=False)
            db.execute("SELECT count(*) FROM schema_version").fetchone()  # maps the -shm file
        except sqlite3.Error:
            return  # tried again on the next call (the disk may be full now)
        _kept_open[path] = db
        if len(_kept_open) > KEPT_OPEN_MAX:  # a server has one data folder; tests make many
            _kept_open.pop(next(iter(_kept_open))).close()


@dataclass(frozen=True)
class Student:
    id: str
    nickname: str


def data_dir() -> Path:
    value = os.environ.get("TLL_DATA_DIR", "").strip()
    if value:
        path = Path(value).expanduser()
    else:
        base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
        path = Path(base) / "transfer-learning-lab"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def clean_nickname(text: str) -> str:
    """NFC, spaces collapsed; refuses control and bidirectional-override characters (they disguise names)."""
    text = unicodedata.normalize("NFC", (text or "").strip(" "))
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise NicknameProblem("That nickname has invisible or control characters: use letters, digits and spaces.")
    name = " ".join(text.split())
    if not name:
        raise NicknameProblem("Type a nickname (your first name or a made-up one).")
    if len(name) > NICKNAME_MAX:
        raise NicknameProblem(f"A nickname has at most {NICKNAME_MAX} characters.")
    return name


def nickname_key(name: str) -> str:
    return clean_nickname(name).casefold()


def new_return_code() -> str:
    return " ".join(secrets.choice(WORDS) for _ in range(4))


def normalise_code(code: str) -> str:
    return " ".join((code or "").lower().replace("-", " ").split())


def _hash_code(code: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", normalise_code(code).encode(), salt, CODE_ITERATIONS)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    """One data folder. Safe to use from many threads and processes (one short connection per call)."""

    def __init__(self, folder: Path | str | None = None):
        self.folder = Path(folder).resolve() if folder else data_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / DB_NAME
        self._migrate_lock = threading.Lock()
        self.guesses = GuessThrottle()
        self.migrate()

    # ------------------------------------------------------------------------------------ plumbing
    @contextmanager
    def _db(self, read: bool = False):
        """One transaction. On a full or read-only disk a write raises ``ServerCannotSave`` (rolled back,
        nothing half-written) and a read falls back to the database file alone."""
        _keep_open(self.path)
        try:
            db = sqlite3.connect(self.path, timeout=30)
            db.execute("PRAGMA schema_version").fetchone()  # reads page 1: the -shm trouble shows here
        except sqlite3.OperationalError as error:
            if not _disk_trouble(error):
                raise
            if not read:
                raise ServerCannotSave(f"{self.path}: {error}") from error
            # immutable: no -wal/-shm needed. Without a kept connection the last close checkpointed the WAL,
            # so the file holds every committed write.
            db = sqlite3.connect(self.path.as_uri() + "?immutable=1", uri=True)
        with closing(db):
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys = ON")
            try:
                with db:  # one transaction: committed on success, rolled back on error
                    yield db
            except sqlite3.OperationalError as error:
                if _disk_trouble(error):
                    raise ServerCannotSave(f"{self.path}: {error}") from error
                raise

    def migrate(self) -> int:
        try:
            return self._migrate()
        except sqlite3.OperationalError as error:
            if not _disk_trouble(error):
                raise
            # A read-only or full disk: students can still read their work if the schema is this version's.
            try:
                version = self.schema_version()
            except (sqlite3.Error, ServerCannotSave):
                raise ServerCannotSave(f"{self.path}: {error}") from error
            if version != SCHEMA_VERSION:
                raise ServerCannotSave(f"{self.path}: schema {version} needs an upgrade: {error}") from error
            return version

    def _migrate(self) -> int:
        with self._migrate_lock, closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("PRAGMA journal_mode = WAL")  # readers never wait for the writer
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            db.commit()
            db.execute("BEGIN IMMEDIATE")  # two servers starting at once: one migrates, the other waits
            row = db.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else 0
            if version > SCHEMA_VERSION:
                db.rollback()
                raise RuntimeError(f"The data folder {self.folder} was made by a newer version of this app "
                                   f"(schema {version}, this one knows {SCHEMA_VERSION}). Update the app.")
            for statements in MIGRATIONS[version:]:
                for statement in statements:
                    db.execute(statement)
            if row is None:
                db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            else:
                db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            db.commit()
            return SCHEMA_VERSION

    def schema_version(self) -> int:
        with self._db(read=True) as db:
            return db.execute("SELECT version FROM schema_version").fetchone()[0]

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
                           (student.id, name, name.casefold(), salt, _hash_code(code, salt), now, now))
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
            db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (_hash_token(token), student_id, time.time()))
        return token

    def student_for_token(self, token: str | None) -> Student | None:
        if not token or len(token) > 100:
            return None
        with self._db(read=True) as db:
            row = db.execute("SELECT s.id, s.nickname FROM sessions t JOIN students s ON s.id = t.student_id "
                             "WHERE t.token_hash = ?", (_hash_token(token),)).fetchone()
        return Student(row["id"], row["nickname"]) if row else None

    def come_back(self, nickname: str, code: str, client: str = "") -> tuple[Student, str]:
        """Nickname + return code -> ``(student, new session token)``. Wrong tries slow down their sender
        (``client``: the browser's address or session) and, past a budget, the whole server; the account is
        never locked, and an unknown nickname gets the same answer as a wrong code."""
        name = clean_nickname(nickname)
        with self._db(read=True) as db:
            row = self._lookalike(db, name)

        def is_right() -> bool:  # an unknown nickname costs the same hashing time as a wrong code
            typed = _hash_code(code, row["code_salt"] if row is not None else b"no such student!")
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
                       "WHERE id = ?", (salt, _hash_code(code, salt), student_id))
        return code

    def local_student(self) -> Student:
        """The one student of a single-user app on this computer (``make run``): no nickname asked."""
        salt = secrets.token_bytes(16)
        with self._db() as db:  # nickname_key "" cannot be typed (empty nicknames are refused)
            db.execute("INSERT OR IGNORE INTO students (id, nickname, nickname_key, code_salt, code_hash, created, "
                       "last_seen) VALUES (?, ?, '', ?, ?, ?, ?)", (LOCAL_STUDENT_ID, LOCAL_NICKNAME, salt,
                                                                   _hash_code(secrets.token_hex(), salt),
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

    def add_run(self, student_id: str, label: str, kind: str, summary: dict, misclassified: list[dict],
                model_path: str | None, job_id: str | None = None, run_key: str | None = None,
                reused_from: int | None = None) -> int:
        accuracy = (summary.get("test") or {}).get("accuracy", summary.get("test_accuracy"))
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO runs (student_id, job_id, label, kind, created, test_accuracy, summary, misclassified, "
                "model_path, run_key, reused_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (student_id, job_id, label, kind, time.time(), accuracy, json.dumps(summary, default=str),
                 json.dumps(misclassified, default=str), model_path, run_key, reused_from))
            return int(cursor.lastrowid)

    def reusable_run(self, run_key: str) -> dict | None:
        """The earliest computed run with this key whose model file is still kept and which was not stopped
        early (a stopped run is not what these settings give)."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM runs WHERE run_key = ? AND reused_from IS NULL AND model_path IS NOT "
                              "NULL ORDER BY id", (run_key,)).fetchall()
        for row in rows:
            summary = json.loads(row["summary"])
            if not summary.get("stopped") and os.path.isfile(row["model_path"]):
                return {**dict(row), "summary": summary, "misclassified": json.loads(row["misclassified"])}
        return None

    def files_in_use(self, paths) -> set[str]:
        """Which of ``paths`` a run still points to (as its model or as a kept photo of a wrong answer)."""
        wanted = {str(p) for p in paths if p}
        if not wanted:
            return set()
        used = set()
        with self._db() as db:
            for row in db.execute("SELECT model_path, misclassified FROM runs"):
                if row["model_path"] in wanted:
                    used.add(row["model_path"])
                if any(p in row["misclassified"] for p in wanted):
                    used |= {r.get("path") for r in json.loads(row["misclassified"])} & wanted
        return used

    def delete_student(self, student_id: str) -> list[str]:
        """Forget a student (runs, jobs, sessions, quiz). Returns the files under their folder that another
        student's run still points to (a reused result): the caller deletes everything else there."""
        folder = str(self.student_folder(student_id)) + os.sep
        with self._db() as db:
            db.execute("DELETE FROM students WHERE id = ?", (student_id,))  # runs, jobs, sessions: ON DELETE CASCADE
            rows = db.execute("SELECT model_path, misclassified FROM runs WHERE model_path LIKE ? OR misclassified "
                              "LIKE ?", (folder + "%", "%" + folder + "%")).fetchall()
        kept = {r["model_path"] for r in rows if (r["model_path"] or "").startswith(folder)}
        for row in rows:
            kept |= {p["path"] for p in json.loads(row["misclassified"]) if (p.get("path") or "").startswith(folder)}
        return sorted(kept)

    def run_ids(self, student_id: str) -> list[tuple[int, str | None]]:
        """(run id, job id) of the student's runs, oldest first: a cheap check for runs a page has not shown."""
        with self._db(read=True) as db:
            return [(r[0], r[1]) for r in db.execute("SELECT id, job_id FROM runs WHERE student_id = ? ORDER BY id",
                                                     (student_id,))]

    def runs(self, student_id: str) -> list[dict]:
        """The student's runs, oldest first; ``summary`` and ``misclassified`` decoded."""
        with self._db(read=True) as db:
            rows = db.execute("SELECT * FROM runs WHERE student_id = ? ORDER BY id", (student_id,)).fetchall()
        return [{**dict(r), "summary": json.loads(r["summary"]), "misclassified": json.loads(r["misclassified"])}
                for r in rows]

    def forget_models(self, student_id: str, keep: int) -> list[str]:
        """Keep the model files of the student's ``keep`` newest runs; returns the files no longer referenced."""
        with self._db() as db:
            rows = db.execute("SELECT id, model_path FROM runs WHERE student_id = ? AND model_path IS NOT NULL "
                              "ORDER BY id DESC", (student_id,)).fetchall()
            old = rows[keep:]
            db.executemany("UPDATE runs SET model_path = NULL WHERE id = ?", [(r["id"],) for r in old])
        still_used = self.files_in_use(r["model_path"] for r in old)  # another student's reused run points to it
        return [r["model_path"] for r in old if r["model_path"] not in still_used]

    def best_runs(self) -> list[dict]:
        """Each student's best run by test accuracy (students without runs are left out)."""
        with self._db(read=True) as db:
            rows = db.execute(
                "SELECT s.nickname, r.student_id, r.id AS run_id, r.label, r.kind, r.test_accuracy, r.created, "
                "r.summary FROM runs r JOIN students s ON s.id = r.student_id WHERE r.id = (SELECT r2.id FROM runs r2 "
                "WHERE r2.student_id = r.student_id ORDER BY r2.test_accuracy DESC, r2.id LIMIT 1) "
                "ORDER BY r.test_accuracy DESC").fetchall()
        return [{**dict(r), "summary": json.loads(r["summary"])} for r in rows]

    def all_runs(self) -> list[dict]:
        with self._db(read=True) as db:
            rows = db.execute("SELECT s.nickname, r.id AS run_id, r.label, r.kind, r.test_accuracy, r.created, "
                              "r.summary FROM runs r JOIN students s ON s.id = r.student_id ORDER BY r.id").fetchall()
        return [{**dict(r), "summary": json.loads(r["summary"])} for r in rows]

    def class_runs(self) -> list[dict]:
        """Every run of the class, oldest first, with whose it is and whether it reused an earlier one."""
        with self._db(read=True) as db:
            rows = db.execute("SELECT r.id AS run_id, r.student_id, s.nickname, r.label, r.kind, r.created, "
                              "r.test_accuracy, r.summary, r.reused_from FROM runs r JOIN students s ON s.id = "
                              "r.student_id ORDER BY r.id").fetchall()
        return [{**dict(r), "summary": json.loads(r["summary"])} for r in rows]

    def timed_runs(self, limit: int = 60) -> list[dict]:
        """The newest computed runs that were their job's only run: ``{"summary", "job_seconds"}``, what the time
        estimate learns from (core.classroom.runner.time_estimate)."""
        with self._db(read=True) as db:
            rows = db.execute(
                "SELECT r.summary, j.finished - j.started AS job_seconds FROM runs r JOIN jobs j ON j.id = r.job_id "
                "WHERE r.reused_from IS NULL AND j.status = 'done' AND j.started IS NOT NULL AND "
                "(SELECT COUNT(*) FROM runs r2 WHERE r2.job_id = r.job_id) = 1 ORDER BY r.id DESC LIMIT ?",
                (limit,)).fetchall()
        return [{"summary": json.loads(r["summary"]), "job_seconds": r["job_seconds"]} for r in rows]

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
