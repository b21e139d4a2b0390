"""A class on real phones: phone-size Chromium over HTTPS, reaching the classroom server as
``https://classroom.test:<port>`` (``--host-resolver-rules`` maps the name to 127.0.0.1, so the app sees a host
name as a phone on the school network would). One ``python -m core.classroom`` server for the module.

Journeys: join -> return code in the main area -> refresh -> code still retrievable; a student's menu has no
Teacher entry; measured tap targets on Quiz; the projector shows no names or codes; the Teacher page updates
without a reload and stays unlocked across one; a student has no way to start the reference; a refresh during a
training keeps the run's settings in the form; http:// typed by hand lands on https://. Phone screenshots of
every page go to artifacts/screenshots/phone-classroom/.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from .conftest import CHROMIUM, LAUNCH_ARGS, SHARED
from .helpers import ARTIFACTS, LOAD_TIMEOUT, ROOT, assert_no_exception, button, key, screenshot, wait_idle

HOST = "classroom.test"
TEACHER_CODE = "maple-harbor-violin-quartz"
SIZE = "phone-classroom"  # the screenshots' folder
PHONE = {"viewport": {"width": 412, "height": 915}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
TOUCH_PX = 44
CODE = re.compile(r"\b([a-z]+ [a-z]+ [a-z]+ [a-z]+)\b")


@pytest.fixture(scope="module")
def classroom():
    """The HTTPS classroom server on 127.0.0.1 (a fresh data folder), and its address as phones type it."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's `chromium` package (`make browser-deps`)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = Path(tempfile.mkdtemp(prefix="tll-e2e-class-"))
    env = {**os.environ, "TLL_DATA_DIR": str(data / "data"), "TLL_CACHE_DIR": str(data / "cache"),
           "TLL_TEACHER_CODE": TEACHER_CODE, "TLL_OFFLINE_BUNDLE": str(SHARED.resolve()), "TLL_NO_DOWNLOADS": "1",
           "TLL_MAX_TRAININGS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "classroom-phones-server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen([sys.executable, "-m", "core.classroom", "--address", "127.0.0.1", "--port", str(port),
                               "--no-qr", "--no-quick-model"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"https://127.0.0.1:{port}/_stcore/health", verify=False, timeout=5).text == "ok":
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the classroom server did not start: see {log.name}")
            time.sleep(0.5)
        yield f"https://{HOST}:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(playwright_instance, classroom):
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True,
        args=[*LAUNCH_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1", "--ignore-certificate-errors"])
    yield browser
    browser.close()


@pytest.fixture
def phone(browser):
    """A new phone: its own browser context (cookies, storage), 412 px wide."""
    contexts = []

    def new() -> Page:
        context = browser.new_context(**PHONE, ignore_https_errors=True, locale="en-GB")
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    yield new
    for context in contexts:
        context.close()


def _heading(page: Page, text: str) -> None:
    expect(page.locator("h1").filter(has_text=text).first).to_be_visible(timeout=LOAD_TIMEOUT)
    wait_idle(page, LOAD_TIMEOUT)


def _join(page: Page, base: str, nickname: str) -> str:
    """A student joins; returns the return code shown in the main area."""
    page.goto(base, wait_until="domcontentloaded", timeout=LOAD_TIMEOUT)
    expect(page.get_by_text("Pick a nickname")).to_be_visible(timeout=LOAD_TIMEOUT)
    page.locator(f"{key('identity_nickname')} input").fill(nickname)
    page.get_by_role("button", name="Start").click()
    _heading(page, "Your return code")
    main = page.locator('[data-testid="stMain"]')
    code = CODE.search(main.locator('[data-testid="stAlertContentSuccess"]').inner_text()).group(1)
    return code


def _wrote_it_down(page: Page) -> None:
    button(page, "identity_code_seen").click()
    _heading(page, "Transfer learning")


def _menu(page: Page):
    """Open the labelled "☰ Pages" menu at the top of the page; returns its body."""
    body = page.locator('[data-testid="stPopoverBody"]').filter(visible=True)
    for attempt in range(3):  # a rerun landing just after the tap redraws the menu closed
        wait_idle(page)
        page.get_by_role("button", name="☰ Pages").click()
        try:
            expect(body.get_by_role("link").first).to_be_visible(timeout=10_000)
            return body
        except AssertionError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    return body


def _go(page: Page, title: str, heading: str) -> None:
    _menu(page).get_by_role("link", name=re.compile(title)).click()
    _heading(page, heading)


def test_join_shows_the_code_in_the_main_area_and_a_refresh_keeps_it_retrievable(classroom, phone):
    page = phone()
    code = _join(page, classroom, "Asha")
    assert code not in page.url and "Asha" not in page.url
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert not sidebar.count() or sidebar.get_attribute("data-collapsed") != "false"  # closed: the code is not there
    screenshot(page, SIZE, "01-return-code")
    _wrote_it_down(page)
    page.reload(wait_until="domcontentloaded")
    _heading(page, "Transfer learning")
    menu = _menu(page)
    menu.get_by_text("My return code").click()
    expect(menu.get_by_text(code)).to_be_visible()
    screenshot(page, SIZE, "02-menu-with-return-code")


def test_a_students_menu_has_no_teacher_entry_and_no_reference_button(classroom, phone):
    page = phone()
    _join(page, classroom, "Bilal")
    _wrote_it_down(page)
    links = _menu(page).get_by_role("link")
    entries = links.all_inner_texts()
    assert any("Quiz" in e for e in entries) and not any("Teacher" in e or "Projector" in e for e in entries)
    heights = [link.bounding_box()["height"] for link in links.all()]
    print(f"menu links: {len(heights)}, min {min(heights):.1f} px")
    assert min(heights) >= TOUCH_PX
    page.keyboard.press("Escape")
    nav = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
    assert not any("Teacher" in n for n in nav)
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text(re.compile("your teacher can measure it"))).to_be_visible()
    assert main.get_by_role("button", name=re.compile("Measure the reference")).count() == 0


def test_quiz_touch_targets_are_at_least_44_px(classroom, phone):
    page = phone()
    _join(page, classroom, "Chen")
    _wrote_it_down(page)
    _go(page, "Quiz", "Quiz")
    rows = page.locator('[data-testid="stMain"] [data-testid="stRadio"] label').all()
    heights = [row.bounding_box()["height"] for row in rows if row.is_visible()]
    buttons = [b.bounding_box()["height"] for b in page.locator(
        '[data-testid="stMain"] button[data-testid^="stBaseButton"]').all() if b.is_visible()]
    print(f"quiz answer rows: {len(heights)}, min {min(heights):.1f} px; buttons: min {min(buttons):.1f} px")
    assert len(heights) >= 8 * 3 and min(heights) >= TOUCH_PX and min(buttons) >= TOUCH_PX
    screenshot(page, SIZE, "05-quiz")


def test_the_projector_shows_no_names_and_no_codes(classroom, phone):
    student = phone()
    code = _join(student, classroom, "Dolores")
    _wrote_it_down(student)
    projector = phone()
    projector.set_viewport_size({"width": 1366, "height": 900})  # the projector's laptop
    projector.goto(f"{classroom}/projector", wait_until="domcontentloaded")
    _heading(projector, "Join the class")
    expect(projector.get_by_text("Connected now")).to_be_visible()
    text = projector.locator('[data-testid="stMain"]').inner_text()
    assert "Dolores" not in text and code not in text and TEACHER_CODE not in text
    qr = projector.locator('[data-testid="stMain"] [data-testid="stImage"] img').first
    width = qr.bounding_box()["width"]
    print(f"projector QR code: {width:.0f} px wide on a 1366 px screen")
    assert width >= 500  # readable from the back row (it was 220 px)
    screenshot(projector, "laptop-classroom", "projector")
    on_a_phone = phone()
    on_a_phone.goto(f"{classroom}/projector", wait_until="domcontentloaded")
    _heading(on_a_phone, "Join the class")
    screenshot(on_a_phone, SIZE, "08-projector")


def test_the_teacher_page_updates_itself_and_stays_unlocked_after_a_reload(classroom, phone):
    teacher = phone()
    teacher.goto(f"{classroom}/teacher", wait_until="domcontentloaded")
    _heading(teacher, "Teacher")
    teacher.locator(f"{key('teacher_code_input')} input").fill(TEACHER_CODE)
    teacher.get_by_role("button", name="Open").click()
    expect(teacher.get_by_text("Who is here")).to_be_visible(timeout=LOAD_TIMEOUT)
    assert TEACHER_CODE not in teacher.url
    joined = teacher.get_by_text(re.compile(r"(\d+) have joined this class"))
    before = int(re.search(r"(\d+) have joined", joined.inner_text()).group(1))
    student = phone()
    _join(student, classroom, "Emeka")  # joins after the teacher's page was drawn
    _wrote_it_down(student)
    expect(joined).to_contain_text(f"{before + 1} have joined", timeout=30_000)  # no reload: the page redrew itself
    teacher.reload(wait_until="domcontentloaded")
    expect(teacher.get_by_text("Who is here")).to_be_visible(timeout=LOAD_TIMEOUT)
    assert teacher.locator(key("teacher_code_input")).count() == 0  # no code typed again in front of the class
    entries = _menu(teacher).get_by_role("link").all_inner_texts()
    assert any("Teacher" in e for e in entries) and any("Projector" in e for e in entries)
    teacher.keyboard.press("Escape")
    screenshot(teacher, SIZE, "09-teacher")


def test_a_refresh_during_a_training_keeps_the_runs_settings_in_the_form(classroom, phone):
    from .test_journeys import _choose, _slide

    page = phone()
    _join(page, classroom, "Farah")
    _wrote_it_down(page)
    _go(page, "Train", "Train")
    _choose(page, "train_image_size", "96")
    _slide(page, "train_epochs1", "1", "ArrowLeft")
    _slide(page, "train_epochs2", "0", "ArrowLeft")
    button(page, "train_start").click()
    expect(button(page, "train_stop")).to_be_visible(timeout=LOAD_TIMEOUT)
    page.reload(wait_until="domcontentloaded")
    _heading(page, "Train")
    expect(page.locator(key("train_image_size")).get_by_role("combobox")).to_have_value("96")
    expect(page.locator(key("train_epochs1")).get_by_role("slider")).to_have_attribute("aria-valuetext", "1")
    expect(page.locator(key("train_epochs2")).get_by_role("slider")).to_have_attribute("aria-valuetext", "0")
    screenshot(page, SIZE, "04-train-after-refresh")
    if button(page, "train_stop").count():
        button(page, "train_stop").click()  # the CPU is shared: stop it


def test_every_page_on_a_phone_with_44_px_targets_on_train_and_predict(classroom, phone):
    page = phone()
    _join(page, classroom, "Gita")
    _wrote_it_down(page)
    screenshot(page, SIZE, "03-concept")
    for title, heading, name in (("Compare", "Which base model?", "06-compare"), ("Train", "Train", "04-train"),
                                 ("Predict", "Predict", "07-predict")):
        _go(page, title, heading)
        assert_no_exception(page)
        if title in ("Train", "Predict"):
            small = [(b.inner_text()[:30], b.bounding_box()["height"]) for b in page.locator(
                '[data-testid="stMain"] button[data-testid^="stBaseButton"]').all()
                if b.is_visible() and b.bounding_box()["height"] < TOUCH_PX]
            assert not small, f"{title}: buttons under {TOUCH_PX} px: {small}"
            icons = [b for b in (icon.bounding_box() for icon in page.locator(
                '[data-testid="stMain"] [data-testid="stTooltipHoverTarget"]').all() if icon.is_visible()) if b]
            if icons:
                print(f"{title}: {len(icons)} help icons, smallest {min(min(b['width'], b['height']) for b in icons):.0f} px")
                assert min(min(b["width"], b["height"]) for b in icons) >= TOUCH_PX
        screenshot(page, SIZE, name)


def test_http_typed_by_hand_lands_on_https(classroom, phone):
    page = phone()
    page.goto(classroom.replace("https://", "http://") + "/quiz", wait_until="domcontentloaded",
              timeout=LOAD_TIMEOUT)
    assert page.url.startswith("https://")
    expect(page.get_by_text("Pick a nickname")).to_be_visible(timeout=LOAD_TIMEOUT)
