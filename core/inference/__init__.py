"""A trained model at work: loading a ``.keras`` file without trusting it, predicting one photo honestly,
evaluating on a folder, Grad-CAM, and a confidence threshold.
"""

from core.utils.lazy import public_names

__getattr__, __dir__, __all__ = public_names(__name__, {
    "evaluate": ["evaluate_probabilities", "misclassified"],
    "explain": ["CannotExplain", "grad_cam", "heatmap_legend", "overlay"],
    "isolated_model": ["ModelRunFailed", "load_isolated"],
    "model_file": ["MAX_MODEL_BYTES", "MB", "METADATA_NAME", "ModelFileProblem", "load_checked", "model_metadata", "read_metadata", "save_model_file", "save_trained_model", "versions"],
    "predict": ["MAX_ENTROPY", "MIN_CONFIDENCE", "MIN_MARGIN", "Prediction", "RULE_EXPLANATION", "SMALL_PHOTO", "judge", "load_trained_model", "predict_photo", "prepare_photo"],
    "threshold": ["answer_or_not_sure", "confidence_curve", "point_at_threshold", "threshold_words"],
})
