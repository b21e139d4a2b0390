"""The data folder's free space, and the one message a student sees when the server cannot save.

A full or read-only disk must not take pages down: the store keeps reading and refuses writes with
``ServerCannotSave``; the Teacher page shows ``space_banner`` and the start-up check prints the same in the
terminal.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

LOW_SPACE_BYTES = 500 * 1024**2  # about what 30 students' uploads and models take in a lesson
CANNOT_SAVE = "The server's disk is full: tell your teacher. Your earlier work is safe; this was not saved."


class ServerCannotSave(RuntimeError):
    """The data folder is full or read-only: nothing was written (the message is for the student)."""

    def __init__(self, detail: str = ""):
        super().__init__(CANNOT_SAVE)
        self.detail = detail  # for the server log, never shown to a student


def free_bytes(folder: Path | str) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def writable(folder: Path | str) -> bool:
    return os.access(folder, os.W_OK)


def space_banner(folder: Path | str) -> str | None:
    """A line for the teacher when saving is in danger (None when all is well)."""
    free = free_bytes(folder)
    if not writable(folder):
        return f"The data folder {folder} is read-only: students' work cannot be saved until it is writable."
    if free is None:
        return f"The data folder {folder} cannot be read: check the disk."
    if free < LOW_SPACE_BYTES:
        return (f"The server's disk is nearly full: {free / 1024**2:,.0f} MB free in {folder}. "
                "Students cannot save runs or quizzes once it is full: free some space (it recovers by itself).")
    return None


def start_up_check(folder: Path | str) -> tuple[bool, str]:
    """For the terminal before the server starts: (can start, what to print)."""
    if not writable(folder):
        return False, f"The data folder {folder} is read-only: students' work could not be saved. Make it writable."
    free = free_bytes(folder)
    line = f"Free space for students' work: {free / 1024**2:,.0f} MB" if free is not None else ""
    warning = space_banner(folder)
    return True, f"WARNING: {warning}" if warning else line
