"""Names that look the same compare the same: "Bob", "Ｂob" (full-width) and "Bоb" (Cyrillic о) are one name.

``skeleton`` folds a name to NFKC (full-width, ligatures, super/subscripts), lower-cases it and maps the common
Cyrillic and Greek look-alikes of Latin letters to those letters: a small hand-made part of Unicode's
confusables table (UTS #39), enough for nicknames typed on phones. Accents stay: "José" and "Jose" are two
people who can tell their names apart.
"""

from __future__ import annotations

import unicodedata

# Cyrillic and Greek letters drawn like Latin ones (upper and lower case, after casefold where it applies).
_LOOKALIKES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
    "ь": "b", "г": "r", "п": "n", "ш": "w",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "γ": "y", "ω": "w", "ϲ": "c", "ϳ": "j", "ϝ": "f",
    "ı": "i", "ȷ": "j", "ℓ": "l", "ſ": "s",
})


def skeleton(text: str) -> str:
    """A key under which look-alike spellings of one name are equal."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).translate(_LOOKALIKES)
