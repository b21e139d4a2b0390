"""The My photos page (AppTest, on this computer's "This computer" student): classes added, refused, renamed,
deleted with confirmation; photos added by camera and by picking many, counted, moved and removed."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.classroom.runner import service
from core.photos import OwnDataset

APP = str(ROOT / "app.py")
PAGE = "app_pages/my_photos.py"


def jpeg(seed: int, size=(640, 480)) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG")
    return out.getvalue()


def page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(PAGE)
    return at.run()


def own() -> OwnDataset:
    """The dataset the page works on, read from disk (what a restart would find)."""
    student = service.store().local_student()
    return OwnDataset(service.store().student_folder(student.id) / "my_photos")


def add_class(at: AppTest, name: str) -> AppTest:
    at.text_input(key="my_photos_new_name").input(name)
    return at.button(key="FormSubmitter:my_photos_new_class-Add class").click().run()


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def test_classes_are_added_and_refused_names_say_why():
    at = page()
    assert not at.exception, at.exception
    assert "Start with a class" in texts(at.info)
    at = add_class(at, "healthy")
    at = add_class(at, "diseased")
    assert own().classes() == ["diseased", "healthy"]
    assert at.radio(key="my_photos_class").value == "diseased"  # the class just made is selected
    at = add_class(at, "test")
    assert "split folder names" in texts(at.error)
    at = add_class(at, "HEALTHY")
    assert "already a class called “healthy”" in texts(at.error)
    at = add_class(at, "sick\u202e")
    assert "text-direction" in texts(at.error)
    assert own().classes() == ["diseased", "healthy"]


def test_camera_photos_go_to_the_chosen_class_one_after_another():
    at = add_class(add_class(page(), "healthy"), "diseased")
    at.radio(key="my_photos_class").set_value("healthy").run()
    for i in range(3):
        camera = [c for c in at.camera_input if c.key.startswith("my_photos_camera_")]
        assert len(camera) == 1
        camera[0].upload("image.jpg", jpeg(i), "image/jpeg").run()  # a snapshot
        assert f"it has {i + 1} now" in texts(at.success)
    assert own().counts() == {"diseased": 0, "healthy": 3}
    assert at.radio(key="my_photos_class").value == "healthy"
    assert "diseased: 0 · healthy: 3" in texts(at.caption)


def test_picking_many_photos_counts_them_and_names_a_broken_one():
    at = add_class(add_class(page(), "healthy"), "diseased")
    at.segmented_control(key="my_photos_mode").set_value("🖼️ Pick photos").run()
    picker = next(u for u in at.file_uploader if u.key.startswith("my_photos_pick_"))
    for i in range(4):
        picker.upload(f"IMG_{i}.jpg", jpeg(10 + i), "image/jpeg")
    picker.upload("IMG_9.jpg", b"not a photo at all", "image/jpeg").run()
    assert own().counts()["diseased"] == 4
    assert "Added 4 photo(s)" in texts(at.warning) and "Left out IMG\\_9\\.jpg: not an image Pillow can read" in texts(
        at.warning)


def test_move_and_remove_ticked_photos():
    at = add_class(add_class(page(), "healthy"), "diseased")
    own().add_photos("diseased", [(f"{i}.jpg", jpeg(20 + i)) for i in range(3)])
    at.segmented_control(key="my_photos_mode").set_value("🔎 Look and tidy").run()
    ticks = [c for c in at.checkbox if c.key.startswith("my_photos_tick_")]
    assert len(ticks) == 3 and at.button(key="my_photos_remove").disabled
    ticks[0].check().run()
    at.selectbox(key="my_photos_move_to").set_value("healthy")
    at.button(key="my_photos_move").click().run()
    assert own().counts() == {"diseased": 2, "healthy": 1}
    ticks = [c for c in at.checkbox if c.key.startswith("my_photos_tick_")]
    assert len(ticks) == 2 and not any(t.value for t in ticks)  # fresh tick boxes after an action
    ticks[1].check().run()
    at.button(key="my_photos_remove").click().run()
    assert own().counts() == {"diseased": 1, "healthy": 1}
    assert "Removed 1 photo(s) from **diseased**" in texts(at.success)


def test_rename_and_delete_with_confirmation():
    at = add_class(add_class(page(), "healthy"), "sick")
    own().add_photos("sick", [("1.jpg", jpeg(1))])
    at.segmented_control(key="my_photos_mode").set_value("✏️ Rename or delete").run()
    at.text_input(key="my_photos_rename_sick").input("diseased")
    at.button(key="FormSubmitter:my_photos_rename-Rename").click().run()
    assert own().counts() == {"diseased": 1, "healthy": 0}
    assert at.radio(key="my_photos_class").value == "diseased"
    assert at.button(key="my_photos_delete").disabled  # nothing is deleted without the tick
    at.checkbox(key="my_photos_sure_diseased").check().run()
    at.button(key="my_photos_delete").click().run()
    assert own().classes() == ["healthy"]
    assert "Deleted **diseased** and its 1 photo(s)" in texts(at.success)


@pytest.mark.parametrize("per_class", [12])
def test_the_dataset_report_and_zip_appear_once_it_can_train(per_class):
    at = add_class(add_class(page(), "healthy"), "diseased")
    for name, seed in (("healthy", 100), ("diseased", 200)):
        own().add_photos(name, [(f"{i}.jpg", jpeg(seed + i, (200, 150))) for i in range(per_class)])
    at.run()
    assert "Download as a zip" in at.download_button(key="my_photos_zip").label
    assert any(link.label.startswith("Train on these photos") for link in at.page_link)
    assert f"{2 * per_class} photos" in texts(at.caption)


def test_the_train_page_trains_on_the_collected_photos():
    at = add_class(add_class(page(), "healthy"), "diseased")
    for name, seed in (("healthy", 300), ("diseased", 400)):
        own().add_photos(name, [(f"{i}.jpg", jpeg(seed + i, (200, 150))) for i in range(12)])
    at.switch_page("app_pages/train.py").run()
    at.radio(key="train_source").set_value("My own photos").run()
    assert not at.exception, at.exception
    assert at.radio(key="train_own_which").value == "The ones on my My photos page"
    assert "24 photos in 2 classes: diseased, healthy" in texts(at.success)
    assert not at.button(key="train_start").disabled
    at.radio(key="train_own_which").set_value("A zip or folder upload").run()
    assert at.button(key="train_start").disabled  # nothing uploaded: the collected photos are not used


def test_the_teachers_reset_removes_a_students_photos_after_a_confirmation(monkeypatch):
    from core.photos.own_dataset import IN_STUDENT_FOLDER

    monkeypatch.setenv("TLL_TEACHER_CODE", "correct horse battery")
    kiran, _, _ = service.store().join("Kiran")
    photos = OwnDataset(service.store().student_folder(kiran.id) / IN_STUDENT_FOLDER)
    photos.add_class("leaf")
    photos.add_photos("leaf", [("1.jpg", jpeg(1))])
    at = AppTest.from_file(str(ROOT / "app_pages" / "teacher.py"), default_timeout=60).run()
    at.text_input(key="teacher_code_input").input("correct horse battery")
    at.button[0].click().run()
    at.selectbox(key="teacher_reset_who").set_value("Kiran").run()
    assert at.button(key="teacher_reset").disabled  # nothing goes without the tick
    at.checkbox(key=f"teacher_reset_sure_{kiran.id}").check().run()
    at.button(key="teacher_reset").click().run()
    assert "Kiran and their work were removed." in texts(at.success)
    assert not photos.folder.exists()
    assert all(s["id"] != kiran.id for s in service.store().students())


def test_a_class_name_with_markdown_is_shown_as_typed():
    at = add_class(page(), "ripe_fruit [new]")
    assert own().classes() == ["ripe_fruit [new]"]
    assert "Class **ripe\\_fruit \\[new\\]** is ready" in texts(at.success)  # escaped: shown as typed


def test_the_grid_pages_twelve_photos_at_a_time_newest_first():
    at = add_class(add_class(page(), "healthy"), "diseased")
    own().add_photos("diseased", [(f"{i}.jpg", jpeg(500 + i, (120, 90))) for i in range(14)])
    at.segmented_control(key="my_photos_mode").set_value("🔎 Look and tidy").run()
    ticks = [c for c in at.checkbox if c.key.startswith("my_photos_tick_")]
    newest = own().photos("diseased")[-1].name
    assert len(ticks) == 12 and ticks[0].key.endswith(newest)
    at.button(key="my_photos_older").click().run()
    assert len([c for c in at.checkbox if c.key.startswith("my_photos_tick_")]) == 2
    assert "Page 2 of 2" in texts(at.caption)


def test_another_device_with_the_return_code_finds_the_photos_and_nobody_else_does(monkeypatch):
    from core.photos.own_dataset import IN_STUDENT_FOLDER
    from ui import identity

    monkeypatch.setenv("TLL_CLASSROOM", "1")
    kiran, code, _ = service.store().join("Kiran")
    _, _, sams_token = service.store().join("Sam")
    mine = OwnDataset(service.store().student_folder(kiran.id) / IN_STUDENT_FOLDER)
    mine.add_class("leaf")
    mine.add_photos("leaf", [("1.jpg", jpeg(1))])
    _, new_token = service.store().come_back("Kiran", code)  # a second phone
    for token, expected in ((new_token, "leaf: 1"), (sams_token, None)):
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params[identity.TOKEN_PARAM] = token
        at.switch_page(PAGE)
        at.run()
        assert not at.exception, at.exception
        if expected:
            assert expected in texts(at.caption)
        else:
            assert "Start with a class" in texts(at.info) and "leaf" not in texts(at.caption)


def test_a_class_deleted_in_another_tab_gets_no_photo_and_no_other_class_does():
    at = add_class(add_class(page(), "healthy"), "diseased")
    at.segmented_control(key="my_photos_mode").set_value("🔎 Look and tidy").run()
    own().add_photos("diseased", [("1.jpg", jpeg(1))])
    at.segmented_control(key="my_photos_mode").set_value("📷 Camera").run()
    own().delete_class("diseased")  # the other tab
    at.camera_input(key="my_photos_camera_diseased_environment_0").upload("image.jpg", jpeg(2), "image/jpeg").run()
    assert not at.exception
    assert own().counts() == {"healthy": 0}  # the snapshot was for diseased: not misfiled under healthy
    assert at.radio(key="my_photos_class").value == "healthy"


def test_a_zip_opens_into_the_builder_and_extends_it():
    import zipfile

    at = add_class(add_class(page(), "healthy"), "diseased")
    own().add_photos("healthy", [("1.jpg", jpeg(1))])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("my_dataset/train/healthy/a.jpg", jpeg(2))
        archive.writestr("my_dataset/test/unripe/b.jpg", jpeg(3))
    uploader = next(u for u in at.file_uploader if u.key.startswith("my_photos_zip_in_"))
    uploader.upload("photos.zip", buffer.getvalue(), "application/zip").run()
    assert own().counts() == {"diseased": 0, "healthy": 2, "unripe": 1}
    assert "Added 2 photo(s) from the zip (new classes: unripe)" in texts(at.success)
