"""The lesson's quiz (its 8 questions, options and answers, word for word) and the app's bonus round.

Plain Python data: no TensorFlow and no Streamlit, so the Quiz page opens instantly.

``LESSON_QUESTIONS`` are the lesson's "Check Your Understanding" questions exactly as the lesson text
(``../shared/lesson/lesson-2-transfer-learning.txt``) asks them, with its four options in its own lettering
and its answers (1b 2b 3b 4b 5b 6a 7b 8c); a test checks them against the text. The only change is
Markdown backticks around code the lesson left bare (``GlobalAveragePooling2D()``). ``BONUS_QUESTIONS`` are
the app's own questions, an optional second round.

Options are shown in a shuffled order per attempt (``display_order``), and answers are scored by which option
was chosen (its lesson letter, i.e. its content), never by the position it was shown at. The shuffle also
spreads the correct answers evenly over the positions, so answering "the first option" every time scores
exactly at chance (2 of 8), on every attempt.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LETTERS: tuple[str, ...] = ("a", "b", "c", "d")
CONCEPT, COMPARE, TRAIN = "app_pages/concept.py", "app_pages/compare.py", "app_pages/train.py"


@dataclass(frozen=True)
class Link:
    page: str  # the app page where the student can see it happen
    label: str  # where on that page


@dataclass(frozen=True)
class Question:
    id: int
    text: str  # Markdown: code in backticks
    options: dict[str, str]  # in the lesson's lettering
    answer: str
    explanation: str
    link: Link

    def __post_init__(self) -> None:
        if tuple(self.options) != LETTERS:
            raise ValueError(f"Question {self.id} must have exactly the options {', '.join(LETTERS)} in that order.")
        if self.answer not in self.options:
            raise ValueError(f"Question {self.id}: the answer {self.answer!r} is not one of {', '.join(LETTERS)}.")
        if not self.text.strip() or not self.explanation.strip():
            raise ValueError(f"Question {self.id} needs a text and an explanation.")


LESSON_QUESTIONS: tuple[Question, ...] = (
    Question(
        1, "In transfer learning, `base_model.trainable = False` means:",
        {
            "a": "The model cannot be used for predictions",
            "b": "The pre-trained base model's weights are frozen — they won't be updated during training on your "
                 "dataset",
            "c": "The model will train faster because no GPU is needed",
            "d": "The model uses random initial weights",
        },
        "b",
        "Frozen weights keep what MobileNetV2 learned from ImageNet; only the new head learns in phase 1. The model "
        "still predicts, still starts from pretrained (not random) weights, and a GPU would still help.",
        Link(CONCEPT, "Concept: the freeze/unfreeze slider counts the frozen and trainable parameters"),
    ),
    Question(
        2, "Why is Phase 2 fine-tuning (unfreezing top layers) compiled with a much lower learning rate (1e-5)?",
        {
            "a": "Lower learning rate is always better for all training phases",
            "b": "To avoid catastrophically overwriting the valuable pre-trained features — small updates nudge the "
                 "weights rather than destroying them",
            "c": "Because the dataset is small and a high learning rate would crash Colab",
            "d": "Lower learning rate makes the model use less memory",
        },
        "b",
        "Big steps would rewrite features learned from over a million photos using a few hundred flowers. Not "
        "'always better': phase 1 uses Adam's default 1e-3, because the new head starts from random weights.",
        Link(TRAIN, "Train: the button \"Try lr = 1e-2 in phase 2\" shows what a big step does"),
    ),
    Question(
        3, "`include_top=False` when loading MobileNetV2 means:",
        {
            "a": "Only the top 10 layers are loaded",
            "b": "The pre-trained ImageNet classification head (1000-class output) is removed, leaving only the "
                 "feature extraction layers",
            "c": "The model runs without a GPU",
            "d": "The base model's weights are not downloaded",
        },
        "b",
        "The \"top\" is ImageNet's 1000-class classifier. Without it we keep the feature extractor and put our "
        "own head (one output per flower) on top. The Compare page counts every base with and without its top.",
        Link(COMPARE, "Compare: parameters \"with ImageNet top\" and \"no top (what we borrow)\""),
    ),
    Question(
        4, "`GlobalAveragePooling2D()` is used in the classification head because:",
        {
            "a": "It applies a softmax activation to the output",
            "b": "It converts the 3D feature volume output of the base model into a 1D vector suitable for a Dense "
                 "layer, with fewer parameters than Flatten",
            "c": "It normalises pixel values to 0–1",
            "d": "It applies data augmentation during training",
        },
        "b",
        "MobileNetV2 hands over 7 × 7 feature maps, 1280 of them (at 224 px). Averaging each map gives 1280 numbers "
        "for the Dense layer; Flatten would give 7 × 7 × 1280 = 62,720 and need 49 times as many weights.",
        Link(CONCEPT, "Concept: the layer diagram ends with the new head (its summary lists every block)"),
    ),
    Question(
        5, "MobileNetV2 is preferred over VGG16 for student projects on small hardware because:",
        {
            "a": "VGG16 is too old and no longer available in Keras",
            "b": "MobileNetV2 is designed for efficiency — far fewer parameters (~3.4M vs ~138M), runs faster, uses "
                 "less memory, and can even be deployed on mobile devices",
            "c": "MobileNetV2 was trained on more images than VGG16",
            "d": "VGG16 doesn't support image classification tasks",
        },
        "b",
        "Both were trained on the same ImageNet photos and both are in Keras. The Compare page counts their "
        "parameters from the real Keras models and times both on this computer.",
        Link(COMPARE, "Compare: parameters, download size and speed measured here"),
    ),
    Question(
        6, "In `ImageDataGenerator`, `horizontal_flip=True` is used to:",
        {
            "a": "Mirror images so the model learns that a flipped flower is still a flower — increases effective "
                 "dataset size",
            "b": "Flip labels so the model sees balanced classes",
            "c": "Convert colour images to greyscale",
            "d": "Rotate images by exactly 180 degrees",
        },
        "a",
        "A mirrored daisy is still a daisy, so each photo can be shown in two versions. Labels never change. "
        "(This app does the same with Keras 3's `RandomFlip(\"horizontal\")` layer: `ImageDataGenerator` is "
        "deprecated.)",
        Link(TRAIN, "Train: switch on augmentation, then \"Show one photo augmented 6 ways\""),
    ),
    Question(
        7, "Why is `flow_from_directory` useful for custom image datasets?",
        {
            "a": "It automatically labels images based on their pixel colours",
            "b": "It reads images from a folder structure where each subfolder is a class — labels are inferred "
                 "from folder names, no manual CSV needed",
            "c": "It uploads images to AWS S3 automatically",
            "d": "It works only with black and white images",
        },
        "b",
        "One folder per class is the whole labelling job. The Train page reads your own photos the same way "
        "(a zip of class folders) and tells you which files it left out and why.",
        Link(TRAIN, "Train: \"1 · Your photos\" → My own photos (a zip of class folders)"),
    ),
    Question(
        8, "Transfer learning is most useful when:",
        {
            "a": "You have millions of labelled images and plenty of compute",
            "b": "Your task is completely unlike anything in the pre-trained dataset",
            "c": "You have a small dataset (100–1000 images per class) for a visual task similar to natural images — "
                 "transfer learning dramatically outperforms training from scratch",
            "d": "You are working with tabular data, not images",
        },
        "c",
        "With millions of photos you could train from scratch; for tasks unlike ImageNet photos (or tables of "
        "numbers) the borrowed features help far less. Kiran's 200 photos per flower are the textbook case.",
        Link(TRAIN, "Train: \"Kiran's experiment: from scratch vs transfer\" on the same photos"),
    ),
)

BONUS_QUESTIONS: tuple[Question, ...] = (
    Question(
        101, "What is transfer learning?",
        {
            "a": "Copying Kiran's flower photos from one computer to another so a second model can train on them",
            "b": "Reusing a model that already learned from millions of images (ImageNet) as the starting point for "
                 "a new task",
            "c": "Training a brand-new network from scratch on Kiran's photos alone, every one of its weights starting "
                 "from random numbers",
            "d": "Using a faster computer with a GPU so that the same training finishes in much less time than before",
        },
        "b",
        "Kiran's model doesn't learn to see from zero: it only has to learn what makes each flower different.",
        Link(CONCEPT, "Concept: pretrained first-layer feature maps next to random ones"),
    ),
    Question(
        102, "Why does Kiran first freeze the MobileNetV2 base and train only the new head?",
        {
            "a": "Because the base layers are broken by the download and have to be switched off before they can be "
                 "used",
            "b": "The new head starts random; its big early mistakes would flow back and damage the pretrained "
                 "features",
            "c": "Freezing makes the model bigger, so that it can remember more flowers and recognise each one faster",
            "d": "So the model can learn the flowers without any labelled photos at all, just from what ImageNet "
                 "taught it",
        },
        "b",
        "Freezing protects the pretrained features while the random head learns to use them, and it is much "
        "quicker because far fewer weights change.",
        Link(CONCEPT, "Concept: set the slider to 0, only the new head learns"),
    ),
    Question(
        103, "What do the early (first) layers of a CNN trained on ImageNet mostly detect?",
        {
            "a": "Whole objects, like a daisy, a dog or a car",
            "b": "Simple patterns: edges, colours and textures",
            "c": "The file names and folders of the photos",
            "d": "Only the sky and the background of each photo",
        },
        "b",
        "Early layers find edges, colour patches and textures; later layers combine them into petals and whole "
        "objects. Simple patterns appear in almost every photo, so these layers help with flowers too.",
        Link(CONCEPT, "Concept: \"What does the first layer see?\""),
    ),
    Question(
        104, "Kiran has only about 200 photos per species. Why do data augmentation and Dropout(0.3) help?",
        {
            "a": "They make each epoch finish in fewer seconds, so Kiran can afford to train for many more epochs",
            "b": "They stop the model memorising the training photos (overfitting), so it does better on new photos",
            "c": "They add new flower species to Kiran's dataset, so the model learns more kinds of flower than it had "
                 "before",
            "d": "They make the saved model file smaller, so it loads faster on a phone and uses less of its memory",
        },
        "b",
        "With few photos a model can memorise them and fail on new ones (overfitting). Changed copies and "
        "randomly switched-off features push it to learn real flower features.",
        Link(TRAIN, "Train: compare a run with augmentation to one without (\"Your runs\")"),
    ),
    Question(
        105, "With about 200 photos per species, which order of test accuracy should Kiran expect?",
        {
            "a": "Fine-tuned (lowest), then from scratch, then frozen base + new head (highest, because nothing "
                 "changes)",
            "b": "All three about the same, because they all end with the same Dense head on the same flower photos",
            "c": "From scratch (lowest), then frozen base + new head, then fine-tuned (highest, or about the same)",
            "d": "Frozen base + new head (lowest), then from scratch, then fine-tuned (highest by a wide margin)",
        },
        "c",
        "Learning to see from a few hundred photos is hard, so the scratch CNN comes last. Fine-tuning usually "
        "adds a little on top of the frozen base; on a test set of a few hundred photos the gain can be inside "
        "the noise.",
        Link(TRAIN, "Train: \"Kiran's experiment\", then a run with fine-tuning"),
    ),
    Question(
        106, "MobileNetV2 learned on pixels scaled to −1…1. The lesson's code divides by 255 (0…1). What happens?",
        {
            "a": "Nothing: the network rescales whatever pixels it is given by itself, so it never sees a difference",
            "b": "The base sees every photo darker and lower in contrast than anything it learned from, so its "
                 "features fit worse",
            "c": "The base sees every photo brighter and washed out (all its pixels in the top half of the range), so "
                 "its features fit worse",
            "d": "Training stops with an error about the pixel range, so the mistake can never go unnoticed",
        },
        "c",
        "0…1 is only the top half of the −1…1 range the filters were trained on: to the base, every pixel is "
        "brighter than the darkest it knows (nothing is below 0, its middle grey), so photos look washed out. "
        "Training still runs, which is why the mistake is easy to miss; the Train page can measure what it costs.",
        Link(TRAIN, "Train: \"Where this app differs from the lesson's code\" → run both scalings"),
    ),
)


def answer_key(questions: Sequence[Question] = LESSON_QUESTIONS) -> dict[int, str]:
    """``{question id: correct letter}`` in the lesson's lettering."""
    return {q.id: q.answer for q in questions}


def display_order(questions: Sequence[Question], seed: object) -> dict[int, tuple[str, ...]]:
    """For each question, its option letters in the order to show them, for one attempt.

    The same ``seed`` gives the same order (a rerun of the page keeps the options in place). The correct
    answers are spread evenly over the positions (8 questions: each position holds the answer exactly
    twice), the rest shuffled, so no fixed position scores above chance.
    """
    rng = random.Random(str(seed))
    positions = [i % len(LETTERS) for i in range(len(questions))]
    rng.shuffle(positions)
    orders = {}
    for question, position in zip(questions, positions):
        others = [letter for letter in LETTERS if letter != question.answer]
        rng.shuffle(others)
        others.insert(position, question.answer)
        orders[question.id] = tuple(others)
    return orders


def shown_letter(order: Sequence[str], letter: str) -> str:
    """The letter an option is shown under this attempt (``order`` from ``display_order``)."""
    return LETTERS[list(order).index(letter)]


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    chosen: str | None

    @property
    def id(self) -> int:
        return self.question.id

    @property
    def correct(self) -> str:
        return self.question.answer

    @property
    def answered(self) -> bool:
        return self.chosen is not None

    @property
    def is_correct(self) -> bool:
        return self.chosen == self.question.answer

    @property
    def explanation(self) -> str:
        return self.question.explanation


@dataclass(frozen=True)
class QuizResult:
    results: tuple[QuestionResult, ...]

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def correct(self) -> int:
        return sum(r.is_correct for r in self.results)

    @property
    def unanswered(self) -> list[int]:
        """Ids of the questions left blank (they count as wrong)."""
        return [r.id for r in self.results if not r.answered]

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.total if self.total else 0.0


def _normalise(question_id: int, letter: object) -> str | None:
    if letter is None:
        return None
    if not isinstance(letter, str) or letter.strip().lower() not in LETTERS:
        raise ValueError(
            f"Question {question_id}: the answer must be one of {', '.join(LETTERS)} (or None), not {letter!r}."
        )
    return letter.strip().lower()


def score(answers: Mapping[int, str | None], questions: Sequence[Question] = LESSON_QUESTIONS) -> QuizResult:
    """Mark ``answers`` (``{question id: chosen option's lesson letter, or None}``). Missing or ``None``
    answers count as wrong and are listed in ``QuizResult.unanswered``; a letter other than a-d, or an
    unknown question id, raises ``ValueError``."""
    known = {q.id for q in questions}
    unknown = sorted(set(answers) - known, key=str)
    if unknown:
        raise ValueError(
            f"Unknown question id(s): {', '.join(map(str, unknown))}. The quiz has questions {sorted(known)}."
        )
    return QuizResult(tuple(QuestionResult(q, _normalise(q.id, answers.get(q.id))) for q in questions))


def feedback_message(correct: int, total: int) -> str:
    """A short, friendly line about the score; "great" only well above chance."""
    if total and correct == total:
        return "Perfect score! You could teach this lesson yourself. 🌟"
    if correct >= 0.75 * total:
        return "Great work! Check the explanations for the ones you missed. 🌼"
    if correct >= 0.5 * total:
        return "Good start! Read the explanations below, then try again. 💪"
    return "Transfer learning is tricky at first. Read the explanations below and have another go! 🌱"


QUESTIONS = LESSON_QUESTIONS  # the name older callers (the browser journey) use
