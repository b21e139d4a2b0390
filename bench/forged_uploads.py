"""Forged upload ids against the real HTTPS classroom server (127.0.0.1): does the server's memory stay bounded?

    python bench/forged_uploads.py [--forged 6] [--mb 150]

A phone opens the Predict page and uploads one small file for real, which shows the session's upload address
(``/_stcore/upload_file/<session>/<file id>``); then it PUTs ``--forged`` files of ``--mb`` MB under made-up file
ids to that session, as a curious student's script would. Prints the server's RSS after each, what each PUT was
answered, and one JSON object last. Bounded: ``--forged`` requests, loopback only.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psutil
import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from classroom import CHROMIUM, HOST, IDLE_JS, free_port, start_server  # noqa: E402

PHONE = {"viewport": {"width": 412, "height": 915}, "is_mobile": True, "has_touch": True}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forged", type=int, default=6)
    parser.add_argument("--mb", type=int, default=150)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tll-forged-"))
    port = free_port()
    launcher = start_server(port, work / "data", ["--no-quick-model"])
    print("server up", file=sys.stderr, flush=True)
    server = psutil.Process(launcher.pid)
    base = f"https://{HOST}:{port}"
    photo = work / "tiny.keras"  # the model uploader takes .keras files only; its contents do not matter here
    photo.write_bytes(b"not a model")
    report: dict = {"forged_mb_each": args.mb, "answers": [], "server_mb": []}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
                "--ignore-certificate-errors"])
            context = browser.new_context(**PHONE, ignore_https_errors=True)
            page = context.new_page()
            page.goto(base, wait_until="domcontentloaded")
            page.get_by_text("Pick a nickname").wait_for(timeout=180_000)
            page.locator(".st-key-identity_nickname input").fill("Curious")
            page.get_by_role("button", name="Start").click()
            page.get_by_text("Your return code").first.wait_for(timeout=180_000)
            token = re.search(r"[?&]s=([^&]+)", page.url).group(1)
            page.goto(f"{base}/predict?s={token}", wait_until="domcontentloaded")
            page.wait_for_function(IDLE_JS, timeout=180_000, polling=250)
            page.get_by_text("Use a model you downloaded before").first.click()
            with page.expect_request(lambda r: "/_stcore/upload_file/" in r.url and r.method == "PUT") as put:
                page.locator(".st-key-predict_model_upload input[type=file]").set_input_files(str(photo))
            print("one real upload seen", file=sys.stderr, flush=True)
            session = re.search(r"/_stcore/upload_file/([^/]+)/", put.value.url).group(1)
            xsrf = next((c["value"] for c in context.cookies() if c["name"] == "_streamlit_xsrf"), "")
            payload = b"\0" * (args.mb * 2**20)
            report["server_mb"].append(round(server.memory_info().rss / 2**20))
            cookies = {c["name"]: c["value"] for c in context.cookies()}
            for _ in range(args.forged):  # a script with the phone's cookies, as a curious student would write
                answer = requests.put(f"https://127.0.0.1:{port}/_stcore/upload_file/{session}/{uuid.uuid4()}",
                                      files={"file": ("x.zip", payload, "application/zip")}, cookies=cookies,
                                      headers={"X-Xsrftoken": xsrf, "Origin": f"https://{HOST}:{port}"},
                                      verify=False, timeout=300)
                report["answers"].append(answer.status_code)
                report["server_mb"].append(round(server.memory_info().rss / 2**20))
                print(f"PUT {answer.status_code}: server {report['server_mb'][-1]} MB", file=sys.stderr, flush=True)
            browser.close()
    finally:
        launcher.terminate()
        try:
            launcher.wait(60)
        except subprocess.TimeoutExpired:  # a busy machine: stop it the hard way
            launcher.kill()
            launcher.wait()
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
