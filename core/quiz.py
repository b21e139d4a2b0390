"""The lesson's quiz: 8 multiple-choice questions about Kiran's flower classifier, and their scoring.

Plain Python data: no TensorFlow and no Streamlit, so the Quiz page opens instantly.

Kiran's story, which the questions follow: about 200 photos per flower species; a CNN trained from
scratch reaches about 60%; a frozen ImageNet MobileNetV2 base with a new head (GlobalAveragePooling ->
Dense(128, relu) -> Dropout(0.3) -> Dense(N, softmax)) reaches 80-85% after 5 epochs; unfreezing the
top 30 base layers and fine-tuning with Adam at a learning rate of 1e-5 for 10 epochs reaches 90-95%.

Texts avoid "~", "$" and "_": Streamlit renders labels as Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LETTERS: tuple[str, ...] = ("a", "b", "c", "d")


@dataclass(frozen=True)
class Question:
    id: int
    text: str
    options: dict[str, str]
    answer: str
    explanation: str

    def __post_init__(self) -> None:
        if tuple(self.options) != LETTERS:
            raise ValueError(f"Question {self.id} must have exactly the options {', '.join(LETTERS)} in that order.")
        if self.answer not in self.options:
            raise ValueError(f"Question {self.id}: the answer {self.answer!r} is not one of {', '.join(LETTERS)}.")
        if not self.text.strip() or not self.explanation.strip():
            raise ValueError(f"Question {self.id} needs a text and an explanation.")

    def option_label(self, letter: str) -> str:
        """``"b) Reusing a model ..."``: how an option is shown to the student."""
        return f"{letter}) {self.options[letter]}"


QUESTIONS: tuple[Question, ...] = (
    Question(
        id=1,
        text="What is transfer learning?",
        options={
            "a": "Copying Kiran's flower photos from one computer to another",
            "b": "Reusing a model that already learned from millions of images (ImageNet) as the starting point for a new task",
            "c": "Training a brand-new network from scratch on only Kiran's photos",
            "d": "Using a faster computer so that training takes less time",
        },
        answer="b",
        explanation=(
            "Transfer learning starts from a model that already learned to 'see' on a huge dataset "
            "(ImageNet has over a million photos) and adapts it to a new job. Kiran's model doesn't learn "
            "vision from zero: it only has to learn what makes each flower different."
        ),
    ),
    Question(
        id=2,
        text="When Kiran fine-tunes the top 30 layers of the base, why must the learning rate be very low (0.00001)?",
        options={
            "a": "A low learning rate makes every epoch run faster",
            "b": "A high learning rate would make big changes that destroy the useful features the base already learned",
            "c": "A low learning rate makes the model use less memory",
            "d": "The new head has to forget what it learned in the first phase",
        },
        answer="b",
        explanation=(
            "The pretrained layers hold features learned from millions of photos. Big update steps would "
            "overwrite them using just a few hundred flower photos, so the model would get worse. Tiny steps "
            "only nudge those features to fit flowers better."
        ),
    ),
    Question(
        id=3,
        text="Why does Kiran first freeze the MobileNetV2 base and train only the new head?",
        options={
            "a": "Because the base layers are broken and have to be switched off",
            "b": "The new head starts random; its big early mistakes would flow back and damage the pretrained features",
            "c": "Freezing makes the model bigger so it can remember more flowers",
            "d": "So the model can be trained without any photos at all",
        },
        answer="b",
        explanation=(
            "The new head starts with random weights, so its first mistakes are huge. Freezing the base "
            "protects the pretrained features while the head learns to use them, and it's quicker because "
            "far fewer weights are updated."
        ),
    ),
    Question(
        id=4,
        text="What do the early (first) layers of a CNN trained on ImageNet mostly detect?",
        options={
            "a": "Whole objects, like a daisy or a dog",
            "b": "Simple patterns: edges, colours and textures",
            "c": "The file names of the photos",
            "d": "Only the background of each photo",
        },
        answer="b",
        explanation=(
            "Early layers find simple patterns such as edges, colour patches and textures, and later layers "
            "combine them into petals, eyes and whole objects. Simple patterns appear in almost every photo, "
            "which is why these layers are so useful for flowers too."
        ),
    ),
    Question(
        id=5,
        text=(
            "Kiran wants the classifier to run on a phone. Why pick MobileNetV2 (3.5 million parameters) "
            "instead of VGG16 (138 million)?"
        ),
        options={
            "a": "VGG16 cannot recognise flowers",
            "b": "MobileNetV2 is about 40 times smaller, so it is faster and fits a phone's memory and battery",
            "c": "MobileNetV2 was trained only on flower photos",
            "d": "A smaller model is always more accurate",
        },
        answer="b",
        explanation=(
            "138 million divided by 3.5 million is about 40, so MobileNetV2 is roughly 40 times smaller. It "
            "runs faster and uses less memory and battery, while still being accurate enough. That's exactly "
            "what a phone app needs."
        ),
    ),
    Question(
        id=6,
        text="In Kiran's new head, what does the GlobalAveragePooling layer do?",
        options={
            "a": "It averages each feature map of the base into one number, giving one short list of features",
            "b": "It adds more photos to the dataset",
            "c": "It chooses the final flower name",
            "d": "It unfreezes the layers of the base",
        },
        answer="a",
        explanation=(
            "The base outputs a stack of 1280 small feature maps (7 by 7 each). GlobalAveragePooling turns "
            "each map into its average, so the Dense layers get a simple list of 1280 numbers. The last "
            "Dense(N, softmax) layer is the one that picks the flower."
        ),
    ),
    Question(
        id=7,
        text="Kiran has only about 200 photos per species. Why do data augmentation and Dropout(0.3) help?",
        options={
            "a": "They make each epoch finish in fewer seconds",
            "b": "They stop the model memorising the training photos (overfitting), so it does better on new photos",
            "c": "They add new flower species to the dataset",
            "d": "They make the saved model file smaller",
        },
        answer="b",
        explanation=(
            "With few photos, a model can simply memorise them and then fail on new ones: that's overfitting. "
            "Augmentation shows slightly changed copies (flipped, rotated, zoomed), and Dropout randomly "
            "switches off 30% of the features while training, so the model must learn real flower features."
        ),
    ),
    Question(
        id=8,
        text="With about 200 photos per species, which order of test accuracy should Kiran expect?",
        options={
            "a": "From scratch > frozen base + new head > fine-tuned",
            "b": "All three about the same, around 60%",
            "c": "From scratch (about 60%) < frozen base + new head (80-85%) < fine-tuned (90-95%)",
            "d": "Frozen base + new head > fine-tuned > from scratch",
        },
        answer="c",
        explanation=(
            "200 photos per species are too few to learn to see from zero, so the scratch CNN only reaches "
            "about 60%. Reusing the frozen ImageNet features jumps to 80-85%, and gently fine-tuning the top "
            "30 layers adapts them to flowers for 90-95%."
        ),
    ),
)


def answer_key(questions: Sequence[Question] = QUESTIONS) -> dict[int, str]:
    """``{question id: correct letter}``."""
    return {q.id: q.answer for q in questions}


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


def score(answers: Mapping[int, str | None], questions: Sequence[Question] = QUESTIONS) -> QuizResult:
    """Mark ``answers`` (``{question id: letter or None}``). Missing or ``None`` answers count as wrong
    and are listed in ``QuizResult.unanswered``; a letter other than a-d, or an unknown question id,
    raises ``ValueError``."""
    known = {q.id for q in questions}
    unknown = sorted(set(answers) - known, key=str)
    if unknown:
        raise ValueError(
            f"Unknown question id(s): {', '.join(map(str, unknown))}. The quiz has questions {sorted(known)}."
        )
    return QuizResult(tuple(QuestionResult(q, _normalise(q.id, answers.get(q.id))) for q in questions))


def best_of(previous_best: int | None, new_score: int) -> int:
    """The best score so far (``previous_best`` is ``None`` before the first try)."""
    return new_score if previous_best is None else max(previous_best, new_score)


def feedback_message(correct: int, total: int) -> str:
    """A short, friendly line about the score."""
    if total and correct == total:
        return "Perfect score! You could teach this lesson yourself. 🌟"
    if correct >= 0.75 * total:
        return "Great work! Check the explanations for the ones you missed. 🌼"
    if correct >= 0.5 * total:
        return "Good start! Read the explanations below, then try again. 💪"
    return "Transfer learning is tricky at first. Read the explanations below and have another go! 🌱"
