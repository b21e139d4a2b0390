"""make classroom: a self-made certificate for this computer, and the real server answering over HTTPS."""

from __future__ import annotations

import subprocess

from classroom_server import free_port, health, start
from cryptography import x509

from core.classroom import certificate


def test_the_certificate_is_made_once_and_names_this_computer(tmp_path):
    cert, key = certificate.self_signed(tmp_path, ["192.168.1.20"])
    made = cert.read_bytes()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    names = x509.load_pem_x509_certificate(made).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    ips = {str(ip) for ip in names.value.get_values_for_type(x509.IPAddress)}
    assert {"127.0.0.1", "192.168.1.20"} <= ips and "localhost" in names.value.get_values_for_type(x509.DNSName)
    assert certificate.self_signed(tmp_path, ["192.168.1.20"])[0].read_bytes() == made  # reused: phones accept once
    assert certificate.self_signed(tmp_path, ["10.0.0.7"])[0].read_bytes() != made  # a new network: made again


def test_the_teachers_own_certificate_needs_both_files(tmp_path, monkeypatch):
    monkeypatch.setenv("TLL_TLS_CERT", str(tmp_path / "cert.pem"))
    monkeypatch.delenv("TLL_TLS_KEY", raising=False)
    try:
        certificate.own_certificate()
    except ValueError as problem:
        assert "both" in str(problem)
    else:
        raise AssertionError("one file alone was accepted")


def test_the_classroom_server_answers_over_https(tmp_path):
    port = free_port()
    server = start(tmp_path / "data", port, "not printed anywhere", stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, text=True)
    cert = tmp_path / "data" / "tls" / "cert.pem"
    try:
        # Checked against the self-made certificate itself: it is valid for 127.0.0.1.
        answer = health(server, port, cert)
        assert answer is not None and answer.status_code == 200 and answer.text == "ok"
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate(timeout=10)[0]
    assert "https://" in output and "not printed anywhere" not in output
