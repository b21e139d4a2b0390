"""Where a training runs. The runner only speaks to a ``Backend`` and the ``WorkerHandle``s it returns.

``LocalProcessBackend`` (the default) starts one ``python -m core.classroom.runner.worker`` process per training on
this computer: its memory goes back to the system when it ends, a crash or an out-of-memory kill ends only
that process, and Stop can always fall back on a kill. A cluster backend (Ray, ``ray_backend``) implements the
same two small interfaces: ``start(job) -> handle``; a handle yields the worker's events, asks it to stop,
kills it and says how it ended.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Protocol

from core.classroom.runner.worker import EVENTS_FD_VARIABLE, WARM_VARIABLE
from core.utils.paths import PROJECT_ROOT


class WorkerHandle(Protocol):
    node: str

    def events(self) -> list[dict]:
        """The events that arrived since the last call (never blocks)."""

    def request_stop(self) -> None:
        """Ask the worker to stop between batches and keep what was trained."""

    def kill(self) -> None:
        """End the worker now (it keeps nothing)."""

    def exit_status(self) -> int | None:
        """None while the worker lives; then its exit code (negative: killed by that signal)."""


class Backend(Protocol):
    name: str

    def start(self, job: dict) -> WorkerHandle: ...


class LocalProcess:
    """A worker process on this computer and the pipe it reports on."""

    def __init__(self, job: dict | None, log_path: Path | None, warm: bool = False):
        """``job``: sent at once; None for a warm worker, which gets ready and waits for ``assign``."""
        read_fd, write_fd = os.pipe()
        env = {**os.environ, EVENTS_FD_VARIABLE: str(write_fd), WARM_VARIABLE: "1" if warm else "0"}
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "core.classroom.runner.worker"], cwd=PROJECT_ROOT, env=env,
                stdin=subprocess.PIPE, stdout=log, stderr=log, pass_fds=(write_fd,),
                start_new_session=True,  # a Ctrl+C meant for the server is not sent to the workers
            )
        finally:
            os.close(write_fd)
            if log_path:
                log.close()
        os.set_blocking(read_fd, False)
        self._reader = os.fdopen(read_fd, "rb", buffering=0)
        self._partial = b""
        self.node = socket.gethostname()
        if job is not None:
            self.assign(job)

    def assign(self, job: dict) -> None:
        self._send(json.dumps(job) + "\n")

    def _send(self, text: str) -> None:
        try:
            self.process.stdin.write(text.encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the worker is already gone: exit_status says how

    def events(self) -> list[dict]:
        chunks = []
        while True:
            try:
                chunk = self._reader.read(65536)
            except BlockingIOError:
                break
            if not chunk:  # end of file: the worker closed its end
                break
            chunks.append(chunk)
        if not chunks:
            return []
        data = self._partial + b"".join(chunks)
        *lines, self._partial = data.split(b"\n")
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"type": "garbled"})
        return out

    def request_stop(self) -> None:
        self._send("stop\n")

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # the worker and anything it started
            except ProcessLookupError:
                pass
            self.process.wait(5)

    def exit_status(self) -> int | None:
        return self.process.poll()

    def close(self) -> None:
        self._reader.close()
        if self.process.stdin:
            try:
                self.process.stdin.close()
            except OSError:
                pass

    @property
    def pid(self) -> int:
        return self.process.pid


class LocalProcessBackend:
    """``warm``: how many worker processes wait ready (TensorFlow imported) for the next jobs. Each does one
    training and ends, so its memory goes back to the system; the pool starts its replacement at once."""

    name = "local"

    def __init__(self, log_dir: Path | None = None, warm: int = 0):
        self.log_dir = log_dir
        self.warm = max(0, warm)
        self._ready: list[LocalProcess] = []
        self._lock = threading.Lock()
        self._spawned = 0
        self.fill()

    def _log(self, name: str) -> Path | None:
        if not self.log_dir:
            return None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self.log_dir / f"{name}.log"

    def fill(self) -> None:
        """Start warm workers until ``warm`` wait (those that died while waiting are replaced)."""
        with self._lock:
            for process in [p for p in self._ready if p.exit_status() is not None]:
                self._ready.remove(process)
                process.close()
            while len(self._ready) < self.warm:
                self._spawned += 1
                self._ready.append(LocalProcess(None, self._log(f"warm-{os.getpid()}-{self._spawned}"), warm=True))

    def start(self, job: dict) -> LocalProcess:
        with self._lock:
            ready = next((p for p in self._ready if p.exit_status() is None), None)
            if ready is not None:
                self._ready.remove(ready)
        if ready is None:
            process = LocalProcess(job, self._log(job["job_id"]))
        else:
            ready.assign(job)
            process = ready
        self.fill()
        return process

    def close(self) -> None:
        """End the waiting workers (a server stopping; the running ones belong to their jobs)."""
        with self._lock:
            waiting, self._ready = self._ready, []
            self.warm = 0
        for process in waiting:
            process.kill()
            process.close()
