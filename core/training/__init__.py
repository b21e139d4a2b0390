"""Training: the settings a student picks (``TrainConfig``), the learner and its two phases, the feature
cache that does the frozen work once, the presets, cross-validation, the scratch baseline and the quick model.
"""

from core.utils.lazy import public_names

__getattr__, __dir__, __all__ = public_names(__name__, {
    "augment": ["augment_images", "preview_augmentations"],
    "crossval": ["CrossValResult", "head_crossval", "recipe_crossval"],
    "history": ["RunRecord", "add_run", "changed_settings", "curve_rows", "runs_table"],
    "learner": ["vision_learner"],
    "near_duplicates": ["split_keeping_near_duplicates_together"],
    "nested_cv": ["NestedResult", "nested_crossval"],
    "preset_benchmark": ["PresetBenchmark", "read_preset_benchmark"],
    "presets": ["PRESETS"],
    "quick_model": ["quick_default_model"],
    "recipe": ["train"],
    "results": ["Callbacks", "EpochRecord", "Evaluation", "PHASE1", "PhaseResult", "Progress", "TrainResult"],
    "scratch": ["train_from_scratch"],
    "settings": ["AugmentConfig", "SHEAR_FACTORS", "TrainConfig"],
}, heavy=("augment", "learner", "quick_model", "scratch"))
