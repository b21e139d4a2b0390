"""Trainings as Ray tasks on a school's cluster: the runner's second backend (README "A school with several
computers"). Imported only when ``TLL_RAY_ADDRESS`` is set (``core.classroom.runner.ray_settings``).

``RayBackend.start(job)`` takes the job the local worker process would get (recipes, config, data, job_id,
output_dir) and runs it as one Ray task on whichever computer has a CPU and the memory free. The handle it
returns speaks like a local worker: ``events()`` (started, progress, epoch, stopping, result, done or error),
``request_stop()``, ``kill()``, ``exit_status()``. Ray does the scheduling; we write none.

How things travel, and why:
* Photos, by content, through Ray's object store. The server loads and splits the student's photos (its
  checks, its split) and puts their bytes once per dataset fingerprint; a worker writes them to a private
  folder on its own disk (kept per fingerprint, so the next training on that PC reuses it) in the server's
  split and order, and checks the fingerprint before training. A shared network folder was the other way:
  schools rarely have one set up, it would show every student's photos to every lab-PC user, and a missing
  mount would fail mid-lesson. The price: the photos' bytes cross the network once per PC (tf_flowers is
  63 MB, under a second on a 1 Gbit/s school network).
* Progress: a mailbox actor on the server's node. The task pushes events to it; the server drains every
  training's events in one call. Stop sets a flag in the mailbox, read between batches (what was trained
  so far is kept); a kill is ``ray.cancel(force=True)``.
* The trained ``.keras`` file comes back as bytes in the task's result and is written to ``output_dir``.
* The code travels with the job (``runtime_env`` ``py_modules``): a lab PC needs the same Python and
  requirements (and the ImageNet weights, from Keras's cache or ``TLL_OFFLINE_BUNDLE``), not the project.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

import core
from core.classroom.runner.ray_settings import (
    LOCAL,
    cpus_per_training,
    local_cpus,
    memory_mb_per_training,
    ray_address,
    reuse_workers,
)
from core.classroom.runner.ray_task import train_task
from core.classroom.runner.worker import keep_wrong_photos
from core.photos import DatasetError, load_dataset
from core.training import EpochRecord

NAMESPACE = "transfer-learning-lab"
REFRESH_S = 0.2  # the runner asks every 0.1 s per job; one mailbox call per 0.2 s serves all of them
PAYLOADS_KEPT = 8  # photo sets kept in the object store (tf_flowers plus a few students' own)
CAPACITY_EVERY_S = 5.0
MEMORY_MONITOR_MESSAGE = "ran out of memory during your training and Ray ended it"

_connect_lock = threading.Lock()


def connect(address: str | None = None) -> None:
    """Join the cluster once per process (``local``: start a private Ray on this computer only)."""
    with _connect_lock:
        if ray.is_initialized():
            return
        address = address or ray_address()
        if not address:
            raise RuntimeError("TLL_RAY_ADDRESS is not set: trainings run in local worker processes.")
        threads = str(max(1, round(cpus_per_training())))
        options = {
            "namespace": NAMESPACE, "log_to_driver": False, "logging_level": logging.WARNING,
            "runtime_env": {"py_modules": [str(Path(core.__file__).parent)], "excludes": ["__pycache__"],
                            "env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_NUM_INTRAOP_THREADS": threads,
                                         "TF_NUM_INTEROP_THREADS": threads}},
        }
        try:
            if address == LOCAL:
                _start_local(options)
            else:
                ray.init(address=address, **options)
        except Exception as error:  # noqa: BLE001 - Ray raises plain Exceptions too; the teacher reads why
            raise ConnectionError(
                f"Could not join the Ray cluster at {address!r} (TLL_RAY_ADDRESS). Is `ray start --head` running "
                f"there, with the same Ray version and the same RAY_AUTH_MODE and token as here? ({error})") from None


def _start_local(options: dict, attempts: int = 2) -> None:
    """A private Ray on this computer. Ray gives its node 30 s to start, which a busy 2-core machine can miss:
    then once more."""
    for attempt in range(attempts):
        try:
            ray.init(num_cpus=local_cpus(), include_dashboard=False, **options)
            return
        except Exception:  # noqa: BLE001 - Ray raises a bare Exception for "timed out during startup"
            ray.shutdown()
            if attempt == attempts - 1:
                raise


@ray.remote(num_cpus=0)
class Mailbox:
    """Events from every running training, and the stop flags, on the server's node."""

    def __init__(self):
        self._events: dict[str, list[dict]] = {}
        self._stops: set[str] = set()

    def push(self, job_id: str, events: list[dict]) -> None:
        self._events.setdefault(job_id, []).extend(events)

    def drain(self) -> dict[str, list[dict]]:
        events, self._events = self._events, {}
        return events

    def request_stop(self, job_id: str) -> None:
        self._stops.add(job_id)

    def stop_requested(self, job_id: str) -> bool:
        return job_id in self._stops

    def forget(self, job_id: str) -> None:
        self._stops.discard(job_id)
        self._events.pop(job_id, None)


class RayHandle:
    """One training on the cluster, with the local worker's interface (``core.classroom.runner.backend.WorkerHandle``).
    ``state`` is pending (Ray has not started it: no free CPU or memory), running or finished."""

    def __init__(self, backend: RayBackend, job: dict, originals: dict[str, str], skipped: list[dict]):
        self.job_id = job["job_id"]
        self.owner = job.get("owner", "")
        self.output_dir = Path(job["output_dir"])
        self.node, self.pid, self.state = "", None, "pending"
        self.submitted, self.started = time.time(), None
        self.ref = None
        self._backend, self._originals, self._skipped = backend, originals, skipped
        self._events: list[dict] = []
        self._exit: int | None = None
        self._killed = self._stopped_pending = False

    # -------------------------------------------------------------------- WorkerHandle
    def events(self) -> list[dict]:
        self._backend.refresh()
        with self._backend.lock:
            events, self._events = self._events, []
        return events

    def request_stop(self) -> None:
        if self.state == "pending":  # nothing trained yet, so nothing to keep: take it out of Ray's queue
            self._stopped_pending = True
            self.kill()
        elif self._exit is None:
            self._backend.mailbox.request_stop.remote(self.job_id)

    def kill(self) -> None:
        if self._exit is None and self.ref is not None:
            self._killed = True
            try:
                ray.cancel(self.ref, force=True)
            except (ray.exceptions.RayError, ValueError):
                pass  # it ended meanwhile: exit_status says how

    def exit_status(self) -> int | None:
        self._backend.refresh()
        return self._exit

    def close(self) -> None:
        self._backend.forget(self)

    # -------------------------------------------------------------------- called by the backend, under its lock
    def receive(self, events: list[dict]) -> None:
        for event in events:
            if event.get("type") == "started":
                self.node, self.pid, self.state, self.started = event["node"], event["pid"], "running", time.time()
        self._events.extend(events)

    def complete(self) -> None:
        where = self.node or "a computer of the cluster"
        try:
            value = ray.get(self.ref, timeout=60)
        except ray.exceptions.TaskCancelledError:
            self._end(-9, "Stopped before it started." if self._stopped_pending else None)
        except ray.exceptions.OutOfMemoryError:
            self._end(-9, f"{where} {MEMORY_MONITOR_MESSAGE}. Try again with smaller photos or fewer unfrozen layers "
                          "(your teacher can raise TLL_RAY_MEMORY_MB).")
        except ray.exceptions.NodeDiedError:
            self._end(-9, f"The computer running your training ({where}) stopped answering: switched off, "
                          "restarted or off the network. Your earlier runs are safe: press Train to try again.")
        except ray.exceptions.WorkerCrashedError:
            self._end(-9, None if self._killed else
                      f"The training process on {where} was killed (its computer may have run out of memory, or "
                      "someone ended it). Your earlier runs are safe: press Train to try again.")
        except ray.exceptions.RayTaskError as error:  # raised inside the training: the engine's own message
            cause = getattr(error, "cause", None) or error
            self._end(1, f"{type(cause).__name__}: {cause} (on {where})", traceback=str(error))
        except ray.exceptions.RayError as error:
            self._end(-9, f"The cluster lost this training ({type(error).__name__}: {error}). Press Train to try again.")
        else:
            self._deliver(value)

    def _deliver(self, value: dict) -> None:
        self.node = value["node"] or self.node
        self.output_dir.mkdir(parents=True, exist_ok=True)
        for part in value["results"]:
            recipe = part["recipe"]
            model = self.output_dir / f"{recipe}.keras"
            partial = model.with_suffix(".keras.partial")
            partial.write_bytes(part["model"])
            partial.replace(model)
            summary = part["summary"]
            summary["skipped"] = self._skipped + [self._on_server(row) for row in summary["skipped"]]
            summary.update(backend="ray", node=self.node)
            wrong = keep_wrong_photos([self._on_server(row) for row in part["misclassified"]],
                                      self.output_dir / f"{recipe}-wrong")
            self._events.append({"type": "result", "recipe": recipe, "summary": summary, "model": str(model),
                                 "misclassified": wrong})
        self._events.append({"type": "done"})
        self._exit = 0
        self.state = "finished"

    def _on_server(self, row: dict) -> dict:
        return {**row, "path": self._originals.get(row.get("path"), row.get("path"))}

    def _end(self, code: int, message: str | None, traceback: str | None = None) -> None:
        if message:
            self._events.append({"type": "error", "message": message, "traceback": traceback})
        self._exit = code
        self.state = "finished"


class RayBackend:
    """``core.classroom.runner``'s backend for a Ray cluster: ``start(job) -> RayHandle``, plus what the Teacher page shows."""

    name = "ray"

    def __init__(self, address: str | None = None):
        connect(address)
        self.cpus, self.memory_mb = cpus_per_training(), memory_mb_per_training()
        here = ray.get_runtime_context().get_node_id()
        self.mailbox = Mailbox.options(scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=True)).remote()
        self._task = ray.remote(max_calls=0 if reuse_workers() else 1)(train_task).options(  # 1: a fresh process
            num_cpus=self.cpus, memory=self.memory_mb * 1024 * 1024,           # per training gives its memory back
            max_retries=0, scheduling_strategy="SPREAD")
        self.lock = threading.RLock()
        self._handles: dict[str, RayHandle] = {}
        self._payloads: OrderedDict[str, tuple] = OrderedDict()
        self._refreshed = 0.0
        self._capacity, self._capacity_at = 0, float("-inf")

    def start(self, job: dict) -> RayHandle:
        self._check_feasible()
        dataset = load_dataset(job["data"], int(job["config"].get("seed", 42)))
        fingerprint = dataset.fingerprint()
        with self.lock:
            if fingerprint not in self._payloads:
                self._payloads[fingerprint] = self._put_photos(dataset)
            self._payloads.move_to_end(fingerprint)
            while len(self._payloads) > PAYLOADS_KEPT:
                self._payloads.popitem(last=False)
            photos, originals = self._payloads[fingerprint]
            handle = RayHandle(self, job, originals, [asdict(s) for s in dataset.skipped])
            handle.ref = self._task.remote(job, [photos], fingerprint, dataset.source, self.mailbox)
            self._handles[handle.job_id] = handle
        return handle

    @staticmethod
    def _put_photos(dataset) -> tuple:
        """Bytes in the server's split and order (names sort as the list does), and where each came from."""
        files, originals = [], {}
        for split, items in dataset.splits.items():
            for i, item in enumerate(items):
                name = f"{split}/{dataset.class_names[item.label]}/{i:05d}{Path(item.path).suffix.lower()}"
                files.append((name, Path(item.path).read_bytes()))
                originals[name] = item.path
        return ray.put({"files": files}), originals

    def _check_feasible(self) -> None:
        for node in self.nodes():
            if node["alive"] and node["cpus"] >= self.cpus and node["memory_mb"] >= self.memory_mb:
                return
        raise RuntimeError(
            f"No computer in the Ray cluster can take a training that asks for {self.cpus:g} CPU and "
            f"{self.memory_mb} MB of memory (TLL_RAY_CPUS_PER_TRAINING, TLL_RAY_MEMORY_MB). `ray status` shows "
            "what each computer has.")

    def refresh(self, force: bool = False) -> None:
        """Collect every training's new events in one mailbox call, and the results of those that ended."""
        with self.lock:
            if not force and time.monotonic() - self._refreshed < REFRESH_S:
                return
            self._refreshed = time.monotonic()
            live = [h for h in self._handles.values() if h._exit is None and h.ref is not None]
            if not live:
                return
            try:
                ready, _ = ray.wait([h.ref for h in live], num_returns=len(live), timeout=0)
                batch = ray.get(self.mailbox.drain.remote(), timeout=30)  # after ray.wait: a finished task's
            except ray.exceptions.RayError as error:                   # events are all in the mailbox
                for handle in live:
                    handle._end(-9, f"The Ray cluster stopped answering ({type(error).__name__}). Is `ray start "
                                    "--head` still running on the server? Press Train to try again.")
                return
            for job_id, events in batch.items():
                if job_id in self._handles:
                    self._handles[job_id].receive(events)
            finished = {ref.hex() for ref in ready}
            for handle in live:
                if handle.ref.hex() in finished:
                    handle.complete()

    def forget(self, handle: RayHandle) -> None:
        with self.lock:
            self._handles.pop(handle.job_id, None)
        self.mailbox.forget.remote(handle.job_id)

    # ------------------------------------------------------------------------ for the Teacher page
    def list_jobs(self) -> list[dict]:
        """Trainings Ray has not finished: ``student``, ``state`` (pending or running), ``node``, ``seconds``
        (waiting so far if pending, running so far if running), ``job_id``."""
        self.refresh()
        now = time.time()
        with self.lock:
            return [{"job_id": h.job_id, "student": h.owner, "state": h.state, "node": h.node,
                     "seconds": now - (h.started or h.submitted)}
                    for h in self._handles.values() if h.state != "finished"]

    def nodes(self) -> list[dict]:
        """Every computer that joined the cluster: name, address, alive, CPUs and memory it offers."""
        return [{"node": n.get("NodeManagerHostname", ""), "address": n.get("NodeManagerAddress", ""),
                 "alive": bool(n.get("Alive")), "cpus": n.get("Resources", {}).get("CPU", 0.0),
                 "memory_mb": int(n.get("Resources", {}).get("memory", 0) // (1024 * 1024))}
                for n in ray.nodes()]

    def capacity(self) -> int:
        """Trainings the computers alive now can run at once, by CPU and memory (asked of Ray every 5 s at most)."""
        if time.monotonic() - self._capacity_at > CAPACITY_EVERY_S:
            try:
                self._capacity = sum(int(min(n["cpus"] // self.cpus, n["memory_mb"] // self.memory_mb))
                                     for n in self.nodes() if n["alive"])
            except ray.exceptions.RayError:
                self._capacity = 0  # the cluster does not answer: trainings wait in the runner's queue
            self._capacity_at = time.monotonic()
        return self._capacity


_shared: RayBackend | None = None
_shared_lock = threading.Lock()


def shared_backend() -> RayBackend:
    """The server's one ``RayBackend`` (one connection, one mailbox), made on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RayBackend()
    return _shared


def train_on_cluster(cfg, save: str | None, on_epoch) -> int:
    """``python -m core.train`` with ``TLL_RAY_ADDRESS`` set: one training as a Ray task, its epochs printed as
    they arrive, then the same JSON summary as a local run (``backend``: ray, ``node``: the computer)."""
    summary, error = None, None
    try:
        backend = RayBackend()
        with tempfile.TemporaryDirectory(prefix="tll-cli-") as output:
            job = {"job_id": f"cli-{secrets.token_hex(4)}", "recipes": ["transfer"], "config": cfg.to_dict(),
                   "data": cfg.data, "output_dir": output}
            handle = backend.start(job)
            told = ""
            try:
                while True:
                    done = handle.exit_status() is not None
                    for event in handle.events():
                        kind = event.pop("type")
                        if kind == "epoch":
                            on_epoch(EpochRecord(**{k: v for k, v in event.items() if k != "recipe"}))
                        elif kind == "result":
                            summary = event["summary"]
                            if save:
                                shutil.copyfile(event["model"], save)
                                summary["saved_to"] = save
                        elif kind == "error":
                            error = event["message"]
                    where = f"running on {handle.node}" if handle.node else "waiting for a free computer in the cluster"
                    if where != told:
                        print(f"[ray] {where}", file=sys.stderr)
                        told = where
                    if done:
                        break
                    time.sleep(0.2)
            finally:
                handle.kill()  # Ctrl+C: the cluster stops training for nobody (a no-op once it has ended)
    except (DatasetError, RuntimeError, ConnectionError) as problem:
        error = str(problem)
    if summary is None:
        print(f"error: {error or 'the training ended without a result'}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=1, default=str))
    return 0
