"""What the lesson *claims* about accuracy, with the conditions it claims it under.

The lesson's numbers (≈60% from scratch, 80–85% after phase 1, 90–95% after fine-tuning) are not measured
by this app: they come from the lesson text, for its own data and hardware. Wherever the app shows them it
labels them as the lesson's claim, states these conditions, and puts a figure measured here beside them
(``core.lesson.reference``). Plain data: no TensorFlow, no Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

LESSON_FILE = "lesson-2-transfer-learning.txt"  # in the shared folder; the source of truth for what is taught

# tf_flowers has one split of 3,670 photos; the lesson's code trains on ``train[:70%]``.
TF_FLOWERS_PHOTOS = 3670
LESSON_TRAIN_PHOTOS = round(0.70 * TF_FLOWERS_PHOTOS)  # 2,569
LESSON_HARDWARE = "a Google Colab T4 GPU"


@dataclass(frozen=True)
class Claim:
    key: str  # "scratch", "phase1", "phase2": the same keys as a reference run's figures
    stage: str  # what was trained
    figure: str  # as the lesson writes it
    low: float  # the claimed range, as fractions
    high: float
    source: str  # where in the lesson
    conditions: str  # data, settings and hardware the lesson states (or its code implies)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "scratch", "CNN from scratch", "≈ 60%", 0.60, 0.60, "Kiran's story",
        "a CNN trained from scratch (Lesson 1's approach) on about 200 photos per species, 30 epochs",
    ),
    Claim(
        "phase1", "Frozen MobileNetV2 + new head", "80–85%", 0.80, 0.85, "\"Typical results\" after the full code",
        f"the lesson's Colab code: tf_flowers train[:70%] (about {LESSON_TRAIN_PHOTOS:,} of "
        f"{TF_FLOWERS_PHOTOS:,} photos, 5 classes), 224 px, pixels divided by 255, 5 epochs head only, "
        f"on {LESSON_HARDWARE}",
    ),
    Claim(
        "phase2", "Fine-tune the top 30 layers", "90–95%", 0.90, 0.95, "\"Typical results\" after the full code",
        "the same run after 10 more epochs with the top 30 base layers unfrozen, Adam at 1e-5",
    ),
)
BY_KEY: dict[str, Claim] = {claim.key: claim for claim in CLAIMS}

# The settings a run needs before its figure may stand beside a claim: the lesson's recipe (tf_flowers,
# MobileNetV2, 224 px, 5 + 10 epochs, top 30 layers, Adam 1e-3 then 1e-5). The pixel scaling and the augmentation
# are not compared: the reference run changes them on purpose and says so in its settings.
_PHASE1 = {"data": "tf_flowers", "base": "mobilenet_v2", "preset": "", "pretrained": True, "image_size": 224,
           "epochs1": 5, "lr1": 1e-3}
CLAIM_SETTINGS: dict[str, dict] = {
    "scratch": {"data": "tf_flowers", "image_size": 224, "epochs1": 30},
    "phase1": _PHASE1,
    "phase2": {**_PHASE1, "unfreeze": 30, "epochs2": 10, "lr2": 1e-5},
}
_SETTING_WORDS = {  # label, and how a value reads
    "data": ("photos", lambda v: "the shared flowers" if v == "tf_flowers" else "your own"),
    "base": ("base", str),
    "preset": ("recipe", lambda v: f"the '{v}' preset" if v else "the lesson's two phases"),
    "pretrained": ("weights", lambda v: "pretrained" if v else "random"),
    "image_size": ("image size", lambda v: f"{v} px"),
    "epochs1": ("epochs", str),
    "epochs2": ("fine-tuning epochs", str),
    "unfreeze": ("layers unfrozen", str),
    "lr1": ("learning rate", lambda v: f"{v:g}"),
    "lr2": ("fine-tuning learning rate", lambda v: f"{v:g}"),
}


def differences_from_claim(key: str, settings: dict) -> list[str]:
    """How a run's ``settings`` (a ``TrainConfig.to_dict()``, or part of one) differ from what claim ``key``
    needs, in words ("image size: 96 px, not 224 px"); empty when the run may stand beside the claim. A setting
    the run does not record counts as different."""
    words = []
    for name, wanted in CLAIM_SETTINGS[key].items():
        label, said = _SETTING_WORDS[name]
        if name not in settings:
            words.append(f"{label}: not recorded")
        elif settings[name] != wanted:
            words.append(f"{label}: {said(settings[name])}, not {said(wanted)}")
    return words
KIRAN_RESULT = 0.92  # "Kiran followed his advice — and hit 92% accuracy" (no settings stated)


def claim_caption(claim: Claim) -> str:
    """One line: the figure, whose claim it is, and under which conditions."""
    return f"The lesson's claim ({claim.source}): {claim.figure} for {claim.conditions}."
