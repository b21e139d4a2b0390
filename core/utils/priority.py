"""A training's CPU priority: below the pages students are waiting on."""

from __future__ import annotations

import os


def lower_priority(nice: int) -> None:
    """This process at ``nice`` (absolute: calling it twice does not lower it twice). Threads started afterwards
    inherit it (TensorFlow's pools: call it first).

    Only the nice value, not the process's session group ("autogroup", Linux): a worker leads a session of its own,
    and lowering that group too made the trainings yield to every other session on the computer, a browser
    included (the class bench). The web server's own group gets its fair share either way, far more than it uses."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, max(current, nice))
