"""Helpers for the browser journeys: waiting for Streamlit, navigating, screenshots, and test media
(a fake-camera Y4M video and a zip of photos) made at test time from the real flower photos."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

# Generous: the first run of a page imports TensorFlow and may build models on a 2-core CI machine.
LOAD_TIMEOUT = 180_000
RERUN_TIMEOUT = 120_000
TRAIN_TIMEOUT = 600_000

APP = '[data-testid="stApp"]'
EXCEPTION = '[data-testid="stException"]'
PLOTLY = '[data-testid="stPlotlyChart"] .js-plotly-plot'

# The app's pages: url path -> (nav title, a heading the page always shows).
PAGES = {
    "concept": ("Concept", "Transfer learning"),
    "compare": ("Compare base models", "Which base model?"),
    "train": ("Train", "Train"),
    "my_photos": ("My photos", "My photos"),
    "predict": ("Predict", "Predict"),
    "quiz": ("Quiz", "Quiz"),
    "teacher": ("Teacher", "Teacher"),  # in the menu on this computer alone and for an unlocked teacher
    "projector": ("Projector", "Join the class"),
}


def key(name: str) -> str:
    """CSS selector of the container Streamlit gives a widget with ``key=name``."""
    return f".st-key-{name}"


def button(page: Page, name: str) -> Locator:
    """The visible button of a widget with ``key=name``. (A button with ``help=`` is rendered twice, with and
    without its tooltip, and CSS shows one depending on the screen.)"""
    return page.locator(f'{key(name)} button[data-testid^="stBaseButton"]').filter(visible=True)


def wait_idle(page: Page, timeout: float = RERUN_TIMEOUT) -> None:
    """Wait until the app is connected and no script run is pending or running.

    ``data-test-script-state`` on the app root is Streamlit's own run state (``running``,
    ``rerunRequested``, ``notRunning``...). Callers also wait for the concrete result they expect,
    because a rerun may start a moment after the action that triggered it."""
    page.wait_for_selector(APP, state="attached", timeout=timeout)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app) return false;
            const state = app.getAttribute('data-test-script-state');
            const connected = (app.getAttribute('data-test-connection-state') || '').toUpperCase() === 'CONNECTED';
            const widget = document.querySelector('[data-testid="stStatusWidget"]');
            const busy = widget && /running/i.test(widget.innerText || '');
            // Streamlit loads some widgets' code on demand and shows a skeleton until it arrives.
            const loading = document.querySelector('[data-testid="stMain"] [data-testid="stSkeleton"]');
            return connected && state === 'notRunning' && !busy && !loading;
        }""",
        timeout=timeout,
    )


def open_page(page: Page, base_url: str, path: str = "") -> None:
    """Load a page by its URL, wait for its heading and for the script run to finish."""
    page.goto(f"{base_url}/{path}", wait_until="domcontentloaded", timeout=LOAD_TIMEOUT)
    title = PAGES[path or "concept"][1]
    expect(page.locator("h1").filter(has_text=title).first).to_be_visible(timeout=LOAD_TIMEOUT)
    wait_idle(page, LOAD_TIMEOUT)


def assert_no_exception(page: Page) -> None:
    """No red exception box anywhere on the page (its text is shown if there is one)."""
    boxes = page.locator(EXCEPTION)
    if boxes.count():
        raise AssertionError("The page shows an exception:\n" + boxes.first.inner_text()[:3000])
    expect(boxes).to_have_count(0)


def screenshot(page: Page, size: str, name: str) -> Path:
    """A full-page screenshot in artifacts/screenshots/<size>/<name>.png.

    Streamlit scrolls inside its own container, so Playwright's full_page alone only sees one screen:
    the viewport is stretched to the content's height for the shot, then put back."""
    close_sidebar_on_phone(page)
    path = SCREENSHOTS / size / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    extra = page.evaluate(
        """() => {
            let extra = 0;
            for (const el of document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')) {
                const style = getComputedStyle(el);
                if (/(auto|scroll)/.test(style.overflowY)) extra = Math.max(extra, el.scrollHeight - el.clientHeight);
            }
            return extra;
        }"""
    )
    if viewport and extra > 0:
        page.set_viewport_size({"width": viewport["width"], "height": min(viewport["height"] + extra, 16_000)})
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    try:
        page.screenshot(path=str(path), full_page=True, timeout=60_000, animations="disabled")
    finally:
        if viewport and extra > 0:
            page.set_viewport_size(viewport)
    return path


def close_sidebar_on_phone(page: Page) -> None:
    """At phone width an open sidebar covers the page: close it, as a student would."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    if (page.viewport_size or {}).get("width", 9999) >= 768 or not sidebar.count():
        return
    if sidebar.get_attribute("data-collapsed") == "false":
        sidebar.locator('[data-testid="stSidebarCollapseButton"] button').click()
        expect(sidebar).to_have_attribute("data-collapsed", "true")


def open_nav(page: Page) -> Locator:
    """The page links of st.navigation. At phone width they sit in the collapsed sidebar: open it."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar).to_be_attached(timeout=30_000)
    if sidebar.get_attribute("data-collapsed") == "true":
        expand = page.locator('[data-testid="stExpandSidebarButton"]')
        expect(expand).to_be_visible(timeout=30_000)
        expand.click()
        expect(sidebar).to_have_attribute("data-collapsed", "false")
    links = sidebar.locator('[data-testid="stSidebarNavLink"]')
    expect(links.first).to_be_in_viewport(timeout=30_000)
    return links


def go_via_nav(page: Page, path: str) -> None:
    """Click the page's link in the navigation, like a student would."""
    title, heading = PAGES[path]
    links = open_nav(page)
    link = links.filter(has=page.get_by_text(title, exact=True))
    expect(link).to_have_count(1)
    link.click()
    page.wait_for_url(re.compile(rf"/{path}/?$" if path != "concept" else r"/(concept)?/?$"), timeout=30_000)
    expect(page.locator("h1").filter(has_text=heading).first).to_be_visible(timeout=LOAD_TIMEOUT)
    wait_idle(page, LOAD_TIMEOUT)


def dataframe_rows(frame: Locator) -> list[dict[str, str]]:
    """The rows of an st.dataframe as {column: text}. It draws on a canvas; the grid is mirrored in a hidden
    accessible table, which is what is read here."""
    table = frame.locator('table[role="grid"]')
    expect(table).to_be_attached()
    return table.evaluate(
        """table => {
            // Only the columns in view are drawn: match cells to headers by aria-colindex, not by position.
            const header = {};
            for (const th of table.querySelectorAll('thead th')) header[th.getAttribute('aria-colindex')] = th.textContent.trim();
            return [...table.querySelectorAll('tbody tr')].map(tr => {
                const row = {};
                for (const td of tr.querySelectorAll('td')) {
                    const column = header[td.getAttribute('aria-colindex')];
                    if (column !== undefined) row[column] = td.textContent.trim();
                }
                return row;
            });
        }"""
    )


def metric_value(page: Page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return metric.locator('[data-testid="stMetricValue"]').first.inner_text().strip()


def _is_input(slider: Locator) -> bool:
    return slider.evaluate("el => el.tagName === 'INPUT'")


def slider_range(slider: Locator) -> tuple[int, int]:
    """(min, max) of a slider: Streamlit's <input type=range> or an ARIA role=slider element."""
    if _is_input(slider):
        return int(slider.get_attribute("min")), int(slider.get_attribute("max"))
    return int(slider.get_attribute("aria-valuemin")), int(slider.get_attribute("aria-valuemax"))


def expect_slider_value(slider: Locator, value: int, timeout: float = 30_000) -> None:
    if _is_input(slider):
        expect(slider).to_have_value(str(value), timeout=timeout)
    else:
        expect(slider).to_have_attribute("aria-valuenow", str(value), timeout=timeout)


def expect_chart(scope: Page | Locator, timeout: float = RERUN_TIMEOUT, count_at_least: int = 1) -> None:
    charts = scope.locator(PLOTLY)
    expect(charts.nth(count_at_least - 1)).to_be_visible(timeout=timeout)


def write_y4m(photo: Path, target: Path, width: int = 640, height: int = 480, frames: int = 10) -> Path:
    """A short YUV4MPEG2 (4:2:0, JPEG full-range) video of one photo, for Chromium's fake camera."""
    image = Image.open(photo).convert("RGB")
    # Cover the frame (centre crop) so the flower fills the picture like a real camera shot.
    scale = max(width / image.width, height / image.height)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    left, top = (image.width - width) // 2, (image.height - height) // 2
    image = image.crop((left, top, left + width, top + height))
    y, cb, cr = (np.asarray(channel, dtype=np.uint8) for channel in image.convert("YCbCr").split())

    def half(plane: np.ndarray) -> np.ndarray:  # 2x2 average = 4:2:0 chroma subsampling
        p = plane.astype(np.uint16)
        return ((p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2] + 2) // 4).astype(np.uint8)

    frame = b"FRAME\n" + y.tobytes() + half(cb).tobytes() + half(cr).tobytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(frame)
    return target


def make_photo_zip(flowers: Path, target: Path, classes=("daisy", "roses", "tulips"), per_class: int = 12) -> Path:
    """A zip in the class-folder layout (``<class>/<photo>.jpg``) of real flower photos."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in classes:
            for photo in sorted((flowers / name).glob("*.jpg"))[:per_class]:
                archive.write(photo, f"{name}/{photo.name}")
    return target
