"""The plain dataclasses that cross the engine's surface: the callbacks a caller hands in, and what comes
back (an epoch, a progress report, a phase, an evaluation, a whole run).

No TensorFlow: pages, the job runner and the run history use these without building a model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from core.training.settings import TrainConfig
from core.utils.stats import summary_fields

PHASE1, PHASE2, EXTRACT, SCRATCH = "head", "fine-tune", "features", "scratch"


@dataclass
class EpochRecord:
    phase: str
    epoch: int  # 1-based, counted across both phases
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass
class Progress:
    stage: str  # EXTRACT, PHASE1, PHASE2 or SCRATCH
    fraction: float  # of the whole run, 0..1
    eta_seconds: float | None
    message: str


@dataclass
class Callbacks:
    """What a running training tells its caller, and how the caller stops it. Every field is optional."""

    on_epoch: Callable[[EpochRecord], None] | None = None
    on_progress: Callable[[Progress], None] | None = None
    should_stop: Callable[[], bool] | None = None  # checked between batches
    # What phase 1 trained, handed over before phase 2 starts: kept if phase 2 cannot finish (a time limit)
    on_phase1_done: Callable[[TrainResult], None] | None = None


@dataclass
class PhaseResult:
    """One phase (``fit_head`` or ``fine_tune``): its epochs, whether it was stopped, its test accuracy."""

    phase: str
    history: list[EpochRecord]
    stopped: bool
    seconds: float
    test_accuracy: float | None  # on the test photos after this phase; None if the phase did not run

    @property
    def ran(self) -> bool:
        return self.test_accuracy is not None


@dataclass
class Evaluation:
    """The test split through the trained model: metrics (``core.inference.evaluate.evaluate_probabilities``) and
    the wrong predictions, most confident first."""

    metrics: dict
    misclassified: list[dict]

    @property
    def accuracy(self) -> float:
        return self.metrics["accuracy"]


@dataclass
class TrainResult:
    model: object  # the full keras classifier: raw pixels in, class probabilities out
    class_names: list[str]
    config: TrainConfig
    history: list[EpochRecord]
    test: dict  # evaluate_probabilities() of the test split
    misclassified: list[dict]
    dataset_source: str
    counts: dict
    skipped: list[dict]
    timings: dict  # seconds per step; "phase_test_accuracy" holds the test accuracy after each phase
    cache: dict
    stopped: bool
    weights: str
    notes: list[str] = field(default_factory=list)
    base_counts: dict = field(default_factory=dict)

    def has_model(self) -> bool:
        """Whether there is a model to predict with (without loading one that is kept on disk)."""
        return self.model is not None

    def model_key(self) -> str:
        """Names this model for memos (an export, a photo's answers): the same while the model is the same."""
        return f"memory-{id(self.model)}"

    def summary(self) -> dict:
        """JSON-friendly: everything but the model."""
        return {
            "config": self.config.to_dict(),
            "class_names": self.class_names,
            "dataset_source": self.dataset_source,
            "counts": self.counts,
            "skipped": self.skipped,
            "weights": self.weights,
            "history": [asdict(r) for r in self.history],
            "test_accuracy": self.test["accuracy"],
            **summary_fields(self.test["accuracy"], self.test.get("n", 0)),  # test_accuracy_interval, test_n
            "test_loss": self.test["loss"],
            "test": self.test,
            "phase_test_accuracy": self.timings.get("phase_test_accuracy", {}),
            "timings": {k: v for k, v in self.timings.items() if k != "phase_test_accuracy"},
            "cache": self.cache,
            "stopped": self.stopped,
            "notes": self.notes,
            "base_counts": {k: v for k, v in self.base_counts.items() if k != "unfrozen_layer_names"},
        }
