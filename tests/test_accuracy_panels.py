"""The honest-accuracy panels render what a student reads (AppTest, no TensorFlow)."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest


def interval_app(n: int, accuracy: float):
    from types import SimpleNamespace

    from ui import accuracy_panels

    accuracy_panels.interval(SimpleNamespace(test={"accuracy": accuracy, "n": n}))


def noise_app(first: float, second: float, n: int):
    from core.training.history import RunRecord
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
    assert "Run #2 is better by 35" in real.success[0].value and "run #2 minus run #1: +" in real.success[0].value
    worse = AppTest.from_function(noise_app, args=(0.95, 0.60, 149), default_timeout=120).run()
    words = worse.success[0].value  # the sentence names the better run, and the interval's sign agrees with it
    low, high = (float(x) for x in re.findall(r"([+−-]\d+\.\d) (?:to|points)", words))
    assert "Run #1 is better by 35" in words and "run #1 minus run #2" in words and 0 < low < high
    unknown = AppTest.from_function(noise_app, args=(0.60, 0.95, 0), default_timeout=120).run()
    assert not unknown.info and not unknown.success


def threshold_app():
    from types import SimpleNamespace

    import numpy as np

    from ui import accuracy_panels

    class Fake:
        """A 'model' sure of daisy for bright photos, unsure otherwise (no TensorFlow)."""

        def predict_on_batch(self, images):
            bright = images.mean(axis=(1, 2, 3)) > 110
            p = np.full((len(images), 5), 0.1)
            p[bright, 0] = 0.6
            p[~bright] = 0.2
            return p / p.sum(1, keepdims=True)

    names = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
    active = SimpleNamespace(model=Fake(), class_names=names, image_size=32, key="quick-fake")
    prediction = SimpleNamespace(probabilities=dict(zip(names, [0.7, 0.1, 0.1, 0.05, 0.05])))
    accuracy_panels.threshold(active, prediction)


def test_the_threshold_panel_measures_coverage_on_the_test_photos():
    at = AppTest.from_function(threshold_app, default_timeout=300).run()
    assert "daisy (70%" in at.success[0].value  # 70% is above the default 60% threshold
    at.slider(key="accuracy_threshold").set_value(75).run()
    assert "Not sure" in at.warning[0].value
    at.button(key="accuracy_measure").click().run()
    words = [m.value for m in at.markdown if "test photos" in m.value]
    assert words == ["At 75% it would say 'not sure' about all 149 test photos."]  # the fake is never 75% sure
    at.slider(key="accuracy_threshold").set_value(50).run()
    words = [m.value for m in at.markdown if "test photos" in m.value]
    assert "it would answer" in words[0] and "of 149 test photos" in words[0]
