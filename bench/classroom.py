"""A class on one server: N students in real browsers against the real HTTPS server, on this machine only.

    python bench/classroom.py --students 30 [--trainers 10] [--active 6] [--port 8765]
    python bench/classroom.py --students 30 --recipe lesson    (everyone trains the lesson's recipe: classroom_lesson.py)

Starts ``python -m core.classroom`` (``streamlit run app.py``, HTTPS, classroom mode) on 127.0.0.1 with a fresh
data folder, then drives every student as its own Playwright context (own cookies and storage) in one headless
Debian Chromium. The browser reaches the server as ``https://classroom.test:<port>`` (``--host-resolver-rules``
maps that name to 127.0.0.1), so the app sees a host name, as a phone on the school network would.

Each student: opens the app, picks a nickname, answers the quiz; the first ``--trainers`` train (96 px, one
phase-1 epoch on the flowers) while the others predict an uploaded photo with the quick model; one training
worker is killed (SIGKILL) mid-run; then everyone refreshes and checks that their own work (name, quiz score,
run count) came back and that no one else's shows. Server-side cost (the server process and its training
workers, from psutil) is measured apart from the browser's (Chromium's processes share the 2 cores), and so are
page times: ``page_*`` are what a student waits in this browser (rendering included), ``server_run_*`` the
server's own seconds per page run (``TLL_RUN_LOG``). All students stay connected throughout; ``--active`` of
them act at once, because 30 Streamlit pages rendering in one Chromium on 2 cores starve each other (measured:
the first page took 13-155 s to render for 30 at once, while the server spent 16 CPU-seconds in all).

Prints progress on stderr and one JSON object last on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
# The offline bundle (photos, weights); set it when running from a copy of the project (a git worktree, so that
# edits to the working tree during a long run do not reach the server: Streamlit reloads changed modules).
BUNDLE = Path(os.environ.get("TLL_OFFLINE_BUNDLE") or ROOT.parent / "shared").resolve()
CHROMIUM = "/usr/bin/chromium"
HOST = "classroom.test"
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return false;
    const connected = (app.getAttribute('data-test-connection-state') || '').toUpperCase() === 'CONNECTED';
    const widget = document.querySelector('[data-testid="stStatusWidget"]');
    const busy = widget && /running/i.test(widget.innerText || '');
    return connected && app.getAttribute('data-test-script-state') === 'notRunning' && !busy;
}"""
LONG = 900_000  # ms: a training waits its turn behind the others on 2 cores


def log(*parts) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


@dataclass
class Student:
    index: int
    trains: bool
    name: str = ""
    token: str = ""
    quiz_score: str = ""
    trained: str = ""  # "completed", "failed cleanly", "error"
    restored: bool = False
    errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


class Sampler(threading.Thread):
    """The server's memory and CPU, its training workers', and the browser's, twice a second."""

    def __init__(self, server_pid: int, browser_nice: int = 10, browser_group: int | None = None):
        super().__init__(daemon=True)
        self.browser_nice = browser_nice
        # Playwright starts Chromium in a session of its own, and Linux shares the CPU between sessions before nice
        # values count: that group's nice (None: left as it is) decides how much the 30 pages weigh.
        self.browser_group = browser_group
        self.grouped: set[int] = set()
        self.server = psutil.Process(server_pid)
        self.peak_server = self.peak_workers = 0
        self.worker_cpu: dict[int, float] = {}
        self.browser_cpu: dict[int, float] = {}
        self.running = True

    def workers(self) -> list[psutil.Process]:
        found = []
        for child in self.server.children(recursive=True):
            try:
                if "core.classroom.runner.worker" in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.Error:
                pass
        return found

    def run(self) -> None:
        while self.running:
            try:
                self.peak_server = max(self.peak_server, self.server.memory_info().rss)
                rss = 0
                for worker in self.workers():
                    try:
                        rss += worker.memory_info().rss
                        times = worker.cpu_times()
                        self.worker_cpu[worker.pid] = times.user + times.system
                    except psutil.Error:
                        pass
                self.peak_workers = max(self.peak_workers, rss)
                for proc in psutil.process_iter(["name"]):
                    if (proc.info["name"] or "").startswith("chromium") and proc.pid in self.browser_pids():
                        try:
                            if proc.nice() < self.browser_nice:  # phones render on their own CPUs in a class
                                proc.nice(self.browser_nice)
                            if self.browser_group is not None and proc.pid not in self.grouped:
                                Path(f"/proc/{proc.pid}/autogroup").write_text(str(self.browser_group))
                                self.grouped.add(proc.pid)
                            times = proc.cpu_times()
                            self.browser_cpu[proc.pid] = times.user + times.system
                        except (psutil.Error, OSError):
                            pass
            except psutil.Error:
                pass
            time.sleep(0.5)

    def browser_pids(self) -> set[int]:
        """Our own browser's processes (this bench's Playwright driver and its Chromium), not anyone else's."""
        try:
            return {p.pid for p in psutil.Process().children(recursive=True)}
        except psutil.Error:
            return set()

    def server_cpu(self) -> float:
        times = self.server.cpu_times()
        return times.user + times.system


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, data: Path, extra: list[str] | None = None, own_session: bool = False) -> subprocess.Popen:
    """``own_session``: the server in a session (a CPU group) of its own, as when a teacher starts it in a terminal,
    apart from this harness."""
    env = {**os.environ, "TLL_DATA_DIR": str(data), "TLL_TEACHER_CODE": "bench-teacher-code",
           "TF_CPP_MIN_LOG_LEVEL": "2", "TLL_NO_DOWNLOADS": "1", "TLL_RUN_LOG": str(data.parent / "runs.tsv"),
           # its own feature cache: what earlier runs on this machine left there would make trainings look fast
           "TLL_CACHE_DIR": str(data.parent / "cache")}
    env.setdefault("TLL_OFFLINE_BUNDLE", str(BUNDLE))
    log_file = open(data.parent / "server.log", "w")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen([sys.executable, "-m", "core.classroom", "--address", "127.0.0.1", "--port",
                               str(port), "--no-qr", *(extra or [])], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                              start_new_session=own_session)
    deadline = time.monotonic() + 600  # the first start also makes the quick flower model (about a minute)
    while time.monotonic() < deadline:
        try:
            if requests.get(f"https://127.0.0.1:{port}/_stcore/health", verify=False, timeout=5).text == "ok":
                return server
        except requests.RequestException:
            time.sleep(0.5)
    raise RuntimeError("the server did not start (see server.log)")


def stop_server(server: subprocess.Popen, sampler: Sampler) -> None:
    sampler.running = False
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()


class Journeys:
    def __init__(self, browser, base: str, photo: Path, timings: list[float]):
        self.browser, self.base, self.photo, self.timings = browser, base, photo, timings

    async def idle(self, page, timeout=LONG) -> None:
        await page.wait_for_function(IDLE_JS, timeout=timeout, polling=250)

    async def timed(self, page, action, ready) -> None:
        """Run ``action``, wait for the locator ``ready`` and the app to be idle: one page time."""
        started = time.monotonic()
        await action()
        await ready.first.wait_for(timeout=LONG)
        await self.idle(page)
        self.timings.append(time.monotonic() - started)

    async def nav(self, page, title: str, heading: str) -> None:
        link = page.locator('[data-testid="stSidebarNavLink"]').filter(has=page.get_by_text(title, exact=True))
        await self.timed(page, link.click, page.locator("h1").filter(has_text=heading))

    async def choose(self, page, key: str, option: str) -> None:
        box = page.locator(f".st-key-{key}")
        for attempt in range(3):
            await box.get_by_role("button", name="Open").click()
            listbox = page.get_by_role("listbox").filter(visible=True)
            try:
                await listbox.wait_for(timeout=10_000)
                await listbox.get_by_role("option", name=option, exact=True).click()
                break
            except Exception:  # noqa: BLE001 - a rerun closed the popup: try again
                if attempt == 2:
                    raise
                await page.keyboard.press("Escape")
        await self.idle(page)

    async def slide(self, page, key: str, to: str) -> None:
        thumb = page.locator(f".st-key-{key}").get_by_role("slider")
        for _ in range(60):
            if await thumb.get_attribute("aria-valuetext") == to:
                break
            await thumb.press("ArrowLeft")
        await self.idle(page)

    async def join(self, page, student: Student) -> None:
        await self.timed(page, lambda: page.goto(self.base, wait_until="domcontentloaded", timeout=LONG),
                         page.get_by_text("Pick a nickname"))
        await page.locator(".st-key-identity_nickname input").fill(student.name)
        await self.timed(page, page.get_by_role("button", name="Start").click,
                         page.locator('[data-testid="stMain"]').get_by_text("Your return code"))
        match = re.search(r"[?&]s=([^&]+)", page.url)
        student.token = match.group(1) if match else ""
        await self.timed(page, page.get_by_role("button", name="I wrote it down").click,
                         page.locator("h1").filter(has_text="Transfer learning"))

    async def quiz(self, page, student: Student) -> None:
        await self.nav(page, "Quiz", "Quiz")
        for question in range(1, 9):
            options = page.locator(f".st-key-quiz_q{question} label")
            await options.nth((student.index + question) % 4).click()
        score = page.locator('[data-testid="stMetric"]').filter(has_text="Your score")
        await self.timed(page, page.locator(".st-key-quiz_submit button").click, score)
        student.quiz_score = (await score.locator('[data-testid="stMetricValue"]').inner_text()).strip()

    async def train(self, page, student: Student, turns: asyncio.Semaphore) -> None:
        async with turns:
            await self.nav(page, "Train", "Train")
            await self.choose(page, "train_image_size", "96")
            await self.slide(page, "train_epochs1", "1")
            await self.slide(page, "train_epochs2", "0")
            await page.locator(".st-key-train_start button").filter(visible=True).click()
        done = page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy")
        failed = page.locator('[data-testid="stAlert"]').filter(has_text="Training failed")
        await done.or_(failed).first.wait_for(timeout=LONG)
        await self.idle(page)
        if await failed.count():
            text = await failed.first.inner_text()
            student.trained = "failed cleanly" if "killed" in text and "Try again" in text else "error"
            if student.trained == "error":
                student.errors.append(f"training failed: {text[:200]}")
        else:
            student.trained = "completed"

    async def predict(self, page, student: Student) -> None:
        await self.nav(page, "Predict", "Predict")
        quick = page.locator(".st-key-predict_quick_model button").filter(visible=True)
        if await quick.count():
            await quick.click()
        upload = page.locator(".st-key-predict_upload input[type=file]")
        await upload.wait_for(state="attached", timeout=LONG)
        await self.timed(page, lambda: upload.set_input_files(str(self.photo)),
                         page.get_by_text(re.compile("Top \\d guesses")))

    async def check_restored(self, page, student: Student, everyone: list[Student]) -> None:
        """A refresh: the same student, their quiz score and runs, and no one else's."""
        await self.timed(page, lambda: page.reload(wait_until="domcontentloaded", timeout=LONG),
                         page.locator('[data-testid="stSidebar"]').get_by_text("You are"))
        sidebar = await page.locator('[data-testid="stSidebar"]').inner_text()
        main = await page.locator('[data-testid="stMain"]').inner_text()
        runs_expected = 1 if student.trained == "completed" else 0
        ok = f"You are {student.name}" in sidebar and f"Best quiz score: {student.quiz_score}" in sidebar
        ok = ok and (f"({runs_expected} run(s)" in sidebar if runs_expected else "No model trained yet" in sidebar)
        student.restored = ok
        if not ok:
            student.errors.append(f"not restored: {sidebar[:300]!r}")
        others = [s.name for s in everyone if s is not student and s.name in sidebar + main]
        if others:
            student.violations.append(f"sees {others}")

    async def run(self, student: Student, delay: float, turns: asyncio.Semaphore) -> Student:
        await asyncio.sleep(delay)
        context = await self.browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        page.set_default_timeout(LONG)
        student.page, student.context = page, context
        try:
            async with turns:  # only so many browsers render at once here (phones each have their own CPU)
                await self.join(page, student)
                await self.quiz(page, student)
                if not student.trains:
                    await self.predict(page, student)
            if student.trains:  # clicks Train in its turn, then waits for the queue with its page open
                await self.train(page, student, turns)
            exceptions = await page.locator('[data-testid="stException"]').count()
            if exceptions:
                student.errors.append("exception box on the page")
        except Exception as error:  # noqa: BLE001 - counted, the others go on
            student.errors.append(f"{type(error).__name__}: {str(error)[:300]}")
        log(f"{student.name}: quiz {student.quiz_score}, {student.trained or 'predicted'}, errors {student.errors}")
        return student


async def kill_one_worker(sampler: Sampler, done: asyncio.Event, report: dict) -> None:
    """SIGKILL the first training worker that has worked for a while (mid-run), like the out-of-memory killer."""
    while not done.is_set():
        for worker in sampler.workers():
            try:
                if time.time() - worker.create_time() > 20 and worker.cpu_times().user > 5:
                    os.kill(worker.pid, signal.SIGKILL)
                    report["killed_pid"] = worker.pid
                    log(f"killed training worker {worker.pid}")
                    return
            except psutil.Error:
                pass
        await asyncio.sleep(0.5)


async def drive(args, base: str, sampler: Sampler) -> tuple[list[Student], dict, list[float]]:
    timings: list[float] = []
    photo = next((BUNDLE / "flowers" / "roses").glob("*.jpg"))
    students = [Student(i, trains=i < args.trainers, name=f"student-{i:02d}") for i in range(args.students)]
    report: dict = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  f"--host-resolver-rules=MAP {HOST} 127.0.0.1"])
        journeys = Journeys(browser, base, photo, timings)
        done = asyncio.Event()
        killer = asyncio.create_task(kill_one_worker(sampler, done, report))
        turns = asyncio.Semaphore(args.active)
        await asyncio.gather(*(journeys.run(s, i * args.stagger, turns) for i, s in enumerate(students)))
        done.set()
        await killer
        log("everyone refreshes")
        refresh_timings: list[float] = []
        journeys.timings = refresh_timings
        async def refresh(student: Student) -> None:
            try:
                await journeys.check_restored(student.page, student, students)
            except Exception as error:  # noqa: BLE001
                student.errors.append(f"refresh: {type(error).__name__}: {str(error)[:200]}")

        await asyncio.gather(*(refresh(s) for s in students))  # everyone at once, as after a network blip
        report["refresh_p50_s"] = statistics.median(refresh_timings) if refresh_timings else None
        # A guessed address is not a way in: a made-up token lands on the nickname form.
        context = await browser.new_context(ignore_https_errors=True)
        page = await context.new_page()
        await page.goto(f"{base}/?s=guessed-token-{students[0].name}", timeout=LONG)
        await page.get_by_text("Pick a nickname").wait_for(timeout=LONG)
        report["guessed_token_refused"] = True
        for student in students:
            await student.context.close()
        await context.close()
        await browser.close()
    return students, report, timings


def queue_waits(data: Path) -> list[float]:
    with sqlite3.connect(data / "classroom.sqlite3") as db:
        return [r[0] for r in db.execute("SELECT started - submitted FROM jobs WHERE started IS NOT NULL")]


def server_runs(path: Path) -> dict:
    """The server's own seconds per full page run (``TLL_RUN_LOG``), apart from the browsers' rendering."""
    if not path.is_file():
        return {}
    seconds = sorted(float(line.split("\t")[1]) for line in path.read_text().splitlines() if "\t" in line)
    if not seconds:
        return {}
    return {"server_page_runs": len(seconds), "server_run_p50_s": round(statistics.median(seconds), 3),
            "server_run_p95_s": round(seconds[int(0.95 * (len(seconds) - 1))], 3),
            "server_run_max_s": round(seconds[-1], 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--trainers", type=int, default=10)
    parser.add_argument("--stagger", type=float, default=1.0, help="seconds between students arriving")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--browser-nice", type=int, default=None,
                        help="the browser's CPU priority (default 10, lesson 19: the server first, as when phones render "
                             "for themselves; 0 on a machine loaded by other work, or the browser starves)")
    parser.add_argument("--active", type=int, default=6,
                        help="students acting at once (all stay connected): the browsers share this machine's CPU")
    parser.add_argument("--settle", type=float, default=60, help="seconds after everyone left before the memory figure")
    parser.add_argument("--recipe", choices=("toy", "lesson"), default="toy",
                        help="toy: the load test above (96 px, one phase-1 epoch); lesson: the whole class trains the "
                             "lesson's recipe and variations at once (bench/classroom_lesson.py)")
    parser.add_argument("--image-size", type=int, default=224, help="lesson: the students' image size")
    parser.add_argument("--out", default="", help="lesson: where the JSON goes (default bench/results/...)")
    args = parser.parse_args()
    if args.recipe == "lesson":
        import classroom_lesson

        if args.browser_nice is None:  # it measures the server's clock, not page times: the browser comes last
            args.browser_nice = 19
        return classroom_lesson.main(args)
    args.browser_nice = 10 if args.browser_nice is None else args.browser_nice
    args.trainers = min(args.trainers, args.students)
    requests.packages.urllib3.disable_warnings()
    work = Path(tempfile.mkdtemp(prefix="tll-classroom-bench-"))
    port = args.port or free_port()
    base = f"https://{HOST}:{port}"
    started = time.monotonic()
    server = start_server(port, work / "data")
    sampler = Sampler(server.pid, args.browser_nice)
    sampler.start()
    rss_idle = sampler.server.memory_info().rss
    cpu_before = sampler.server_cpu()
    log(f"server up on {base} (pid {server.pid}, data {work / 'data'})")
    try:
        students, report, timings = asyncio.run(drive(args, base, sampler))
        cpu_during = sampler.server_cpu() - cpu_before
        alive = requests.get(f"https://127.0.0.1:{port}/_stcore/health", verify=False, timeout=30).text == "ok"
        log(f"everyone left; waiting {args.settle:.0f} s for the server to let go of their sessions")
        time.sleep(args.settle)
        rss_after = sampler.server.memory_info().rss
        alive = alive and requests.get(f"https://127.0.0.1:{port}/_stcore/health", verify=False, timeout=30).text == "ok"
    finally:
        stop_server(server, sampler)
    trainers = [s for s in students if s.trains]
    waits = queue_waits(work / "data")
    ordered = sorted(timings)
    result = {
        "students": len(students),
        "client": "Playwright: one context per student in one headless Debian Chromium (all connected at once)",
        "errors": sum(len(s.errors) for s in students),
        "error_samples": [e for s in students for e in s.errors][:5],
        "isolation_violations": sum(len(s.violations) for s in students) + (0 if report.get("guessed_token_refused") else 1),
        "trainings_started": len(waits),
        "trainings_completed": sum(s.trained == "completed" for s in trainers),
        "trainings_failed_cleanly": sum(s.trained == "failed cleanly" for s in trainers),
        "fault_survived": bool(report.get("killed_pid")) and alive and all(s.trained for s in trainers),
        "restored_after_refresh": sum(s.restored for s in students),
        "page_actions": len(timings),
        "page_p50_s": round(statistics.median(ordered), 2) if ordered else None,
        "page_p95_s": round(ordered[int(0.95 * (len(ordered) - 1))], 2) if ordered else None,
        "refresh_p50_s": round(report["refresh_p50_s"], 2) if report.get("refresh_p50_s") else None,
        **server_runs(work / "runs.tsv"),
        "students_acting_at_once": args.active,
        "queue_wait_max_s": round(max(waits), 1) if waits else None,
        "server_cpu_s": round(cpu_during, 1),
        "server_cpu_per_page_action_s": round(cpu_during / max(1, len(timings)), 3),
        "training_workers_cpu_s": round(sum(sampler.worker_cpu.values()), 1),
        "browser_cpu_s": round(sum(sampler.browser_cpu.values()), 1),
        "server_rss_idle_mb": round(rss_idle / 2**20),
        "peak_server_rss_mb": round(sampler.peak_server / 2**20),
        "peak_training_workers_rss_mb": round(sampler.peak_workers / 2**20),
        "server_rss_after_mb": round(rss_after / 2**20),
        "server_alive_after": alive,
        "wall_s": round(time.monotonic() - started),
        "browser_nice": args.browser_nice,
        "cpus": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=1))
    return 0 if result["errors"] == 0 and result["isolation_violations"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
