"""``python -m core.evaluate MODEL.keras FOLDER``: a saved model scored on a folder of class folders, as JSON."""

import sys

from core.inference.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
