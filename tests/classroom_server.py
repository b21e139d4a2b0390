"""Starting the real HTTPS classroom server (``python -m core.classroom``) on 127.0.0.1 for a test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data: Path, port: int, teacher_code: str, **popen) -> subprocess.Popen:
    """The server on ``port`` with its data folder ``data`` (its self-made certificate in ``data/tls``)."""
    env = {**os.environ, "TLL_DATA_DIR": str(data), "TLL_TEACHER_CODE": teacher_code}
    return subprocess.Popen([sys.executable, "-m", "core.classroom", "--address", "127.0.0.1", "--port", str(port),
                             "--no-qr", "--no-quick-model"], cwd=ROOT, env=env, **popen)


def health(server: subprocess.Popen, port: int, cert: Path, wait_s: float = 90):
    """The health check's answer over HTTPS, checked against the server's own certificate, once it answers
    (None if the server exits or ``wait_s`` passes first)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            return requests.get(f"https://127.0.0.1:{port}/_stcore/health", verify=str(cert), timeout=5)
        except (requests.ConnectionError, OSError):
            time.sleep(0.5)
    return None
