"""How students reach the server: its addresses on the school network, and a QR code for each.

``TLL_JOIN_URL`` (e.g. ``https://lab.school.example:8501``) replaces the guessed addresses when the teacher has
a name for the server. Otherwise every IPv4 address of this computer's network interfaces is offered, except
loopback and link-local ones (a phone cannot reach those).
"""

from __future__ import annotations

import io
import ipaddress
import os

import psutil
import segno


def network_addresses() -> list[str]:
    """IPv4 addresses other computers may reach this one at, most likely first (private LAN ranges)."""
    found = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family.name != "AF_INET":
                continue
            ip = ipaddress.ip_address(address.address)
            if ip.is_loopback or ip.is_link_local or ip.is_unspecified:
                continue
            found.append(ip)
    found = sorted(set(found), key=lambda ip: (not ip.is_private, str(ip).startswith("172.17."), str(ip)))
    return [str(ip) for ip in found]


def join_urls(port: int, https: bool) -> list[str]:
    explicit = os.environ.get("TLL_JOIN_URL", "").strip()
    if explicit:
        return [explicit]
    scheme = "https" if https else "http"
    return [f"{scheme}://{ip}:{port}" for ip in network_addresses()]


def qr_png(url: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def qr_text(url: str) -> str:
    """The QR code in block characters, for the terminal."""
    out = io.StringIO()
    segno.make(url, error="m").terminal(out, compact=True, border=2)
    return out.getvalue()
