"""Take it home: a trained model as files that work without this app (``.keras``, LiteRT, labels, a model card,
``predict.py``), checked against each other. ``python -m core.export`` is its command line.
"""

from core.utils.lazy import public_names

__getattr__, __dir__, __all__ = public_names(__name__, {
    "bundle": ["export_trained", "model_bytes", "save_trained_model"],
    "model_card": ["agreement_text", "difference_text", "keras_lines"],
})
