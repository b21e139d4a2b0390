"""The class's hyperparameter map as a panel: the chart, what the class found so far, and (for the teacher) who
ran what. The Train page shows it with the student's own runs highlighted and everyone else anonymous; the Teacher
page and the projector page call it with ``names=True``.
"""

from __future__ import annotations

import streamlit as st

from core.classroom import class_findings, class_map_points
from core.classroom.runner import store
from ui import charts

REFRESH_S = 20  # the map follows the class's runs as they finish, without redrawing every second on 30 phones


def class_map_panel(viewer_id: str | None = None, names: bool = False, key: str = "class_map",
                    live: bool = True) -> None:
    """Draw the map. ``live``: redrawn every ``REFRESH_S`` seconds on its own; False inside a caller's own live
    fragment (the Teacher page's), which redraws it."""
    if live:
        st.fragment(run_every=REFRESH_S)(draw)(viewer_id, names, key)
    else:
        draw(viewer_id, names, key)


def draw(viewer_id: str | None, names: bool, key: str) -> None:
    points = class_map_points(store().class_runs(), viewer_id, names)
    rows, summary = class_findings(points)
    st.markdown(f"**What the class found so far.** {summary}")
    if not points:
        return
    st.plotly_chart(charts.class_map(points, teacher=names), config=charts.PHONE_FRIENDLY, key=f"{key}_chart")
    with st.expander("Each setting against the best (Newcombe's check of the difference)"):
        st.dataframe([{"settings": r.label, "test accuracy": f"{r.accuracy:.1%}", "runs": r.runs,
                       "against the best": r.words} for r in rows], hide_index=True)
    if names:
        with st.expander("Who ran what"):
            st.dataframe([{"student": p.who, "settings": p.label, "test accuracy": f"{p.accuracy:.1%}",
                           "reused": "yes" if p.reused else ""} for p in points], hide_index=True)
    else:
        st.caption("Your runs are the blue diamonds; the grey circles are your classmates' (anonymous). "
                   "Identical settings give identical numbers, so a repeated setting is computed once.")
