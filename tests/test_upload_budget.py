"""Streamlit's upload endpoint under a memory budget: forged upload ids cannot pile files up in the server."""

import pytest
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from ui import upload_budget

MB = 1024**2


def _file(file_id: str, mb: int) -> UploadedFileRec:
    return UploadedFileRec(file_id=file_id, name="x.zip", type="application/zip", data=b"\0" * (mb * MB))


def test_forged_upload_ids_stop_at_the_session_budget(monkeypatch):
    monkeypatch.setenv("TLL_UPLOAD_SESSION_MB", "50")
    monkeypatch.setenv("TLL_UPLOAD_SERVER_MB", "1000")
    upload_budget.install()
    manager = MemoryUploadedFileManager("/upload")
    refused = 0
    for i in range(20):  # a bounded loop of forged ids, 19 MB each
        try:
            manager.add_file("session-a", _file(f"forged-{i}", 19))
        except Exception:  # noqa: BLE001 - the HTTP 413 the endpoint answers with
            refused += 1
    assert manager._total_bytes <= 50 * MB
    assert refused == 18  # two fit, every later one is refused
    manager.add_file("session-b", _file("own", 19))  # another student is not affected
    manager.add_file("session-a", _file("forged-0", 19))  # replacing a file under its id counts the difference


def test_the_server_wide_budget_holds_across_sessions(monkeypatch):
    monkeypatch.setenv("TLL_UPLOAD_SESSION_MB", "100")
    monkeypatch.setenv("TLL_UPLOAD_SERVER_MB", "60")
    upload_budget.install()
    manager = MemoryUploadedFileManager("/upload")
    for session in range(3):
        manager.add_file(f"s{session}", _file("a", 19))
    with pytest.raises(Exception, match="too many uploads"):
        manager.add_file("s9", _file("a", 19))
    manager.remove_session_files("s0")  # a session ends: its room comes back
    manager.add_file("s9", _file("a", 19))
    assert manager._total_bytes <= 60 * MB
