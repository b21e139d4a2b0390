"""Kiran's own photos on a phone (412x915) over HTTPS: the classroom server (``python -m core.classroom``) reached
as ``https://classroom.test:<port>`` (mapped to 127.0.0.1 by Chromium's --host-resolver-rules), Chromium's fake
camera. Join, make 3 classes, add photos by picking many at once (JPEGs, an iPhone HEIC, a 12 MP photo with GPS
in its EXIF) and by camera snapshots, train with small settings, get a result; the dataset is still there after
a refresh and after a server restart, and the stored files are at most 512 px without EXIF.

Prints (and writes to artifacts/my_photos_journey.json) the taps and seconds per camera photo: measured on a
shared, loaded machine, so the seconds are an upper bound of what one phone would see.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image
from playwright.sync_api import Page, expect

from core.photos.images import HEIC_SUPPORTED

from .conftest import CHROMIUM, FLOWERS, LAUNCH_ARGS, SHARED
from .helpers import ARTIFACTS, RERUN_TIMEOUT, ROOT, assert_no_exception, key, screenshot, wait_idle
from .test_journeys import _tiny_settings, _train_once

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOST = "classroom.test"
PHONE = {"viewport": {"width": 412, "height": 915}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
LAPTOP = {"viewport": {"width": 1280, "height": 800}}
CAMERA_PHOTOS = 4
GPS_TAG = 0x8825


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ClassroomServer:
    """``python -m core.classroom`` on loopback with HTTPS, restartable on the same data folder."""

    def __init__(self, data: Path, cache: Path):
        self.port, self.data, self.cache, self.process = _free_port(), data, cache, None

    def start(self) -> None:
        env = {**os.environ, "TLL_DATA_DIR": str(self.data), "TLL_CACHE_DIR": str(self.cache),
               "TLL_OFFLINE_BUNDLE": str(SHARED.resolve()), "TLL_NO_DOWNLOADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
               "TLL_TEACHER_CODE": "-".join(secrets.token_hex(4) for _ in range(4)), "PYTHONUNBUFFERED": "1"}
        ARTIFACTS.mkdir(exist_ok=True)
        log = open(ARTIFACTS / "my-photos-classroom-server.log", "a")  # noqa: SIM115 - the server keeps it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core.classroom", "--address", "127.0.0.1", "--port", str(self.port), "--no-qr",
             "--no-quick-model"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the classroom server exited ({self.process.returncode}): see {log.name}")
            try:
                if requests.get(f"https://127.0.0.1:{self.port}/_stcore/health", verify=False, timeout=5).text == "ok":
                    return
            except requests.RequestException:
                time.sleep(0.5)
        pytest.fail("the classroom server did not answer over HTTPS within 180 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"


def _photos(folder: Path) -> dict[str, list[Path]]:
    """The test's photos: real flower JPEGs, one as an iPhone HEIC, one as a 12 MP photo with GPS in its EXIF."""
    folder.mkdir(parents=True, exist_ok=True)
    daisy = sorted((FLOWERS / "daisy").glob("*.jpg"))[:4]
    tulips = sorted((FLOWERS / "tulips").glob("*.jpg"))[:6]
    heic = folder / "IMG_0001.HEIC"
    Image.open(sorted((FLOWERS / "daisy").glob("*.jpg"))[10]).save(heic, "HEIF")
    big = folder / "IMG_0002.jpg"  # 4000x3000: a 12 MP phone photo, GPS position included
    source = Image.open(sorted((FLOWERS / "daisy").glob("*.jpg"))[11]).convert("RGB").resize((4000, 3000))
    grain = np.random.default_rng(0).normal(0, 6, (3000, 4000, 3))
    big_image = Image.fromarray(np.clip(np.asarray(source, dtype=np.float32) + grain, 0, 255).astype("uint8"))
    exif = Image.Exif()
    exif.get_ifd(GPS_TAG).update({1: "N", 2: (12.0, 58.0, 10.0), 3: "E", 4: (77.0, 35.0, 40.0)})
    big_image.save(big, "JPEG", quality=92, exif=exif)
    assert Image.open(big).getexif().get_ifd(GPS_TAG), "the test photo carries no GPS: the check below would be empty"
    return {"daisy": [*daisy, heic, big], "tulips": tulips}


def _launch(playwright, size: dict, profile: str):
    return playwright.chromium.launch_persistent_context(
        profile, executable_path=str(CHROMIUM), headless=True, locale="en-GB", ignore_https_errors=True,
        permissions=["camera"], **size,
        args=[*LAUNCH_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
              "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",  # Chromium's moving test card
              "--autoplay-policy=no-user-gesture-required"])


def _main(page: Page):
    return page.locator('[data-testid="stMain"]')


def _join(page: Page, url: str, nickname: str) -> str:
    page.goto(url, wait_until="domcontentloaded", timeout=180_000)
    page.locator(f'{key("identity_nickname")} input').fill(nickname)
    page.get_by_role("button", name="Start").click()
    seen = page.locator(key("identity_code_seen")).get_by_role("button")
    expect(seen).to_be_visible(timeout=RERUN_TIMEOUT)
    seen.click()
    wait_idle(page)
    token = re.search(r"[?&]s=([^&]+)", page.url)
    assert token, page.url
    return token.group(1)


def _open(page: Page, url: str, path: str, token: str, heading: str) -> None:
    page.goto(f"{url}/{path}?s={token}", wait_until="domcontentloaded", timeout=180_000)
    expect(page.locator("h1").filter(has_text=heading).first).to_be_visible(timeout=180_000)
    wait_idle(page)


def _add_class(page: Page, name: str) -> None:
    wait_idle(page)
    field = page.locator(f'{key("my_photos_new_name")} input')
    expander = page.locator('[data-testid="stExpander"]').filter(has_text="New class")
    if "keyboard_arrow_right" in expander.locator("summary").inner_text():  # folded once two classes exist
        expander.locator("summary").click()
        expect(expander.locator('[data-testid="stExpanderDetails"]')).not_to_have_attribute("inert", "")
        expect(field).to_be_editable()
    field.fill(name)
    page.get_by_role("button", name="Add class").click()
    expect(_main(page).locator('[data-testid="stAlert"]').filter(has_text=f"Class {name} is ready")).to_be_visible(
        timeout=RERUN_TIMEOUT)
    wait_idle(page)


def _choose_class(page: Page, name: str) -> None:
    page.locator(key("my_photos_class")).locator("label").filter(has_text=re.compile(rf"^{name}$")).click()
    wait_idle(page)


def _mode(page: Page, label: str) -> None:
    page.locator(key("my_photos_mode")).locator("button").filter(has_text=label).click()
    wait_idle(page)


def _expect_count(page: Page, name: str, count: int) -> None:
    counts = _main(page).locator('[data-testid="stCaptionContainer"]').filter(has_text=re.compile(r"^\S+: \d+ · "))
    expect(counts.first).to_contain_text(f"{name}: {count}", timeout=RERUN_TIMEOUT)


def _camera_ready(page: Page):
    camera = page.locator('[data-testid="stCameraInput"]')
    take = camera.locator('[data-testid="stCameraInputButton"]')
    expect(take).to_be_enabled(timeout=60_000)
    page.wait_for_function(
        """() => {const v = document.querySelector('[data-testid="stCameraInput"] video');
                  return v && v.readyState >= 2 && v.videoWidth > 0;}""", timeout=60_000, polling=100)
    return take


def _on_screen(page: Page, locator) -> bool:
    """The element lies wholly inside the visible screen, as laid out now (no scrolling done by the check)."""
    box, height = locator.bounding_box(), page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def _stored(data: Path) -> list[Path]:
    return sorted(data.glob("students/*/my_photos/*/*.jpg"))


@pytest.mark.skipif(not HEIC_SUPPORTED, reason="pillow-heif is not installed: the journey's HEIC photo cannot be made")
def test_kiran_builds_a_dataset_on_a_phone_trains_on_it_and_it_lasts(playwright_instance, tmp_path):
    data, cache = tmp_path / "data", Path(tempfile.mkdtemp(prefix="tll-e2e-cache-"))
    photos = _photos(tmp_path / "phone-gallery")
    server = ClassroomServer(data, cache)
    server.start()
    profile = tempfile.mkdtemp(prefix="tll-e2e-profile-")
    context = _launch(playwright_instance, PHONE, profile)
    figures: dict = {"machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (shared)"}
    try:
        page = context.pages[0] if context.pages else context.new_page()
        token = _join(page, server.url, "Kiran")
        _open(page, server.url, "my_photos", token, "My photos")
        expect(_main(page)).to_contain_text("Start with a class")
        for name in ("daisy", "roses", "tulips"):
            _add_class(page, name)

        # Many photos at once from the "gallery": JPEGs, an iPhone HEIC, a 12 MP photo with GPS.
        for name in ("daisy", "tulips"):
            _choose_class(page, name)
            _mode(page, "Pick photos")
            page.locator('[data-testid="stFileUploader"] input[type="file"][multiple]').set_input_files(
                [str(p) for p in photos[name]])
            expect(_main(page).locator('[data-testid="stAlert"]').filter(
                has_text=f"Added {len(photos[name])} photo(s) to {name}")).to_be_visible(timeout=RERUN_TIMEOUT)
            wait_idle(page)
            _expect_count(page, name, len(photos[name]))

        # Camera snapshots, one after another: each is one tap on "Take Photo" once the camera is live again.
        _choose_class(page, "roses")
        _mode(page, "Camera")
        taps, seconds = 0, []
        take = _camera_ready(page)
        assert page.evaluate("() => window.__tllFacingAsked") == "environment"  # the back camera, on a phone
        scrolls = 0
        for shot in range(1, CAMERA_PHOTOS + 1):
            if not _on_screen(page, take):  # below the first screen at 412x915, or moved by the page's rerun
                take.evaluate("button => button.scrollIntoView({block: 'center'})")  # as a thumb would: mid-screen
                scrolls += 1
            page.wait_for_timeout(1000)  # aiming: the fake camera's picture moves on, so no two shots are one frame
            started = time.monotonic()
            take.click()
            taps += 1
            expect(_main(page).locator('[data-testid="stAlert"]').filter(
                has_text=f"to roses: it has {shot} now")).to_be_visible(timeout=RERUN_TIMEOUT)
            take = _camera_ready(page)  # ready for the next one: no other tap needed
            seconds.append(time.monotonic() - started)
        _expect_count(page, "roses", CAMERA_PHOTOS)
        assert page.evaluate("() => window.__tllFacingAsked") == "environment"  # still, after fresh widgets
        screenshot(page, "phone", "my-photos-camera")  # after the timing: the shot stretches the viewport
        figures["camera"] = {"photos": CAMERA_PHOTOS, "taps_per_photo": taps / CAMERA_PHOTOS, "scrolls": scrolls,
                             "seconds_per_photo": [round(s, 2) for s in seconds],
                             "median_seconds": round(float(np.median(seconds)), 2)}
        assert taps == CAMERA_PHOTOS
        assert_no_exception(page)
        _mode(page, "Look and tidy")
        screenshot(page, "phone", "my-photos")

        # Train on them with small settings.
        _open(page, server.url, "train", token, "Train")
        page.locator(key("train_source")).locator("label").filter(has_text="My own photos").click()
        # 16 stored; should two snapshots still be one frame of the fake camera, the report counts them once.
        expect(_main(page)).to_contain_text(re.compile(r"1[4-6] photos in 3 classes: daisy, roses, tulips"),
                                            timeout=RERUN_TIMEOUT)
        wait_idle(page)
        _tiny_settings(page)
        _train_once(page)
        confusion = page.locator(key("confusion"))
        for name in ("daisy", "roses", "tulips"):
            expect(confusion).to_contain_text(name)
        assert_no_exception(page)

        # A refresh, then a server restart: the dataset is still there.
        _open(page, server.url, "my_photos", token, "My photos")
        page.reload(wait_until="domcontentloaded")
        expect(page.locator("h1").filter(has_text="My photos").first).to_be_visible(timeout=180_000)
        for name, count in (("daisy", 6), ("roses", CAMERA_PHOTOS), ("tulips", 6)):
            _expect_count(page, name, count)
        server.stop()
        server.start()
        _open(page, server.url, "my_photos", token, "My photos")
        for name, count in (("daisy", 6), ("roses", CAMERA_PHOTOS), ("tulips", 6)):
            _expect_count(page, name, count)
        assert_no_exception(page)

        laptop_profile = tempfile.mkdtemp(prefix="tll-e2e-profile-")
        laptop = _launch(playwright_instance, LAPTOP, laptop_profile)
        try:
            wide = laptop.pages[0] if laptop.pages else laptop.new_page()
            _open(wide, server.url, "my_photos", token, "My photos")
            _mode(wide, "Look and tidy")
            screenshot(wide, "laptop", "my-photos")
        finally:
            laptop.close()
            shutil.rmtree(laptop_profile, ignore_errors=True)
    except BaseException:
        screenshot(page, "phone", "FAILED-my-photos-journey")
        raise
    finally:
        context.close()
        server.stop()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)

    # What is on the server's disk: small, upright JPEGs without any EXIF (so no GPS).
    stored = _stored(data)
    assert len(stored) == 16
    for path in stored:
        with Image.open(path) as image:
            assert image.format == "JPEG" and max(image.size) <= 512, (path.name, image.size)
            assert not image.getexif().get_ifd(GPS_TAG) and not image.getexif(), path.name
    figures["stored"] = {"photos": len(stored), "bytes": sum(p.stat().st_size for p in stored),
                         "largest_side_px": max(max(Image.open(p).size) for p in stored)}
    figures["machine"] += f", {os.getloadavg()[0]:.1f} at the end"
    print(json.dumps(figures, indent=2))
    (ARTIFACTS / "my_photos_journey.json").write_text(json.dumps(figures, indent=2))
