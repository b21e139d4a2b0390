"""The app's one palette: Okabe & Ito's eight colours, safe for the common kinds of colour blindness.

Colour never carries meaning alone here: every use pairs it with text, a line dash, a marker symbol or a bar
pattern (the constants below), so a chart also reads in grey. Source of the palette: Okabe, M. & Ito, K.
(2008), "Color Universal Design" (https://jfly.uni-koeln.de/color/).
"""

from __future__ import annotations

BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#8C8C8C"
LIGHT_GREY = "#D0D0D0"

# One colour per series, in order (runs, splits, bases...).
SERIES = [BLUE, ORANGE, BLUISH_GREEN, VERMILLION, REDDISH_PURPLE, SKY_BLUE, BLACK, YELLOW]
# ...and what tells the series apart without colour.
DASHES = ["solid", "dot", "dash", "longdash", "dashdot", "longdashdot"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon"]
PATTERNS = ["", "/", ".", "x", "\\", "+", "-", "|"]

# Meanings used on several pages.
TRAIN, VALIDATION = BLUE, ORANGE
GOOD, BAD = BLUE, VERMILLION  # always with a word or symbol: "✓ fits a phone" / "✗ too big"
FROZEN, TRAINABLE, NO_PARAMS = SKY_BLUE, VERMILLION, LIGHT_GREY  # with ❄️ / 🔥 labels and a bar pattern
SURE, UNSURE, OTHER = BLUE, ORANGE, LIGHT_GREY  # with "✓ sure" / "? not sure" in the bar text
SEQUENTIAL = "Blues"  # heat maps (counts): light = few, dark = many; the numbers are printed in the cells


def series(i: int) -> str:
    return SERIES[i % len(SERIES)]


def dash(i: int) -> str:
    return DASHES[i % len(DASHES)]


def symbol(i: int) -> str:
    return SYMBOLS[i % len(SYMBOLS)]


def pattern(i: int) -> str:
    return PATTERNS[i % len(PATTERNS)]
