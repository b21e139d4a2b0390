"""What a classroom keeps of its runs: settings, curves, results and model file, reused runs and the files
they share, and the views the Teacher page, the class map and the time estimate read."""

from __future__ import annotations

import json
import os
import time


class RunRecords:
    """The runs table of a ``Database`` (a mixin of ``core.classroom.store.Store``)."""

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
