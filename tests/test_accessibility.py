"""Accessibility checks that read the source: every image the pages show carries an ``alt`` text."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VIEWS = sorted([*ROOT.glob("app_pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"])


def _image_calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "image":
            yield node


def test_every_image_on_the_pages_has_alt_text():
    missing, seen = [], 0
    for path in VIEWS:
        for call in _image_calls(path):
            seen += 1
            if not any(keyword.arg == "alt" for keyword in call.keywords):
                missing.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert seen >= 10, "the scan found too few st.image calls: has the code moved?"
    assert missing == [], f"st.image without alt=: {missing}"
