"""The class's hyperparameter map: a point per comparable run with its 95% interval, placed by the setting that
differs from the lesson's, anonymous for students and named for the teacher; what the class found so far."""

from __future__ import annotations

import pytest

from core.classroom.class_map import DEFAULTS_LABEL, PHASE1_ONLY, class_findings, class_map_points, describe
from core.training import TrainConfig
from core.utils.stats import accuracy_interval
from ui import charts

N = 150


def row(run_id: int, student: str, accuracy: float, reused_from=None, kind="transfer", stopped=False, **settings):
    config = TrainConfig(**settings).to_dict()
    return {"run_id": run_id, "student_id": student, "nickname": f"name-{student}", "kind": kind,
            "test_accuracy": accuracy, "reused_from": reused_from,
            "summary": {"config": config, "test_n": N, "test": {"accuracy": accuracy, "n": N}, "stopped": stopped}}


RUNS = [
    row(1, "a", 0.86),
    row(2, "b", 0.86, reused_from=1),
    row(3, "c", 0.88, unfreeze=60, lr2=1e-4),
    row(4, "a", 0.60, epochs2=0, epochs1=1),
    row(5, "d", 0.87, lr2=1e-4),
    row(6, "b", 0.99, data="/students/b/photos"),  # their own photos: another test set, not comparable
    row(7, "c", 0.95, stopped=True),
    row(8, "d", 0.40, kind="scratch"),
]


def test_each_comparable_run_is_a_point_with_its_interval():
    points = class_map_points(RUNS, viewer_id="a")
    assert [p.run_id for p in points] == [1, 2, 3, 4, 5]
    first = points[0]
    expected = accuracy_interval(0.86, N)
    assert (first.low, first.high, first.n) == (expected.low, expected.high, N)
    assert first.low < first.accuracy < first.high
    assert points[1].reused and not first.reused


def test_points_are_placed_by_the_setting_that_differs():
    assert describe(TrainConfig().to_dict()) == (DEFAULTS_LABEL, DEFAULTS_LABEL)
    assert describe(TrainConfig(lr2=1e-4).to_dict()) == ("phase-2 lr 0.0001", "phase-2 learning rate")
    assert describe(TrainConfig(unfreeze=60).to_dict()) == ("unfreeze 60", "unfreeze depth")
    assert describe(TrainConfig(unfreeze=60, epochs2=5).to_dict())[1] == "several settings"
    assert describe(TrainConfig(image_size=160).to_dict()) == ("160 px", "image size")
    assert describe(TrainConfig(augment=True).to_dict()) == ("augmented", "augmentation")
    # phase 1 only: its unused phase-2 settings do not count as differences
    assert describe(TrainConfig(epochs2=0, lr2=1e-3, epochs1=3).to_dict()) == (f"{PHASE1_ONLY} · phase-1 epochs: 3",
                                                                               PHASE1_ONLY)


def test_students_see_only_their_own_runs_as_theirs_and_the_teacher_sees_names():
    student = class_map_points(RUNS, viewer_id="a")
    assert [(p.run_id, p.who, p.mine) for p in student if p.mine] == [(1, "you", True), (4, "you", True)]
    assert all(p.who == "" for p in student if not p.mine)
    assert not any("name-" in p.who for p in student)
    chart = charts.class_map(student).to_json()
    assert "name-" not in chart  # not even in the hover text
    teacher = class_map_points(RUNS, names=True)
    assert [p.who for p in teacher] == ["name-a", "name-b", "name-c", "name-a", "name-d"]
    assert "name-c" in charts.class_map(teacher, teacher=True).to_json()


def test_what_the_class_found_uses_each_setting_once_and_the_newcombe_check():
    rows, summary = class_findings(class_map_points(RUNS, viewer_id="a"))
    assert [r.label for r in rows] == ["unfreeze 60 · phase-2 lr 0.0001", "phase-2 lr 0.0001", DEFAULTS_LABEL,
                                       f"{PHASE1_ONLY} · phase-1 epochs: 1"]
    assert rows[2].runs == 2  # the reused run is the same setting, counted once in the ranking
    assert [r.inside_noise_of_best for r in rows] == [True, True, True, False]  # 88% vs 86-87%: noise; vs 60%: real
    assert "really worse" in rows[3].words and rows[3].words.count("-") >= 1
    assert "Best so far: unfreeze 60 · phase-2 lr 0.0001 at 88.0%" in summary and "inside the noise" in summary
    assert class_findings([])[0] == []


@pytest.mark.parametrize("viewer", ["a", None])
def test_the_chart_has_a_row_per_setting_and_fits_a_phone(viewer):
    points = class_map_points(RUNS, viewer_id=viewer)
    figure = charts.class_map(points)
    rows = {label.replace("<br>", " · ") for label in figure.layout.yaxis.categoryarray}  # long ones: a line each
    assert rows == {p.label for p in points}
    assert max(len(line) for label in figure.layout.yaxis.categoryarray for line in label.split("<br>")) <= 18
    assert sum(len(trace.x) for trace in figure.data) == len(points)
    assert [t.name for t in figure.data] == (["others", "yours"] if viewer else ["others"])


def _panel_script():
    import streamlit as st

    from ui.class_map_panel import draw

    draw(st.session_state.get("viewer"), bool(st.session_state.get("names")), "test_map")


def test_the_panel_names_classmates_only_for_the_teacher(tmp_path):
    from streamlit.testing.v1 import AppTest

    from core.classroom.runner import service

    service.reset_for_tests(tmp_path / "data")
    try:
        data = service.store()
        sam, alex = data.join("Sam")[0], data.join("Alex")[0]
        for student, accuracy, settings in ((sam, 0.86, {}), (alex, 0.9, {"unfreeze": 60})):
            summary = row(0, student.id, accuracy, **settings)["summary"]
            data.add_run(student.id, "", "transfer", summary, [], None, "job")
        page = AppTest.from_function(_panel_script, default_timeout=30)
        page.session_state["viewer"] = sam.id
        page.run()
        text = " ".join(m.value for m in page.markdown)
        assert "What the class found so far" in text and "Best so far: unfreeze 60 at 90.0%" in text
        assert "Alex" not in repr(page) and "Sam" not in repr(page)
        teacher = AppTest.from_function(_panel_script, default_timeout=30)
        teacher.session_state["names"] = True
        teacher.run()
        assert not teacher.exception
        assert {"Sam", "Alex"} <= set(teacher.dataframe[1].value["student"])
    finally:
        service.reset_for_tests()
