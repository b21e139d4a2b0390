"""``python -m core.classroom``: the app for a class, over HTTPS on the school network."""

import sys

from core.classroom.serve import main

if __name__ == "__main__":
    sys.exit(main())
