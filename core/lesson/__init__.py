"""What the lesson teaches, as data and measurements: the quiz, the lesson's claims, the reference run, the code
of a run, the Compare verdict and the architecture views of the Concept page.
"""

from core.utils.lazy import public_names

__getattr__, __dir__, __all__ = public_names(__name__, {
    "base_comparison": ["FAST_MS", "base_table", "measure_latency"],
    "claims": ["CLAIMS", "LESSON_TRAIN_PHOTOS", "claim_caption", "differences_from_claim"],
    "codegen": ["control_lines", "emit_notebook", "emit_script"],
    "feature_maps": ["FeatureMaps", "first_layer_feature_maps", "sample_flowers"],
    "flowers_here": ["FlowerCounts", "flower_counts"],
    "quiz": ["BONUS_QUESTIONS", "LESSON_QUESTIONS", "Question", "QuestionResult", "display_order", "feedback_message", "score", "shown_letter"],
    "reference": ["REFERENCE", "SCALING", "cached_measurement", "scaling_words", "settings_words"],
    "verdict": ["Needs", "decide"],
})
