"""What a job can run: a recipe name -> the ``core.engine`` call, ``(cfg, callbacks, dataset=None) -> TrainResult``.

One table for every backend (worker processes, the in-process threads of tests, a cluster), so a job means
the same everywhere. Tests may swap an entry for a fake (the in-process backend looks entries up per run).
"""

from __future__ import annotations

from core.training import train, train_from_scratch

RECIPES = {"transfer": train, "scratch": train_from_scratch}
