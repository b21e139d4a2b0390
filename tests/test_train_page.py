"""The Train page under AppTest (widgets by key, session state, messages), and the ui pieces it is made of.

Fast tests swap the engine's recipes for a fake that records the ``TrainConfig`` it was given (no TensorFlow);
tests marked ``slow`` train real (tiny) models on the shared photos.
"""

from __future__ import annotations

import io
import threading
import time
import zipfile
from dataclasses import replace
from types import SimpleNamespace

import pytest
from conftest import ROOT, make_flower_subset
from streamlit.testing.v1 import AppTest

from core.classroom.runner.recipes import RECIPES
from core.training import EpochRecord, TrainConfig, TrainResult, history
from ui import kiran, state, train_settings, training_job

PAGE = str(ROOT / "app_pages" / "train.py")


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error]


def finish(at: AppTest, timeout=300) -> AppTest:
    """Wait for the training to end, then rerun (a fake one may have ended, and been filed, already)."""
    if state.JOB in at.session_state:
        assert at.session_state[state.JOB].wait(timeout), "training did not finish"
    return at.run()


def tiny(at: AppTest, epochs1=1, epochs2=1, unfreeze=10) -> AppTest:
    at.selectbox(key="train_image_size").set_value(96)
    at.slider(key="train_epochs1").set_value(epochs1)
    at.slider(key="train_epochs2").set_value(epochs2)
    at.select_slider(key="train_unfreeze").set_value(unfreeze)
    return at.run()


def fake_result(cfg: TrainConfig, accuracy: float = 0.5) -> TrainResult:
    return TrainResult(
        model=None, class_names=["daisy", "roses"], config=cfg,
        history=[EpochRecord("head", 1, loss=1.0, accuracy=0.5, val_loss=0.9, val_accuracy=0.6, seconds=0.1)],
        test={"accuracy": accuracy, "loss": 1.0, "n": 2, "confusion_matrix": [[1, 0], [1, 0]],
              "per_class": {"daisy": {"accuracy": 1.0}, "roses": {"accuracy": 0.0}}},
        misclassified=[], dataset_source="fake photos", counts={}, skipped=[], timings={"total": 0.1}, cache={},
        stopped=False, weights="fake weights",
    )


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not errors(at)
    return at


@pytest.fixture
def fake_engine(monkeypatch):
    """Recipes that record the config they are given and return at once; ``release`` holds them back."""
    seen: dict[str, list[TrainConfig]] = {"transfer": [], "scratch": []}
    release = threading.Event()
    release.set()

    def recipe(name, accuracy):
        def run(cfg, callbacks):
            seen[name].append(cfg)
            release.wait(60)
            if cfg.lr1 == 5e-3 and name == "transfer":  # a recipe that fails, for the error test
                raise ValueError("no photos in class 'roses'")
            return fake_result(cfg, accuracy)
        return run

    monkeypatch.setenv("TLL_TRAINING_BACKEND", "thread")  # in-process: the fakes below are seen by the runner
    monkeypatch.setitem(RECIPES, "transfer", recipe("transfer", 0.9))
    monkeypatch.setitem(RECIPES, "scratch", recipe("scratch", 0.4))
    return SimpleNamespace(seen=seen, release=release)


def test_page_shows_the_flowers_and_the_lessons_defaults(page):
    assert page.radio(key="train_source").value == "Flowers (tf_flowers)"
    assert any("offline copy" in c.value for c in page.caption)
    assert page.slider(key="train_epochs1").value == 5
    assert page.slider(key="train_epochs2").value == 10
    assert page.select_slider(key="train_unfreeze").value == 30
    assert page.select_slider(key="train_lr1").value == pytest.approx(1e-3)
    assert page.select_slider(key="train_lr2").value == pytest.approx(1e-5)
    assert page.selectbox(key="train_image_size").value == 224
    assert page.radio(key="train_preprocessing").value == "model"


def test_learning_rates_are_a_log_scale_from_1e6_to_1e2():
    rates = train_settings.LEARNING_RATES
    assert rates[0] == 1e-6 and rates[-1] == 1e-2 and 1e-3 in rates and 1e-5 in rates
    ratios = [b / a for a, b in zip(rates, rates[1:])]
    assert all(r == pytest.approx(2) or r == pytest.approx(2.5) for r in ratios), ratios  # 1-2-5 steps
    assert [train_settings.learning_rate_text(v) for v in (1e-5, 2e-4, 1e-2)] == ["1e-5", "2e-4", "1e-2"]


def test_unfreeze_slider_shows_the_trainable_parameter_count_as_it_moves(page):
    def trainable() -> int:
        caption = next(c.value for c in page.caption if c.value.startswith("Trainable in the base"))
        return int(caption.split("**")[1].replace(",", ""))

    stops = page.select_slider(key="train_unfreeze").options
    assert stops[0] == "0" and stops[-1] == "154"  # MobileNetV2 has 154 layers without its top
    counts = []
    for k in (0, 10, 30, 154):
        page.select_slider(key="train_unfreeze").set_value(k).run()
        counts.append(trainable())
    assert counts[0] == 0 and counts[0] < counts[1] < counts[2] < counts[3], counts


def test_a_base_with_fewer_layers_moves_the_unfreeze_slider_to_its_nearest_stop(page, monkeypatch):
    from ui import train_settings

    real_counts, real_available = train_settings.unfreeze_counts, train_settings.weights_available
    monkeypatch.setattr(train_settings, "weights_available", lambda key: key in ("mobilenet_v2", "vgg16"))
    monkeypatch.setattr(train_settings, "unfreeze_counts", lambda key, k: real_counts(key, k) if key != "vgg16" else {
        "layers_total": 19, "params_trainable": 1000 * k, "params_frozen": 19_000 - 1000 * k, "params_total": 19_000})
    page.run()
    page.select_slider(key="train_unfreeze").set_value(30)
    page.selectbox(key="train_base").set_value("vgg16").run()
    assert not errors(page) and not page.warning
    slider = page.select_slider(key="train_unfreeze")
    assert slider.options[-1] == "19" and slider.value == 19  # 30 is past the top: the whole base
    assert real_available("mobilenet_v2")


def test_the_sliders_values_reach_the_runs_config_and_history(page, fake_engine):
    page.slider(key="train_epochs1").set_value(3)
    page.slider(key="train_epochs2").set_value(7)
    page.select_slider(key="train_unfreeze").set_value(50)
    page.select_slider(key="train_lr1").set_value(2e-4)
    page.select_slider(key="train_lr2").set_value(5e-6)
    page.run()
    page.button(key="train_start").click().run()
    finish(page)
    assert not errors(page)
    cfg = fake_engine.seen["transfer"][-1]
    assert (cfg.epochs1, cfg.epochs2, cfg.unfreeze, cfg.lr1, cfg.lr2) == (3, 7, 50, 2e-4, 5e-6)
    row = history.runs_table(page.session_state[state.RUNS])[-1]
    assert (row["epochs1"], row["epochs2"], row["unfreeze"], row["lr1"], row["lr2"]) == (3, 7, 50, 2e-4, 5e-6)
    used = next(c.value for c in page.caption if c.value.startswith("This run:"))
    assert "head for 3 epochs at learning rate 0.0002" in used
    assert "top 50 base layers for 7 epochs at learning rate 5e-06" in used


def test_settings_that_cannot_train_say_why_and_disable_the_buttons(page):
    page.slider(key="train_epochs1").set_value(0)
    page.slider(key="train_epochs2").set_value(0).run()
    assert any("train at least one epoch" in w.value for w in page.warning)
    assert all(page.button(key=k).disabled for k in ("train_start", "train_high_lr", "train_kiran"))
    page.slider(key="train_epochs1").set_value(1).run()
    assert not page.button(key="train_start").disabled


def test_a_failed_training_shows_its_error_and_the_page_keeps_working(page, fake_engine):
    page.select_slider(key="train_lr1").set_value(5e-3).run()
    page.button(key="train_start").click().run()
    finish(page)
    assert any("Training failed: ValueError: no photos in class 'roses'" in e.value for e in page.error)
    assert state.RUNS not in page.session_state or not page.session_state[state.RUNS]
    assert not page.button(key="train_start").disabled  # try again with other settings


def test_stop_and_live_view_while_a_training_runs(page, fake_engine):
    fake_engine.release.clear()  # the fake training waits until released
    page.button(key="train_start").click().run()
    assert page.button(key="train_start").disabled
    assert page.button(key="train_stop")  # the Stop button is there while it runs
    page.button(key="train_stop").click().run()
    assert page.session_state[state.JOB].stopping
    fake_engine.release.set()
    finish(page)
    assert not page.button(key="train_start").disabled


def test_the_queue_message_says_the_place_and_how_many_run():
    assert training_job.queue_message(1, 2) == (
        "Waiting for a free spot: you are number 1 in the queue (yours is next); 2 trainings running on this computer.")
    assert "number 3 in the queue (2 trainings ahead of yours); 1 training running" in training_job.queue_message(3, 1)
    assert training_job.queue_message(2, None).endswith("(1 training ahead of yours).")


def test_one_click_experiments_use_the_right_settings(page, fake_engine):
    page.slider(key="train_epochs2").set_value(0).run()  # no fine-tuning chosen: the experiment adds some
    page.button(key="train_high_lr").click().run()
    finish(page)
    high = fake_engine.seen["transfer"][-1]
    assert (high.lr2, high.epochs2, high.unfreeze, high.lr1) == (1e-2, 5, 30, 1e-3)  # only phase 2 changes
    page.button(key="train_kiran").click().run()
    finish(page)
    assert not errors(page)
    assert fake_engine.seen["scratch"][-1].image_size == kiran.IMAGE_SIZE == fake_engine.seen["transfer"][-1].image_size
    runs = page.session_state[state.RUNS]
    assert [(r.kind, r.label) for r in runs] == [("transfer", "try lr = 1e-2 in phase 2"),
                                                 ("transfer", "Kiran: transfer learning"),
                                                 ("scratch", "Kiran: CNN from scratch")]
    assert page.session_state[state.KIRAN] == {"scratch": 0.4, "transfer": 0.9, "epochs": 5, "size": 96,
                                                   "data": "tf_flowers"}
    assert page.session_state[state.LATEST_RESULT].config.image_size == 96  # Kiran's transfer model
    assert any("Kiran's experiment" in h.value for h in page.subheader)


def test_own_photos_zip_gets_a_report_and_bad_zip_a_clear_message(page, tmp_path):
    folder = make_flower_subset(tmp_path / "mine", per_class=12)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.rglob("*.jpg"):
            archive.write(path, f"mine/{path.relative_to(folder)}")
    at = page
    at.radio(key="train_source").set_value("My own photos").run()
    assert any("No photos uploaded yet" in i.value for i in at.info)
    assert at.button(key="train_start").disabled
    at.file_uploader(key="train_upload").upload("mine.zip", buffer.getvalue(), "application/zip").run()
    assert not errors(at)
    assert any("36 photos in 3 classes: daisy, roses, tulips" in s.value for s in at.success)
    assert not at.button(key="train_start").disabled
    at.file_uploader(key="train_upload").upload("broken.zip", b"not a zip at all", "application/zip").run()
    assert any("not a zip archive" in e.value for e in at.error)
    assert at.button(key="train_start").disabled  # nothing to train on, but the page still works
    at.radio(key="train_source").set_value("Flowers (tf_flowers)").run()
    assert not at.button(key="train_start").disabled


def test_run_history_bookkeeping():
    runs: list[history.RunRecord] = []
    history.add_run(runs, fake_result(TrainConfig(lr2=1e-5), 0.9))
    history.add_run(runs, replace(fake_result(TrainConfig(lr2=1e-2), 0.4), stopped=True), label="too high")
    assert [r.run_id for r in runs] == [1, 2]
    assert history.changed_settings(runs) == ["lr2"]
    table = history.runs_table(runs)
    assert table[1]["label"] == "too high" and table[1]["stopped early"] and not table[0]["stopped early"]
    assert table[0]["test accuracy"] == 0.9
    rows = history.curve_rows(runs, [2])
    assert {r["run"] for r in rows} == {"#2 too high"} and len(rows) == 4


@pytest.mark.slow
def test_train_twice_then_compare_runs(page):
    at = tiny(page)
    at.button(key="train_start").click().run()
    assert state.JOB in at.session_state
    finish(at)
    assert not errors(at)
    result = at.session_state[state.LATEST_RESULT]
    assert {m.label: m.value for m in at.metric}["Test accuracy"] == f"{result.test['accuracy']:.1%}"
    assert (result.config.epochs1, result.config.epochs2, result.config.unfreeze) == (1, 1, 10)
    assert len(result.history) == 2
    at.select_slider(key="train_lr1").set_value(1e-4).run()
    at.button(key="train_start").click().run()
    finish(at)
    runs = at.session_state[state.RUNS]
    assert [r.run_id for r in runs] == [1, 2]
    assert runs[1].settings["lr1"] == pytest.approx(1e-4)
    assert any("Settings that differ between your runs: lr1" in c.value for c in at.caption)
    assert at.multiselect(key="train_runs_pick").value == [1, 2]
    assert len(at.get("plotly_chart")) >= 6  # photos, curves, confusion, per class, two overlays


@pytest.mark.slow
def test_stop_keeps_what_was_trained(page):
    at = tiny(page, epochs1=30, epochs2=0, unfreeze=0)
    at.button(key="train_start").click().run()
    job = at.session_state[state.JOB]
    deadline = time.monotonic() + 120
    while not job.state.epochs and time.monotonic() < deadline:  # a wait, not a timing assertion
        time.sleep(0.2)
    at.button(key="train_stop").click().run()
    finish(at)
    result = at.session_state[state.LATEST_RESULT]
    assert result.stopped and 1 <= len(result.history) < 30
    assert any("stopped this run early" in w.value for w in at.warning)


@pytest.mark.slow
def test_kirans_experiment_trains_both_for_real(page):
    at = tiny(page, epochs1=1, epochs2=1, unfreeze=10)
    at.button(key="train_kiran").click().run()
    finish(at)
    assert not errors(at)
    transfer, scratch = at.session_state[state.RUNS][-2:]
    assert (transfer.kind, scratch.kind) == ("transfer", "scratch")
    comparison = at.session_state[state.KIRAN]
    assert comparison == {"scratch": scratch.test_accuracy, "transfer": transfer.test_accuracy, "epochs": 2,
                          "size": kiran.IMAGE_SIZE, "data": transfer.settings["data"]}
    assert scratch.settings["image_size"] == transfer.settings["image_size"] == kiran.IMAGE_SIZE
