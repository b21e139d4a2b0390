"""What the lesson teaches, as data and measurements: the quiz, the lesson's claims, the reference run, the code
of a run, the Compare verdict and the architecture views of the Concept page.
"""

from core.utils.lazy import public_names

__getattr__, __dir__, __all__ = public_names(__name__, {
    "architecture": ["unfreeze_summary"],
    "claims": ["CLAIMS", "LESSON_TRAIN_PHOTOS", "claim_caption", "differences_from_claim"],
    "flowers_here": ["FlowerCounts", "flower_counts"],
    "codegen": ["emit_script"],
    "quiz": ["BONUS_QUESTIONS", "LESSON_QUESTIONS", "Question", "QuestionResult", "display_order", "feedback_message", "score", "shown_letter"],
    "verdict": ["Needs", "decide"],
})
