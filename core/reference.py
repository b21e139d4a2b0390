"""``python -m core.reference``: the lesson's three figures measured once on the flowers here (or the cached ones)."""

import sys

from core.lesson.reference import main

if __name__ == "__main__":
    sys.exit(main())
