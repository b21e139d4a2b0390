"""``python -m core.export MODEL.keras --out DIR``: a trained model as files that work without this app."""

import sys

from core.export.bundle import main

if __name__ == "__main__":
    sys.exit(main())
