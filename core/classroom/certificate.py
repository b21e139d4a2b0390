"""The classroom's HTTPS certificate: the teacher's own, or a self-signed one made once.

Browsers give the camera only to secure pages (HTTPS, or localhost), so a class on phones needs HTTPS. A
school rarely has a certificate for a teacher's laptop: we make a self-signed one (``cryptography``) for this
computer's names and network addresses, kept in the data folder and reused, so each phone accepts it once.
It is made again only when the computer's addresses are no longer all in it (a new network), or it expires.

``TLL_TLS_CERT`` and ``TLL_TLS_KEY`` (PEM files) use the teacher's own certificate instead.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 365
RENEW_DAYS = 14  # made again when it would expire within this many days


def own_certificate() -> tuple[Path, Path] | None:
    cert, key = os.environ.get("TLL_TLS_CERT", "").strip(), os.environ.get("TLL_TLS_KEY", "").strip()
    if not cert and not key:
        return None
    if not (cert and key):
        raise ValueError("Set both TLL_TLS_CERT and TLL_TLS_KEY (PEM files), or neither.")
    for path in (cert, key):
        if not Path(path).is_file():
            raise ValueError(f"{path} does not exist.")
    return Path(cert), Path(key)


def _names(addresses: list[str]) -> list[x509.GeneralName]:
    host = socket.gethostname()
    dns = sorted({"localhost", host, f"{host}.local"})
    ips = sorted({"127.0.0.1", *addresses}, key=lambda a: ipaddress.ip_address(a).packed)
    return [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]


def _still_good(cert_path: Path, addresses: list[str]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    have = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    fresh = cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=RENEW_DAYS)
    return fresh and set(addresses) <= have


def self_signed(folder: Path, addresses: list[str]) -> tuple[Path, Path]:
    """``folder/cert.pem`` and ``folder/key.pem`` for this computer, made if missing or out of date."""
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    if key_path.is_file() and _still_good(cert_path, addresses):
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Transfer Learning Lab on {socket.gethostname()}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_names(addresses)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the key is readable by us only
    with os.fdopen(fd, "wb") as out:
        out.write(key_bytes)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def fingerprint(cert_path: Path) -> str:
    """SHA-256 fingerprint, for checking on a phone that it is the right certificate."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
