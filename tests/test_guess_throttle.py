"""Return-code guessing: slowed per client and server-wide, the owner never locked out."""

import threading

import pytest

from core.classroom import guess_throttle
from core.classroom.guess_throttle import GuessThrottle, TryLater
from core.classroom.store import LoginRefused, Store
from core.utils.lookalikes import skeleton


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_one_client_waits_longer_after_each_wrong_code_and_others_do_not():
    clock = FakeClock()
    throttle = GuessThrottle(clock, clock.sleep)
    for _ in range(guess_throttle.FREE_TRIES):
        assert throttle.check("phone-a", lambda: False) is False
    waits = []
    for _ in range(3):
        with pytest.raises(TryLater) as wait:
            throttle.check("phone-a", lambda: True)
        waits.append(wait.value.seconds)
        clock.now += wait.value.seconds
        assert throttle.check("phone-a", lambda: False) is False
    assert waits[0] > 0 and waits[1] > waits[0] and waits[2] > waits[1]
    assert throttle.check("phone-b", lambda: True) is True  # another phone: no wait
    assert clock.slept == []


def test_many_clients_guessing_together_are_spaced_out_server_wide():
    clock = FakeClock()
    throttle = GuessThrottle(clock, clock.sleep)
    for i in range(guess_throttle.SERVER_FREE_TRIES):  # every guess from a new address
        throttle.check(f"10.0.{i}.1", lambda: False)
    start = clock.now
    for i in range(10):  # the same phones guess again
        throttle.check(f"10.0.{i}.1", lambda: False)
    assert clock.now - start >= 9 * guess_throttle.SERVER_SPACING_S
    before = clock.now
    assert throttle.check("the-owner", lambda: True) is True  # never refused, and not in the guessers' line
    assert clock.now == before


def test_parallel_guessers_get_a_bounded_number_of_checks(tmp_path, monkeypatch):
    """Eight sessions guessing at once from one address: only the free tries reach the code check."""
    data = Store(tmp_path)
    data.join("Sam")
    checks = []
    real = data.guesses.check

    def counting(client, is_right):
        return real(client, lambda: checks.append(1) or is_right())

    monkeypatch.setattr(data.guesses, "check", counting)

    def guess():
        for _ in range(10):
            try:
                data.come_back("Sam", "apple apple apple apple", client="10.0.0.66")
            except LoginRefused:
                pass

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checks) <= guess_throttle.FREE_TRIES + 8  # the free tries, plus those already past the gate


@pytest.mark.parametrize("lookalike", ["Bоb", "Ｂob", "BOB", "bob "])
def test_lookalike_nicknames_are_refused_beside_the_original(tmp_path, lookalike):
    data = Store(tmp_path)
    bob, code, _ = data.join("Bob")
    with pytest.raises(Exception, match="looks the same|already"):
        data.join(lookalike)
    assert skeleton(lookalike.strip()) == skeleton("Bob")
    assert data.come_back(lookalike, code)[0] == bob  # and the look-alike spelling still finds Bob


def test_names_that_only_share_letters_are_different_people(tmp_path):
    data = Store(tmp_path)
    data.join("José")
    data.join("Jose")  # accents tell people apart
    data.join("Вова")
    assert len(data.students()) == 3
