"""The order a class's burst of trainings starts in: one slot takes the longest waiting, the others the shortest."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from core.classroom.runner import start_order as ordering
from core.classroom.runner.start_order import start_order


@dataclass
class Waiting:
    name: str
    seconds: float | None
    submitted: float = 0.0

    def waited_s(self, now: float) -> float:
        return now - self.submitted


def ends(order: list[Waiting], slots: int) -> list[float]:
    """When each training ends if the slots take them in ``order`` (what the scheduler does)."""
    free, done = [0.0] * slots, []
    for job in order:
        slot = free.index(min(free))
        free[slot] += job.seconds
        done.append(free[slot])
    return done


# The class bench's mix in miniature: quick phase-1 runs, a few phase-2 variations, two deep ones
CLASS = [Waiting(f"s{i}", s) for i, s in enumerate([20, 130, 20, 80, 500, 20, 70, 20, 250, 130, 20, 500, 80, 20])]


def test_the_longest_start_at_once_and_the_quickest_beside_them():
    order = start_order(CLASS, lambda job: job.seconds, slots=2, now=10.0).waiting
    assert sorted(j.name for j in order) == sorted(j.name for j in CLASS)  # every one, once
    assert order[0].seconds == 500 and order[1].seconds == 20
    longest_last = sorted(CLASS, key=lambda job: job.seconds)  # the worst first-come order: deep ones last
    assert max(ends(order, 2)) < max(ends(longest_last, 2))
    assert max(ends(order, 2)) <= sum(j.seconds for j in CLASS) / 2 + 130  # within one medium run of perfect
    longest_first = sorted(CLASS, key=lambda job: -job.seconds)
    assert statistics.median(ends(order, 2)) < statistics.median(ends(longest_first, 2))  # the quick ones go early


def test_one_slot_or_too_few_to_choose_keeps_first_come_first_served():
    assert start_order(CLASS, lambda job: job.seconds, slots=1, now=10.0).waiting == CLASS
    assert start_order(CLASS[:2], lambda job: job.seconds, slots=2, now=10.0).waiting == CLASS[:2]


def test_a_long_wait_keeps_its_place_and_an_unknown_duration_starts_early():
    old = Waiting("old", 500, submitted=-ordering.AGING_S)
    new = Waiting("new size", None)
    order = start_order([*CLASS[:5], old, new], lambda job: job.seconds, slots=2, now=1.0).waiting
    assert [j.name for j in order[:2]] == ["old", "new size"]


def test_while_a_long_one_runs_in_the_long_lane_a_freed_slot_takes_the_shortest():
    """The class bench's mistake: each freed slot took the longest left, so both ran deep trainings for minutes."""
    order = start_order(CLASS, lambda job: job.seconds, slots=2, now=10.0, running=[(450.0, True)])
    assert order.waiting[0].seconds == 20 and id(order.waiting[0]) not in order.long_lane
    long_ones = [job.seconds for job in order.waiting if id(job) in order.long_lane]
    assert long_ones and long_ones[0] == 500  # the long lane's next, once its runner ends
    free = start_order(CLASS, lambda job: job.seconds, slots=2, now=10.0, running=[(450.0, False)])
    assert free.waiting[0].seconds == 500  # nobody in the long lane: the freed slot becomes it


def test_the_runner_starts_a_burst_in_that_order(tmp_path, monkeypatch):
    from core.classroom.runner.backend import LocalProcessBackend
    from core.classroom.runner.scheduler import Runner
    from core.classroom.runner.worker import FAKE_RECIPES_VARIABLE

    monkeypatch.setenv(FAKE_RECIPES_VARIABLE, "1")
    predicted = {"quick": 10.0, "medium": 60.0, "deep": 400.0}
    runner = Runner(LocalProcessBackend(tmp_path / "logs"), tmp_path / "jobs", max_running=2, time_limit_s=0,
                    poll_s=0.05, predict=lambda job: predicted.get(job.label))
    try:
        blocker = [runner.submit(f"busy{i}", {"recipes": ["fake"], "config": {"epochs1": 200}, "data": "none"})
                   for i in range(2)]  # both slots busy: the burst waits and is ordered
        deadline = time.monotonic() + 30
        while not all(job.state.status == "running" for job in blocker) and time.monotonic() < deadline:
            time.sleep(0.05)
        burst = [runner.submit(f"student{i}", {"recipes": ["fake"], "config": {"epochs1": 1}, "data": "none"},
                               label=label) for i, label in enumerate(["quick", "medium", "quick", "deep", "quick"])]
        assert [job.label for job in runner.queue()[2:]] == ["deep", "quick", "quick", "quick", "medium"]
        assert [job.state.queue_place for job in runner.queue()[2:]] == [1, 2, 3, 4, 5]  # what the pages say
        for job in blocker + burst:
            job.stop("teacher")
    finally:
        runner.close()

