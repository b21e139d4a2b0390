"""Return-code guessing slowed down, per browser and for the whole server, never by locking an account.

A lock per nickname let a classmate lock anyone out with five wrong codes. Here a wrong code costs its
sender: after ``FREE_TRIES`` wrong codes in ``WINDOW_S`` one client must wait a delay that doubles with each
further one. Many clients guessing together (or one changing its address) meet the server-wide budget: past
``SERVER_FREE_TRIES`` wrong codes in a window, checks from phones that guessed wrong lately go through one at
a time, ``SERVER_SPACING_S`` apart. The owner typing the right code from their own phone is never refused and
never waits in that line.
"""

from __future__ import annotations

import threading
import time
from collections import deque

WINDOW_S = 600.0
FREE_TRIES = 5
MAX_DELAY_S = 300.0
SERVER_FREE_TRIES = 30  # a class of 30 mistyping once each goes through at full speed
SERVER_SPACING_S = 2.0


class TryLater(Exception):
    """This client must wait ``seconds`` before its next try."""

    def __init__(self, seconds: float):
        super().__init__(f"Too many wrong codes from this device: wait {max(1, round(seconds))} seconds, then try "
                         "again (or ask your teacher for a new code).")
        self.seconds = seconds


class GuessThrottle:
    def __init__(self, clock=time.monotonic, sleep=time.sleep):
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._queue = threading.Lock()  # checks go through here one at a time while the server is under attack
        self._wrong: dict[str, deque[float]] = {}
        self._server_wrong: deque[float] = deque()
        self._next_server_slot = 0.0

    def _recent(self, times: deque[float], now: float) -> int:
        while times and times[0] < now - WINDOW_S:
            times.popleft()
        return len(times)

    def client_delay(self, client: str) -> float:
        """Seconds this client still has to wait before its next check (0: go ahead)."""
        now = self._clock()
        with self._lock:
            times = self._wrong.get(client)
            if not times:
                return 0.0
            extra = self._recent(times, now) - FREE_TRIES
            if extra < 0:
                return 0.0
            return max(0.0, times[-1] + min(MAX_DELAY_S, 2.0 ** extra) - now)

    def check(self, client: str, is_right) -> bool:
        """Runs ``is_right()`` (the code check) when this client and the server allow; True if the code was
        right. Raises ``TryLater`` for a client still waiting; waits in line while the server is over budget."""
        wait = self.client_delay(client)
        if wait > 0:
            raise TryLater(wait)
        with self._lock:
            now = self._clock()
            busy = self._recent(self._server_wrong, now) >= SERVER_FREE_TRIES
            guessed_before = self._recent(self._wrong.get(client, deque()), now) > 0
        if busy and guessed_before:  # a phone with no wrong code lately (the owner's) does not wait in line
            with self._queue:
                pause = self._next_server_slot - self._clock()
                if pause > 0:
                    self._sleep(pause)
                self._next_server_slot = self._clock() + SERVER_SPACING_S
                right = is_right()
        else:
            right = is_right()
        if not right:
            now = self._clock()
            with self._lock:
                self._wrong.setdefault(client, deque()).append(now)
                self._server_wrong.append(now)
                if len(self._wrong) > 10_000:  # forget the quietest clients first: memory stays bounded
                    self._wrong.pop(next(iter(self._wrong)))
        return right
