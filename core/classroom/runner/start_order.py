"""Which waiting training starts next when a class presses Train together.

One slot (the long lane) works through the longest waiting trainings, the others through the shortest: the long
ones do not all end up last (the class's last result), and the quick ones do not wait behind them (most students'
results). The order comes from the time estimate's predicted durations, with the running trainings' time left,
and is kept as the queue's order, so the place in the queue and the time until a result that a student reads
follow it. A training that has waited ``AGING_S`` keeps its place at the front (nobody waits for ever); one with no
prediction yet starts early, and teaches the estimate. With one slot, or too few trainings to choose from, the
queue stays first come, first served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

AGING_S = 300.0


@dataclass
class Order:
    waiting: list  # in the order to start them
    long_lane: set[int]  # ids of the ones that start in the long lane


def start_order(waiting: list, predicted: Callable[[object], float | None], slots: int, now: float,
                running: list[tuple[float, bool]] = ()) -> Order:
    """``waiting`` (first come first) in the order to start them. ``predicted(job)``: its seconds, or None;
    ``running``: (seconds left, in the long lane) of each running training."""
    if slots < 2 or len(waiting) <= max(1, slots - len(running)):
        return Order(list(waiting), set())
    front = [job for job in waiting if job.waited_s(now) >= AGING_S]
    rest = [job for job in waiting if job.waited_s(now) < AGING_S]
    seconds = {id(job): predicted(job) for job in rest}
    unknown = [job for job in rest if seconds[id(job)] is None]
    known = sorted((job for job in rest if seconds[id(job)] is not None), key=lambda job: seconds[id(job)])
    free_at = [left for left, _ in running][:slots] + [0.0] * max(0, slots - len(running))
    long_slot = next((i for i, (_, long) in enumerate(running[:slots]) if long), None)
    if long_slot is None:
        long_slot = min(range(slots), key=lambda i: (free_at[i], i))  # the next slot to free up
    order, long_lane = front + unknown, set()
    while known:
        slot = min(range(slots), key=lambda i: (free_at[i], i))
        job = known.pop() if slot == long_slot else known.pop(0)
        if slot == long_slot:
            long_lane.add(id(job))
        free_at[slot] += seconds[id(job)]
        order.append(job)
    return Order(order, long_lane)
