"""Interval maths against published values (Newcombe 1998) and the score equation they solve."""

from __future__ import annotations

import math

import pytest

from core.utils import stats


@pytest.mark.parametrize(("correct", "n", "low", "high"), [
    # statsmodels proportion_confint(method="wilson") and Newcombe (1998) Stat Med 17:857, Table I, method 3
    (0, 10, 0.0, 0.2775),
    (5, 10, 0.2366, 0.7634),
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_published_values(correct, n, low, high):
    interval = stats.wilson(correct, n)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize(("correct", "n"), [(140, 149), (3, 7), (99, 100), (1, 1000)])
def test_wilson_bounds_solve_the_score_equation(correct, n):
    """Wilson's bounds are the p where (p_hat - p)^2 = z^2 p (1 - p) / n: an independent check of the formula."""
    interval = stats.wilson(correct, n)
    p_hat = correct / n
    for p in (interval.low, interval.high):
        assert (p_hat - p) ** 2 == pytest.approx(stats.Z95 ** 2 * p * (1 - p) / n, rel=1e-9, abs=1e-12)
    assert interval.low < p_hat < interval.high


def test_the_issue_example_in_words():
    interval = stats.wilson(140, 149)
    assert (round(interval.low, 2), round(interval.high, 2)) == (0.89, 0.97)
    words = stats.interval_words(interval)
    assert "between 89% and 97%" in words and "149 test photos" in words


def test_edges_stay_inside_0_and_1_and_bad_input_is_refused():
    assert stats.wilson(10, 10).high == 1.0 and stats.wilson(10, 10).low < 1.0
    assert stats.wilson(0, 10).low == 0.0
    assert stats.wilson(0, 0).as_list() == [0.0, 1.0]
    with pytest.raises(ValueError):
        stats.wilson(11, 10)
    with pytest.raises(ValueError):
        stats.wilson(-1, 10)


def test_interval_narrows_with_more_photos():
    widths = [stats.wilson(round(0.9 * n), n).half_width for n in (50, 150, 600, 2400)]
    assert widths == sorted(widths, reverse=True)
    assert widths[0] / widths[-1] == pytest.approx(math.sqrt(2400 / 50), rel=0.25)


def test_small_test_split_warning():
    assert stats.small_test_warning(149) is None
    assert "each photo moves the accuracy by 4 points" in stats.small_test_warning(25)
    assert "1.5 points" in stats.small_test_warning(66)
    assert "no test photos" in stats.small_test_warning(0)


@pytest.mark.parametrize(("a", "b", "low", "high"), [
    # Newcombe (1998) Stat Med 17:873, Table II, method 10: p_b - p_a
    ((48, 80), (56, 70), 0.0524, 0.3339),
    ((3, 10), (9, 10), 0.1705, 0.8090),
    ((0, 29), (5, 56), -0.0381, 0.1926),
])
def test_difference_interval_matches_newcombe(a, b, low, high):
    check = stats.difference_check(*a, *b)
    assert check.low == pytest.approx(low, abs=5e-5)
    assert check.high == pytest.approx(high, abs=5e-5)
    assert check.inside_noise == (check.low <= 0 <= check.high)


def test_two_points_on_149_photos_is_noise_but_twenty_is_not():
    noise = stats.difference_from_accuracies(0.94, 149, 0.96, 149)
    assert noise.inside_noise and "inside the noise" in noise.words
    real = stats.difference_from_accuracies(0.70, 149, 0.90, 149)
    assert not real.inside_noise and "second run is better" in real.words


def test_mean_sd_and_summary_fields():
    mean, sd = stats.mean_sd([0.9, 0.92, 0.94])
    assert mean == pytest.approx(0.92) and sd == pytest.approx(0.02)
    assert stats.mean_sd([0.5]) == (0.5, 0.0)
    fields = stats.summary_fields(140 / 149, 149)
    assert fields["test_n"] == 149 and fields["test_accuracy_interval"][0] == pytest.approx(0.8892, abs=1e-4)
