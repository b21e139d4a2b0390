"""A training's CPU priority: below the pages students are waiting on, on a computer that groups by session.

Linux shares the CPU between sessions ("autogroups") before nice values count. A training worker starts in a
session of its own (so a Ctrl+C meant for the server does not reach it), which makes it a group of its own: at
nice 5 it would still weigh as much as the whole web server. Lowering its group as well puts the pages first.
"""

from __future__ import annotations

import os
from pathlib import Path

AUTOGROUP = Path("/proc/self/autogroup")


def lower_priority(nice: int) -> None:
    """This process at ``nice`` (absolute: calling it twice does not lower it twice) and, when it leads its own
    session, its scheduling group too. Threads started afterwards inherit it (TensorFlow's pools: call it first)."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, max(current, nice))
    try:
        if os.getsid(0) == os.getpid() and AUTOGROUP.exists():  # never the group of the terminal that started us
            AUTOGROUP.write_text(str(max(current, nice)))
    except OSError:  # no autogroups here, or not allowed: the nice value alone still applies
        pass


def group_nice(pid: int | None = None) -> int | None:
    """The nice value of a process's scheduling group (None where there are no autogroups)."""
    try:
        text = Path(f"/proc/{pid or 'self'}/autogroup").read_text()
    except OSError:
        return None
    return int(text.rsplit("nice", 1)[1])
