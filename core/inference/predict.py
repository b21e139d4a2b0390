"""Classifying one photo with a trained model, honestly: a top-k list and a verdict that says "not sure"
when the model has no good reason to be sure.

``prepare_photo`` turns whatever a student uploads (phone JPEG with an EXIF rotation, PNG with
transparency, greyscale, CMYK, HEIC, a tiny icon, a 40-megapixel photo) into a picture to show and the
``size x size`` pixels the model sees; ``predict_photo`` classifies those pixels. The quick flower
model lives in ``core.training.quick_model``, Grad-CAM ("where the model looked") in ``core.inference.explain``.

No TensorFlow import at module level; no Streamlit anywhere.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.inference.model_file import load_checked, load_uploaded
from core.photos.images import MAX_IMAGE_PIXELS, ImageProblem, open_rgb, upright_size
from core.utils import paths as config
from core.utils.wording import join_words

# The verdict rule (see ``judge``). Measured with the quick default model (160 px, seed 42) on its 149
# test photos: "sure" about 122 of the 128 it got right, "not sure" about 9 of the 21 it got wrong; and
# "not sure" about 24 of 26 non-flower pictures (screenshots, random noise, blank black/grey/white).
MIN_CONFIDENCE = 0.6  # the best class must get at least 60%...
MIN_MARGIN = 0.2  # ...and beat the runner-up by at least 20 percentage points...
MAX_ENTROPY = 0.6  # ...and (with 3+ classes) the votes must not be spread out (normalised entropy)

# The picture we show (and draw Grad-CAM on) is at most this many pixels on its longer side;
# a photo smaller than SMALL_PHOTO on its shorter side is enlarged so a student can see it at all.
DISPLAY_MAX = 1024
SMALL_PHOTO = 64
DISPLAY_MIN = 256

REASON_CONFIDENT = "confident"
REASON_UNFAMILIAR = "unfamiliar"  # votes spread over many classes: maybe unlike every training class
REASON_CLOSE_CALL = "close call"  # torn between two classes
REASON_LOW_CONFIDENCE = "low confidence"  # best class below MIN_CONFIDENCE

RULE_EXPLANATION = (
    f"The model always gives every class a probability, and they add up to 100%. We only call it sure when "
    f"its best class gets at least {MIN_CONFIDENCE:.0%}, beats the runner-up by at least {MIN_MARGIN * 100:.0f} "
    f"percentage points, and (with three or more classes) the rest of the votes are not spread out over many "
    f"classes. Spread-out votes (high 'entropy', above {MAX_ENTROPY:.0%} of the maximum) often mean the photo "
    "looks unlike all the training photos. But a model can only answer with the classes it learned: show it a "
    "cat and it will still pick one of them, sometimes even confidently."
)


@dataclass
class LoadedModel:
    model: object
    class_names: list[str]
    image_size: int
    metadata: dict


def load_trained_model(source, name: str | None = None) -> LoadedModel:
    """A ``.keras`` file made by this app (a path, or the bytes of an upload called ``name``), checked and
    loaded in safe mode (``core.inference.model_file``); anything else raises ``core.inference.model_file.ModelFileProblem``
    (a ``ValueError``) saying why, in words for a student."""
    config.quiet_tensorflow_logs()
    if isinstance(source, bytes | bytearray | memoryview):
        model, metadata = load_uploaded(bytes(source), name or "model.keras")
    else:
        model, metadata = load_checked(source, name)
    return LoadedModel(model, list(metadata["class_names"]), int(metadata["image_size"]), metadata)


def classify_array(model, image: np.ndarray) -> np.ndarray:
    """Class probabilities for one ``size x size x 3`` uint8 photo."""
    return np.asarray(model.predict_on_batch(image[None].astype("float32")))[0]


# ---------------------------------------------------------------------------------------------------
# Photos in


def prepare_photo(source, size: int) -> tuple[Image.Image, np.ndarray]:
    """``(display_image, model_input)`` for a photo given as bytes, a file-like object or a path.

    * ``display_image``: upright RGB (EXIF rotation applied; transparency on white; greyscale, CMYK,
      16-bit... converted), at most ``DISPLAY_MAX`` px on its longer side; a tiny photo is enlarged
      (blocky, so you can see how little there is). ``display_image.info["original_size"]`` is the
      photo's own ``(width, height)``.
    * ``model_input``: ``size x size x 3`` uint8, squashed (not cropped) with bilinear resampling,
      exactly like the training photos (``core.photos.images.load_array``).

    Raises ``ImageProblem`` with a message a student can act on (not a photo, damaged, too large).
    """
    if source is None:
        raise ImageProblem("No photo was given.")
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise ImageProblem("The file is empty (0 bytes). Try taking or choosing the photo again.")
        source = io.BytesIO(bytes(source))
    elif isinstance(source, str | Path):
        source = Path(source)
        if not source.is_file():
            raise ImageProblem(f"There is no file at {source}.")
    elif hasattr(source, "seek"):
        source.seek(0)
    try:
        image = open_rgb(source, draft_size=DISPLAY_MAX)
    except ImageProblem as problem:
        raise ImageProblem(_friendly(problem.reason)) from None
    original = upright_size(source) or image.size  # draft mode may have decoded it smaller
    model_input = np.asarray(image.resize((size, size), Image.BILINEAR), dtype=np.uint8)
    display = _display_version(image)
    display.info["original_size"] = original
    return display, model_input


def _friendly(reason: str) -> str:
    if reason.startswith("too large"):
        return (f"This photo is too large to open safely ({reason[len('too large: '):]}). The limit is "
                f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels: take a smaller photo or a screenshot of it.")
    if reason.startswith("not an image"):
        return ("This file is not a photo we can read. Use a JPEG, PNG, WebP, GIF, BMP, TIFF or HEIC photo.")
    return (f"This photo seems to be damaged and cannot be opened ({reason}). "
            "Try taking or choosing it again.")


def _display_version(image: Image.Image) -> Image.Image:
    width, height = image.size
    if max(width, height) > DISPLAY_MAX:
        scale = DISPLAY_MAX / max(width, height)
        return image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.BILINEAR)
    if min(width, height) < SMALL_PHOTO:
        scale = max(1, math.ceil(DISPLAY_MIN / max(width, height)))
        return image.resize((width * scale, height * scale), Image.NEAREST)
    return image.copy()


# ---------------------------------------------------------------------------------------------------
# The verdict


@dataclass(frozen=True)
class Verdict:
    sure: bool
    reason: str  # one of the REASON_* constants
    message: str  # for the student
    confidence: float  # probability of the best class
    margin: float  # best minus second best
    entropy: float  # normalised to 0..1 (1 = all classes equally likely)


def normalised_entropy(probabilities) -> float:
    """Shannon entropy divided by its maximum ``log(n_classes)``: 0 = one class gets everything, 1 = uniform."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, None)
    n = p.size
    if n < 2 or p.sum() <= 0:
        return 0.0
    p = p / p.sum()
    nonzero = p[p > 0]
    return float(-(nonzero * np.log(nonzero)).sum() / math.log(n))


def judge(probabilities, class_names: list[str]) -> Verdict:
    """The honest verdict for one vector of class probabilities.

    The rule, checked in this order (the first that matches gives the reason):

    1. **unfamiliar** - with 3 or more classes, the normalised entropy is above ``MAX_ENTROPY`` (0.6): the
       votes are spread over many classes. This is our out-of-distribution signal: a photo unlike every
       training class often gets spread-out votes. (With 2 classes entropy says nothing that rule 3 does
       not, so it is not used.)
    2. **close call** - the best class beats the runner-up by less than ``MIN_MARGIN`` (0.2).
    3. **low confidence** - the best class gets less than ``MIN_CONFIDENCE`` (0.6).

    Otherwise the verdict is **confident**. None of this proves the model is right: a softmax model can
    be confidently wrong, especially about things it never saw, and the messages say so.
    """
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    if p.size != len(class_names):
        raise ValueError(f"{p.size} probabilities for {len(class_names)} classes")
    order = np.argsort(-p, kind="stable")
    best = int(order[0])
    confidence = float(p[best])
    second = float(p[order[1]]) if p.size > 1 else 0.0
    margin = confidence - second
    entropy = normalised_entropy(p)
    name = class_names[best]
    runner_up = class_names[int(order[1])] if p.size > 1 else ""
    known = join_words(class_names, "or")
    if p.size >= 3 and entropy > MAX_ENTROPY:
        reason = REASON_UNFAMILIAR
        message = (
            f"Not sure. The model spreads its votes over many classes (uncertainty {entropy:.0%}), which often "
            f"happens when a photo looks unlike all the photos it was trained on. Its best guess is {name} "
            f"({confidence:.0%}), but don't trust it. It can only answer {known}."
        )
    elif margin < MIN_MARGIN:
        reason = REASON_CLOSE_CALL
        message = (
            f"Not sure. It is torn between {name} ({confidence:.0%}) and {runner_up} ({second:.0%}): "
            f"less than {MIN_MARGIN * 100:.0f} percentage points apart."
        )
    elif confidence < MIN_CONFIDENCE:
        reason = REASON_LOW_CONFIDENCE
        message = (
            f"Not sure. Its best guess, {name}, only gets {confidence:.0%}; we only trust a guess above "
            f"{MIN_CONFIDENCE:.0%}."
        )
    else:
        return Verdict(True, REASON_CONFIDENT, f"The model is sure: {name} ({confidence:.0%}). Sure is not "
                       f"the same as right, though: it can only answer {known}.", confidence, margin, entropy)
    return Verdict(False, reason, message, confidence, margin, entropy)


@dataclass(frozen=True)
class Prediction:
    top: list[tuple[str, float]]  # the top k (class name, probability), most likely first
    probabilities: dict[str, float]  # every class, in the model's class order
    class_index: int  # index of the best class
    verdict: Verdict

    @property
    def label(self) -> str:
        return self.top[0][0]

    @property
    def confidence(self) -> float:
        return self.top[0][1]

    @property
    def sure(self) -> bool:
        return self.verdict.sure

    @property
    def reason(self) -> str:
        return self.verdict.reason

    @property
    def message(self) -> str:
        return self.verdict.message


def predict_probabilities(probabilities, class_names: list[str], top_k: int = 3) -> Prediction:
    """A ``Prediction`` from probabilities already computed (also what the tests use for the rule)."""
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    verdict = judge(p, class_names)
    order = np.argsort(-p, kind="stable")[: max(1, min(top_k, p.size))]
    top = [(class_names[int(i)], float(p[i])) for i in order]
    return Prediction(top, {name: float(v) for name, v in zip(class_names, p)}, int(order[0]), verdict)


def predict_photo(model, class_names: list[str], image_uint8: np.ndarray, top_k: int = 3) -> Prediction:
    """Classify one photo (``size x size x 3`` uint8, as from ``prepare_photo``); see ``judge`` for the verdict.

    A photo of the wrong size is resized to the model's input size first.
    """
    image = np.asarray(image_uint8)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected one RGB photo of shape (size, size, 3), got {image.shape}")
    size = _input_size(model)
    if size and image.shape[:2] != (size, size):
        image = np.asarray(Image.fromarray(image.astype(np.uint8)).resize((size, size), Image.BILINEAR))
    probabilities = classify_array(model, image.astype(np.uint8))
    if probabilities.size != len(class_names):
        raise ValueError(f"the model has {probabilities.size} outputs but {len(class_names)} class names were given")
    return predict_probabilities(probabilities, class_names, top_k)


def _input_size(model) -> int | None:
    try:
        shape = model.input_shape
        return int(shape[1]) if shape[1] is not None else None
    except (AttributeError, TypeError, IndexError):
        return None
