"""An address typed without https:// reaches the class: plain HTTP on the HTTPS port is answered with a redirect
to https:// (it used to be an empty answer), while TLS on the same port works as before."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from conftest import ROOT

from core.classroom.plain_http_hint import looks_like_plain_http, redirect_response


def test_only_an_http_request_is_taken_for_plain_http():
    assert looks_like_plain_http(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert not looks_like_plain_http(b"\x16\x03\x01\x02\x00\x01")  # a TLS ClientHello
    assert not looks_like_plain_http(b"") and not looks_like_plain_http(b"SSH-2.0-OpenSSH")


def test_the_redirect_keeps_host_and_path_and_refuses_odd_ones():
    answer = redirect_response(b"GET /quiz?s=abc HTTP/1.1\r\nHost: 192.168.1.20:8501\r\n\r\n").decode()
    assert answer.startswith("HTTP/1.1 301") and "Location: https://192.168.1.20:8501/quiz?s=abc\r\n" in answer
    odd = redirect_response(b"GET / HTTP/1.1\r\nHost: evil\r\nX: y\r\nLocation: z\r\n\r\n").decode()
    assert "Location: https://evil/\r\n" in odd  # the client's own host, nothing injected
    broken = redirect_response(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n").decode()
    assert broken.startswith("HTTP/1.1 400") and "https://" in broken and "Location" not in broken


@pytest.mark.slow
def test_the_classroom_server_redirects_plain_http_and_still_speaks_https(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TLL_DATA_DIR": str(tmp_path / "data"), "TLL_TEACHER_CODE": "maple-harbor-violin-quartz"}
    server = subprocess.Popen([sys.executable, "-m", "core.classroom", "--address", "127.0.0.1", "--port", str(port),
                               "--no-qr", "--no-quick-model"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    cert = tmp_path / "data" / "tls" / "cert.pem"
    try:
        deadline, health = time.monotonic() + 90, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = requests.get(f"https://127.0.0.1:{port}/_stcore/health", verify=str(cert), timeout=5)
                break
            except (requests.ConnectionError, OSError):
                time.sleep(0.5)
        assert health is not None and health.text == "ok"
        plain = requests.get(f"http://127.0.0.1:{port}/predict", allow_redirects=False, timeout=10)
        assert plain.status_code == 301 and plain.headers["Location"] == f"https://127.0.0.1:{port}/predict"
        assert "https://" in plain.text
        again = requests.get(f"https://127.0.0.1:{port}/_stcore/health", verify=str(cert), timeout=5)
        assert again.text == "ok"  # the server lives on
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
