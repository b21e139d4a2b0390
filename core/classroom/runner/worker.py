"""One training in its own process: ``python -m core.classroom.runner.worker``.

The server writes one JSON line (the job) on our stdin, then at most the word ``stop``. We answer on
the file descriptor named by ``TLL_WORKER_EVENTS_FD`` with JSON lines: ``started``, ``progress``,
``epoch``, ``stopping``, ``result`` (one per recipe), then ``done`` or ``error``. The trained model is
handed back through ``output_dir`` (``<recipe>.keras``), never through the pipe.

It trains through the recipe table (``core.classroom.runner.recipes``) like every backend: a way to run
``core.training``, not a second trainer.
If stdin closes (the server is gone), the worker exits at once instead of training for nobody.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from PIL import Image

from core.classroom.runner.recipes import RECIPES, SERVER_RECIPES
from core.inference import save_trained_model
from core.photos import load_dataset
from core.training import Callbacks, TrainConfig
from core.utils.priority import lower_priority
from core.utils.safe_text import student_error

EVENTS_FD_VARIABLE = "TLL_WORKER_EVENTS_FD"
RECIPE_NAMES = tuple(RECIPES)
SERVER_RECIPE_NAMES = tuple(SERVER_RECIPES)  # the teacher's measurements
WARM_VARIABLE = "TLL_WORKER_WARM"  # set by the backend's pool of warm workers (core.classroom.runner.backend)
WARM_NICE = 5  # the service's trainings run at nice 5; a job's "nice" is where it ends up, not an increment
FAKE_RECIPES_VARIABLE = "TLL_WORKER_FAKE_RECIPES"  # tests only: "fake" trains nothing, in a real process
PROGRESS_EVERY_S = 0.2  # progress comes per batch; the page redraws once a second
WRONG_PHOTOS_KEPT = 12  # the Train page shows this many misclassified photos


class Events:
    """JSON lines to the server, one ``write`` each (atomic for lines under PIPE_BUF)."""

    def __init__(self, fd: int):
        self._out = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()
        self._last_progress = 0.0

    def send(self, kind: str, **fields) -> None:
        line = json.dumps({"type": kind, **fields}, default=str) + "\n"
        with self._lock:
            self._out.write(line)
            self._out.flush()

    def progress(self, recipe: str, progress) -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_EVERY_S or progress.fraction >= 1.0:
            self._last_progress = now
            self.send("progress", recipe=recipe, **asdict(progress))


def watch_stdin(stop: threading.Event) -> None:
    """``stop`` asks for a graceful stop (what was trained so far is kept); end of input means the server died."""
    for line in sys.stdin:
        if line.strip() == "stop":
            stop.set()
    os._exit(3)


def keep_wrong_photos(misclassified: list[dict], folder: Path) -> list[dict]:
    """Small copies of the photos the Train page shows, so the run still shows them after its photos go."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = []
    for i, row in enumerate(misclassified):
        row = dict(row)
        source = row.get("path")
        if i < WRONG_PHOTOS_KEPT and source:
            target = folder / f"{i:02d}.jpg"
            try:
                with Image.open(source) as image:
                    image = image.convert("RGB")
                    image.thumbnail((320, 320))
                    image.save(target, quality=85)
                row["path"] = str(target)
            except OSError:
                row["path"] = None
        else:
            row["path"] = None  # not shown, and its photo may be gone
        kept.append(row)
    return kept


def run(job: dict, events: Events, stop: threading.Event) -> None:
    cfg = TrainConfig.from_dict(job["config"])
    output = Path(job["output_dir"])
    output.mkdir(parents=True, exist_ok=True)
    told_stopping = threading.Event()

    def should_stop() -> bool:
        if stop.is_set() and not told_stopping.is_set():
            told_stopping.set()
            events.send("stopping")
        return stop.is_set()

    dataset = load_dataset(job["data"], cfg.seed)  # read once: every recipe trains on the same photo list
    for recipe in job["recipes"]:
        def phase1_done(result, r=recipe) -> None:  # saved now: the server keeps it if phase 2 is cut short
            path = save_trained_model(result, output / f"{r}-phase1.keras")
            events.send("phase1", recipe=r, summary=result.summary(), model=str(path),
                        misclassified=keep_wrong_photos(result.misclassified, output / f"{r}-phase1-wrong"))

        callbacks = Callbacks(
            on_epoch=lambda record, r=recipe: events.send("epoch", recipe=r, **asdict(record)),
            on_progress=lambda progress, r=recipe: events.progress(r, progress),
            should_stop=should_stop,
            on_phase1_done=phase1_done,
        )
        result = RECIPES[recipe](cfg, callbacks, dataset=dataset)
        model_path = save_trained_model(result, output / f"{recipe}.keras")
        events.send("result", recipe=recipe, summary=result.summary(), model=str(model_path),
                    misclassified=keep_wrong_photos(result.misclassified, output / f"{recipe}-wrong"))
        if stop.is_set():
            break


def run_server_measurement(job: dict, events: Events, stop: threading.Event) -> None:
    """One of the teacher's server-wide measurements: its JSON result goes back as the ``result`` summary."""
    name = job["recipes"][0]
    callbacks = Callbacks(on_progress=lambda progress: events.progress(name, progress),
                          should_stop=stop.is_set)
    summary = SERVER_RECIPES[name](TrainConfig.from_dict(job["config"]), callbacks)
    events.send("result", recipe=name, summary=summary, model=None, misclassified=[])


def run_fake(job: dict, events: Events, stop: threading.Event) -> None:
    """Stands in for a training in the runner's tests: ``config.epochs1`` steps of 0.1 s, no TensorFlow."""
    steps = int(job["config"].get("epochs1", 10))
    for step in range(steps):
        if stop.is_set() and not job["config"].get("ignore_stop"):  # ignore_stop: one long step
            events.send("stopping")
            break
        if job["config"].get("crash_at") == step:
            os._exit(7)
        if job["config"].get("phase1_at") == step:  # as a two-phase training does when its head is trained
            events.send("phase1", recipe="fake", summary={"steps": step, "stopped": False}, model=None,
                        misclassified=[])
        events.send("progress", recipe="fake", stage="fake", fraction=step / steps, eta_seconds=None,
                    message=f"step {step + 1} of {steps}")
        time.sleep(0.1)
    events.send("result", recipe="fake", summary={"steps": steps, "stopped": stop.is_set()}, model=None,
                misclassified=[])


def get_ready() -> None:
    """A warm worker (``LocalProcessBackend(warm=...)``) imports TensorFlow and the training code while it waits for its job: about
    half of a fresh process's time to its first batch."""
    lower_priority(WARM_NICE)  # as a training's worker: pages stay first (a process cannot raise its priority again)
    import core.training.learner  # noqa: F401 - Keras and TensorFlow
    import core.training.recipe  # noqa: F401


def main() -> int:
    events = Events(int(os.environ[EVENTS_FD_VARIABLE]))
    if os.environ.get(WARM_VARIABLE) == "1":
        get_ready()
    job = json.loads(sys.stdin.readline())
    if job.get("nice"):
        lower_priority(int(job["nice"]))  # pages stay responsive while trainings share the CPU
    stop = threading.Event()
    threading.Thread(target=watch_stdin, args=(stop,), name="stdin watcher", daemon=True).start()
    events.send("started", pid=os.getpid(), node=socket.gethostname())
    try:
        allowed = set(RECIPE_NAMES) | ({"fake"} if os.environ.get(FAKE_RECIPES_VARIABLE) == "1" else set())
        unknown = set(job["recipes"]) - allowed
        if len(job["recipes"]) == 1 and job["recipes"][0] in SERVER_RECIPE_NAMES:
            unknown = set()
        if unknown:
            raise ValueError(f"unknown recipe(s): {sorted(unknown)}")
        if job["recipes"] == ["fake"]:
            run_fake(job, events, stop)
        elif job["recipes"][0] in SERVER_RECIPE_NAMES:
            run_server_measurement(job, events, stop)
        else:
            run(job, events, stop)
    except Exception as error:  # noqa: BLE001 - reported to the student; the server stays up
        # The student reads the message (no server paths: core.utils.safe_text); the teacher's log gets the traceback.
        events.send("error", message=student_error(error), traceback=traceback.format_exc())
        return 1
    events.send("done")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # no slow interpreter teardown of TensorFlow: the results are already on disk
