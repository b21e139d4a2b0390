"""A memory budget for files waiting in Streamlit's upload endpoint, per browser session and for the server.

Streamlit keeps every uploaded file in memory until its session ends (``MemoryUploadedFileManager``), and
``server.maxUploadSize`` limits one file only: a student forging upload ids kept 190 MB each in the server
(800 -> 1,372 MB with three) with no cap. This wraps the manager's ``add_file`` (installed once, like
``ui.server_tuning``): an upload that would take its session past ``TLL_UPLOAD_SESSION_MB`` or the server past
``TLL_UPLOAD_SERVER_MB`` is refused (HTTP 413, the uploader shows an error) and nothing is kept. A file that
replaces one under the same id counts only its difference.
"""

from __future__ import annotations

import os

SESSION_MB = 450  # a 200 MB photo zip and a 200 MB model at once, plus photos
SERVER_MB = 2048  # about what 30 phones upload at the start of a lesson, with room to spare
_installed = False


class UploadBudgetExceeded(Exception):
    """Refused before the file is kept."""


def budgets() -> tuple[int, int]:
    return (int(os.environ.get("TLL_UPLOAD_SESSION_MB", SESSION_MB)) * 1024**2,
            int(os.environ.get("TLL_UPLOAD_SERVER_MB", SERVER_MB)) * 1024**2)


def _refusal(message: str) -> Exception:
    try:
        from starlette.exceptions import HTTPException
    except ImportError:  # pragma: no cover - the Tornado server: any exception refuses the upload
        return UploadBudgetExceeded(message)
    return HTTPException(status_code=413, detail=message)


def _with_budget(add_file):
    def add_file_within_budget(self, session_id, file):
        session_cap, server_cap = budgets()
        with self._lock:
            held = self.file_storage.get(session_id, {})
            replaced = held.get(file.file_id)
            growth = len(file.data) - (len(replaced.data) if replaced is not None else 0)
            session_total = sum(len(f.data) for f in held.values())
            if session_total + growth > session_cap:
                raise _refusal("Too many files waiting in this browser tab: reload the page and upload again.")
            if self._total_bytes + growth > server_cap:
                raise _refusal("The server is holding too many uploads right now: try again in a minute.")
        return add_file(self, session_id, file)

    add_file_within_budget.budgeted = True
    return add_file_within_budget


def install() -> bool:
    """Wrap Streamlit's in-memory upload store; True once installed."""
    global _installed
    if _installed:
        return True
    try:
        from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    except ImportError:  # pragma: no cover - a Streamlit without it keeps uploads elsewhere
        return False
    if not getattr(MemoryUploadedFileManager.add_file, "budgeted", False):
        MemoryUploadedFileManager.add_file = _with_budget(MemoryUploadedFileManager.add_file)
    _installed = True
    return True
