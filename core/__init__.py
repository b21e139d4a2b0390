"""Transfer Learning Lab's engine: data, models, training, evaluation, prediction, explanation, export.

Never imports streamlit. Modules that build or run models import TensorFlow lazily, so the quiz and
concept text can use ``core`` without paying for it.
"""
