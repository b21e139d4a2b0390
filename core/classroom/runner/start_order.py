"""Which waiting training starts next when a class presses Train together.

One slot works through the longest waiting trainings, the others through the shortest: the long ones do not all
end up last (the class's last result), and the quick ones do not wait behind them (most students' results). The
order is worked out from the time estimate's predicted durations and kept as the queue's order, so the place in
the queue and the time until a result that a student reads follow it. A training that has waited ``AGING_S`` keeps
its place at the front (nobody waits for ever); one with no prediction yet starts early, and teaches the estimate.
With one slot, or too few trainings to choose from, the queue stays first come, first served.
"""

from __future__ import annotations

from collections.abc import Callable

AGING_S = 300.0


def start_order(waiting: list, predicted: Callable[[object], float | None], slots: int, now: float) -> list:
    """``waiting`` (first come first) in the order to start them; ``predicted(job)``: its seconds, or None."""
    if slots < 2 or len(waiting) <= slots:
        return list(waiting)
    front = [job for job in waiting if job.waited_s(now) >= AGING_S]
    rest = [job for job in waiting if job.waited_s(now) < AGING_S]
    seconds = {id(job): predicted(job) for job in rest}
    unknown = [job for job in rest if seconds[id(job)] is None]
    known = sorted((job for job in rest if seconds[id(job)] is not None), key=lambda job: seconds[id(job)])
    order = front + unknown
    free_at = [0.0] * slots  # slot 0 takes the longest, the others the shortest
    while known:
        slot = min(range(slots), key=lambda i: (free_at[i], i))
        job = known.pop() if slot == 0 else known.pop(0)
        free_at[slot] += seconds[id(job)]
        order.append(job)
    return order
