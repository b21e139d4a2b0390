"""The Train page under AppTest (widgets by key, session state, messages), and the core pieces it adds."""

from __future__ import annotations

import io
import time
import zipfile
from types import SimpleNamespace

import pytest
from conftest import ROOT, make_flower_subset
from streamlit.testing.v1 import AppTest

from core import history
from core.jobs import TrainingJob
from core.train import EpochRecord, TrainConfig

PAGE = str(ROOT / "app_pages" / "train.py")


def tiny(at: AppTest, epochs1=1, epochs2=1, unfreeze=10) -> AppTest:
    at.selectbox(key="train_image_size").set_value(96)
    at.number_input(key="train_epochs1").set_value(epochs1)
    at.number_input(key="train_epochs2").set_value(epochs2)
    at.number_input(key="train_unfreeze").set_value(unfreeze)
    return at.run()


def finish(at: AppTest, timeout=300) -> AppTest:
    job = at.session_state["train_job"]
    assert job.wait(timeout), "training did not finish"
    return at.run()


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error]


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not errors(at)
    return at


def test_page_shows_the_flowers_and_the_lessons_defaults(page):
    assert page.radio(key="train_source").value == "Flowers (tf_flowers)"
    assert any("offline copy" in c.value for c in page.caption)
    assert page.number_input(key="train_epochs1").value == 5
    assert page.number_input(key="train_epochs2").value == 10
    assert page.number_input(key="train_unfreeze").value == 30
    assert page.select_slider(key="train_lr2").value == pytest.approx(1e-5)
    assert page.selectbox(key="train_image_size").value == 224
    assert page.radio(key="train_preprocessing").value == "model"


def test_unfreeze_depth_shows_the_trainable_parameter_count(page):
    def trainable_caption():
        return next(c.value for c in page.caption if c.value.startswith("Trainable in the base"))

    before = trainable_caption()
    page.number_input(key="train_unfreeze").set_value(0).run()
    assert "**0**" in trainable_caption()
    page.number_input(key="train_unfreeze").set_value(100).run()
    assert trainable_caption() != before


def test_train_twice_then_compare_runs(page):
    at = tiny(page)
    at.button(key="train_start").click().run()
    assert "train_job" in at.session_state
    finish(at)
    assert not errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"].endswith("%")
    result = at.session_state["latest_result"]
    assert metrics["Test accuracy"] == f"{result.test['accuracy']:.1%}"
    at.select_slider(key="train_lr1").set_value(1e-4).run()
    at.button(key="train_start").click().run()
    finish(at)
    runs = at.session_state["train_runs"]
    assert [r.run_id for r in runs] == [1, 2]
    assert runs[1].settings["lr1"] == pytest.approx(1e-4)
    assert any("Settings that differ between your runs: lr1" in c.value for c in at.caption)
    assert at.multiselect(key="train_runs_pick").value == [1, 2]
    assert len(at.dataframe) >= 1


def test_stop_keeps_what_was_trained(page):
    at = tiny(page, epochs1=40, epochs2=0, unfreeze=0)
    at.button(key="train_start").click().run()
    job = at.session_state["train_job"]
    deadline = time.monotonic() + 120
    while not job.state.epochs and time.monotonic() < deadline:
        time.sleep(0.2)
    at.button(key="train_stop").click().run()
    finish(at)
    result = at.session_state["latest_result"]
    assert result.stopped and 1 <= len(result.history) < 40
    assert any("stopped this run early" in w.value for w in at.warning)


def test_own_photos_zip_gets_a_report_and_bad_zip_a_clear_message(page, tmp_path):
    folder = make_flower_subset(tmp_path / "mine", per_class=12)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.rglob("*.jpg"):
            archive.write(path, f"mine/{path.relative_to(folder)}")
    at = page
    at.radio(key="train_source").set_value("My own photos").run()
    assert any("No photos uploaded yet" in i.value for i in at.info)
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

    def fake(lr2, acc, stopped=False):
        return SimpleNamespace(
            config=TrainConfig(lr2=lr2), test={"accuracy": acc}, timings={"total": 3.0,
                                                                          "phase_test_accuracy": {"phase1": 0.8}},
            stopped=stopped, dataset_source="flowers",
            history=[EpochRecord("head", 1, loss=1.0, accuracy=0.5, val_loss=0.9, val_accuracy=0.6, seconds=0.1)],
        )

    history.add_run(runs, fake(1e-5, 0.9))
    history.add_run(runs, fake(1e-2, 0.4, stopped=True), label="too high")
    assert [r.run_id for r in runs] == [1, 2]
    assert history.changed_settings(runs) == ["lr2"]
    table = history.runs_table(runs)
    assert table[1]["label"] == "too high" and table[1]["stopped early"] and table[0]["test accuracy"] == 0.9
    rows = history.curve_rows(runs, [2])
    assert {r["run"] for r in rows} == {"#2 too high"} and len(rows) == 4


def test_training_job_reports_errors_instead_of_crashing():
    def broken(on_epoch, on_progress, should_stop):
        raise ValueError("no photos")

    job = TrainingJob(broken).start()
    assert job.wait(10)
    assert job.state.status == "failed" and "no photos" in job.state.error


def test_one_click_experiments_high_learning_rate_and_kirans(page):
    at = tiny(page, epochs1=1, epochs2=1, unfreeze=10)
    at.button(key="train_high_lr").click().run()
    finish(at)
    high = at.session_state["train_runs"][-1]
    assert high.label == "try lr = 1e-2 in phase 2" and high.settings["lr2"] == pytest.approx(1e-2)
    assert high.settings["lr1"] == pytest.approx(1e-3)  # only the phase-2 learning rate changes
    at.button(key="train_kiran").click().run()
    finish(at)
    assert not errors(at)
    kinds = [(r.kind, r.label) for r in at.session_state["train_runs"][-2:]]
    assert kinds == [("transfer", "Kiran: transfer learning"), ("scratch", "Kiran: CNN from scratch")]
    kiran = at.session_state["kiran"]
    assert kiran["size"] == 96 and kiran["epochs"] == 2
    assert 0 <= kiran["scratch"] <= 1 and 0 <= kiran["transfer"] <= 1
    assert any("Kiran's experiment" in h.value for h in at.subheader)
