"""Base models and what is inside them: the bases from ``keras.applications``, the lesson's classifier on
top, the freeze boundary, MobileNetV2's layer table and the unfreezing sums. Keras is imported inside functions
(the freeze boundary imports it at its top: its functions are handed out as callers that import it when called).
"""

from core.utils.lazy import public_names

__getattr__, __dir__, __all__ = public_names(__name__, {
    "bases": ["BASES", "DEFAULT_BASE", "IMAGE_SIZES", "WeightsUnavailable", "base_of", "base_spec", "build_base", "build_classifier", "build_head", "preprocess_layer", "preprocess_layer_class", "preprocessing_mode", "private_copy", "shared_base", "trainable_counts", "unfreeze_top", "weights_available"],
    "freeze_boundary": ["run_front", "shared_pooled_front", "split_base"],
    "layer_table": ["INPUT_LAYER_NAME", "TABLE_FILE", "TABLE_KEY", "TABLE_SIZE", "build_layer_table", "read_layer_table", "render_table", "table_differences", "write_layer_table"],
    "unfreeze_sums": ["LESSON_CLASSES", "LESSON_HEAD_UNITS", "head_rows", "unfreeze_counts", "unfreeze_summary"],
}, heavy=("freeze_boundary",))
