"""A training worker's priority: its nice value and, in a session of its own, its scheduling group's (Linux shares
the CPU between session groups before nice values count)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from core.utils import group_nice

REPORT = """
import json, os, sys
from core.utils import group_nice, lower_priority
lower_priority(int(sys.argv[1]))
lower_priority(int(sys.argv[2]))  # a second, smaller value never raises it again
print(json.dumps({"nice": os.getpriority(os.PRIO_PROCESS, 0), "group": group_nice()}))
"""


def report(*nice: int, own_session: bool) -> dict:
    done = subprocess.run([sys.executable, "-c", REPORT, *map(str, nice)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, start_new_session=own_session)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="this kernel groups no sessions (no autogroup)")
def test_a_worker_in_its_own_session_lowers_its_group_too():
    assert report(7, 3, own_session=True) == {"nice": 7, "group": 7}


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="this kernel groups no sessions (no autogroup)")
def test_a_process_in_the_servers_session_leaves_the_servers_group_alone():
    before = group_nice()
    assert report(7, 3, own_session=False) == {"nice": 7, "group": before}
