"""The curious class's probes, re-run against the real HTTPS classroom server on 127.0.0.1 (issue: a full disk,
crafted models and uploads, guessing). Prints one JSON object.

    python bench/curious_class.py [--students 10]

* ``students``: ``--students`` phones (Playwright contexts in Debian's Chromium) join one after another and open
  Concept, Train, Predict and Quiz; the server's RSS after each, then after every phone has closed and the server
  has had ``--settle`` seconds.
* ``crafted_model``: the server's RSS before and after a phone uploads the 18 KB model (1024 px, UpSampling x12,
  the app's metadata) on the Predict page, and what the page said.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from classroom import CHROMIUM, HOST, IDLE_JS, free_port, start_server  # noqa: E402

PHONE = {"viewport": {"width": 412, "height": 915}, "is_mobile": True, "has_touch": True}
LONG = 180_000


def rss_mb(server: psutil.Process) -> float:
    """The Streamlit server's own RSS (the process that ``python -m core.classroom`` became)."""
    return round(server.memory_info().rss / 2**20, 1)


def idle(page) -> None:
    page.wait_for_function(IDLE_JS, timeout=LONG, polling=250)


def crafted_model(path: Path) -> Path:
    import json as _json
    import zipfile

    import keras

    model = keras.Sequential([keras.Input((1024, 1024, 3)), keras.layers.Rescaling(1 / 255, name="preprocess"),
                              keras.layers.UpSampling2D(12), keras.layers.GlobalAveragePooling2D(name="pool"),
                              keras.layers.Dense(2, activation="softmax", name="predictions")])
    model.save(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("transfer_learning_lab.json", _json.dumps(
            {"format": "transfer-learning-lab/1", "class_names": ["daisy", "rose"], "image_size": 1024}))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--settle", type=float, default=60)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tll-curious-"))
    port = free_port()
    launcher = start_server(port, work / "data", ["--no-quick-model"])
    server = psutil.Process(launcher.pid)  # execve: the launcher became the Streamlit server
    base = f"https://{HOST}:{port}"
    report: dict = {"server_start_mb": rss_mb(server), "per_student_mb": []}
    model_file = crafted_model(work / "crafted.keras")
    report["crafted_model_bytes"] = model_file.stat().st_size
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--host-resolver-rules=MAP {HOST} 127.0.0.1", "--ignore-certificate-errors"])
            contexts = []
            for i in range(args.students):
                context = browser.new_context(**PHONE, ignore_https_errors=True)
                contexts.append(context)
                page = context.new_page()
                page.goto(base, wait_until="domcontentloaded", timeout=LONG)
                page.get_by_text("Pick a nickname").wait_for(timeout=LONG)
                page.locator(".st-key-identity_nickname input").fill(f"student {i + 1}")
                page.get_by_role("button", name="Start").click()
                page.get_by_text("Your return code").first.wait_for(timeout=LONG)
                token = re.search(r"[?&]s=([^&]+)", page.url).group(1)
                for path in ("", "train", "predict", "quiz"):
                    page.goto(f"{base}/{path}?s={token}", wait_until="domcontentloaded", timeout=LONG)
                    idle(page)
                report["per_student_mb"].append(rss_mb(server))
                print(f"student {i + 1}: server {report['per_student_mb'][-1]} MB", file=sys.stderr, flush=True)
            # the crafted model, uploaded by the last student on the Predict page
            page.goto(f"{base}/predict?s={token}", wait_until="domcontentloaded", timeout=LONG)
            idle(page)
            page.get_by_text("Use a model you downloaded before").first.click()
            before = rss_mb(server)
            page.locator(".st-key-predict_model_upload input[type=file]").set_input_files(str(model_file))
            page.locator('[data-testid="stAlert"]').filter(has_text="crafted.keras").first.wait_for(timeout=LONG)
            idle(page)
            report["crafted_model"] = {
                "server_before_mb": before, "server_after_mb": rss_mb(server),
                "page_said": page.locator('[data-testid="stAlert"]').filter(has_text="crafted.keras").first.inner_text()}
            for context in contexts:
                context.close()
            browser.close()
        time.sleep(args.settle)
        report["after_all_left_mb"] = rss_mb(server)
        steps = [b - a for a, b in zip(report["per_student_mb"], report["per_student_mb"][1:])]
        report["growth_per_student_mb"] = round(sum(steps) / len(steps), 1) if steps else None
    finally:
        launcher.terminate()
        launcher.wait(30)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
