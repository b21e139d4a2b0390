"""A training worker's priority: an absolute nice value, never lowered twice."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

REPORT = """
import json, os, sys
from core.utils import lower_priority
lower_priority(int(sys.argv[1]))
lower_priority(int(sys.argv[2]))  # a second, smaller value never raises it again
lower_priority(int(sys.argv[1]))  # and the same value again does not lower it twice
print(json.dumps({"nice": os.getpriority(os.PRIO_PROCESS, 0)}))
"""


def test_a_workers_nice_value_is_absolute():
    done = subprocess.run([sys.executable, "-c", REPORT, "7", "3"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, start_new_session=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"nice": 7}
