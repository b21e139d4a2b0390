"""How fast can a class guess the teacher code? Parallel guessers against the server's one teacher-code guard.

    python bench/teacher_guessing.py [--guessers 8] [--seconds 60]

Each guesser is a thread calling the real ``TeacherGate`` (the server's defaults: 1-2-4-8 s delays, lock-out after
8 wrong tries in a row for 5 minutes), as 8 browser tabs would through the Teacher page. Counts the guesses that
were compared against the code (the ones that could have found it) and the tries refused during a lock-out.
Prints one JSON object. (Before the guard, the issue measured 370 guesses a minute from 8 sessions.)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.classroom.teacher_gate import LOCK_AFTER, LOCK_S, TeacherGate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guessers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the guard logs each wrong try: not wanted on this screen
    gate = TeacherGate()
    counts = {"compared": 0, "refused_locked": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds

    def guesser(n: int) -> None:
        i = 0
        while time.monotonic() < stop_at:
            verdict = gate.check(f"guess-{n}-{i}", "maple-harbor-violin-quartz", address=f"10.0.0.{n}")
            refused = "more minute" in verdict.message  # refused during a lock-out, never compared
            with lock:
                counts["refused_locked" if refused else "compared"] += 1
            i += 1
            if gate.locked_for_s() > 0:
                time.sleep(0.5)  # a guesser keeps trying during the lock-out (each try is refused at once)

    threads = [threading.Thread(target=guesser, args=(n,), daemon=True) for n in range(args.guessers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.seconds + 30)
    elapsed = time.monotonic() - started
    print(json.dumps({"guessers": args.guessers, "seconds": round(elapsed, 1), "lock_after": LOCK_AFTER,
                      "lock_s": LOCK_S, "guesses_compared": counts["compared"],
                      "guesses_compared_per_minute": round(60 * counts["compared"] / elapsed, 1),
                      "tries_refused_during_lock_out": counts["refused_locked"],
                      "before": "370 guesses a minute from 8 sessions (issue 23)"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
