"""TrainConfig travels as one plain dict (``to_dict`` / ``from_dict``): to a worker, into a saved run, a model file."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest

from core.training import AugmentConfig, TrainConfig


def test_a_config_comes_back_equal_through_json():
    cfg = TrainConfig(data="/photos", unfreeze=12, epochs2=3, lr2=3e-5, image_size=160, augment=True,
                      augment_ops=AugmentConfig(rotation=False, shear_amount="lesson"), preset="best")
    values = json.loads(json.dumps(cfg.to_dict()))
    assert values["unfreeze"] == 12 and values["augment_ops"]["shear_amount"] == "lesson"
    assert TrainConfig.from_dict(values) == cfg


def test_a_run_saved_by_another_version_still_loads(caplog):
    """Settings it lacks take today's defaults; settings this version does not know are dropped, and said."""
    stored = {"base": "mobilenet_v2", "unfreeze": 7, "fine_tune_depth": 7,
              "augment_ops": {"flip": False, "colour": True}}
    with caplog.at_level(logging.WARNING, logger="core.training.settings"):
        cfg = TrainConfig.from_dict(stored)
    assert cfg == replace(TrainConfig(), unfreeze=7, augment_ops=replace(AugmentConfig(), flip=False))
    assert "fine_tune_depth" in caplog.text and "colour" in caplog.text


def test_from_dict_does_not_change_its_argument():
    values = TrainConfig().to_dict()
    TrainConfig.from_dict(values)
    assert isinstance(values["augment_ops"], dict)


def test_a_training_refuses_a_config_that_cannot_train(small_flowers):
    """``validate`` runs where a training starts (the learner), so a config made in code is checked too."""
    from core.training import train

    with pytest.raises(ValueError, match="train at least one epoch"):
        train(TrainConfig(data=str(small_flowers), epochs1=0, epochs2=0, image_size=96))
