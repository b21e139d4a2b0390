"""Return-code guessing, measured: how many guesses a minute reach the code check, with 8 sessions guessing at
once from one phone and from 8 phones (in-process, against a store in a temporary folder; bounded in time).

    python bench/guess_rate.py [--seconds 20]

Prints one JSON object: checks per minute for each case, and whether the owner got in meanwhile and how long
that took.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.classroom.store import LoginRefused, Store  # noqa: E402


def attack(seconds: float, clients: list[str]) -> dict:
    data = Store(Path(tempfile.mkdtemp(prefix="tll-guess-")))
    _, code, _ = data.join("Sam")
    checks = []
    real = data.guesses.check
    data.guesses.check = lambda client, is_right: real(client, lambda: checks.append(1) or is_right())
    stop = time.monotonic() + seconds

    def guess(client: str) -> None:
        while time.monotonic() < stop:
            try:
                data.come_back("Sam", "apple apple apple apple", client=client)
            except LoginRefused as refused:
                if "wait" in str(refused):
                    time.sleep(0.05)  # a script would retry at once; this keeps the bench's own CPU low

    threads = [threading.Thread(target=guess, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    time.sleep(seconds / 2)
    started = time.monotonic()
    owner_in = data.come_back("Sam", code, client="the-owner's-phone")[0].nickname == "Sam"
    owner_s = time.monotonic() - started
    for t in threads:
        t.join()
    return {"checks_per_minute": round(len(checks) * 60 / seconds), "owner_got_in": owner_in,
            "owner_waited_s": round(owner_s, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    report = {"one_phone_8_sessions": attack(args.seconds, ["10.0.0.66"] * 8),
              "8_phones": attack(args.seconds, [f"10.0.0.{i}" for i in range(8)])}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
