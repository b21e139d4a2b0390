"""The time estimate's arithmetic: costs per kind of epoch from earlier runs, a whole training, the time left,
and the queue ahead shared among the slots. Plain numbers, no clock."""

from __future__ import annotations

import pytest

from core.classroom.runner.time_estimate import (
    CostKey,
    Costs,
    costs_from_runs,
    epoch_keys,
    predicted_seconds,
    seconds_left,
    seconds_until_done,
    time_left_words,
    with_fallback,
)

LESSON = {"base": "mobilenet_v2", "image_size": 224, "epochs1": 5, "epochs2": 10, "unfreeze": 30, "augment": False}


def run(config: dict, head_s: list[float], fine_s: list[float], job_s: float | None, train: int = 700,
        stopped: bool = False) -> dict:
    history = ([{"phase": "head", "seconds": s} for s in head_s] + [{"phase": "fine-tune", "seconds": s}
                                                                    for s in fine_s])
    counts = {"train": {"a": train // 2, "b": train - train // 2}}
    return {"summary": {"config": config, "history": history, "counts": counts, "stopped": stopped},
            "job_seconds": job_s}


def test_costs_are_per_epoch_and_photo_by_kind_of_epoch_and_the_rest_is_overhead():
    runs = [run(LESSON, [0.7] * 5, [7.0] * 10, 100.0), run(LESSON, [1.4] * 5, [14.0] * 10, 200.0, train=1400)]
    costs = costs_from_runs(runs)
    head, fine = CostKey("mobilenet_v2", 224, "head", 0, False), CostKey("mobilenet_v2", 224, "fine-tune", 30, False)
    assert costs.per_epoch_photo[head] == pytest.approx(0.001)
    assert costs.per_epoch_photo[fine] == pytest.approx(0.01)
    assert costs.overhead_s == pytest.approx((100 - 73.5 + 200 - 147) / 2)  # median of two = their mean


def test_a_stopped_run_teaches_nothing():
    assert costs_from_runs([run(LESSON, [1.0] * 5, [9.0] * 3, 60.0, stopped=True)]).per_epoch_photo == {}


def test_a_whole_training_is_its_epochs_at_their_costs_plus_the_overhead():
    costs = costs_from_runs([run(LESSON, [0.7] * 5, [7.0] * 10, 100.0)])
    assert predicted_seconds(LESSON, 700, costs) == pytest.approx(100.0)
    assert predicted_seconds({**LESSON, "epochs2": 5}, 700, costs) == pytest.approx(100.0 - 35.0)
    assert predicted_seconds(LESSON, 1400, costs) == pytest.approx(100.0 + 73.5)  # twice the photos per epoch
    assert predicted_seconds({**LESSON, "unfreeze": 60}, 700, costs) == pytest.approx(100.0 + 70.0)  # 2x layers
    assert predicted_seconds({**LESSON, "image_size": 160}, 700, costs) is None  # never measured at 160 px
    phase1_only = {**LESSON, "epochs2": 0, "epochs1": 3}
    assert epoch_keys(phase1_only) == {CostKey("mobilenet_v2", 224, "head", 0, False): 3}
    assert predicted_seconds(phase1_only, 700, costs) == pytest.approx(26.5 + 2.1)


def test_time_left_from_history_else_estimating_until_ten_percent():
    assert seconds_left(100.0, 30.0, 0.05) == pytest.approx(70.0)
    assert seconds_left(None, 30.0, 0.05) is None  # "estimating…"
    assert seconds_left(None, 30.0, 0.25) == pytest.approx(90.0)  # its own pace: 30 s for a quarter
    assert seconds_left(100.0, 120.0, 0.8) == pytest.approx(30.0)  # slower than history: its own pace


def test_a_waiting_training_waits_for_the_slots_then_runs():
    # two slots busy for 10 and 40 s; ahead: 50 s then 20 s; then this one, 30 s
    # 50 takes the slot free at 10 (-> 60), 20 the one free at 40 (-> 60); ours starts at 60
    assert seconds_until_done([50.0, 20.0], [10.0, 40.0], 30.0, 2) == pytest.approx(90.0)
    assert seconds_until_done([], [10.0], 30.0, 2) == pytest.approx(30.0)  # a slot is free now
    assert seconds_until_done([None], [10.0], 30.0, 2) is None
    assert seconds_until_done([], [], None, 2) is None


def test_the_words_a_student_reads():
    assert time_left_words(None) == "estimating…"
    assert time_left_words(42) == "about 40 s left"
    assert time_left_words(600) == "about 10 min left"
    assert Costs({}, None).overhead_s is None


def test_the_classs_own_measurements_win_over_the_calibration_which_is_slowed_for_shared_cores():
    head, fine = CostKey("mobilenet_v2", 224, "head", 0, False), CostKey("mobilenet_v2", 224, "fine-tune", 30, False)
    calibration = Costs({head: 0.001, fine: 0.01}, 10.0)
    measured = Costs({fine: 0.03}, None)
    merged = with_fallback(measured, calibration, slower=2)
    assert merged.per_epoch_photo == {head: pytest.approx(0.002), fine: 0.03}
    assert merged.overhead_s == pytest.approx(20.0)
    assert with_fallback(Costs({}, 5.0), calibration, slower=2).overhead_s == 5.0
    assert with_fallback(Costs({}, None), Costs({}, None)).overhead_s is None


def test_a_phases_first_epoch_costs_extra_once_and_the_steady_epochs_set_the_rate():
    head_s, fine_s = [2.0] + [0.7] * 4, [17.0] + [7.0] * 9  # the first epoch of each phase also builds the graph
    costs = costs_from_runs([run(LESSON, head_s, fine_s, 120.0)])
    head, fine = CostKey("mobilenet_v2", 224, "head", 0, False), CostKey("mobilenet_v2", 224, "fine-tune", 30, False)
    assert costs.per_epoch_photo[fine] == pytest.approx(7.0 / 700)
    assert costs.first_epoch_extra_s == {head: pytest.approx(1.3), fine: pytest.approx(10.0)}
    overhead = 120.0 - sum(head_s) - sum(fine_s)
    assert predicted_seconds(LESSON, 700, costs) == pytest.approx(120.0)  # the same run predicted back
    assert predicted_seconds({**LESSON, "epochs2": 5}, 700, costs) == pytest.approx(overhead + 2.0 + 2.8 + 17 + 28)
    assert predicted_seconds({**LESSON, "unfreeze": 60}, 700, costs) == pytest.approx(
        overhead + 2.0 + 2.8 + 2 * (17.0 + 63.0))  # twice the layers: twice both


def test_a_cut_nobody_has_trained_adds_reading_the_photos_through_the_frozen_base():
    flowers = {**LESSON, "data": "tf_flowers", "seed": 42, "preprocessing": "model"}
    cold = run({**flowers, "unfreeze": 10}, [0.7] * 5, [3.5] * 10, 135.0)
    cold["summary"]["timings"] = {"extract_features": 70.0}  # 0.1 s per training photo
    costs = costs_from_runs([run(flowers, [0.7] * 5, [7.0] * 10, 100.0), cold])
    assert costs.extract_photo[("mobilenet_v2", 224)] == pytest.approx(0.1)
    assert costs.overhead_s == pytest.approx(26.5)  # the cold run's reading is not overhead: 135 - 70 - 38.5
    on_disk = predicted_seconds(flowers, 700, costs)
    assert predicted_seconds({**flowers, "unfreeze": 10}, 700, costs) < on_disk  # read before: no reading
    fresh = {**flowers, "unfreeze": 60}
    without_reading = predicted_seconds({**fresh, "data": "my photos"}, 700, costs)
    assert predicted_seconds(fresh, 700, costs) == pytest.approx(without_reading + 70.0)
    assert predicted_seconds({**fresh, "seed": 7}, 700, costs) == pytest.approx(without_reading + 70.0)  # other split
    ahead = {("mobilenet_v2", 224, "model", 42, 60)}  # a training ahead in the queue reads them first
    assert predicted_seconds(fresh, 700, costs, ahead) == pytest.approx(without_reading)
    phase1_only = {**fresh, "epochs2": 0}
    assert predicted_seconds(phase1_only, 700, costs) == predicted_seconds({**phase1_only, "data": "x"}, 700, costs)


def test_reading_the_photos_unknown_at_this_size_means_estimating():
    flowers = {**LESSON, "data": "tf_flowers", "seed": 42, "preprocessing": "model"}
    costs = costs_from_runs([run(flowers, [0.7] * 5, [7.0] * 10, 100.0)])
    assert predicted_seconds({**flowers, "unfreeze": 60}, 700, costs) is None


def test_the_time_left_shown_at_ten_percent_is_kept_once_per_training(tmp_path):
    import json
    from types import SimpleNamespace

    from core.classroom.runner.job_times import ESTIMATES_FILE, note_estimate
    from core.training import Progress

    job = SimpleNamespace(job_id="j1", state=SimpleNamespace(estimate_noted=False, progress=Progress("head", 0.05, None, "")))
    note_estimate(job, 80.0, 100.0, tmp_path)
    assert not (tmp_path / ESTIMATES_FILE).exists()  # before 10%: its own pace says too little
    job.state.progress = Progress("head", 0.12, None, "")
    note_estimate(job, 70.0, 104.0, tmp_path)
    note_estimate(job, 60.0, 108.0, tmp_path)  # later looks are not the estimate at 10%
    lines = (tmp_path / ESTIMATES_FILE).read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"job": "j1", "at": 104.0, "left": 70.0}]
