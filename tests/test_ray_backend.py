"""Trainings on a Ray cluster: a private 2-CPU Ray on this computer, tiny trainings at 96 px.

Each training asks for both CPUs here, so one runs while the next waits in Ray's queue: the queue view
shows pending and running. Skipped, with the reason, only where Ray cannot start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from conftest import ROOT, make_flower_subset

from core.inference import load_trained_model
from core.training import TrainConfig

CLASSES = ("daisy", "roses", "tulips")


@pytest.fixture(scope="module")
def cluster():
    """A RayBackend on ``TLL_RAY_ADDRESS=local`` (2 CPUs, no dashboard), 2 CPUs per training; shut down after."""
    saved = {k: os.environ.get(k) for k in ("TLL_RAY_CPUS_PER_TRAINING", "TLL_RAY_MEMORY_MB")}
    os.environ.update(TLL_RAY_CPUS_PER_TRAINING="2", TLL_RAY_MEMORY_MB="1024")
    import ray

    from core.classroom.runner.ray_backend import RayBackend

    try:
        backend = RayBackend("local")
    except Exception as error:  # noqa: BLE001 - any reason Ray cannot start here is the skip reason
        ray.shutdown()
        pytest.skip(f"Ray cannot start on this machine: {type(error).__name__}: {error}")
    yield backend
    ray.shutdown()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return make_flower_subset(tmp_path_factory.mktemp("ray") / "photos", classes=CLASSES, per_class=10)


def job(photos, output_dir, name: str, **config) -> dict:
    settings = {"image_size": 96, "epochs1": 1, "epochs2": 0, "unfreeze": 0, **config}
    cfg = TrainConfig(data=str(photos), **settings)
    return {"job_id": name, "recipes": ["transfer"], "config": asdict(cfg), "data": str(photos),
            "output_dir": str(output_dir / name)}


def follow(handle, until, timeout: float = 240.0) -> list[dict]:
    """Events of ``handle`` until ``until(events)`` is true (or it ends); fails after ``timeout``."""
    events: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ended = handle.exit_status() is not None
        events += handle.events()
        if until(events) or ended:
            return events
        time.sleep(0.1)
    raise AssertionError(f"no end after {timeout} s; events so far: {[e['type'] for e in events]}")


def ended(events):
    return any(e["type"] in ("done", "error") for e in events)


def of_type(events, kind):
    return [e for e in events if e["type"] == kind]


@pytest.mark.slow
def test_a_training_on_the_cluster_streams_its_progress_and_its_model_comes_back(cluster, photos, tmp_path):
    handle = cluster.start(job(photos, tmp_path, "end-to-end", epochs2=1, unfreeze=3))
    events = follow(handle, ended)
    assert handle.exit_status() == 0, of_type(events, "error")
    started = of_type(events, "started")[0]
    assert started["node"] in {n["node"] for n in cluster.nodes()}
    assert of_type(events, "progress"), "no progress arrived"
    epochs = of_type(events, "epoch")
    assert [(e["phase"], e["epoch"]) for e in epochs] == [("head", 1), ("fine-tune", 2)]
    result = of_type(events, "result")[0]
    summary = result["summary"]
    assert summary["backend"] == "ray" and summary["node"] == started["node"]
    assert str(photos) in summary["dataset_source"], "the run must name the student's photos, not the worker's copy"
    assert [h["epoch"] for h in summary["history"]] == [1, 2]
    model_path = tmp_path / "end-to-end" / "transfer.keras"
    assert result["model"] == str(model_path) and model_path.is_file()
    assert load_trained_model(model_path).class_names == list(CLASSES)
    for row in result["misclassified"]:  # thumbnails made on the server from the student's own photos
        assert row["path"] is None or row["path"].startswith(str(tmp_path / "end-to-end"))
    assert events[-1]["type"] == "done"


@pytest.mark.slow
def test_the_queue_stop_and_a_killed_worker(cluster, photos, tmp_path):
    long = {"epochs1": 500}  # only ever ended by the test
    first = cluster.start(job(photos, tmp_path, "first", **long))
    second = cluster.start(job(photos, tmp_path, "second", **long))
    first_events = follow(first, lambda ev: of_type(ev, "started"))
    queue = {row["job_id"]: row for row in cluster.list_jobs()}
    assert queue["first"]["state"] == "running" and queue["first"]["node"]
    assert queue["second"]["state"] == "pending" and queue["second"]["node"] == ""

    # A worker killed mid-run (out of memory, a lab PC's user ending it): its student is told, others go on.
    os.kill(of_type(first_events, "started")[0]["pid"], signal.SIGKILL)
    first_events += follow(first, ended)
    assert first.exit_status() < 0
    message = of_type(first_events, "error")[0]["message"]
    assert "killed" in message and "try again" in message
    assert not (tmp_path / "first" / "transfer.keras").exists()

    # The next training starts; one submitted behind it waits and can be stopped before it starts.
    second_events = follow(second, lambda ev: of_type(ev, "epoch"))
    third = cluster.start(job(photos, tmp_path, "third"))
    assert {row["job_id"]: row["state"] for row in cluster.list_jobs()}["third"] == "pending"
    third.request_stop()
    third_events = follow(third, ended, timeout=30)
    assert of_type(third_events, "error")[0]["message"] == "Stopped before it started."
    assert not of_type(third_events, "started")

    # Stop between batches keeps what was trained: a model comes back, marked stopped.
    second.request_stop()
    second_events += follow(second, ended)
    assert second.exit_status() == 0, of_type(second_events, "error")
    assert of_type(second_events, "stopping")
    summary = of_type(second_events, "result")[0]["summary"]
    assert summary["stopped"] and len(summary["history"]) < 500
    assert (tmp_path / "second" / "transfer.keras").is_file()

    # A hard stop (the teacher's cancel) ends a running training at once, with no error of its own.
    fourth = cluster.start(job(photos, tmp_path, "fourth", **long))
    follow(fourth, lambda ev: of_type(ev, "started"))
    fourth.kill()
    fourth_events = follow(fourth, ended, timeout=60)
    assert fourth.exit_status() < 0 and not of_type(fourth_events, "error")
    assert cluster.list_jobs() == [] and cluster.capacity() == 1


def test_a_training_no_computer_can_take_is_refused_with_the_setting_to_change(cluster, photos, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(cluster, "memory_mb", 10**9)
    with pytest.raises(RuntimeError, match="TLL_RAY_MEMORY_MB"):
        cluster.start(job(photos, tmp_path, "too-big"))
    assert cluster.list_jobs() == []


def test_without_the_variable_ray_is_never_imported(tmp_path):
    code = ("import sys, core.training, core.classroom.runner, core.classroom.runner.service, core.train, core.cli.train, ui.training_job; "
            "from core.classroom.runner import service; "
            "backend = service.runner().backend; backend = backend if hasattr(backend, 'start') else backend(); "
            "print(type(backend).__name__, 'ray' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TLL_RAY_")}
    env["TLL_DATA_DIR"] = str(tmp_path)  # the runner's store
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["LocalProcessBackend", "False"]


@pytest.mark.slow
def test_the_command_line_says_which_backend_and_computer_trained(photos, tmp_path):
    """``python -m core.train`` with TLL_RAY_ADDRESS=local: its own private Ray, then the JSON says so."""
    env = {**os.environ, "TLL_RAY_ADDRESS": "local", "TLL_RAY_MEMORY_MB": "1024"}
    model = tmp_path / "cli.keras"
    out = subprocess.run([sys.executable, "-m", "core.train", "--data", str(photos), "--image-size", "96",
                          "--epochs1", "1", "--epochs2", "0", "--save", str(model)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout[out.stdout.index("{"):])
    assert summary["backend"] == "ray" and summary["node"]
    assert len(summary["history"]) == 1 and "epoch   1" in out.stderr
    assert model.is_file() and summary["saved_to"] == str(model)


NODE_SWITCHED_OFF = """
import json, sys, time
import ray
from ray.cluster_utils import Cluster
from core.classroom.runner.ray_backend import RayBackend

try:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})  # the server: serves, trains nothing
    backend = RayBackend(cluster.address)  # joins through the server's node, as the app does
    lab_pc = cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()
except Exception as error:
    print(json.dumps({"skip": f"{type(error).__name__}: {error}"}))
    sys.exit(0)
handle = backend.start(json.loads(sys.argv[1]))
events, deadline = [], time.time() + 240
while not any(e["type"] == "progress" for e in events) and handle.exit_status() is None and time.time() < deadline:
    events += handle.events()
    time.sleep(0.1)
switched_off = time.time()
lab_pc.kill_all_processes(check_alive=False, allow_graceful=False, wait=True)  # all of that computer at once
cluster.worker_nodes.discard(lab_pc)
while handle.exit_status() is None and time.time() < deadline:
    events += handle.events()
    time.sleep(0.2)
events += handle.events()
print(json.dumps({"events": events, "exit": handle.exit_status(), "told_after_s": time.time() - switched_off,
                  "server_alive": any(n["alive"] and n["cpus"] == 0 for n in backend.nodes())}))
ray.shutdown()
cluster.shutdown()
"""


@pytest.mark.slow
def test_a_lab_computer_switched_off_mid_run_is_told_and_the_server_goes_on(photos, tmp_path):
    """Two Ray nodes on this computer (a 0-CPU "server" and a 2-CPU "lab PC"); the lab PC dies mid-run."""
    env = {**os.environ, "TLL_RAY_CPUS_PER_TRAINING": "1", "TLL_RAY_MEMORY_MB": "512"}
    spec = json.dumps(job(photos, tmp_path, "lab-pc", epochs1=500))
    out = subprocess.run([sys.executable, "-c", NODE_SWITCHED_OFF, spec], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(next(line for line in out.stdout.splitlines() if line.startswith(('{"events"', '{"skip"'))))
    if "skip" in report:
        pytest.skip(f"Ray cannot start two nodes on this machine: {report['skip']}")
    types = [e["type"] for e in report["events"]]
    assert "started" in types and "progress" in types and "result" not in types
    assert report["exit"] < 0 and report["server_alive"]
    message = next(e["message"] for e in report["events"] if e["type"] == "error")
    assert "try again" in message, message
    print(f"told {report['told_after_s']:.1f} s after the computer went off: {message}")


@pytest.mark.slow
def test_the_classroom_runner_queues_on_the_cluster(cluster, photos, tmp_path):
    """``core.classroom.runner``'s own queue on the Ray backend: its limit is what the cluster can run, a job finishes
    with the computer's name, its epochs and the model in the runner's job folder."""
    from core.classroom.runner.scheduler import Runner

    runner = Runner(cluster, tmp_path / "jobs")
    try:
        assert runner.running_limit() == cluster.capacity() == 1  # 2 CPUs, 2 per training
        spec = {key: value for key, value in job(photos, tmp_path, "unused").items()
                if key in ("recipes", "config", "data")}
        queued = runner.submit("student-1", spec, label="train")
        assert queued.wait(240) and queued.state.status == "done", queued.state.error
        assert queued.state.node in {n["node"] for n in cluster.nodes()}
        assert [e.epoch for e in queued.state.epochs] == [1]
        assert Path(queued.state.result["transfer"]["model"]).is_file()
    finally:
        runner.close()
