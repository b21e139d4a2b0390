"""Lists in sentences a student reads: "daisy, roses and tulips"."""

from __future__ import annotations


def join_words(words, last: str = "and") -> str:
    """``a``; ``a and b``; ``a, b and c`` (``last="or"``: ``a, b or c``)."""
    words = [str(w) for w in words]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def duration_words(seconds: float) -> str:
    """A time limit as people say it: "20 seconds", "1 minute", "15 minutes", "2.5 minutes"."""
    if seconds < 60:
        return f"{round(seconds)} second{'' if round(seconds) == 1 else 's'}"
    minutes = seconds / 60
    shown = f"{minutes:.0f}" if abs(minutes - round(minutes)) < 0.05 else f"{minutes:.1f}"
    return f"{shown} minute{'' if shown == '1' else 's'}"
