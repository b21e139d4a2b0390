"""What a job can run: a recipe name -> the ``core.training`` call, ``(cfg, callbacks, dataset=None) -> TrainResult``.

One table for every backend (worker processes, the in-process threads of tests, a cluster), so a job means
the same everywhere. Tests may swap an entry for a fake (the in-process backend looks entries up per run).

``SERVER_RECIPES`` are the server-wide measurements only the teacher starts: ``(cfg, callbacks) -> dict`` (a
JSON-ready result; the reference measurements also keep their own cache for every page).
"""

from __future__ import annotations

from dataclasses import asdict

from core.lesson import reference
from core.training import train, train_from_scratch
from core.training.crossval import recipe_crossval

RECIPES = {"transfer": train, "scratch": train_from_scratch}
CROSSVAL_FOLDS = 5


def measure_reference(cfg, callbacks) -> dict:
    return reference.compute(callbacks)


def measure_scaling(cfg, callbacks) -> dict:
    return reference.compute_scaling(callbacks)


def crossvalidate_recipe(cfg, callbacks) -> dict:
    return asdict(recipe_crossval(cfg, CROSSVAL_FOLDS, callbacks))


SERVER_RECIPES = {"reference": measure_reference, "scaling": measure_scaling, "crossval": crossvalidate_recipe}
