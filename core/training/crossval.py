"""How much does the split matter? Stratified k-fold cross-validation.

Every photo is a test photo exactly once: the photos are dealt into ``k`` folds (each class spread evenly,
near-duplicate groups kept whole), and ``k`` models are trained, each tested on one fold and trained on the
others. The spread of the ``k`` accuracies shows how much one 150-photo test split can swing; their mean is
a steadier figure than any one of them.

Two depths:

* ``head_crossval``: the current settings' phase 1 (the new head on the frozen base) on cached pooled
  features of every photo. After the first run it takes seconds.
* ``recipe_crossval``: the whole recipe (``core.training.train``), ``k`` times. Minutes; progress and Stop
  travel through the usual ``Callbacks``. A Stop keeps the folds already finished.

No TensorFlow at import time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from core.photos import twins
from core.photos.datasets import SPLITS, Dataset, ImageItem
from core.photos.datasets import load_dataset as load_photos
from core.training import head as head_training
from core.training.near_duplicates import group_ids
from core.training.photo_features import FeatureSpec, Stopped, pooled_features
from core.training.results import Callbacks, Progress
from core.training.settings import TrainConfig
from core.utils import stats

DEFAULT_FOLDS = 5
HEAD, RECIPE = "head", "recipe"
STAGE = "cross-validation"
VAL_FRACTION = 0.15  # of all photos, carved from the training folds for the recipe's validation curve


@dataclass
class CrossValResult:
    mode: str  # HEAD or RECIPE
    k: int
    accuracies: list[float]  # one per finished fold
    fold_sizes: list[int]  # test photos in each finished fold
    correct: int  # over all finished folds: every photo is tested once
    n: int
    seconds: float
    stopped: bool = False
    settings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return stats.mean_sd(self.accuracies)[0]

    @property
    def sd(self) -> float:
        return stats.mean_sd(self.accuracies)[1]

    @property
    def pooled(self) -> stats.Interval:
        """All folds together: each photo tested once by a model that never saw it."""
        return stats.wilson(self.correct, self.n)

    def summary(self) -> dict:
        """The CLI JSON fields (``folds``, ``folds_mean``, ``folds_sd``...)."""
        return {
            "folds": [round(a, 4) for a in self.accuracies],
            "folds_mean": round(self.mean, 4),
            "folds_sd": round(self.sd, 4),
            "folds_n": self.fold_sizes,
            "folds_mode": self.mode,
            "folds_pooled_accuracy": round(self.correct / self.n, 4) if self.n else 0.0,
            "folds_pooled_interval": [round(v, 4) for v in self.pooled.as_list()],
            "folds_seconds": round(self.seconds, 1),
            "folds_stopped": self.stopped,
            "folds_notes": self.notes,
        }

    def words(self) -> str:
        if not self.accuracies:
            return "No fold finished, so there is nothing to report yet."
        done = len(self.accuracies)
        spread = (f"from {min(self.accuracies):.0%} to {max(self.accuracies):.0%}" if done > 1
                  else f"{self.accuracies[0]:.0%}")
        text = (f"{done} of {self.k} folds: mean {self.mean:.1%}, standard deviation {self.sd * 100:.1f} points "
                f"(each fold {spread}). Only the split changed between folds, so a difference of that size "
                "between two of your runs can be luck.")
        return text + (" Stopped early: the folds that finished are shown." if self.stopped else "")


def fold_ids(labels, k: int = DEFAULT_FOLDS, seed: int = 0, groups=None) -> np.ndarray:
    """The fold (0..k-1) of every photo: stratified by class, each group of near-duplicates kept whole.

    ``groups[i]`` is the group of photo i (photos sharing a group id always share a fold); a group counts
    for the class most of its photos belong to. Within each class, groups are shuffled with ``seed``, then
    dealt biggest first to whichever fold holds the fewest photos of that class so far.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    if n < k:
        raise ValueError(f"{n} photos cannot be split into {k} folds: use fewer folds or add photos")
    groups = np.arange(n) if groups is None else np.asarray(groups)
    members: dict = {}
    for i, g in enumerate(groups.tolist()):
        members.setdefault(g, []).append(i)
    by_class: dict = {}
    for g, idx in members.items():
        majority = int(np.bincount(labels[idx]).argmax()) if np.issubdtype(labels.dtype, np.integer) else labels[idx[0]]
        by_class.setdefault(majority, []).append(g)
    rng = np.random.default_rng(seed)
    folds = np.full(n, -1, dtype=np.int64)
    total = np.zeros(k, dtype=np.int64)
    for cls in sorted(by_class):
        chosen = list(by_class[cls])
        rng.shuffle(chosen)
        chosen.sort(key=lambda g: -len(members[g]))  # stable: equal sizes keep their shuffled order
        in_class = np.zeros(k, dtype=np.int64)
        for g in chosen:
            # fewest of this class first, then fewest overall, then a seeded rotation: folds stay even
            rotation = (np.arange(k) + int(rng.integers(k))) % k
            fold = min(range(k), key=lambda f: (in_class[f], total[f], rotation[f]))
            folds[members[g]] = fold
            in_class[fold] += len(members[g])
            total[fold] += len(members[g])
    return folds


def all_photos(dataset: Dataset) -> list[ImageItem]:
    """Every photo of every split, in a fixed order (cross-validation makes its own splits)."""
    return sorted((item for split in SPLITS for item in dataset.splits[split]), key=lambda item: item.path)


def fold_dataset(dataset: Dataset, items: list[ImageItem], folds: np.ndarray, fold: int, seed: int = 0,
                 val_fraction: float = VAL_FRACTION) -> Dataset:
    """A ``Dataset`` whose test split is fold ``fold``; a stratified ``val_fraction`` of all photos (taken
    from the other folds) is the validation split, the rest trains. ``val_fraction = 0`` trains on all
    the other folds (the validation split is then the test fold, used for curves only, never to choose)."""
    test = [item for item, f in zip(items, folds) if f == fold]
    rest = [item for item, f in zip(items, folds) if f != fold]
    val: list[ImageItem] = []
    if val_fraction > 0:
        rng = np.random.default_rng([seed, fold])
        for label in sorted({item.label for item in rest}):
            of_class = [item for item in rest if item.label == label]
            take = round(len(of_class) * val_fraction * len(items) / max(1, len(rest)))
            picked = rng.permutation(len(of_class))[: min(take, len(of_class) - 1)]
            val += [of_class[i] for i in sorted(picked)]
    chosen = {item.path for item in val}
    train = [item for item in rest if item.path not in chosen]
    splits = {"train": train, "val": val or list(test), "test": test}
    return Dataset(list(dataset.class_names), splits, dataset.source, "cross-validation fold", dataset.root,
                   list(dataset.skipped))


def _groups_for(items: list[ImageItem], features: np.ndarray | None):
    if features is None:
        return None
    return group_ids(features)


# ---------------------------------------------------------------------------------------------- head only
def head_crossval(cfg: TrainConfig, k: int = DEFAULT_FOLDS, callbacks: Callbacks | None = None,
                  dataset: Dataset | None = None, keep_near_duplicates_together: bool = True) -> CrossValResult:
    """Phase 1 of ``cfg`` (head only: ``epochs1`` epochs at ``lr1``), ``k`` times, on cached pooled features."""
    cb = callbacks or Callbacks()
    started = time.perf_counter()
    dataset = dataset or load_photos(cfg.data, cfg.seed)
    items = all_photos(dataset)
    paths = [item.path for item in items]
    views = [f"aug{v}" for v in range(cfg.aug_views)] if cfg.augmenting else []
    report = _reporter(cb.on_progress, parts=1 + len(views) + 1)
    try:
        plain, kept = pooled_features(paths, FeatureSpec(cfg.base, cfg.image_size, "plain", cfg.preprocessing),
                                      on_batch=report.batches(0, "The frozen base reads every photo"),
                                      should_stop=cb.should_stop)
        augmented = []
        for j, view in enumerate(views):
            x, kept_view = pooled_features(
                paths, FeatureSpec(cfg.base, cfg.image_size, view, cfg.preprocessing, _ops(cfg)),
                on_batch=report.batches(1 + j, f"Augmented view {j + 1}/{len(views)}"), should_stop=cb.should_stop)
            augmented.append(_align(x, kept_view, kept))
    except Stopped:
        return CrossValResult(HEAD, k, [], [], 0, 0, time.perf_counter() - started, True, _settings(cfg))
    items = [items[i] for i in kept]
    labels = np.array([item.label for item in items])
    groups = _groups_for(items, plain) if keep_near_duplicates_together else None
    folds = fold_ids(labels, k, cfg.seed, groups)
    result = CrossValResult(HEAD, k, [], [], 0, 0, 0.0, False, _settings(cfg))
    if groups is not None and len(set(groups.tolist())) < len(groups):
        twins_kept = len(groups) - len(set(groups.tolist()))
        result.notes.append(f"{twins_kept} near-duplicate photo{'s were' if twins_kept != 1 else ' was'} kept in the "
                            "same fold as its twin.")
    for fold in range(k):
        if cb.should_stop and cb.should_stop():
            result.stopped = True
            break
        train, test = folds != fold, folds == fold
        probabilities = head_training.fit_predict(
            plain[train], labels[train], plain[test], n_classes=len(dataset.class_names), cfg=cfg,
            train_views=[a[train] for a in augmented])
        correct = int((probabilities.argmax(1) == labels[test]).sum())
        result.accuracies.append(correct / int(test.sum()))
        result.fold_sizes.append(int(test.sum()))
        result.correct += correct
        result.n += int(test.sum())
        report.fold_done(fold, k)
    result.seconds = time.perf_counter() - started
    return result


def _ops(cfg: TrainConfig) -> str:
    ops = cfg.augment_ops
    return "".join(letter for letter, on in zip("rfzs", (ops.rotation, ops.flip, ops.zoom, ops.shear)) if on)


def _align(x: np.ndarray, kept_x: list[int], kept: list[int]) -> np.ndarray:
    """Rows of ``x`` (photos ``kept_x``) for the photos ``kept`` (a photo that decodes once decodes again)."""
    position = {photo: row for row, photo in enumerate(kept_x)}
    return x[[position[photo] for photo in kept]]


def _settings(cfg: TrainConfig) -> dict:
    return {"base": cfg.base, "image_size": cfg.image_size, "epochs1": cfg.epochs1, "epochs2": cfg.epochs2,
            "unfreeze": cfg.unfreeze, "lr1": cfg.lr1, "lr2": cfg.lr2, "augment": cfg.augmenting, "seed": cfg.seed}


class _reporter:
    """Turns feature batches and finished folds into one ``Progress`` stream (fraction of the whole job)."""

    def __init__(self, on_progress: Callable[[Progress], None] | None, parts: int):
        self.on_progress = on_progress
        self.parts = parts  # feature passes + 1 for the folds

    def batches(self, part: int, message: str):
        def on_batch(done: int, total: int) -> None:
            if self.on_progress:
                self.on_progress(Progress(STAGE, (part + done / max(1, total)) / self.parts, None,
                                          f"{message} ({done}/{total})"))
        return on_batch

    def fold_done(self, fold: int, k: int) -> None:
        if self.on_progress:
            self.on_progress(Progress(STAGE, (self.parts - 1 + (fold + 1) / k) / self.parts, None,
                                      f"Fold {fold + 1} of {k} trained"))


# ----------------------------------------------------------------------------------------- whole recipe
def recipe_crossval(cfg: TrainConfig, k: int = DEFAULT_FOLDS, callbacks: Callbacks | None = None,
                    dataset: Dataset | None = None, trainer: Callable | None = None,
                    near_duplicate_groups=None, val_fraction: float = VAL_FRACTION) -> CrossValResult:
    """The whole recipe ``k`` times (``trainer(cfg, callbacks, dataset) -> TrainResult``, default
    the lesson's two phases), each fold the test split once. Progress covers all folds; a Stop ends the fold
    in progress and keeps the finished ones."""
    trainer = trainer or _two_phase_recipe
    cb = callbacks or Callbacks()
    started = time.perf_counter()
    dataset = dataset or load_photos(cfg.data, cfg.seed)
    items = all_photos(dataset)
    labels = np.array([item.label for item in items])
    if near_duplicate_groups is None:  # resized/re-encoded twins at least (thumbnails: no base needed)
        near_duplicate_groups = twins.join(len(items), twins.similar_pairs(
            twins.thumbnails([item.path for item in items]), twins.THUMB_THRESHOLD))
    folds = fold_ids(labels, k, cfg.seed, near_duplicate_groups)
    result = CrossValResult(RECIPE, k, [], [], 0, 0, 0.0, False, _settings(cfg))
    for fold in range(k):
        def progress(p: Progress, fold=fold) -> None:
            if cb.on_progress:
                cb.on_progress(Progress(p.stage, (fold + p.fraction) / k, None, f"Fold {fold + 1}/{k}: {p.message}"))

        run = trainer(cfg, Callbacks(cb.on_epoch, progress, cb.should_stop),
                      fold_dataset(dataset, items, folds, fold, cfg.seed, val_fraction))
        if run.stopped:
            result.stopped = True
            break
        n = int(run.test["n"])
        correct = round(run.test["accuracy"] * n)
        result.accuracies.append(run.test["accuracy"])
        result.fold_sizes.append(n)
        result.correct += correct
        result.n += n
    result.seconds = time.perf_counter() - started
    return result


def _two_phase_recipe(cfg: TrainConfig, callbacks: Callbacks, dataset: Dataset):
    """What ``core.training.train`` does for the lesson's recipe (that module imports the presets, which import
    this one: importing it back would be a cycle)."""
    from core.training.learner import vision_learner

    learner = vision_learner(dataset, cfg, callbacks)
    learner.fit_head()
    learner.fine_tune()
    return learner.result()


def crossval(cfg: TrainConfig, k: int = DEFAULT_FOLDS, head_only: bool = False,
             callbacks: Callbacks | None = None, dataset: Dataset | None = None) -> CrossValResult:
    """``head_crossval`` or ``recipe_crossval`` (presets have their own: ``core.training.presets.crossval``)."""
    if head_only:
        return head_crossval(replace(cfg, epochs1=max(1, cfg.epochs1)), k, callbacks, dataset)
    return recipe_crossval(cfg, k, callbacks, dataset)
