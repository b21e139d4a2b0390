"""Text that leaves the server must be safe to show: names without hidden characters, no server paths.

* **Names** (class folders, photo files) are compared and shown in Unicode NFC (macOS writes decomposed
  accents: ``"Rose\u0301"`` and ``"Rosé"`` are one class), and refused when they hold characters a
  reader cannot see: control characters (C0, DEL, C1), the bidirectional controls that reorder text on
  screen (a right-to-left override makes ``"\u202egpj.exe"`` look like ``"exe.jpg"``), line and paragraph
  separators, and zero-width spaces that make two different names look the same. Zero-width (non-)joiners
  stay allowed: Devanagari and Persian names need them.
* **Messages** to students and files given to them (exported models) never show where things live on the
  server: :func:`hide_paths` shortens every absolute path to its last part (``…/daisy/3.jpg``).

Plain Python: no Streamlit, no TensorFlow.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import unicodedata
from pathlib import Path

BIDI_CONTROLS = {
    0x061C: "an Arabic letter mark",
    0x200E: "a left-to-right mark",
    0x200F: "a right-to-left mark",
    0x202A: "a left-to-right embedding",
    0x202B: "a right-to-left embedding",
    0x202C: "a pop-directional formatting",
    0x202D: "a left-to-right override",
    0x202E: "a right-to-left override",
    0x2066: "a left-to-right isolate",
    0x2067: "a right-to-left isolate",
    0x2068: "a first-strong isolate",
    0x2069: "a pop-directional isolate",
}
INVISIBLE = {
    0x200B: "a zero-width space",
    0x2060: "a word joiner",
    0xFEFF: "a zero-width no-break space",
    0x2028: "a line separator",
    0x2029: "a paragraph separator",
}
ELLIPSIS = "…"


class UnsafeName(ValueError):
    """A name refused for a reason a student can act on (``reason``)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"


def name_problem(name: str) -> str | None:
    """Why ``name`` may not be used as a class or file name, or ``None``.

    The reason starts with a fixed phrase and names the character in parentheses, so a report can count
    reasons together (``core.photos.report.reason_group``).
    """
    for char in name:
        point = ord(char)
        if point < 0x20 or point == 0x7F or 0x80 <= point <= 0x9F:  # C0, DEL, C1
            return f"name holds an invisible control character ({_code(char)})"
        if point in BIDI_CONTROLS:
            return (f"name holds a text-direction character that can disguise it "
                    f"({BIDI_CONTROLS[point]}, {_code(char)})")
        if point in INVISIBLE:
            return f"name holds an invisible character ({INVISIBLE[point]}, {_code(char)})"
    return None


def _hidden(char: str) -> bool:
    point = ord(char)
    return point < 0x20 or point == 0x7F or 0x80 <= point <= 0x9F or point in BIDI_CONTROLS or point in INVISIBLE


def visible(name: str) -> str:
    """``name`` with every hidden character written out (``"roses⟨U+202E⟩"``), for listing refused names."""
    return "".join(f"⟨{_code(c)}⟩" if _hidden(c) else c for c in name)


def normalise_name(name: str) -> str:
    """``name`` in Unicode NFC, or raise :class:`UnsafeName`."""
    problem = name_problem(name)
    if problem:
        raise UnsafeName(problem)
    return unicodedata.normalize("NFC", name)


# ------------------------------------------------------------------------------------- paths

# An absolute POSIX path (not the "//host/x" of a URL), or a Windows drive / UNC path.
_POSIX_PATH = re.compile(r"(?<![\w:/.~\-])/(?:[^\s/'\"<>|:,;()\[\]]+/?)+")
_WINDOWS_PATH = re.compile(r"(?<![\w])(?:[A-Za-z]:|\\\\[^\s\\]+)\\(?:[^\s\\'\"<>|:,;()\[\]]+\\?)*")


def _last_parts(path: str, separator: str) -> str:
    parts = [p for p in path.split(separator) if p]
    if not parts:
        return ELLIPSIS
    keep = parts[-2:] if "." in parts[-1] and len(parts) >= 2 else parts[-1:]  # a file keeps its folder
    return ELLIPSIS + "/" + "/".join(keep)


def _known_roots() -> list[str]:
    """Server folders whose names (with spaces, say) the pattern alone might cut short; longest first."""
    roots = {tempfile.gettempdir(), str(Path.home()), os.getcwd(), str(Path(__file__).resolve().parents[2])}
    for variable in ("TLL_CACHE_DIR", "TLL_OFFLINE_BUNDLE", "TLL_FLOWERS_DIR", "TLL_STORE_DIR"):
        if os.environ.get(variable):
            roots.add(os.environ[variable])
    resolved = set()
    for root in roots:
        resolved.add(root.rstrip("/\\"))
        try:
            resolved.add(str(Path(root).resolve()))
        except OSError:
            pass
    return sorted((r for r in resolved if len(r) > 1), key=len, reverse=True)


def hide_paths(text: str) -> str:
    """``text`` with every absolute path shortened to its last part: ``…/daisy/3.jpg``, ``…/flowers``."""
    if not text:
        return text
    for root in _known_roots():
        text = text.replace(root + "/", "/_/").replace(root + "\\", "\\_\\").replace(root, "/_")
    text = _POSIX_PATH.sub(lambda m: _last_parts(m.group(0), "/"), text)
    text = _WINDOWS_PATH.sub(lambda m: _last_parts(m.group(0), "\\"), text)
    return text


def student_error(error: BaseException) -> str:
    """What a student reads when something failed: the reason, in words, without server paths."""
    if isinstance(error, FileNotFoundError):
        name = Path(error.filename).name if error.filename else ""
        which = f" ({name})" if name else ""
        return (f"A photo file could not be found any more{which}. If you uploaded new photos while training, "
                "start the training again.")
    if isinstance(error, MemoryError):
        return "The computer running the app ran out of memory. Try smaller photos or fewer at once, or tell your teacher."
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "The computer running the app has run out of disk space. Tell your teacher."
    if isinstance(error, ValueError) and type(error).__name__ in {"UploadError", "DatasetError", "ImageProblem",
                                                                   "UnsafeName"}:
        return hide_paths(str(error))  # already written for a student
    return hide_paths(f"{type(error).__name__}: {error}")


# Every ASCII punctuation character can be backslash-escaped in Markdown (CommonMark), which also covers
# Streamlit's own syntax: :red[...] colours, :emoji: codes, $LaTeX$, [links](...) and ![images](...).
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def as_text(value) -> str:
    """``value`` (a nickname, class or file name a student typed) for st.markdown, captions, messages and
    labels: shown exactly as typed, never as Markdown or HTML, on one line."""
    text = " ".join(str(value).splitlines())
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A cell for a CSV a spreadsheet will open: text starting like a formula (``=HYPERLINK(...)``) stays text."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_START):
        return "'" + value
    return value
