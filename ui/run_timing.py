"""How long the server spends on each page run, apart from the browser's rendering (for bench/classroom.py).

With ``TLL_RUN_LOG`` set to a file, every full run of the app appends one line: the page's title and the
seconds the script took. The classroom load test reads it to report the server's own page times, which the
browsers' rendering (sharing the same CPU on a test machine) does not inflate. Unset, it does nothing.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

_lock = threading.Lock()


@contextmanager
def timed(page: str):
    log = os.environ.get("TLL_RUN_LOG", "").strip()
    started = time.perf_counter()
    try:
        yield
    finally:  # also after st.stop() and st.rerun(), which end a run with an exception
        if log:
            line = f"{page}\t{time.perf_counter() - started:.4f}\n"
            with _lock, open(log, "a", encoding="utf-8") as out:
                out.write(line)
