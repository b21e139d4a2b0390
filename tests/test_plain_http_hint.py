"""An address typed without https:// reaches the class: plain HTTP on the HTTPS port is answered with a redirect
to https:// (it used to be an empty answer), while TLS on the same port works as before."""

from __future__ import annotations

import subprocess

import pytest
import requests
from classroom_server import free_port, start
from classroom_server import health as server_health

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
    port = free_port()
    server = start(tmp_path / "data", port, "maple-harbor-violin-quartz", stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    cert = tmp_path / "data" / "tls" / "cert.pem"
    try:
        health = server_health(server, port, cert)
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
