"""The glossary (ui.glossary): every term the issue names is explained; the Grad-CAM legend reads low to high."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.inference import heatmap_legend
from ui import glossary

NAMED_IN_THE_ISSUE = ["top-1", "log scale", "no top / include_top", "confusion matrix", "entropy", "BatchNorm"]


def test_every_term_the_issue_names_is_explained():
    for term in NAMED_IN_THE_ISSUE:
        assert len(glossary.help_text(term)) > 40, term
    with pytest.raises(KeyError):
        glossary.help_text("no such word")


def test_the_legend_runs_from_dark_purple_to_bright_yellow_like_the_overlay():
    strip = heatmap_legend(width=64, height=4)
    assert strip.shape == (4, 64, 3) and strip.dtype == np.uint8
    left, right = strip[0, 0].astype(int), strip[0, -1].astype(int)
    assert left[2] > left[0] and right[0] > right[2]  # purple end (hardly mattered) to yellow end (mattered most)
    assert right.sum() > 2 * left.sum()


def test_expander_and_legend_render_with_words():
    def app():
        from ui import glossary

        glossary.expander(["entropy", "BatchNorm"])
        glossary.heatmap_legend()

    at = AppTest.from_function(app, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(m.value for m in at.markdown)
    assert "**entropy**" in text and "**BatchNorm**" in text
    assert any("hardly mattered" in c.value and "mattered most" in c.value for c in at.caption)
