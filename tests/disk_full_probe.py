"""Run as root inside a private mount namespace (tests/test_disk_full.py): the store on a full tmpfs and on a
read-only bind mount. Prints one JSON object of what each read and write did."""

import json
import os
import subprocess
import sys

from core.classroom.disk_space import ServerCannotSave
from core.classroom.store import Store


def attempt(fn):
    try:
        value = fn()
        return {"ok": True, "value": value if isinstance(value, (int, str, type(None))) else len(value)}
    except ServerCannotSave as refused:
        return {"ok": False, "message": str(refused)}
    except Exception as error:  # noqa: BLE001 - the probe reports whatever escaped
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}


def fill(folder):
    try:
        with open(os.path.join(folder, "filler"), "wb") as f:
            while True:
                f.write(b"x" * 65536)
    except OSError:
        pass


def main(scenario, folder, other):
    report = {}
    if scenario == "full":
        data = Store(folder)
        sam, _, token = data.join("Sam")
        data.add_quiz_attempt(sam.id, {1: "a"}, 1, 1)
        fill(folder)
        report["token"] = attempt(lambda: data.student_for_token(token).nickname)
        report["quiz"] = attempt(lambda: data.quiz_attempts(sam.id))
        report["write_quiz"] = attempt(lambda: data.add_quiz_attempt(sam.id, {1: "b"}, 0, 1))
        report["join"] = attempt(lambda: data.join("Ann")[0].nickname)
        report["fresh_process_read"] = json.loads(subprocess.run(
            [sys.executable, __file__, "read", folder, token], capture_output=True, text=True).stdout or "{}")
        os.remove(os.path.join(folder, "filler"))
        report["after_free_write"] = attempt(lambda: data.add_quiz_attempt(sam.id, {1: "c"}, 1, 1))
        report["after_free_quiz"] = attempt(lambda: data.quiz_attempts(sam.id))
        import sqlite3
        report["integrity"] = sqlite3.connect(data.path).execute("PRAGMA integrity_check").fetchone()[0]
    elif scenario == "read":  # a process that starts while the disk is full: no connection kept from before
        data = Store(folder)
        report["token"] = attempt(lambda: data.student_for_token(other).nickname)
    elif scenario == "readonly":  # folder was filled beforehand; ``other`` is its read-only view
        data = Store(folder)
        sam, _, token = data.join("Sam")
        data.add_quiz_attempt(sam.id, {1: "a"}, 1, 1)
        del data
        subprocess.run(["mount", "--bind", folder, other], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", other], check=True)
        report["start"] = attempt(lambda: Store(other).folder.name)
        view = Store(other)
        report["token"] = attempt(lambda: view.student_for_token(token).nickname)
        report["quiz"] = attempt(lambda: view.quiz_attempts(sam.id))
        report["write_quiz"] = attempt(lambda: view.add_quiz_attempt(sam.id, {1: "b"}, 0, 1))
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:4])
