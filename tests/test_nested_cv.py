"""Nested cross-validation (core.training.nested_cv): the arithmetic on tiny synthetic sets where the right
choice is known, and that the inner choosing never sees the outer test fold."""

from __future__ import annotations

import numpy as np
import pytest

from core.training.nested_cv import nested_crossval


def _nearest_mean_scorer(features: dict[str, np.ndarray], labels: np.ndarray, calls: list | None = None):
    """Nearest class mean on the named feature set: a tiny classifier with nothing to tune."""
    def fit_score(name, train, test, pool):
        if calls is not None:
            calls.append((name, set(train.tolist()), set(test.tolist()), set(pool.tolist())))
        x = features[name]
        means = np.stack([x[train][labels[train] == c].mean(axis=0) for c in np.unique(labels)])
        guesses = np.argmin(((x[test][:, None, :] - means[None]) ** 2).sum(-1), axis=1)
        return float((guesses == labels[test]).mean())
    return fit_score


def _two_candidates(n_per_class: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], n_per_class)
    signal = labels[:, None] * 4.0 + rng.normal(size=(len(labels), 2))  # classes 4 sd apart
    noise = rng.normal(size=(len(labels), 2))  # says nothing about the class
    return labels, {"noise": noise, "signal": signal}


def test_the_informative_candidate_wins_every_outer_fold_and_scores_as_plain_cv_would():
    labels, features = _two_candidates()
    fit_score = _nearest_mean_scorer(features, labels)
    result = nested_crossval(labels, ["noise", "signal"], fit_score, k_outer=4, k_inner=3, seed=0)
    assert result.chosen == ["signal"] * 4
    assert len(result.outer_accuracies) == 4 and sum(result.outer_sizes) == len(labels)
    # with the choice always the same, each outer score is that candidate fitted on the outer training rows
    for fold, accuracy in enumerate(result.outer_accuracies):
        train, test = np.flatnonzero(result.outer_folds != fold), np.flatnonzero(result.outer_folds == fold)
        assert accuracy == fit_score("signal", train, test, train)
    assert result.mean == pytest.approx(np.mean(result.outer_accuracies))
    assert result.mean > 0.9
    assert all(means["signal"] > means["noise"] for means in result.inner_means)


def test_picking_among_noise_candidates_is_optimistic_inside_and_near_chance_outside():
    """Ten candidates that know nothing: the winners' inner scores look better than chance (the luck of the
    pick), the outer scores do not."""
    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1], 30)
    features = {f"noise {i}": rng.normal(size=(len(labels), 3)) for i in range(10)}
    result = nested_crossval(labels, list(features), _nearest_mean_scorer(features, labels), k_outer=5, k_inner=5,
                             seed=1)
    print(f"\nwinners' inner mean {result.best_inner_mean:.2f}, outer mean {result.mean:.2f} (chance 0.5)")
    assert result.best_inner_mean > result.mean
    assert result.mean < 0.65


def test_the_inner_choosing_never_sees_the_outer_test_fold():
    labels, features = _two_candidates(15, seed=1)
    groups = np.arange(len(labels)) // 2  # pairs of "near-duplicates"
    calls: list = []
    result = nested_crossval(labels, ["noise", "signal"], _nearest_mean_scorer(features, labels, calls),
                             k_outer=3, k_inner=3, seed=2, groups=groups)
    per_outer = 2 * 3 + 1  # two candidates x three inner folds, then the winner once
    assert len(calls) == 3 * per_outer
    everything = set(range(len(labels)))
    for fold in range(3):
        outer_test = set(np.flatnonzero(result.outer_folds == fold).tolist())
        block = calls[fold * per_outer:(fold + 1) * per_outer]
        for _name, train, test, pool in block[:-1]:
            assert not (train | test | pool) & outer_test
            assert train | test == pool == everything - outer_test and not train & test
        name, train, test, pool = block[-1]
        assert name == result.chosen[fold] and test == outer_test and train == pool == everything - outer_test
    for pair in range(len(labels) // 2):  # a pair of near-duplicates never straddles an outer fold
        assert result.outer_folds[2 * pair] == result.outer_folds[2 * pair + 1]


def test_no_candidates_is_an_error():
    with pytest.raises(ValueError, match="at least one candidate"):
        nested_crossval(np.array([0, 1] * 5), [], lambda *_: 0.0)


def _synthetic_photo_features(n_per_class: int = 12, seed: int = 0):
    """Five classes, the preset's four views, tiny layer widths: features where the class shows in every view."""
    from core.training import presets
    from core.training.preset_choices import PhotoFeatures

    rng = np.random.default_rng(seed)
    widths = [[2, 2, 2, 3], [1, 1, 1, 3]]
    labels = np.repeat(np.arange(5), n_per_class)
    centres = rng.normal(size=(5, sum(map(sum, widths)))) * 0.6  # overlapping classes: accuracies well below 1
    views = {v: centres[labels] + rng.normal(size=(len(labels), centres.shape[1]))
             for v in ("plain", "flip", "crop", "aug0")}
    return PhotoFeatures(presets.BEST, views, widths, labels, 5)


def test_the_choice_scorer_is_the_presets_own_head_when_the_pool_is_the_training_part():
    from core.training import presets
    from core.training.preset_choices import ABLATION_CHOICES, choice_scorer, sliced

    features = _synthetic_photo_features()
    fit_score = choice_scorer(features, ABLATION_CHOICES, seed=0)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(features.labels))
    train, test = np.sort(order[:40]), np.sort(order[40:])
    for choice in ABLATION_CHOICES:
        preset, test_views, train_views, widths = sliced(features, choice)
        head = presets.fit_head(preset, [v[train] for v in train_views], features.labels[train], 5, widths,
                                calibrate=False)
        expected = float((head.probabilities([v[test] for v in test_views]).argmax(1)
                          == features.labels[test]).mean())
        print(choice.name, expected)
        assert 0.2 < expected < 1
        assert fit_score(choice.name, train, test, train) == pytest.approx(expected), choice.name
