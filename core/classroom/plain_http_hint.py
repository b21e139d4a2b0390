"""An address typed without ``https://`` still reaches the class: plain HTTP on the HTTPS port gets a redirect.

A phone that sends plain HTTP to a TLS port gets an empty answer (Chrome: ERR_EMPTY_RESPONSE) and no hint.
Streamlit serves through uvicorn on asyncio, whose TLS protocol (``asyncio.sslproto.SSLProtocol``) reads a
connection's first bytes before the handshake. ``install_plain_http_hint()`` teaches it to look: a TLS handshake starts with the
byte 0x16; a connection that starts with an HTTP method instead is answered in plain HTTP with a redirect to the
same address over https:// (and a line saying so), then closed. Everything else is left to TLS as before.

``python -m ui.streamlit_with_http_hint run app.py ...`` is ``streamlit run`` with this installed
(``make classroom`` starts the server this way).
"""

from __future__ import annotations

import re

METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"DELETE ", b"OPTIONS ", b"PATCH ")
TLS_HANDSHAKE = 0x16
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/?\-]*$")


def looks_like_plain_http(first: bytes) -> bool:
    return bool(first) and first[0] != TLS_HANDSHAKE and first.startswith(METHODS)


def redirect_response(request: bytes) -> bytes:
    """The plain-HTTP answer to ``request``: 301 to the same host and path over https://."""
    lines = request.split(b"\r\n")
    parts = lines[0].split(b" ")
    path = parts[1].decode("latin-1") if len(parts) > 1 else "/"
    if not _PATH.match(path):
        path = "/"
    host = next((line.split(b":", 1)[1].strip().decode("latin-1") for line in lines[1:]
                 if line.lower().startswith(b"host:")), "")
    if not _HOST.match(host):  # nothing to point at: say what to type instead of redirecting
        body = "This server speaks HTTPS only: type the address with https:// at the front (or scan the QR code).\n"
        return (f"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n{body}").encode()
    url = f"https://{host}{path}"
    body = (f"This server speaks HTTPS only. Open {url}\n(type https:// at the front, or scan the QR code).\n")
    return (f"HTTP/1.1 301 Moved Permanently\r\nLocation: {url}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n{body}").encode()


def install_plain_http_hint() -> None:
    """Patch asyncio's server-side TLS protocol (once) to answer plain HTTP with ``redirect_response``."""
    from asyncio import sslproto

    original = sslproto.SSLProtocol.buffer_updated
    if getattr(original, "answers_plain_http", False):
        return

    def buffer_updated(self, nbytes):
        if (self._server_side and self._state == sslproto.SSLProtocolState.DO_HANDSHAKE
                and not getattr(self, "_plain_http_checked", False)):
            self._plain_http_checked = True
            first = bytes(self._ssl_buffer_view[:nbytes])
            if looks_like_plain_http(first):
                transport = self._transport
                transport.write(redirect_response(first))
                transport.close()
                return
        return original(self, nbytes)

    buffer_updated.answers_plain_http = True
    sslproto.SSLProtocol.buffer_updated = buffer_updated

