"""What a student sets for one training: the recipe (``TrainConfig``) and the augmentation switches.

Plain data, no TensorFlow: the Train page's form returns a ``TrainConfig`` and the CLI builds one from flags.
A config travels (to a worker process, into a saved run or a model file) as ``to_dict()`` and comes back
with ``TrainConfig.from_dict()``; it is validated where a training starts (``Learner``, the preset, the
scratch baseline) and on the Train page, which says what is wrong before the Train button is pressed.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields

from core.models.bases import DEFAULT_BASE, IMAGE_SIZES, base_spec
from core.photos.datasets import TF_FLOWERS

# Keras's RandomShear factor is a fraction of the image. "visible": up to 10% of the image (about 5.7°);
# "lesson": the lesson's ImageDataGenerator(shear_range=0.1) means 0.1 DEGREES, i.e. tan(0.1°), too small to see.
SHEAR_FACTORS = {"visible": 0.1, "lesson": 0.0017453}
LR_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class AugmentConfig:
    """The lesson's augmentation (rotation 20°, horizontal flip, zoom 0.2, shear 0.1), each switchable."""

    rotation: bool = True
    flip: bool = True
    zoom: bool = True
    shear: bool = True
    shear_amount: str = "visible"  # a key of SHEAR_FACTORS

    def any(self) -> bool:
        return self.rotation or self.flip or self.zoom or self.shear


@dataclass(frozen=True)
class TrainConfig:
    data: str = TF_FLOWERS
    base: str = DEFAULT_BASE
    epochs1: int = 5
    epochs2: int = 10
    unfreeze: int = 30
    lr1: float = 1e-3
    lr2: float = 1e-5
    batch_size: int = 32
    image_size: int = 224
    augment: bool = False
    augment_ops: AugmentConfig = AugmentConfig()
    aug_views: int = 4  # augmented copies of each training photo cached (see README)
    preprocessing: str = "model"  # "model" = the base's preprocess_input; "lesson" = divide by 255
    seed: int = 42
    head_units: int = 128
    dropout: float = 0.3
    pretrained: bool = True
    use_cache: bool = True
    jit_compile: bool = False  # XLA measured slower here: 6x on the phase-2 top on a 2-core CPU (README)
    preset: str = ""  # a named recipe from core.training.presets ("best"); "" = the lesson's two phases
    # Beyond the lesson (core/training/optimizing.py; explored in bench/ablation_fine_tune.py; off by default, so runs match the lesson):
    label_smoothing: float = 0.0  # the right class's target is 1 - s, the rest shared among the others
    lr_schedule: str = "constant"  # or "cosine": each phase's rate falls along a cosine to 0
    head_lr_factor: float = 1.0  # phase 2: the head learns this many times faster than the unfrozen layers

    @property
    def augmenting(self) -> bool:
        return self.augment and self.augment_ops.any()

    def to_dict(self) -> dict:
        """Plain JSON-ready values (``augment_ops`` as a nested dict)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """The inverse of ``to_dict``. A run saved by another version still loads: settings it lacks take
        today's defaults, and settings this version does not know are dropped (and logged), not an error."""
        values = dict(values)
        if isinstance(values.get("augment_ops"), dict):
            values["augment_ops"] = AugmentConfig(**_known(AugmentConfig, values["augment_ops"]))
        return cls(**_known(cls, values))

    def validate(self) -> None:
        base_spec(self.base)
        if self.image_size not in IMAGE_SIZES:
            raise ValueError(f"image size must be one of {IMAGE_SIZES}")
        if self.epochs1 < 0 or self.epochs2 < 0 or self.epochs1 + self.epochs2 == 0:
            raise ValueError("train at least one epoch")
        if self.batch_size < 1 or self.unfreeze < 0 or self.aug_views < 1:
            raise ValueError("batch size and augmented views must be positive, unfreeze depth not negative")
        if not (0 < self.lr1 < 1 and 0 < self.lr2 < 1):
            raise ValueError("learning rates must be between 0 and 1")
        if not 0 <= self.dropout < 1:
            raise ValueError("dropout must be in [0, 1)")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError("label smoothing must be in [0, 1)")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"learning-rate schedule must be one of {', '.join(LR_SCHEDULES)}")
        if not 0 < self.head_lr_factor <= 1000:
            raise ValueError("the head's learning-rate factor must be above 0 (and at most 1000)")
        if self.augment_ops.shear_amount not in SHEAR_FACTORS:
            raise ValueError(f"shear amount must be one of {', '.join(SHEAR_FACTORS)}")


def _known(kind: type, values: dict) -> dict:
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(values) - known)
    if unknown:
        logging.getLogger(__name__).warning("%s: dropped settings this version does not know: %s",
                                         kind.__name__, ", ".join(unknown))
    return {key: value for key, value in values.items() if key in known}
