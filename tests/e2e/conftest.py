"""Browser fixtures: one `streamlit run app.py` per test session, and a fresh Chromium per journey.

Playwright drives Debian's Chromium (/usr/bin/chromium, installed by `make browser-deps`): no browser
download. Each journey gets its own browser with a fresh profile, so no state leaks between journeys.
The server's log is kept in artifacts/streamlit-server.log.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .helpers import ARTIFACTS, ROOT, screenshot, write_y4m

CHROMIUM = Path("/usr/bin/chromium")
SHARED = ROOT.parent / "shared"
FLOWERS = SHARED / "flowers"
STREAMLIT = Path(sys.executable).parent / "streamlit"
HEALTH_TIMEOUT = 60
# Streamlit loads widget code lazily and reruns the script after each action: a shared CI machine needs time.
expect.set_options(timeout=30_000)

VIEWPORTS = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "laptop": {"viewport": {"width": 1366, "height": 900}},
}

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-sync",
    "--disable-quic",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--metrics-recording-only",
]


def pytest_collection_modifyitems(config, items):
    """Browser journeys are marked `browser`; without Debian's Chromium they are skipped, saying why."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"{CHROMIUM} not found: install Debian's `chromium` package (`make browser-deps`)"
                    )
                )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _keep_failure_screenshot(request, page, size: str) -> None:
    """A failed journey leaves artifacts/screenshots/<size>/FAILED-<test>.png behind."""
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    name = "FAILED-" + request.node.originalname
    try:
        screenshot(page, size, name)
    except Exception as error:  # noqa: BLE001 - a screenshot must not hide the real failure
        print(f"no failure screenshot: {error}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@contextlib.contextmanager
def streamlit_server(log_name: str = "streamlit-server.log"):
    """`streamlit run app.py` on a free port (offline bundle, no downloads, private cache); yields its URL."""
    port = _free_port()
    cache = Path(tempfile.mkdtemp(prefix="tll-e2e-cache-"))
    data = Path(tempfile.mkdtemp(prefix="tll-e2e-data-"))  # the server's store: no runs left by an earlier run
    env = {
        **os.environ,
        "TLL_OFFLINE_BUNDLE": str(SHARED.resolve()),
        "TLL_NO_DOWNLOADS": "1",
        "TLL_CACHE_DIR": str(cache),
        "TLL_DATA_DIR": str(data),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONUNBUFFERED": "1",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "w")  # noqa: SIM115 - closed below
    command = [
        str(STREAMLIT), "run", "app.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while not _healthy(f"{url}/_stcore/health"):
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with code {process.returncode}: see {log.name}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit was not healthy after {HEALTH_TIMEOUT} s: see {log.name}")
            time.sleep(0.25)
        yield url
    finally:
        _stop(process)
        log.close()
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def app_url():
    """The app, started once for the whole session (the journeys share it, as a class shares a server)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's `chromium` package (`make browser-deps`)")
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def fake_video(tmp_path_factory) -> Path:
    """The fake camera's video: a real sunflower photo as a Y4M clip."""
    photo = sorted((FLOWERS / "sunflowers").glob("*.jpg"))[0]
    return write_y4m(photo, tmp_path_factory.mktemp("camera") / "sunflower.y4m")


@pytest.fixture(params=list(VIEWPORTS))
def size(request) -> str:
    return request.param


def _launch(playwright, size: str, extra_args: list[str] = (), **options):
    profile = tempfile.mkdtemp(prefix="tll-e2e-profile-")
    context = playwright.chromium.launch_persistent_context(
        profile,
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*LAUNCH_ARGS, *extra_args],
        locale="en-GB",
        **VIEWPORTS[size],
        **options,
    )
    context.set_default_timeout(60_000)
    return context, profile


@pytest.fixture
def browser_page(request, playwright_instance, size):
    """A fresh browser (own profile) and page, for a journey that starts its own server."""
    yield from _fresh_page(request, playwright_instance, size)


def _fresh_page(request, playwright_instance, size, extra_args=(), **options):
    """A page in a new Chromium with its own profile; a failure screenshot is kept, the profile removed."""
    context, profile = _launch(playwright_instance, size, extra_args, **options)
    page = context.pages[0] if context.pages else context.new_page()
    try:
        yield page
        _keep_failure_screenshot(request, page, size)
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_page, app_url):
    """A fresh browser (own profile) and page for one journey, with the shared app server running."""
    return browser_page


@pytest.fixture
def camera_page(request, playwright_instance, app_url, size, fake_video):
    """Like `page`, with a fake camera that films a sunflower photo, and camera permission granted."""
    camera_args = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={fake_video}",
        # Phone emulation applies the mobile autoplay rule, which leaves the camera preview paused on a black
        # frame; real phones play a camera stream, so lift the rule.
        "--autoplay-policy=no-user-gesture-required",
    ]
    yield from _fresh_page(request, playwright_instance, size, camera_args, permissions=["camera"])
