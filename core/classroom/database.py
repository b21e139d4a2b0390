"""The classroom's database: SQLite (the standard library's ``sqlite3``) in a data folder the teacher chooses
(``TLL_DATA_DIR``, default ``$XDG_DATA_HOME/transfer-learning-lab`` or ``~/.local/share/transfer-learning-lab``),
its schema made on first start and migrated on upgrade, and one transaction per call that survives a full or
read-only disk. Back it up by copying the folder while the server is stopped; reset by deleting it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import closing, contextmanager
from pathlib import Path

from core.classroom.disk_space import ServerCannotSave

DB_NAME = "classroom.sqlite3"

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


def data_dir() -> Path:
    value = os.environ.get("TLL_DATA_DIR", "").strip()
    if value:
        path = Path(value).expanduser()
    else:
        base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
        path = Path(base) / "transfer-learning-lab"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


class Database:
    """One data folder's database. Safe to use from many threads and processes (one short connection per call)."""

    def __init__(self, folder: Path | str | None = None):
        self.folder = Path(folder).resolve() if folder else data_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / DB_NAME
        self._migrate_lock = threading.Lock()
        self.migrate()

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
