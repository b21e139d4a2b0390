"""The honest-accuracy panels render what a student reads (AppTest, no TensorFlow)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def interval_app(n: int, accuracy: float):
    from types import SimpleNamespace

    from ui import accuracy_panels

    accuracy_panels.interval(SimpleNamespace(test={"accuracy": accuracy, "n": n}))


def noise_app(first: float, second: float, n: int):
    from core.history import RunRecord
    from ui import accuracy_panels

    runs = [RunRecord(i + 1, f"run {i + 1}", "transfer", {}, acc, None, 1.0, False, "flowers", test_n=n)
            for i, acc in enumerate((first, second))]
    accuracy_panels.noise(runs)


def test_the_accuracy_comes_with_its_interval_and_a_small_split_warning():
    at = AppTest.from_function(interval_app, args=(149, 140 / 149), default_timeout=120).run()
    assert "between 89% and 97%" in at.caption[0].value and not at.warning
    small = AppTest.from_function(interval_app, args=(20, 0.9), default_timeout=120).run()
    assert "Only 20 test photos" in small.warning[0].value


def test_run_history_says_when_a_difference_is_inside_the_noise():
    noisy = AppTest.from_function(noise_app, args=(0.94, 0.96, 149), default_timeout=120).run()
    assert "inside the noise" in noisy.info[0].value and "Run #2 vs run #1" in noisy.info[0].value
    real = AppTest.from_function(noise_app, args=(0.60, 0.95, 149), default_timeout=120).run()
    assert "second run is better by" in real.success[0].value
    unknown = AppTest.from_function(noise_app, args=(0.60, 0.95, 0), default_timeout=120).run()
    assert not unknown.info and not unknown.success
