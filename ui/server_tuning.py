"""Streamlit's per-run clean-up, made safe for a server that keeps Keras models for 30 students.

After every script run, fragments included, Streamlit calls ``keras.backend.clear_session()`` whenever Keras
is imported (``script_runner._clean_problem_modules``). That runs a full garbage collection (0.2-0.9 s with
TensorFlow loaded, holding the interpreter) and clears TensorFlow's kernel caches, so the next prediction is
traced again; and it clears Keras's global state while other students' threads are predicting with shared
models. In the 30-student load test, heartbeats and progress bars queued these up until a health check took
28 s. Our pages never build models in the server (trainings run in worker processes), so there is no Keras
session to clear: this replaces that clean-up with matplotlib's half only, once per server process.
"""

from __future__ import annotations

import sys

_applied = False


def _close_matplotlib_figures() -> None:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


def keep_keras_session() -> bool:
    """Turn off Streamlit's after-run ``clear_session()``; True if Streamlit's hook was found and replaced."""
    global _applied
    if _applied:
        return True
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:  # pragma: no cover - a Streamlit without this module has no such clean-up
        return False
    if not hasattr(script_runner, "_clean_problem_modules"):
        return False
    script_runner._clean_problem_modules = _close_matplotlib_figures
    _applied = True
    return True
