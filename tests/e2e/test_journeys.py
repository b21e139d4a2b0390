"""What a student does in a real browser, at phone width (390x844) and laptop width (1366x900).

Each journey starts a fresh Chromium against the session's `streamlit run app.py`, uses the real widgets,
checks what the student sees (texts, numbers, charts, images) and that no page shows an exception box.
Screenshots go to artifacts/screenshots/<size>/<page>.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core.lesson.quiz import QUESTIONS

from .conftest import FLOWERS, streamlit_server
from .helpers import (
    PAGES,
    PLOTLY,
    RERUN_TIMEOUT,
    TRAIN_TIMEOUT,
    assert_no_exception,
    button,
    dataframe_rows,
    expect_chart,
    expect_slider_value,
    go_via_nav,
    key,
    make_photo_zip,
    metric_value,
    open_page,
    screenshot,
    slider_range,
    wait_idle,
)

pytestmark = pytest.mark.browser


def _number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


# 1 ------------------------------------------------------------------------------------------------------------
def test_every_page_opens_from_the_navigation(page: Page, app_url: str, size: str):
    open_page(page, app_url)
    assert_no_exception(page)
    screenshot(page, size, "concept")
    for path in ("compare", "train", "predict", "quiz", "concept"):
        go_via_nav(page, path)
        assert_no_exception(page)
        if path != "concept":
            screenshot(page, size, path)


@pytest.mark.parametrize("size", ["laptop"])  # the same at every size
def test_a_shared_link_opens_the_page_inside_the_app(browser_page: Page, size: str):
    """A teacher shares http://<server>/quiz right after starting the app: the page must open inside the app
    (its navigation with the page titles), not as a bare pages/ script. Needs a server nobody has visited."""
    page = browser_page
    with streamlit_server("streamlit-server-deep-link.log") as url:
        open_page(page, url, "quiz")
        links = page.locator('[data-testid="stSidebarNavLink"]')
        expect(links.first).to_be_attached()
        shown = [text.strip().split("\n")[-1].strip() for text in links.all_inner_texts()]  # no icons
        screenshot(page, size, "quiz-deep-link")
        assert shown == [title for title, _ in PAGES.values()], (
            f"The navigation shows {shown}: the page ran without app.py (Streamlit's pages/ folder auto-discovery)"
        )
        assert_no_exception(page)


# 2 ------------------------------------------------------------------------------------------------------------
def test_concept_unfreeze_slider_changes_trainable_parameters(page: Page, app_url: str, size: str):
    open_page(page, app_url)
    label = "Trainable parameters"
    trainable = page.locator('[data-testid="stMetric"]').filter(has_text=label).locator('[data-testid="stMetricValue"]')
    expect(trainable).to_be_visible()
    expect_chart(page)
    thumb = page.locator(key("concept_unfreeze")).get_by_role("slider")  # <input type=range> or role=slider
    expect(thumb).to_be_visible()
    expect(page.locator(key("concept_unfreeze"))).to_contain_text("30")
    expect_slider_value(thumb, 30)
    lowest, highest = slider_range(thumb)
    at_30 = _number(trainable.inner_text())

    def move(keys: str, expected_k: int, changes: bool = True) -> int:
        before = trainable.inner_text()
        thumb.focus()
        for name in keys.split():
            thumb.press(name)
        expect_slider_value(thumb, expected_k)
        if changes:
            expect(trainable).not_to_have_text(before, timeout=RERUN_TIMEOUT)
        wait_idle(page)
        return _number(trainable.inner_text())

    at_0 = move("Home", lowest)
    at_2 = move("ArrowRight ArrowRight", lowest + 2)
    at_max = move("End", highest)
    assert at_0 < at_2 < at_30 < at_max, (at_0, at_2, at_30, at_max)
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text(f"Top {highest} layers unfrozen")
    move("ArrowLeft", highest - 1, changes=False)  # the top layer (a ReLU) has no parameters
    expect(main).to_contain_text(f"Top {highest - 1} layers unfrozen", timeout=RERUN_TIMEOUT)
    assert_no_exception(page)
    screenshot(page, size, "concept-slider")


# 3 ------------------------------------------------------------------------------------------------------------
def test_compare_shows_mobilenet_v2_against_vgg16(page: Page, app_url: str, size: str):
    open_page(page, app_url, "compare")
    assert metric_value(page, "MobileNetV2 parameters") == "3.5M"
    assert metric_value(page, "VGG16 parameters").startswith("138")
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("3,538,984")  # MobileNetV2 with its ImageNet top
    expect(main).to_contain_text("138,357,544")  # VGG16 with its ImageNet top
    expect(main).to_contain_text(re.compile(r"VGG16 is \*?\*?\d+× bigger|VGG16 is \d+× bigger"))
    expect_chart(page, count_at_least=3)
    expect(page.locator('[data-testid="stDataFrame"]')).to_be_visible()
    assert_no_exception(page)
    screenshot(page, size, "compare")


# 6 ------------------------------------------------------------------------------------------------------------
def test_quiz_answer_all_eight_and_see_score_and_explanations(page: Page, app_url: str, size: str):
    open_page(page, app_url, "quiz")
    # Every browser on the server's own computer is the same local student, whose last answers come back:
    # start a new attempt the way a student would.
    if button(page, "quiz_retake").count():
        button(page, "quiz_retake").click()
        wait_idle(page)
    wrong = QUESTIONS[-1]  # answer the last one wrong on purpose, to see both kinds of feedback
    for question in QUESTIONS:
        letter = question.answer if question is not wrong else next(o for o in question.options if o != question.answer)
        group = page.locator(key(f"quiz_q{question.id}"))
        option = group.locator("label").filter(has_text=question.options[letter][:40])
        expect(option).to_have_count(1)
        option.click()
        expect(group.locator("input[type=radio]:checked")).to_have_count(1)
    screenshot(page, size, "quiz-form")
    button(page, "quiz_submit").click()
    score = page.locator('[data-testid="stMetric"]').filter(has_text="Your score")
    expect(score.locator('[data-testid="stMetricValue"]')).to_have_text(
        f"{len(QUESTIONS) - 1} / {len(QUESTIONS)}", timeout=RERUN_TIMEOUT
    )
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text("✅ Correct", exact=False)).to_have_count(len(QUESTIONS) - 1)
    expect(main.get_by_text("❌ You chose", exact=False)).to_have_count(1)
    for question in QUESTIONS:  # every explanation is shown
        expect(main).to_contain_text(question.explanation[:60])
    expect(button(page, "quiz_retake")).to_be_visible()
    assert_no_exception(page)
    screenshot(page, size, "quiz")


# 5 ------------------------------------------------------------------------------------------------------------
def test_predict_with_the_camera(camera_page: Page, app_url: str, size: str):
    page = camera_page
    open_page(page, app_url, "predict")
    quick = button(page, "predict_quick_model")
    if quick.count():
        quick.click()
    # The quick model trains once per server (cached features make it seconds after the first time).
    camera = page.locator(key("predict_camera"))
    expect(camera).to_be_visible(timeout=TRAIN_TIMEOUT)
    expect(page.locator('[data-testid="stMain"]')).to_contain_text("quick flower model")
    take = camera.locator('[data-testid="stCameraInputButton"]')
    expect(take).to_be_enabled(timeout=60_000)
    expect(camera.locator("video")).to_be_visible(timeout=60_000)
    # Wait until the fake camera's picture is really on screen (a first frame can still be black).
    page.wait_for_function(
        """() => {
            const video = document.querySelector('.st-key-predict_camera video');
            if (!video || video.readyState < 2 || !video.videoWidth) return false;
            const canvas = document.createElement('canvas');
            canvas.width = 32; canvas.height = 24;
            const context = canvas.getContext('2d');
            context.drawImage(video, 0, 0, 32, 24);
            const pixels = context.getImageData(0, 0, 32, 24).data;
            let sum = 0;
            for (let i = 0; i < pixels.length; i += 4) sum += pixels[i] + pixels[i + 1] + pixels[i + 2];
            return sum / (pixels.length / 4) / 3 > 40;
        }""",
        timeout=60_000,
        polling=250,
    )
    take.click()
    expect(camera.locator("img")).to_be_visible(timeout=RERUN_TIMEOUT)  # the snapshot replaces the video
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text("3. The model's answer")).to_be_visible(timeout=RERUN_TIMEOUT)
    chart = main.locator(PLOTLY).first
    expect(chart).to_be_visible(timeout=RERUN_TIMEOUT)
    expect(chart).to_contain_text("Top 3 guesses")
    expect(chart).to_contain_text("sunflowers")  # a real sunflower photo: the quick model has it in its top 3
    verdict = main.locator('[data-testid="stAlert"]').filter(
        has_text=re.compile("daisy|dandelion|roses|sunflowers|tulips")
    )
    expect(verdict.first).to_be_visible()
    overlay = main.locator('[data-testid="stImage"]').filter(has_text="Where the model looked for")
    expect(overlay).to_be_visible(timeout=RERUN_TIMEOUT)
    overlay.locator("img").evaluate("img => img.decode()")
    assert overlay.locator("img").evaluate("img => img.naturalWidth") > 0
    expect(main.get_by_text("Where the model looked:", exact=False)).to_be_visible()
    wait_idle(page)
    assert_no_exception(page)
    screenshot(page, size, "predict")


# 4 ------------------------------------------------------------------------------------------------------------
def _choose(page: Page, name: str, option: str) -> None:
    """Pick an option of a selectbox (a combobox with a listbox popup) by its shown text."""
    box = page.locator(key(name))
    combobox = box.get_by_role("combobox")
    listbox = page.get_by_role("listbox").filter(visible=True)
    wait_idle(page)
    for attempt in range(3):  # a rerun that lands just after the click re-renders the box and closes the popup
        box.get_by_role("button", name="Open").click()
        try:
            expect(listbox).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            wait_idle(page)
    listbox.get_by_role("option", name=option, exact=True).click()
    expect(combobox).to_have_value(option)
    wait_idle(page)


def _slide(page: Page, name: str, to: str, arrow: str) -> None:
    """Move a slider with the keyboard (the thumb focused, one ``arrow`` at a time) until it shows ``to``; at the
    slider's end, the other way (the form may start at the last run's settings rather than the defaults)."""
    thumb = page.locator(key(name)).get_by_role("slider")  # the thumb's <input type=range>
    wait_idle(page)
    other_way = {"ArrowLeft": "ArrowRight", "ArrowRight": "ArrowLeft", "Home": "ArrowRight", "End": "ArrowLeft"}
    for _ in range(80):
        now = thumb.get_attribute("aria-valuetext")
        if now == to:
            break
        thumb.press(arrow)
        if thumb.get_attribute("aria-valuetext") == now:
            arrow = other_way[arrow]
    expect(thumb).to_have_attribute("aria-valuetext", to)
    expect(page.locator(f"{key(name)} [data-testid=stSliderThumbValue]")).to_have_text(to)
    wait_idle(page)


def _tiny_settings(page: Page, image_size: str = "96") -> None:
    _choose(page, "train_image_size", image_size)
    _slide(page, "train_epochs1", "1", "ArrowLeft")
    _slide(page, "train_epochs2", "1", "ArrowLeft")
    _slide(page, "train_unfreeze", "10", "ArrowLeft")


WATCH_TRAINING = """() => {
    // Remember what appeared while training ran: the live view comes and goes with the run.
    window.__seen = {progress: false, live: false};
    const look = () => {
        if (document.querySelector('[data-testid="stProgress"]')) window.__seen.progress = true;
        if (document.querySelector('.st-key-live_acc .js-plotly-plot, .st-key-live_loss .js-plotly-plot'))
            window.__seen.live = true;
    };
    window.__watch && window.__watch.disconnect();
    window.__watch = new MutationObserver(look);
    window.__watch.observe(document.body, {childList: true, subtree: true});
    look();
}"""


def _train_once(page: Page) -> dict:
    """Press Train and wait for the results; returns what the student saw while it ran."""
    start = button(page, "train_start")
    expect(start).to_be_enabled()
    page.evaluate(WATCH_TRAINING)
    start.click()
    expect(page.locator('[data-testid="stProgress"]').first).to_be_visible(timeout=RERUN_TIMEOUT)
    expect(button(page, "train_stop")).to_be_visible()
    accuracy = page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy")
    expect(accuracy).to_be_visible(timeout=TRAIN_TIMEOUT)
    expect(page.locator('[data-testid="stProgress"]')).to_have_count(0)
    wait_idle(page, TRAIN_TIMEOUT)
    expect(accuracy.locator('[data-testid="stMetricValue"]')).to_have_text(re.compile(r"^\d+(\.\d)?%$"))
    expect(page.locator(f"{key('confusion')} .js-plotly-plot")).to_be_visible()
    return page.evaluate("() => window.__seen")


HISTORY = f'{key("train_runs_table")} [data-testid="stDataFrame"]'


def _runs_shown(page: Page) -> int:
    """Rows of the run-history table (0 before the first run). Every browser on the server's own computer is
    the same local student, so journeys sharing the server see each other's runs: count from here."""
    table = page.locator(f"{HISTORY} table[role=grid]")
    return int(table.get_attribute("aria-rowcount")) - 1 if table.count() else 0


def test_train_on_the_flowers_twice_and_compare_runs(page: Page, app_url: str, size: str):
    open_page(page, app_url, "train")
    page.locator(key("train_source")).locator("label").filter(has_text="Flowers (tf_flowers)").click()
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("Source:")  # the flowers overview
    wait_idle(page)
    # Journeys share one local student and the server reuses a run with identical settings, so each size trains
    # its own (the reuse itself is tested in tests/test_run_reuse.py).
    _tiny_settings(page, "96" if size == "phone" else "128")
    before = _runs_shown(page)

    seen = _train_once(page)
    assert seen["progress"], "no progress bar while training"
    assert seen["live"], "no live learning curve while training"
    confusion = page.locator(key("confusion"))
    for name in ("daisy", "dandelion", "roses", "sunflowers", "tulips"):
        expect(confusion).to_contain_text(name)
    expect(page.get_by_role("heading", name="Your runs")).to_be_visible()
    screenshot(page, size, "train-first-run")

    _slide(page, "train_epochs1", "2", "ArrowRight")  # a second run with one setting changed
    seen = _train_once(page)
    assert seen["progress"], "no progress bar while training"
    history = page.locator(HISTORY)
    expect(history).to_be_visible()
    # st.dataframe draws on a canvas; its grid is mirrored in a hidden accessible table.
    expect(history.locator('table[role="grid"]')).to_have_attribute("aria-rowcount", str(1 + before + 2))
    expect(main).to_contain_text("Settings that differ between your runs")
    expect(page.locator(key("train_runs_pick"))).to_contain_text("#2")
    expect(page.locator(f"{key('cmp_acc')} .js-plotly-plot")).to_be_visible()
    assert_no_exception(page)
    screenshot(page, size, "train")


# 7 ------------------------------------------------------------------------------------------------------------
def test_own_photos_upload_shows_the_dataset_report(page: Page, app_url: str, size: str, tmp_path):
    photos = make_photo_zip(FLOWERS, tmp_path / "my-flowers.zip", ("daisy", "roses", "tulips"), per_class=12)
    open_page(page, app_url, "train")
    page.locator(key("train_source")).locator("label").filter(has_text="My own photos").click()
    upload = page.locator(f'{key("train_upload")} input[type="file"]')
    expect(upload).to_be_attached(timeout=RERUN_TIMEOUT)
    upload.set_input_files(str(photos))
    main = page.locator('[data-testid="stMain"]')
    summary = main.locator('[data-testid="stAlert"]').filter(has_text="photos in")
    expect(summary).to_contain_text("36 photos in 3 classes: daisy, roses, tulips", timeout=RERUN_TIMEOUT)
    wait_idle(page)
    report = main.locator('[data-testid="stDataFrame"]').first
    expect(report).to_be_visible()
    rows = dataframe_rows(report)
    assert [row.get("class") for row in rows] == ["daisy", "roses", "tulips"], rows
    assert all(row.get("total") == "12" for row in rows), rows
    expect_chart(main)  # photos per class
    expect(main).to_contain_text("Photo sizes:")
    expect(button(page, "train_start")).to_be_enabled()  # the photos can be trained on
    assert_no_exception(page)
    screenshot(page, size, "train-own-photos")


# 8 ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", ["phone"])  # the sliders are made for a thumb
def test_phone_sliders_for_epochs_unfreeze_and_learning_rates_reach_the_run(page: Page, app_url: str, size: str):
    open_page(page, app_url, "train")
    main = page.locator('[data-testid="stMain"]')
    _choose(page, "train_image_size", "96")
    before = _runs_shown(page)
    trainable = main.locator('[data-testid="stCaptionContainer"]').filter(has_text="Trainable in the base")
    _slide(page, "train_unfreeze", "30", "ArrowRight")  # the form starts at the last run's settings: from 30
    at_30 = _number(trainable.locator("strong").inner_text())
    _slide(page, "train_unfreeze", "10", "ArrowLeft")
    expect(trainable.locator("strong")).not_to_have_text(f"{at_30:,}", timeout=RERUN_TIMEOUT)
    at_10 = _number(trainable.locator("strong").inner_text())
    _slide(page, "train_unfreeze", "0", "Home")
    expect(trainable.locator("strong")).to_have_text("0", timeout=RERUN_TIMEOUT)
    _slide(page, "train_unfreeze", "10", "ArrowRight")
    assert 0 < at_10 < at_30, (at_10, at_30)
    _slide(page, "train_epochs1", "1", "ArrowLeft")
    _slide(page, "train_epochs2", "2", "ArrowLeft")
    _slide(page, "train_lr1", "5e-4", "ArrowLeft")
    _slide(page, "train_lr2", "2e-5", "ArrowRight")
    screenshot(page, size, "train-sliders")

    _train_once(page)
    expect(main).to_contain_text("the head for 1 epoch at learning rate 0.0005, then the top 10 base layers for "
                                 "2 epochs at learning rate 2e-05")
    history = page.locator(HISTORY)
    expect(history.locator('table[role="grid"]')).to_have_attribute("aria-rowcount", str(1 + before + 1))
    run = dataframe_rows(history)[-1]
    # A phone shows a few columns at a time (the grid draws only those): scroll right, as a student would.
    history.locator(".dvn-scroller").evaluate("el => { el.scrollLeft = 250; }")
    expect(history.locator("table[role=grid] thead")).to_contain_text("lr2")
    run.update(dataframe_rows(history)[-1])
    assert {k: run.get(k) for k in ("epochs1", "epochs2", "unfreeze", "lr1", "lr2")} == {
        "epochs1": "1", "epochs2": "2", "unfreeze": "10", "lr1": "5e-4", "lr2": "2e-5"}, run
    assert_no_exception(page)
    screenshot(page, size, "train-sliders-run")
