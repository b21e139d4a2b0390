"""What every page shares on a phone: touch targets of at least 44 px (radio rows, checkboxes, buttons, help
icons, menu links) and a labelled menu at the top of the page (a phone's sidebar is closed behind "»")."""

from __future__ import annotations

import streamlit as st

TOUCH_PX = 44
WIDE_PX = 768  # Streamlit shows the sidebar from this width up: the top menu is for narrower screens

CSS = f"""
<style>
[data-testid="stRadio"] label, [data-testid="stCheckbox"] label {{
  min-height: {TOUCH_PX}px; display: flex; align-items: center; padding-top: 2px; padding-bottom: 2px;
}}
[data-testid="stMain"] button[data-testid^="stBaseButton"], [data-testid="stPageLink"] a {{
  min-height: {TOUCH_PX}px;
}}
[data-testid="stTooltipHoverTarget"], [data-testid="stTooltipIcon"] {{
  min-width: {TOUCH_PX}px; min-height: {TOUCH_PX}px; display: inline-flex; align-items: center;
  justify-content: center;
}}
@media (min-width: {WIDE_PX}px) {{ .st-key-phone_menu {{ display: none; }} }}
</style>
"""


def apply() -> None:
    st.html(CSS)


def menu(pages, current: str, extra=None) -> None:
    """A labelled "☰ Pages" menu in the main area: each visible page as a link; ``extra()`` adds more. Keyed by
    the ``current`` page's title, so it arrives closed on the page just chosen."""
    with st.container(key="phone_menu"), st.popover("☰ Pages", key=f"phone_menu_{current}"):
        for page in pages:
            st.page_link(page, label=page.title, icon=page.icon)
        if extra is not None:
            extra()
