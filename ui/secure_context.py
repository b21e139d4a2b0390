"""Can this page use the camera? Browsers give it only to secure pages: HTTPS, or this computer (localhost).

Decided on the server from the address the browser asked for (``st.context.url``, and ``X-Forwarded-Proto``
behind an HTTPS proxy): a phone on ``http://192.168.1.20:8501`` gets no camera, and the page says why and
offers the upload instead (on a phone, the upload button can open the camera too).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
NOT_SECURE_MESSAGE = (
    "The camera cannot be used here: this page was not opened over a secure connection (https://), and "
    "browsers only allow the camera on secure pages. Use **Upload a photo** above instead: on a phone it "
    "offers to take a photo with the camera. (Teacher: start the app with `make classroom` for HTTPS.)"
)


def is_secure_origin(url: str | None, forwarded_proto: str | None = None) -> bool:
    """True for https:// and for localhost addresses; an unknown address (no browser, e.g. tests) counts as secure."""
    if not url:
        return True
    parts = urlsplit(url)
    if parts.scheme == "https" or (forwarded_proto or "").split(",")[0].strip().lower() == "https":
        return True
    host = (parts.hostname or "").lower()
    return host in LOCAL_HOSTS or host.endswith(".localhost")


def camera_allowed() -> bool:
    url = st.context.url
    return is_secure_origin(url if isinstance(url, str) else None, st.context.headers.get("X-Forwarded-Proto"))
