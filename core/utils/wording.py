"""Lists in sentences a student reads: "daisy, roses and tulips"."""

from __future__ import annotations


def join_words(words, last: str = "and") -> str:
    """``a``; ``a and b``; ``a, b and c`` (``last="or"``: ``a, b or c``)."""
    words = [str(w) for w in words]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]
