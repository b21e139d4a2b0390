"""The server's trainings and what they leave behind: one runner and one store per server process.

``start_training`` copies the photos a training will read into the job's own folder (a later upload cannot
change them), queues the job and records it. When a job ends, ``persist`` (run by the scheduler, whether or
not the student's page is open) moves its folder into the student's folder, records each run in the store,
keeps the newest ``TLL_MODELS_KEPT`` model files per student and deletes the photo copy. The page then gets
``{recipe: SavedResult}`` as results, like a training run in the page's own process.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

from core.classroom.leftovers import clean_leftovers
from core.classroom.run_key import reuse_enabled, run_keys
from core.classroom.runner import job_times
from core.classroom.runner.backend import LocalProcessBackend
from core.classroom.runner.ray_settings import ray_address
from core.classroom.runner.recipes import CROSSVAL_FOLDS
from core.classroom.runner.results import SavedResult, result_from_summary
from core.classroom.runner.reuse import identical_results
from core.classroom.runner.scheduler import Job, Runner
from core.classroom.runner.thread_backend import ThreadBackend
from core.classroom.store import Store
from core.photos import TF_FLOWERS, load_dataset
from core.training import TrainConfig

_lock = threading.Lock()
_store: Store | None = None
_runner: Runner | None = None


def models_kept() -> int:
    return max(1, int(os.environ.get("TLL_MODELS_KEPT", "3")))


def store() -> Store:
    global _store
    with _lock:
        if _store is None:
            _store = Store()
        return _store


def make_backend(data: Store):
    """``TLL_TRAINING_BACKEND``: "process" (default: a worker process per training) or "thread" (in-process)."""
    if ray_address():  # README "A school with several computers": each training is a task on the Ray cluster
        from core.classroom.runner.ray_backend import shared_backend  # here: Ray is imported only when a cluster is set

        return shared_backend()
    choice = os.environ.get("TLL_TRAINING_BACKEND", "process").strip().lower()
    if choice == "thread":
        return ThreadBackend()
    if choice != "process":
        raise ValueError(f"TLL_TRAINING_BACKEND must be process or thread, not {choice!r}")
    return process_backend(data)


def warm_workers() -> int:
    """``TLL_WARM_WORKERS``: worker processes kept ready (TensorFlow imported) for the next trainings; ``make
    classroom`` sets it to the number of trainings at once, a one-person app and the tests leave it at 0."""
    return max(0, int(os.environ.get("TLL_WARM_WORKERS", "0") or 0))


_process_backend: LocalProcessBackend | None = None


def process_backend(data: Store) -> LocalProcessBackend:
    """One per server, so its warm workers outlive each job."""
    global _process_backend
    with _lock:
        logs = data.folder / "logs"
        if _process_backend is None or _process_backend.log_dir != logs:
            if _process_backend is not None:
                _process_backend.close()
            _process_backend = LocalProcessBackend(logs, warm_workers())
        return _process_backend


def prepare_workers() -> None:
    """Start the warm workers now (the first page anyone opens), not when the first student presses Train."""
    if warm_workers() and _process_backend is None and not ray_address():
        runner()
        if os.environ.get("TLL_TRAINING_BACKEND", "process").strip().lower() == "process":
            process_backend(store())


def runner() -> Runner:
    global _runner
    data = store()
    with _lock:
        if _runner is None:
            data.interrupted_jobs()  # what was queued when the server last stopped will not finish now
            if not ray_address():  # a cluster's jobs folder is shared with the lab computers
                clean_leftovers(data.folder)  # its job folders, photo copies and unpacked uploads (SIGKILL)
            _runner = Runner(lambda: make_backend(data), data.folder / "jobs", on_finished=persist,
                             reuse=lambda job: identical_results(job, store()), predict=predicted_duration)
        return _runner


def predicted_duration(job: Job) -> float | None:
    """A waiting training's seconds from start to result, as the time estimate predicts them (None: not yet known)."""
    slots = _runner.running_limit() if _runner is not None else 1
    return job_times.predicted_total(job, job_times.class_costs(store(), slots))


def reset_for_tests(folder: Path | None = None) -> None:
    """A fresh store (on ``folder``) and runner: what a server restart does."""
    global _store, _runner, _process_backend
    with _lock:
        if _runner is not None:
            _runner.close()
        if _process_backend is not None:
            _process_backend.close()
        _runner = _process_backend = None
        _store = Store(folder) if folder else None


def snapshot_photos(folder: Path, target: Path) -> Path:
    """Hard links (a copy across file systems) of every file in ``folder``: the training's own photos."""
    def link_or_copy(source, destination):
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)

    shutil.copytree(folder, target, copy_function=link_or_copy, symlinks=False)
    return target


def start_training(student_id: str, nickname: str, kind: str, cfg: TrainConfig, recipes: tuple[str, ...],
                   labels: dict[str, str] | None = None, label: str = "") -> Job:
    """Queue ``recipes`` on ``cfg`` for a student. Raises ``AlreadyTraining`` when they have one already."""
    the_runner, data = runner(), store()
    spec = {"recipes": list(recipes), "config": cfg.to_dict(), "data": cfg.data, "labels": labels or {},
            "nice": 5}
    snapshot = None
    if cfg.data != TF_FLOWERS and Path(cfg.data).is_dir():
        snapshot = data.folder / "snapshots" / f"{student_id}-{os.urandom(4).hex()}"
        snapshot_photos(Path(cfg.data), snapshot)
        spec["data"] = str(snapshot)
        spec["snapshot"] = str(snapshot)
    try:
        if the_runner.active_job(student_id) is None:
            spec.update(photos_facts(cfg, recipes, student_id, spec["data"]))
        job = the_runner.submit(student_id, spec, label=label or kind, kind=kind, display_name=nickname)
    except BaseException:
        if snapshot:
            shutil.rmtree(snapshot, ignore_errors=True)
        raise
    if not job.finished:  # a reused result was recorded as done already
        data.record_job(student_id, job.job_id, job.label, kind, "waiting", job.state.submitted)
    return job


def photos_facts(cfg: TrainConfig, recipes, student_id: str, photos: str) -> dict:
    """What the queue knows of a job from its photos: ``n_train`` (for the time estimate) and ``run_keys`` (to
    reuse an identical run, unless switched off). Nothing when they cannot be read here: the worker says why."""
    try:
        dataset = load_dataset(photos, cfg.seed)
        facts = {"n_train": len(dataset.splits["train"])}
        if reuse_enabled():
            facts["run_keys"] = run_keys(cfg, recipes, student_id, dataset)
        return facts
    except Exception:  # noqa: BLE001 - any photo problem is reported by the training itself
        return {}


SERVER_OWNER = "server"  # owner of the teacher's server-wide measurements (one of each kind at a time)
SERVER_JOBS = {  # kind -> what the Teacher page calls it
    "reference": "Reference run (the lesson's three figures)",
    "scaling": "Pixel scaling: −1…1 against / 255",
    "crossval": f"Whole-recipe cross-validation ({CROSSVAL_FOLDS} folds, default settings)",
}


def start_server_job(kind: str, cfg: TrainConfig | None = None) -> Job:
    """Queue a server-wide measurement (the teacher's): the same queue and worker processes as trainings,
    no time limit. Raises ``AlreadyTraining`` while one of that kind waits or runs."""
    if kind not in SERVER_JOBS:
        raise ValueError(f"unknown server job {kind!r}")
    spec = {"recipes": [kind], "config": (cfg or TrainConfig()).to_dict(), "data": TF_FLOWERS, "nice": 5,
            "no_time_limit": True}
    return runner().submit(f"{SERVER_OWNER}:{kind}", spec, label=SERVER_JOBS[kind], kind="server",
                           display_name="The server (teacher)")


def server_job(kind: str) -> Job | None:
    return runner().job_for(f"{SERVER_OWNER}:{kind}")


def server_result(kind: str) -> dict | None:
    """The latest finished server-wide measurement of ``kind`` (kept in the data folder), or None."""
    try:
        return json.loads((store().folder / "server_jobs" / f"{kind}.json").read_text())
    except (OSError, ValueError):
        return None


def _persist_server_job(job: Job, data: Store) -> None:
    shutil.rmtree(job.runner.work_dir / job.job_id, ignore_errors=True)
    for kind, event in (job.state.result or {}).items():
        if job.outcome == "done" and isinstance(event.get("summary"), dict):
            folder = data.folder / "server_jobs"
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / f"{kind}.json.partial"
            partial.write_text(json.dumps({**event["summary"], "finished": job.state.finished}, default=str))
            os.replace(partial, folder / f"{kind}.json")


def persist(job: Job) -> None:
    """The scheduler's ``on_finished``: runs into the store, models into the student's folder."""
    data = store()
    if job.kind == "server":
        _persist_server_job(job, data)
        return
    if job.spec.get("snapshot"):
        shutil.rmtree(job.spec["snapshot"], ignore_errors=True)
    if job.reused:  # its runs were saved when it was matched (core.classroom.runner.reuse)
        data.record_job(job.owner, job.job_id, job.label, job.kind, "done", job.state.submitted, job.state.started,
                        job.state.finished)
        for path in data.forget_models(job.owner, models_kept()):
            Path(path).unlink(missing_ok=True)
        return
    results = job.state.result or {}
    if job.outcome == "done" and results:
        source = job.runner.work_dir / job.job_id
        target = data.student_folder(job.owner) / "runs" / job.job_id
        if source.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), str(target))
        saved = {}
        for recipe, event in results.items():
            def moved(path):
                return path.replace(str(source), str(target), 1) if path else path

            misclassified = [{**row, "path": moved(row.get("path"))} for row in event.get("misclassified", [])]
            model_path = moved(event.get("model"))
            if recipe == "fake":  # the runner's own tests: no TrainResult to rebuild
                saved[recipe] = event
                continue
            event["summary"]["notes"] = [*event["summary"].get("notes", []), *job.state.notes]  # e.g. time limit
            if event.get("result_object") is not None:
                event["result_object"].notes.extend(job.state.notes)
            label = job.spec.get("labels", {}).get(recipe) or ""
            run_id = data.add_run(job.owner, label, "scratch" if recipe == "scratch" else "transfer",
                                  event["summary"], misclassified, model_path, job.job_id,
                                  run_key=job.run_keys.get(recipe))
            job.state.run_ids[recipe] = run_id
            in_process = event.get("result_object")  # the thread backend's result, model in memory
            saved[recipe] = in_process or result_from_summary(event["summary"], misclassified, model_path, run_id)
        job.state.result = saved
        for path in data.forget_models(job.owner, models_kept()):
            Path(path).unlink(missing_ok=True)
    else:
        shutil.rmtree(job.runner.work_dir / job.job_id, ignore_errors=True)
    data.record_job(job.owner, job.job_id, job.label, job.kind, job.outcome or "failed", job.state.submitted,
                    job.state.started, job.state.finished, job.state.error)


def delete_student(student_id: str) -> list[str]:
    """Forget a student and delete their folder, except the files another student's reused run still points
    to (returned): those stay where they are until no run points to them."""
    data = store()
    kept = set(data.delete_student(student_id))
    folder = data.student_folder(student_id)
    for path in sorted(folder.rglob("*"), reverse=True) if folder.is_dir() else []:  # files before their folders
        if str(path) in kept:
            continue
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        else:
            path.unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return sorted(kept)


def saved_runs(student_id: str) -> list[tuple[dict, SavedResult]]:
    """The student's runs from the store, oldest first: (row, result with its model on disk if kept)."""
    return [(row, result_from_summary(row["summary"], row["misclassified"], row["model_path"], row["id"]))
            for row in store().runs(student_id)]


def time_until_result(job: Job) -> float | None:
    """Seconds until the job's result (core.classroom.runner.job_times); None while it cannot be estimated yet."""
    return job_times.time_until_result(job, store(), runner())
