"""The Compare page's verdict: the student states what matters and sets every limit; ``core.lesson.verdict`` decides.

Widget keys (this page only): ``compare_need_phone``, ``compare_phone_budget``, ``compare_need_train_here``,
``compare_need_live``, ``compare_max_slowdown``.
"""

from __future__ import annotations

import streamlit as st

from core.lesson import Needs, decide

BUDGETS_MB = [2, 5, 10, 20, 50, 100, 200, 600]  # a log-like scale: from a slim MobileNet to all of VGG16
SLOWDOWNS = [1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0]
DEFAULT_BUDGET_MB = 20


def phone_budget() -> float:
    """The student's phone budget (MB), also drawn on the accuracy-vs-size chart above the verdict."""
    return float(st.session_state.get("compare_phone_budget", DEFAULT_BUDGET_MB))


def _needs() -> Needs:
    left, right = st.columns(2)
    with left:
        on_phone = st.toggle("It must run on a phone", value=True, key="compare_need_phone")
        budget = st.select_slider(
            "Phone budget for the base's weights (MB)", BUDGETS_MB, value=DEFAULT_BUDGET_MB,
            key="compare_phone_budget", disabled=not on_phone,
            help="Your choice, not a rule: how much of your app's download the model may take. Sizes are float32 "
                 "weights without the ImageNet top; int8 quantisation (Export) makes them about 4× smaller.")
        train_here = st.toggle("I must train it here", value=True, key="compare_need_train_here",
                               help="Only bases whose pretrained ImageNet weights are on this computer.")
    with right:
        live = st.toggle("It must keep up with a live camera", value=False, key="compare_need_live")
        slowdown = st.select_slider(
            "At most this many times MobileNetV2's time per photo", SLOWDOWNS, value=2.0,
            key="compare_max_slowdown", disabled=not live, format_func=lambda v: f"{v:g}×",
            help="Compared with MobileNetV2 timed on this same computer, so a busy server slows both alike and "
                 "the pick does not change with the load. Press Measure speed above first.")
    return Needs(on_phone=on_phone, phone_budget_mb=float(budget), train_here=train_here, live_camera=live,
                 max_slowdown=float(slowdown))


def show(rows: list[dict], latency: dict[str, dict]) -> None:
    """What matters to you, then the pick among the bases that meet it, with every reason."""
    st.write("What matters for your project? The verdict keeps the bases that meet your needs and picks the "
             "most accurate of them (ImageNet top-1, from the source in the table).")
    needs = _needs()
    verdict = decide(rows, needs, {k: v["ms_per_image"] for k, v in latency.items() if v.get("ms_per_image")})
    st.markdown(verdict.markdown(needs))
