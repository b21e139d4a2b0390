"""The teacher code: one server-wide count of wrong tries (all tabs together), growing delay, lock-out, a log
line without the typed text, teacher sessions that survive a reload, and a weak code refused at start."""

from __future__ import annotations

import logging
import threading

import pytest

from core.classroom import serve, teacher_gate
from core.classroom.teacher_gate import TeacherGate

CODE = "maple-harbor-violin-quartz"


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_wrong_tries_wait_longer_each_time_and_the_right_code_resets_the_count():
    clock = FakeClock()
    gate = TeacherGate(base_delay_s=1.0, lock_after=8, sleep=clock.sleep, clock=clock)
    for _ in range(4):
        assert not gate.check("guess", CODE).ok
    assert clock.slept == [1.0, 2.0, 4.0, 8.0]
    assert gate.check(CODE, CODE).ok and gate.failures == 0


def test_parallel_wrong_guesses_from_many_sessions_share_one_counter_and_lock_everyone_out():
    clock = FakeClock()
    gate = TeacherGate(base_delay_s=0.0, lock_after=8, lock_s=300, sleep=clock.sleep, clock=clock)
    verdicts = []

    def guesser(n):
        for i in range(3):
            verdicts.append(gate.check(f"guess {n} {i}", CODE, address=f"10.0.0.{n}"))

    threads = [threading.Thread(target=guesser, args=(n,)) for n in range(6)]  # 6 "tabs", 18 tries
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not any(v.ok for v in verdicts)
    locked = [v for v in verdicts if "locked" in v.message]
    assert len([v for v in verdicts if "not the teacher code" in v.message]) == 7  # tries 1-7 counted together
    assert len(locked) == 18 - 7 and gate.locked_for_s() > 0
    assert not gate.check(CODE, CODE).ok  # during the lock-out even the right code waits
    clock.now += 301
    assert gate.check(CODE, CODE).ok


def test_wrong_tries_are_logged_without_the_typed_text(caplog):
    clock = FakeClock()
    gate = TeacherGate(sleep=clock.sleep, clock=clock)
    with caplog.at_level(logging.WARNING, logger="core.classroom.teacher_gate"):
        gate.check("my secret guess", CODE, address="192.168.1.77")
    assert "192.168.1.77" in caplog.text and "Wrong teacher code" in caplog.text
    assert "my secret guess" not in caplog.text and CODE not in caplog.text


def test_a_teacher_session_is_a_random_token_kept_as_a_hash():
    gate = TeacherGate()
    token = gate.open_session()
    assert gate.session_valid(token) and not gate.session_valid(token + "x") and not gate.session_valid(None)
    assert token not in repr(gate._sessions)
    gate.close_session(token)
    assert not gate.session_valid(token)


@pytest.mark.parametrize("code", ["short", "teacher2024", "aaaaaaaaaaaaaaaa", "1234567890123", "password1234"])
def test_weak_codes_are_refused_with_a_reason(code):
    assert teacher_gate.weak_code_reason(code)


@pytest.mark.parametrize("code", [CODE, "correct horse battery", "bench-teacher-code", "not printed anywhere"])
def test_strong_codes_pass(code):
    assert teacher_gate.weak_code_reason(code) is None


def test_a_suggested_code_is_strong_and_random():
    first, second = teacher_gate.suggest_code(), teacher_gate.suggest_code()
    assert first != second and teacher_gate.weak_code_reason(first) is None


def test_the_classroom_server_refuses_a_weak_code_and_suggests_one(monkeypatch, capsys):
    monkeypatch.setenv("TLL_TEACHER_CODE", "teacher")
    assert serve.main(["--no-qr", "--no-quick-model", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "too easy to guess" in err and "TLL_TEACHER_CODE='" in err
    suggested = err.split("TLL_TEACHER_CODE='")[1].split("'")[0]
    assert teacher_gate.weak_code_reason(suggested) is None


def test_a_guessing_loop_during_the_lock_out_writes_one_log_line(caplog):
    clock = FakeClock()
    gate = TeacherGate(lock_after=2, sleep=clock.sleep, clock=clock)
    with caplog.at_level(logging.WARNING, logger="core.classroom.teacher_gate"):
        for i in range(50):
            gate.check(f"guess {i}", CODE)
    assert gate.refused_in_lock_out == 48 and caplog.text.count("refused during the lock-out") == 1
