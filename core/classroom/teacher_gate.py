"""The teacher code: one guard for the whole server, and the teacher's browser sessions.

Every wrong code, from any tab, browser or address, counts on one server-wide counter: tries are checked one
at a time, each wrong one waits longer (1, 2, 4, 8 s...), and after ``LOCK_AFTER`` wrong ones in a row the
page refuses every try for ``LOCK_S`` (so a class of guessers gets a handful of tries per lock-out, not
hundreds a minute). Wrong tries go to the server log with the address, never the typed text.

A right code opens a *teacher session*: a random token whose hash the server keeps for the lesson
(``SESSION_S``), so a reload or another page does not ask for the code again. The code itself is never kept.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass

from core.classroom.return_words import WORDS

log = logging.getLogger(__name__)

LOCK_AFTER = 8  # wrong codes in a row (server-wide) before a lock-out
LOCK_S = 300.0
MAX_DELAY_S = 8.0
SESSION_S = 8 * 3600.0  # a school day
MIN_LENGTH = 12
COMMON = {"teacher", "password", "letmein", "classroom", "qwerty", "admin", "secret", "school", "transfer"}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str = ""
    failures: int = 0


def weak_code_reason(code: str) -> str | None:
    """Why ``code`` is too easy to guess, or None when it is fine."""
    if len(code) < MIN_LENGTH:
        return f"it has {len(code)} characters (at least {MIN_LENGTH} are needed)"
    if len(set(code.casefold())) < 6:
        return "it repeats the same few characters"
    letters = "".join(ch for ch in code.casefold() if ch.isalnum())
    if letters.isdigit():
        return "it is only digits"
    if any(letters.startswith(word) and len(letters) - len(word) <= 4 for word in COMMON):
        return "it is a common word with a few characters added"
    return None


def suggest_code(words: int = 5) -> str:
    """Five random words (40 bits), easy to type on a phone or a laptop."""
    return "-".join(secrets.choice(WORDS) for _ in range(words))


class TeacherGate:
    """Checks typed codes against the server's code; one instance per server process (``server_gate()``)."""

    def __init__(self, base_delay_s: float = 1.0, lock_after: int = LOCK_AFTER, lock_s: float = LOCK_S,
                 sleep=time.sleep, clock=time.monotonic):
        self._check_lock = threading.Lock()  # one try at a time, server-wide: parallel guessers queue up
        self._base_delay_s, self._lock_after, self._lock_s = base_delay_s, lock_after, lock_s
        self._sleep, self._clock = sleep, clock
        self.failures = 0
        self.locked_until = 0.0
        self.refused_in_lock_out = 0
        self._sessions: dict[str, float] = {}  # sha256(token) -> expiry (wall clock)
        self._sessions_lock = threading.Lock()

    def delay_s(self, failures: int) -> float:
        return min(MAX_DELAY_S, self._base_delay_s * 2 ** max(0, failures - 1))

    def locked_for_s(self) -> float:
        return max(0.0, self.locked_until - self._clock())

    def check(self, typed: str, code: str, address: str | None = None) -> Verdict:
        with self._check_lock:
            left = self.locked_for_s()
            if left > 0:
                self.refused_in_lock_out += 1
                if self.refused_in_lock_out == 1:  # once per lock-out: a guessing loop must not fill the log
                    log.warning("Teacher code tries refused during the lock-out (the first from %s)",
                                address or "this computer")
                return Verdict(False, f"Too many wrong teacher codes on this server: the page is locked for "
                                      f"{left / 60:.0f} more minute(s).", self.failures)
            if code and hmac.compare_digest(typed.encode(), code.encode()):
                self.failures = 0
                return Verdict(True)
            self.failures += 1
            log.warning("Wrong teacher code (wrong try %d in a row on this server, from %s)", self.failures,
                        address or "this computer")
            if self.failures >= self._lock_after:
                self.locked_until = self._clock() + self._lock_s
                self.failures, self.refused_in_lock_out = 0, 0
                log.warning("Teacher page locked for %.0f s after %d wrong codes in a row", self._lock_s,
                            self._lock_after)
                return Verdict(False, f"Too many wrong teacher codes on this server: the page is locked for "
                                      f"{self._lock_s / 60:.0f} minute(s).", self._lock_after)
            self._sleep(self.delay_s(self.failures))  # inside the lock: the next try, from anywhere, waits too
            return Verdict(False, "That is not the teacher code.", self.failures)

    # ---------------------------------------------------------------------------------- teacher sessions
    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def open_session(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._sessions_lock:
            now = time.time()
            self._sessions = {k: v for k, v in self._sessions.items() if v > now}
            self._sessions[self._key(token)] = now + SESSION_S
        return token

    def session_valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self._sessions_lock:
            expiry = self._sessions.get(self._key(token), 0.0)
        return expiry > time.time()

    def close_session(self, token: str | None) -> None:
        if token:
            with self._sessions_lock:
                self._sessions.pop(self._key(token), None)


_gate: TeacherGate | None = None
_gate_lock = threading.Lock()


def server_gate() -> TeacherGate:
    global _gate
    with _gate_lock:
        if _gate is None:
            _gate = TeacherGate()
        return _gate


def teacher_code() -> str:
    return os.environ.get("TLL_TEACHER_CODE", "")


def reset_for_tests(new: TeacherGate | None = None) -> None:
    global _gate
    with _gate_lock:
        _gate = new
