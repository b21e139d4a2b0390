"""Which camera ``st.camera_input`` opens on a phone: the back one, for photographing leaves and fruit.

Streamlit 1.67's camera widget always asks the browser for the front ("user") camera and has no option for
another; its own switch button is forgotten whenever the widget is made anew (the My photos page makes a fresh
one after every snapshot, so the next photo is one tap away). So the page chooses: a few lines of JavaScript in
the page ask for the chosen camera whenever the widget asks for one. ``facingMode`` stays a preference, not a
demand: a laptop with a single webcam still gets it.
"""

from __future__ import annotations

import json

import streamlit as st

BACK, FRONT = "environment", "user"

_SCRIPT = """
<script>
window.__tllFacing = %s;
if (!window.__tllFacingInstalled && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
  window.__tllFacingInstalled = true;
  const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => {
    const video = constraints && constraints.video;
    if (video && typeof video === "object" && "facingMode" in video) {
      constraints = {...constraints, video: {...video, facingMode: window.__tllFacing}};
      window.__tllFacingAsked = window.__tllFacing;
    }
    return ask(constraints);
  };
}
</script>
"""


def prefer(facing: str) -> None:
    """From now on, camera widgets on this page open ``facing`` (``BACK`` or ``FRONT``)."""
    st.html(_SCRIPT % json.dumps(facing), unsafe_allow_javascript=True)
