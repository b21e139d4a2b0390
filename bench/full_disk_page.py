"""What students see when the server's disk fills up, in Chromium against the real HTTPS classroom server.

    python bench/full_disk_page.py        (root: a private mount namespace for a small tmpfs)

The server runs in its own mount namespace (``unshare -m``) with its data folder on a 24 MB tmpfs. A student
joins; the tmpfs is filled (``nsenter`` into the server's namespace); then that student reloads (their work must
still show) and a second phone tries to join (refused with one sentence, no traceback). Screenshots go to
artifacts/screenshots/full-disk/; prints one JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from classroom import BUNDLE, CHROMIUM, HOST, IDLE_JS, free_port  # noqa: E402

SHOTS = ROOT / "artifacts" / "screenshots" / "full-disk"
PHONE = {"viewport": {"width": 412, "height": 915}, "is_mobile": True, "has_touch": True}


def main() -> int:
    if os.geteuid() != 0:
        print(json.dumps({"skipped": "needs root for unshare -m and mount"}))
        return 0
    work = Path(tempfile.mkdtemp(prefix="tll-full-"))
    mount = work / "disk"
    mount.mkdir()
    port = free_port()
    env = {**os.environ, "TLL_DATA_DIR": str(mount / "data"), "TLL_TEACHER_CODE": "bench-teacher-code-long-enough",
           "TLL_OFFLINE_BUNDLE": str(BUNDLE), "TLL_NO_DOWNLOADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    log = open(work / "server.log", "w")  # noqa: SIM115 - closed below
    shell = (f"mount -t tmpfs -o size=24m tmpfs {mount} && exec {sys.executable} -m core.classroom --address 127.0.0.1 "
             f"--port {port} --no-qr --no-quick-model")
    server = subprocess.Popen(["unshare", "-m", "sh", "-c", shell], cwd=ROOT, env=env, stdout=log, stderr=log)
    report: dict = {}
    try:
        for _ in range(240):
            try:
                if requests.get(f"https://127.0.0.1:{port}/_stcore/health", verify=False, timeout=5).text == "ok":
                    break
            except requests.RequestException:
                time.sleep(0.5)
        SHOTS.mkdir(parents=True, exist_ok=True)
        base = f"https://{HOST}:{port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
                "--ignore-certificate-errors"])
            first = browser.new_context(**PHONE, ignore_https_errors=True).new_page()
            first.goto(base, wait_until="domcontentloaded")
            first.get_by_text("Pick a nickname").wait_for(timeout=120_000)
            first.locator(".st-key-identity_nickname input").fill("Asha")
            first.get_by_role("button", name="Start").click()
            first.get_by_text("Your return code").first.wait_for(timeout=120_000)
            address = first.url
            filler = subprocess.run(["nsenter", "-t", str(server.pid), "-m", "sh", "-c",
                                     f"dd if=/dev/zero of={mount}/filler bs=1M 2>&1; df -k {mount} | tail -1"],
                                    capture_output=True, text=True)
            report["disk_after_filling"] = filler.stdout.strip().splitlines()[-1]
            first.goto(address, wait_until="domcontentloaded")
            first.wait_for_function(IDLE_JS, timeout=120_000, polling=250)
            report["first_student_after_full"] = first.locator('[data-testid="stMain"]').inner_text()[:300]
            first.screenshot(path=str(SHOTS / "01-student-reads-on-a-full-disk.png"), full_page=True)
            second = browser.new_context(**PHONE, ignore_https_errors=True).new_page()
            second.goto(base, wait_until="domcontentloaded")
            second.get_by_text("Pick a nickname").wait_for(timeout=120_000)
            second.locator(".st-key-identity_nickname input").fill("Ben")
            second.get_by_role("button", name="Start").click()
            alert = second.locator('[data-testid="stAlert"]').filter(has_text="disk")
            alert.first.wait_for(timeout=120_000)
            report["second_student_join"] = alert.first.inner_text()
            report["traceback_shown"] = "Traceback" in second.content() or "sqlite3" in second.content()
            second.screenshot(path=str(SHOTS / "02-join-refused-on-a-full-disk.png"), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    report["server_log_mentions"] = [line.strip()[:160] for line in (work / "server.log").read_text().splitlines()
                                     if "save" in line.lower() or "disk" in line.lower()][:5]
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
