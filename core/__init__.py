"""Transfer Learning Lab's engine: data, models, training, evaluation, prediction, explanation, export.

Never imports streamlit. Layered packages, each importing only those below it: ``utils``, ``photos``, ``models``,
``inference``, ``export``, ``training``, ``lesson``, ``classroom``, ``cli``; each package's ``__init__`` lists its
public names. Modules that pages import before any model exists (the base registry, the layer table, datasets,
the quiz) do not import TensorFlow.
"""

import os

# TensorFlow's C++ start-up chatter hides our own messages (warnings and errors stay). Set before any
# core module imports TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
