"""Named recipes a student can pick beside the lesson's: "best for small data" (towards Kiran's 92%).

What it does differently from the lesson (each step chosen by ``bench/ablation.py`` on the shared flowers; the honest
figure, with those choices re-made inside each fold, comes from ``bench/nested_cv.py``; both in the README):

* It reads the frozen MobileNetV2 in the **middle** as well as at the top: the pooled outputs of blocks
  13, 14 and 15 (where the network sees petals, textures and colours) next to the final features. With
  200 photos per class, these mid-level features separate flowers better than the final ones, which were
  shaped for ImageNet's 1,000 objects.
* **Both widths** of MobileNetV2 (alpha 1.0 and 0.35) look at each photo; the thin one counts half.
* Each photo is shown **three ways** (as is, mirrored, and its middle 80% enlarged) for training, and the
  same three at test time, averaging the answers (test-time augmentation).
* The head is a **ridge-regularised linear classifier** solved exactly (no epochs, no learning rate to
  tune), then its scores are turned into probabilities with one temperature fitted by cross-validation
  inside the training photos, so "how sure" stays honest for the Predict page's threshold.

The frozen bases never change, so every photo goes through them once (cached per photo; see
``core.training.photo_features``); training is a few seconds of linear algebra after that. The saved ``.keras`` file
is one ordinary Keras model (raw pixels in, probabilities out) that ``core.inference.evaluate`` reads back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from core.inference.evaluate import evaluate_probabilities, misclassified
from core.photos.datasets import SPLITS, Dataset
from core.photos.datasets import load_dataset as load_photos
from core.training import near_duplicates
from core.training.crossval import CrossValResult, all_photos, fold_ids
from core.training.photo_features import FeatureSpec, Stopped, _frozen_base, pooled_features
from core.training.preset_model import build_model
from core.training.results import Callbacks, Progress, TrainResult
from core.training.settings import TrainConfig

STAGE = "preset"


@dataclass(frozen=True)
class Member:
    base: str
    weight: float  # how much its features count next to the others


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    summary: str
    members: tuple[Member, ...]
    layers: tuple[str, ...]
    views: tuple[str, ...]
    ridge: float = 1.0
    image_size: int = 224


MID_AND_TOP = ("block_13_expand_relu", "block_14_expand_relu", "block_15_expand_relu", "out_relu")
BEST = Preset(
    key="best",
    title="best for small data",
    summary="Both MobileNetV2 widths read in the middle and at the top, three views of each photo, an exact "
            "linear head: no epochs or learning rates to tune.",
    members=(Member("mobilenet_v2", 1.0), Member("mobilenet_v2_035", 0.5)),
    layers=MID_AND_TOP,
    views=("plain", "flip", "crop"),
)
PRESETS = {BEST.key: BEST}


def get(key: str) -> Preset:
    try:
        return PRESETS[key]
    except KeyError:
        raise ValueError(f"Unknown preset {key!r}; choose one of: {', '.join(PRESETS)}") from None


# ----------------------------------------------------------------------------------------------- features
def features(preset: Preset, paths: list[str], callbacks: Callbacks | None = None,
             done: float = 0.0, share: float = 1.0) -> tuple[list[np.ndarray], list[int], dict]:
    """One ``[n_ok, D]`` array per view (members side by side), the indices of the photos that decoded,
    and which (member, view) came from the cache. Progress covers ``share`` of the job from ``done``."""
    cb = callbacks or Callbacks()
    parts = [(m, v) for v in preset.views for m in preset.members]
    blocks: dict[tuple, tuple[np.ndarray, list[int]]] = {}
    cache: dict[str, str] = {}
    for j, (member, view) in enumerate(parts):
        def on_batch(step: int, total: int, j=j, member=member, view=view) -> None:
            if cb.on_progress:
                fraction = done + share * (j + step / max(1, total)) / len(parts)
                cb.on_progress(Progress(STAGE, fraction, None, f"{member.base}, {view} view: photos {step}/{total}"))

        calls = []
        blocks[(member, view)] = pooled_features(
            paths, FeatureSpec(member.base, preset.image_size, view, layers=preset.layers),
            on_batch=lambda s, t, f=on_batch, c=calls: (c.append(1), f(s, t)), should_stop=cb.should_stop)
        cache[f"{member.base}/{view}"] = "cold" if calls else "warm"
    kept = sorted(set.intersection(*(set(k) for _, k in blocks.values())))
    views = []
    for view in preset.views:
        row = []
        for member in preset.members:
            x, k = blocks[(member, view)]
            position = {photo: r for r, photo in enumerate(k)}
            row.append(x[[position[photo] for photo in kept]])
        views.append(np.concatenate(row, axis=1))
    return views, kept, cache


def _block_weights(preset: Preset, widths: list[int]) -> np.ndarray:
    """Per-column scale: each pooled layer's block weighs the same in total (1/sqrt(its width)), times its member's weight."""
    scale = []
    for member, per_layer in zip(preset.members, widths):
        for width in per_layer:
            scale += [member.weight / np.sqrt(width)] * width
    return np.asarray(scale, dtype=np.float64)


# -------------------------------------------------------------------------------------------------- head
@dataclass
class LinearHead:
    """``probabilities = mean over views of softmax(x @ weights + bias)``, x the raw pooled features."""

    weights: np.ndarray  # [D, classes], standardisation and temperature folded in
    bias: np.ndarray  # [classes]
    temperature: float

    def probabilities(self, views: list[np.ndarray]) -> np.ndarray:
        return np.mean([_softmax(v.astype(np.float64) @ self.weights + self.bias) for v in views], axis=0)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_head(preset: Preset, views: list[np.ndarray], labels: np.ndarray, n_classes: int, widths: list[list[int]],
             seed: int = 0, calibrate: bool = True) -> LinearHead:
    """Standardise (every view's photos together), weight the blocks, solve ridge on ±1 class targets, then
    fit a softmax temperature on scores of photos left out by an inner 3-fold split (grouped by photo).

    Ridge is solved in its dual form (fewer rows than features): one Gram matrix of every (photo, view) row,
    sliced for the inner folds, so the temperature costs a few small solves rather than new products. The
    temperature changes how sure the model says it is, never which class wins: cross-validation of the
    accuracy skips it (``calibrate=False``, temperature 1)."""
    n, k = len(labels), len(views)
    stacked = np.concatenate(views).astype(np.float64)
    mean, sd = stacked.mean(axis=0), stacked.std(axis=0) + 1e-6
    scale = _block_weights(preset, widths) / sd
    rows = ((stacked - mean) * scale).astype(np.float32)  # row r = photo r % n, view r // n
    gram = (rows @ rows.T).astype(np.float64)
    labels = np.asarray(labels)
    targets = np.eye(n_classes)[labels] * 2 - 1
    offset = targets.mean(axis=0)
    photo_of_row = np.tile(np.arange(n), k)

    def dual(photos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        picked = np.flatnonzero(np.isin(photo_of_row, photos))
        system = gram[np.ix_(picked, picked)] + preset.ridge * np.eye(len(picked))
        right = targets[photo_of_row[picked]] - offset
        return picked, np.linalg.solve(system.astype(np.float32), right.astype(np.float32)).astype(np.float64)

    inner = np.random.default_rng(seed).permutation(n) % 3
    scores = np.zeros((n, n_classes))
    for part in range(3 if calibrate else 0):
        picked, alpha = dual(np.flatnonzero(inner != part))
        held = np.flatnonzero(inner == part)
        per_view = [gram[np.ix_(held + v * n, picked)] @ alpha for v in range(k)]
        scores[held] = np.mean(per_view, axis=0) + offset
    temperature = _best_temperature(scores, labels) if calibrate else 1.0
    picked, alpha = dual(np.arange(n))
    weights = rows[picked].T.astype(np.float64) @ alpha
    folded = weights * scale[:, None] * temperature
    bias = (offset - (mean * scale) @ weights) * temperature
    return LinearHead(folded, bias, temperature)


def _best_temperature(scores: np.ndarray, labels: np.ndarray) -> float:
    """The softmax temperature with the lowest cross-entropy on held-out scores (a grid, then a finer one)."""
    def loss(t: float) -> float:
        p = _softmax(scores * t)
        return float(-np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, 1)).mean())

    grid = np.geomspace(0.1, 100, 61)
    best = grid[int(np.argmin([loss(t) for t in grid]))]
    fine = np.geomspace(best / 1.15, best * 1.15, 21)
    return float(fine[int(np.argmin([loss(t) for t in fine]))])


def layer_widths(preset: Preset) -> list[list[int]]:
    """Channels of each pooled layer, per member (from the architectures; no weights needed)."""
    return [[int(_frozen_base(m.base, preset.image_size, "model", preset.layers)[3].get_layer(name).output.shape[-1])
             for name in preset.layers] for m in preset.members]


def _near_duplicate_groups(preset: Preset, plain: np.ndarray, widths: list[list[int]], paths: list[str]) -> np.ndarray:
    """Groups as in ``core.training.near_duplicates``: the final pooled features of the first member (the last
    block of its columns when the preset pools ``out_relu`` last) or thumbnails alone."""
    thumbs = near_duplicates.thumbnails(paths)
    if preset.layers and preset.layers[-1] == "out_relu" and preset.members[0].base == near_duplicates.FEATURE_BASE:
        end = sum(widths[0])
        return near_duplicates.group_ids(plain[:, end - widths[0][-1]:end], thumbs=thumbs)
    return near_duplicates.group_ids(np.zeros((len(paths), 1)), threshold=2.0, thumbs=thumbs)


def crossval(preset: Preset, cfg: TrainConfig, k: int = 5, callbacks: Callbacks | None = None,
             dataset: Dataset | None = None):
    """``k``-fold cross-validation of the preset (every photo tested once; near-duplicates kept in one fold).
    The frozen bases read each photo once for all folds."""
    cb = callbacks or Callbacks()
    started = time.perf_counter()
    dataset = dataset or load_photos(cfg.data, cfg.seed)
    items = all_photos(dataset)
    paths = [item.path for item in items]
    result = CrossValResult(f"preset {preset.key}", k, [], [], 0, 0, 0.0, False, {"preset": preset.key, "seed": cfg.seed})
    try:
        views, kept, cache = features(preset, paths, cb, 0.0, 0.9)
    except Stopped:
        result.stopped, result.seconds = True, time.perf_counter() - started
        return result
    labels = np.array([items[i].label for i in kept])
    widths = layer_widths(preset)
    groups = _near_duplicate_groups(preset, views[0], widths, [paths[i] for i in kept])
    folds = fold_ids(labels, k, cfg.seed, groups)
    result.settings["feature_cache"] = cache
    for fold in range(k):
        if cb.should_stop and cb.should_stop():
            result.stopped = True
            break
        train, test = folds != fold, folds == fold
        head = fit_head(preset, [v[train] for v in views], labels[train], len(dataset.class_names), widths, cfg.seed,
                        calibrate=False)
        correct = int((head.probabilities([v[test] for v in views]).argmax(1) == labels[test]).sum())
        result.accuracies.append(correct / int(test.sum()))
        result.fold_sizes.append(int(test.sum()))
        result.correct += correct
        result.n += int(test.sum())
        if cb.on_progress:
            cb.on_progress(Progress(STAGE, 0.9 + 0.1 * (fold + 1) / k, None, f"Fold {fold + 1} of {k} done"))
    result.seconds = time.perf_counter() - started
    return result


def train(cfg: TrainConfig, callbacks: Callbacks | None = None, dataset: Dataset | None = None,
          all_photos: bool = False):
    """The preset named by ``cfg.preset`` as a ``TrainResult`` (what ``core.training.train`` returns).

    The head learns from the train and validation photos together (nothing is chosen on the validation
    photos: there are no epochs), and the test photos stay unseen, so the test accuracy is honest. With
    ``all_photos`` every photo trains (a model to keep, once cross-validation has measured the recipe);
    the result then has no test figure."""
    cfg.validate()
    preset = get(cfg.preset)
    cb = callbacks or Callbacks()
    started = time.perf_counter()
    dataset = dataset or load_photos(cfg.data, cfg.seed)
    if not all_photos:
        dataset.check_testable()
    learn_splits = SPLITS if all_photos else ("train", "val")
    learn = [item for split in learn_splits for item in dataset.splits[split]]
    test = [] if all_photos else list(dataset.splits["test"])
    paths = [item.path for item in learn + test]
    timings: dict = {"load_data_and_model": time.perf_counter() - started}
    try:
        views, kept, cache = features(preset, paths, cb, 0.0, 0.95)
    except Stopped:
        raise  # nothing to return yet: the caller shows "stopped before training"
    timings["extract_features"] = time.perf_counter() - started - timings["load_data_and_model"]
    labels = np.array([(learn + test)[i].label for i in kept])
    is_test = np.array([i >= len(learn) for i in kept], dtype=bool)
    widths = layer_widths(preset)
    fit_start = time.perf_counter()
    head = fit_head(preset, [v[~is_test] for v in views], labels[~is_test], len(dataset.class_names), widths, cfg.seed)
    timings["fit_head"] = time.perf_counter() - fit_start
    probabilities = head.probabilities([v[is_test] for v in views]) if is_test.any() else np.zeros((0, len(dataset.class_names)))
    test_paths = [paths[i] for i in kept if i >= len(learn)]
    model = build_model(preset, head, len(dataset.class_names))
    timings["total"] = time.perf_counter() - started
    timings["phase_test_accuracy"] = {}
    used = replace(cfg, image_size=preset.image_size, base=preset.members[0].base, epochs1=0, epochs2=0, unfreeze=0,
                   augment=False, preprocessing="model")
    notes = [f"Preset '{preset.title}': {preset.summary}",
             "The head learned from the train and validation photos together; the test photos stayed unseen."
             if not all_photos else "Every photo trained this model: it has no test photos (see cross-validation)."]
    return TrainResult(
        model=model, class_names=list(dataset.class_names), config=used, history=[],
        test=evaluate_probabilities(probabilities, labels[is_test], dataset.class_names),
        misclassified=misclassified(probabilities, labels[is_test], test_paths, dataset.class_names),
        dataset_source=dataset.source, counts=dataset.counts(), skipped=[vars(s) for s in dataset.skipped],
        timings=timings, cache=cache, stopped=False,
        weights="ImageNet weights: " + ", ".join(m.base for m in preset.members), notes=notes,
        base_counts={"temperature": round(head.temperature, 3)},
    )
