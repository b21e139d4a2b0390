"""What every layer may use: where files live, text that is safe to show, intervals, and sentences.

No TensorFlow, no Pillow. Nothing here imports another ``core`` package.
"""

from core.utils.lazy import public_names

__getattr__, __dir__, __all__ = public_names(__name__, {
    "paths": ["PROJECT_ROOT", "cache_dir", "offline_bundle"],
    "priority": ["lower_priority"],
    "safe_text": ["UnsafeName", "as_text", "csv_cell", "hide_paths", "name_problem", "normalise_name",
                  "student_error", "visible"],
    "stats": ["accuracy_interval", "difference_from_accuracies", "interval_words", "small_test_warning", "summary_fields"],
    "wording": ["join_words"],
})
