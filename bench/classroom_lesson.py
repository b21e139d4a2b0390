"""The lesson's real workload for a class: every student trains the lesson's recipe (or a variation of it) at once.

    python bench/classroom.py --students 30 --recipe lesson

(on a quiet machine; writes ``bench/results/classroom_lesson_30_224px.json`` and prints the same JSON on stdout).
A smoke test on a busy machine: ``nice -n 19 python bench/classroom.py --students 6 --recipe lesson --image-size 96``.

The server is started as ``make classroom`` starts it (``python -m core.classroom``: the flower features prepared
at this image size before it listens, warm training workers, reuse of identical runs on) on 127.0.0.1, and each
student is a Playwright context in one headless Debian Chromium reaching it as ``https://classroom.test:<port>``.
Every student joins, opens the Train page and sets their settings; then the whole class presses Train at once.
The harness (this script, the Playwright driver and Chromium's 30 pages) runs at nice 19 (``--browser-nice``) and
looks at each page once a second: in a class the pages render and the thumbs press on the students' phones, not on
the server's cores. Linux shares the CPU between sessions before nice values count, and Playwright starts Chromium
in a session of its own, so the server runs in its own session (as from a teacher's terminal) and the harness's and
Chromium's sessions are lowered to nice ``HARNESS_GROUP_NICE`` = 5, the weight of one training: at 19 the 30 pages
starved (no page showed a result in time); at 0 the pages took half of the two cores.
The mix, by arrival order (student i: i % 3), for 30 students:

- 10 train the lesson's defaults (5 + 10 epochs, top 30 unfrozen, phase-2 learning rate 1e-5);
- 10 train one phase-2 variation each, all different: unfreeze 10/30/60 x phase-2 learning rate 1e-5/1e-4/1e-3,
  5 or 10 phase-2 epochs (``PHASE2_VARIATIONS``);
- 10 train phase 1 only, with different epochs or learning rates (``PHASE1_ONLY``).

The JSON has exactly these fields: ``students``; ``errors`` (problems seen by students: a failed training, an
exception box, a page that never showed its result: not within 10 minutes of the server finishing it; a page over
60 s late is logged as late, with a screenshot); ``trainings_computed`` and ``trainings_reused`` (runs in the
store that were trained, or handed an identical earlier run's result); ``first_result_s``, ``median_result_s``,
``last_result_s`` (from the moment the class pressed Train to each student's job ending, server clock);
``queue_wait_max_s`` (submitted to started, from the store's jobs); ``eta_error_at_10pct`` (for each computed
training, the time left its page was shown when its progress first reached 10%, as the server recorded it, against
the real time left: the median absolute relative error; "estimating…" counts as 1.0; this bench's own browser,
on the same cores, showed some short trainings' bars only after they had ended, so its own samples are logged apart); ``peak_server_rss_mb`` and
``peak_workers_rss_mb`` (psutil, twice a second; the workers' figure is the sum over every worker process alive at
that moment, the warm ones waiting included); ``reused_identical`` (one reused result recomputed from scratch
in a fresh process after the class, compared: test accuracy equal and every epoch's loss within 1e-5; null if
nothing was reused).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import classroom
import requests
from classroom import CHROMIUM, HOST, LONG, ROOT, Journeys, Sampler, free_port, log
from playwright.async_api import async_playwright

# (unfreeze, phase-2 learning rate, phase-2 epochs): ten different from each other and from the lesson's (30, 1e-5, 10)
PHASE2_VARIATIONS = [(10, "1e-5", 10), (60, "1e-5", 10), (30, "1e-4", 10), (30, "1e-3", 10), (30, "1e-5", 5),
                     (60, "1e-4", 5), (10, "1e-4", 5), (60, "1e-3", 10), (10, "1e-3", 5), (30, "1e-4", 5)]
# (phase-1 epochs, phase-1 learning rate), no phase 2
PHASE1_ONLY = [(1, "1e-3"), (2, "1e-3"), (3, "1e-3"), (4, "1e-3"), (5, "1e-3"), (5, "1e-4"), (5, "1e-2"),
               (3, "1e-2"), (3, "1e-4"), (10, "1e-3")]
LESSON = {"epochs1": "5", "epochs2": "10", "unfreeze": "30", "lr1": "1e-3", "lr2": "1e-5"}
ETA_AT = 0.10
HARNESS_GROUP_NICE = 5
LATE_S = 60  # a page this far behind its finished training is logged as late (with a screenshot)
STUCK_S = 600  # and this far behind, it is stuck: an error (the bench's starved browser can lag a minute or two)
FOLLOW_S = 3600  # a student waits this long for their result (the goal is the last one within 900 s)
PAGE_JS = """() => {
    const bar = document.querySelector('[data-testid="stProgress"]');
    const role = bar && bar.querySelector('[role="progressbar"]');
    const metrics = [...document.querySelectorAll('[data-testid="stMetric"]')].map(m => m.innerText);
    const alerts = [...document.querySelectorAll('[data-testid="stAlert"]')].map(a => a.innerText);
    return {bar: bar ? {text: bar.innerText, value: role ? role.getAttribute('aria-valuenow') : null} : null,
            done: metrics.some(t => t.includes('Test accuracy')),
            failed: alerts.find(t => t.includes('Training failed')) || null,
            exception: document.querySelector('[data-testid="stException"]') ? true : false};
}"""  # one look at the page per poll: 30 pages polled by one driver cost the server's CPU otherwise
RECOMPUTE = """
import json, sys
from core.training import TrainConfig, train
result = train(TrainConfig.from_dict(json.loads(sys.argv[1])))
print(json.dumps({"accuracy": result.test["accuracy"], "losses": [r.loss for r in result.history]}))
"""


@dataclass
class Trainer:
    index: int
    name: str
    settings: dict  # slider key suffix -> the text its thumb shows
    kind: str
    token: str = ""
    pressed: float | None = None
    eta_sample: tuple[float, float | None] | None = None  # (when, seconds left shown) at 10%
    finished_page: bool = False
    late_s: float | None = None  # how far behind the server its page was when first seen late
    errors: list[str] = field(default_factory=list)


def lesson_mix(n: int) -> list[Trainer]:
    trainers = []
    for i in range(n):
        group, k = i % 3, i // 3
        if group == 0:
            settings, kind = dict(LESSON), "lesson defaults"
        elif group == 1:
            unfreeze, lr2, epochs2 = PHASE2_VARIATIONS[k % len(PHASE2_VARIATIONS)]
            settings, kind = {**LESSON, "unfreeze": str(unfreeze), "lr2": lr2, "epochs2": str(epochs2)}, "phase-2 variation"
        else:
            epochs1, lr1 = PHASE1_ONLY[k % len(PHASE1_ONLY)]
            settings, kind = {**LESSON, "epochs1": str(epochs1), "lr1": lr1, "epochs2": "0"}, "phase 1 only"
        trainers.append(Trainer(i, f"student-{i:02d}", settings, kind))
    return trainers


def seconds_shown(text: str) -> float | None:
    """The time left a page shows ("about 40 s left", "about 3 min left"); None for "estimating…"."""
    match = re.search(r"about (\d+) (s|min) left", text)
    if not match:
        return None
    return float(match.group(1)) * (60 if match.group(2) == "min" else 1)


class LessonJourneys(Journeys):
    data: Path | None = None  # the server's data folder: its store says when each training ended

    def ended_on_server(self, trainer: Trainer) -> float | None:
        """When the server finished this student's training (epoch seconds), or None while it has not."""
        try:
            with sqlite3.connect(f"file:{self.data / 'classroom.sqlite3'}?mode=ro", uri=True, timeout=5) as db:
                row = db.execute("SELECT j.finished FROM jobs j JOIN students s ON s.id = j.student_id WHERE "
                                 "s.nickname = ? AND j.kind = 'train' AND j.finished IS NOT NULL", (trainer.name,)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    async def slide_to(self, page, key: str, text: str) -> None:
        """Move a slider's thumb with the keyboard until it shows ``text`` (left first, then right)."""
        thumb = page.locator(f".st-key-{key}").get_by_role("slider")
        for direction in ("ArrowLeft", "ArrowRight"):
            for _ in range(40):
                shown = await thumb.get_attribute("aria-valuetext")
                if shown == text:
                    await self.idle(page)
                    return
                await thumb.press(direction)
                if await thumb.get_attribute("aria-valuetext") == shown:  # at the end: try the other way
                    break
        raise RuntimeError(f"slider {key} never showed {text!r}")

    async def settings(self, page, trainer: Trainer, image_size: int) -> None:
        await self.nav(page, "Train", "Train")
        if image_size != 224:
            await self.choose(page, "train_image_size", str(image_size))
        for name in ("epochs1", "epochs2", "unfreeze", "lr1", "lr2"):
            if name in ("unfreeze", "lr2") and trainer.settings["epochs2"] == "0":
                continue  # no phase 2: its sliders do not matter (and stay at the lesson's)
            await self.slide_to(page, f"train_{name}", trainer.settings[name])

    async def follow(self, page, trainer: Trainer) -> None:
        """Until the result shows: note the time left the page says when its progress bar first passes 10%."""
        deadline = time.monotonic() + FOLLOW_S
        while time.monotonic() < deadline:
            seen = await page.evaluate(PAGE_JS)
            if seen["failed"]:
                trainer.errors.append(f"training failed: {seen['failed'][:200]}")
                return
            if seen["exception"]:
                trainer.errors.append("exception box on the page")
                return
            if seen["done"]:
                trainer.finished_page = True
                return
            ended = self.ended_on_server(trainer)
            if ended is not None and time.time() - ended > STUCK_S:
                trainer.errors.append(f"the server finished this training {time.time() - ended:.0f} s ago; the page "
                                      "never showed it")
                return
            if ended is not None and time.time() - ended > LATE_S and trainer.late_s is None:
                trainer.late_s = time.time() - ended  # logged: this bench's browser shares the server's cores
                await evidence(page, trainer)
            bar = seen["bar"]  # the bar comes and goes with reruns: no waiting for it
            if trainer.eta_sample is None and bar and bar["value"] is not None and float(bar["value"]) >= ETA_AT * 100:
                trainer.eta_sample = (time.time(), seconds_shown(bar["text"]))
            # every second until the 10% sample (its time matters), then every 3: the result's time is the server's
            await asyncio.sleep(1.0 if trainer.eta_sample is None else 3.0)
        trainer.errors.append("the result never showed")

    async def lesson_run(self, trainer: Trainer, delay: float, turns: asyncio.Semaphore, image_size: int,
                         ready: list, go: asyncio.Event) -> Trainer:
        await asyncio.sleep(delay)
        context = await self.browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        page.set_default_timeout(LONG)
        trainer.page, trainer.context = page, context
        try:
            async with turns:
                await self.join(page, trainer)
                await self.settings(page, trainer, image_size)
        except Exception as error:  # noqa: BLE001 - counted; the class goes on
            trainer.errors.append(f"before Train: {type(error).__name__}: {str(error)[:300]}")
            await evidence(page, trainer)
        ready.append(trainer)
        await go.wait()
        if trainer.errors:
            return trainer
        try:
            trainer.pressed = time.time()
            await page.locator(".st-key-train_start button").filter(visible=True).click()
            await self.follow(page, trainer)
            if not trainer.errors and await page.locator('[data-testid="stException"]').count():
                trainer.errors.append("exception box on the page")
        except Exception as error:  # noqa: BLE001
            trainer.errors.append(f"{type(error).__name__}: {str(error)[:300]}")
        if trainer.errors:
            await evidence(page, trainer)
        log(f"{trainer.name} ({trainer.kind}): {'result shown' if trainer.finished_page else trainer.errors}")
        return trainer


async def evidence(page, trainer: Trainer) -> None:
    """What the student saw when it went wrong: a screenshot in artifacts/ and the page's text in the log."""
    try:
        path = ROOT / "artifacts" / f"bench-lesson-{trainer.name}.png"
        path.parent.mkdir(exist_ok=True)
        await page.screenshot(path=str(path), full_page=True, timeout=60_000)
        text = await page.locator('[data-testid="stMain"]').inner_text(timeout=30_000)
        log(f"{trainer.name}: screenshot {path.relative_to(ROOT)}; the page said: {' '.join(text.split())[:600]}")
    except Exception as error:  # noqa: BLE001 - evidence is a bonus, never a second failure
        log(f"{trainer.name}: no screenshot ({type(error).__name__})")


async def drive(args, base: str, trainers: list[Trainer], data: Path) -> float:
    """Every student ready on the Train page, then the class presses Train; returns that moment (epoch s)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  f"--host-resolver-rules=MAP {HOST} 127.0.0.1"])
        journeys = LessonJourneys(browser, base, None, [])
        journeys.data = data
        turns, ready, go = asyncio.Semaphore(args.active), [], asyncio.Event()
        runs = [asyncio.create_task(journeys.lesson_run(t, i * args.stagger, turns, args.image_size, ready, go))
                for i, t in enumerate(trainers)]
        while len(ready) < len(trainers):
            await asyncio.sleep(0.5)
        log("everyone is on the Train page with their settings: the class presses Train")
        pressed = time.time()
        go.set()
        await asyncio.gather(*runs)
        for trainer in trainers:
            await trainer.context.close()
        await browser.close()
    return pressed


def lower_own_group(nice: int) -> None:
    """This harness's session group (Linux shares the CPU between session groups first) after the server's."""
    try:
        Path("/proc/self/autogroup").write_text(str(nice))
    except OSError:
        log("no session groups here (or not allowed): the harness's nice value alone applies")


def store_figures(data: Path, pressed: float) -> dict:
    with sqlite3.connect(data / "classroom.sqlite3") as db:
        db.row_factory = sqlite3.Row
        jobs = db.execute("SELECT * FROM jobs WHERE kind = 'train'").fetchall()
        runs = db.execute("SELECT id, job_id, summary, reused_from FROM runs WHERE kind = 'transfer'").fetchall()
    return {"jobs": [dict(j) for j in jobs], "runs": [dict(r) for r in runs], "pressed": pressed}


def eta_error(data: Path, jobs: list[dict], computed_jobs: set[str], names: dict[str, str]) -> float | None:
    """Median |said - real| / real over the computed trainings, from what the server recorded its pages were shown
    when each training's progress first reached 10% (``time_estimates.jsonl``; "estimating…" counts 1.0)."""
    finished = {job["id"]: job["finished"] for job in jobs if job["id"] in computed_jobs and job["finished"]}
    owner = {job["id"]: names.get(job["student_id"], "?") for job in jobs}
    try:
        said = [json.loads(line) for line in (data / "time_estimates.jsonl").read_text().splitlines()]
    except OSError:
        return None
    errors = []
    for record in said:
        if record["job"] not in finished:
            continue
        real, left = finished[record["job"]] - record["at"], record["left"]
        errors.append(1.0 if left is None or real <= 0 else abs(left - real) / real)
        log(f"{owner[record['job']]}: at 10% its page was shown {f'{left:.0f} s' if left is not None else 'estimating…'}"
            f" left, {real:.0f} s were left")
    return round(statistics.median(errors), 3) if errors else None


def page_lag(trainers: list[Trainer], jobs: list[dict], owners: dict[str, str]) -> None:
    """How late this bench's browser (sharing the server's cores) showed the bar at 10%: in the log only."""
    finished = {job["student_id"]: job["finished"] for job in jobs if job["finished"]}
    late = [t.name for t in trainers if t.eta_sample and finished.get(owners.get(t.name), 1e18) <= t.eta_sample[0]]
    log(f"{len(late)} pages first showed their bar at 10% only after the server had finished the training: {late}")


def recompute_reused(runs: list[dict], env: dict) -> bool | None:
    """A reused run's settings trained again from scratch in a fresh process: the same numbers?"""
    reused = next((r for r in runs if r["reused_from"] is not None), None)
    if reused is None:
        return None
    summary = json.loads(reused["summary"])
    log("recomputing one reused result from scratch to compare")
    done = subprocess.run([sys.executable, "-c", RECOMPUTE, json.dumps(summary["config"])], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        log(f"recomputation failed: {done.stderr[-500:]}")
        return False
    again = json.loads(done.stdout.strip().splitlines()[-1])
    losses = [r["loss"] for r in summary["history"]]
    return (again["accuracy"] == summary["test"]["accuracy"] and len(again["losses"]) == len(losses)
            and all(abs(a - b) <= 1e-5 * max(1.0, abs(b)) for a, b in zip(again["losses"], losses)))


def main(args) -> int:
    requests.packages.urllib3.disable_warnings()
    work = Path(tempfile.mkdtemp(prefix="tll-classroom-lesson-"))
    port = args.port or free_port()
    base = f"https://{HOST}:{port}"
    trainers = lesson_mix(args.students)
    log(f"starting the server (flower features at {args.image_size} px prepared first, warm workers)")
    server = classroom.start_server(port, work / "data", ["--warm-sizes", str(args.image_size)], own_session=True)
    sampler = Sampler(server.pid, args.browser_nice, browser_group=HARNESS_GROUP_NICE)
    sampler.start()
    time.sleep(1.0)
    server_before, workers_before = sampler.server_cpu(), sum(sampler.worker_cpu.values())  # the warm start's
    # The harness (this thread, the Playwright driver and Chromium, which inherit it) comes after the server: in a
    # class the students' clicks and pages run on their phones, not on the server's two cores.
    os.setpriority(os.PRIO_PROCESS, 0, args.browser_nice)
    lower_own_group(HARNESS_GROUP_NICE)
    try:
        pressed = asyncio.run(drive(args, base, trainers, work / "data"))
        cpu = {"server": sampler.server_cpu() - server_before,
               "workers": sum(sampler.worker_cpu.values()) - workers_before,
               "browser": sum(sampler.browser_cpu.values())}
    finally:
        classroom.stop_server(server, sampler)
    wall = time.time() - pressed
    lower_own_group(0)  # the terminal this ran in gets its weight back
    log("CPU seconds from the class's arrival to the last result: " + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
        + f" (browser nice {args.browser_nice}); {wall:.0f} s since Train was pressed, {os.cpu_count()} cores")
    figures = store_figures(work / "data", pressed)
    with sqlite3.connect(work / "data" / "classroom.sqlite3") as db:
        owners = dict(db.execute("SELECT nickname, id FROM students"))
    jobs, runs = figures["jobs"], figures["runs"]
    computed_jobs = {r["job_id"] for r in runs if r["reused_from"] is None}
    ends = sorted(j["finished"] - pressed for j in jobs if j["status"] == "done" and j["finished"])
    waits = [j["started"] - j["submitted"] for j in jobs if j["started"]]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.setdefault("TLL_OFFLINE_BUNDLE", str(classroom.BUNDLE))
    failed_jobs = [j for j in jobs if j["status"] != "done"]
    result = {
        "students": len(trainers),
        "errors": sum(len(t.errors) for t in trainers) + len(failed_jobs),
        "trainings_computed": sum(r["reused_from"] is None for r in runs),
        "trainings_reused": sum(r["reused_from"] is not None for r in runs),
        "first_result_s": round(ends[0], 1) if ends else None,
        "median_result_s": round(statistics.median(ends), 1) if ends else None,
        "last_result_s": round(ends[-1], 1) if ends else None,
        "queue_wait_max_s": round(max(waits), 1) if waits else None,
        "eta_error_at_10pct": eta_error(work / "data", jobs, computed_jobs, {v: k for k, v in owners.items()}),
        "peak_server_rss_mb": round(sampler.peak_server / 2**20),
        "peak_workers_rss_mb": round(sampler.peak_workers / 2**20),
        "reused_identical": recompute_reused(runs, env),
    }
    page_lag(trainers, jobs, owners)
    late = {t.name: round(t.late_s) for t in trainers if t.late_s is not None}
    log(f"{len(late)} pages were over {LATE_S} s late showing a finished result (seconds behind): {late}")
    for trainer in trainers:
        for error in trainer.errors:
            log(f"error, {trainer.name}: {error}")
    log(f"load average at the end: {os.getloadavg()}; data folder {work / 'data'}")
    out = Path(args.out or ROOT / "bench" / "results" / f"classroom_lesson_{args.students}_{args.image_size}px.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0 if result["errors"] == 0 else 1
