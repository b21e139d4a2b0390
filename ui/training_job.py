"""Job control for the Train page, in one module: start a training, show its queue place or progress with
live curves, stop it, and hand its results on when it ends.

Everything that knows *how* trainings run is here: the server's queue (``core.classroom.runner``), each training in
its own worker process, one per student at a time, the student's live place in the queue. A job runs one or
more recipes on one ``TrainConfig``: ``"transfer"`` (``core.training.train``) and ``"scratch"``
(``train_from_scratch``); its results come back as ``{recipe: TrainResult}`` (a ``SavedResult``: the model is
read from the student's folder when a page needs it). The runs are saved by the server when the job ends, so
a refresh or a second tab of the same student reattaches to the job (progress, Stop) and finds its runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import streamlit as st

from core.classroom.runner import (
    AlreadyTraining,
    Job,
    runner,
    start_training,
    store,
    time_left_words,
    time_until_result,
)
from core.training import TrainConfig, TrainResult
from ui import charts, identity, state
from ui.labels import RUN_LABELS, SCRATCH_LABEL

WAITING_REFRESH_S = 3.0  # the place in the queue
LIVE_REFRESH_S = 1.0  # the progress bar of a running training


@dataclass
class Running:
    """A started training, as the page remembers it."""

    job: Job
    kind: str  # what the student asked for: "train", "high_lr", "kiran"…
    config: TrainConfig
    recipes: tuple[str, ...]

    @property
    def finished(self) -> bool:
        return self.job.finished


def start(kind: str, cfg: TrainConfig, recipes: tuple[str, ...] = ("transfer",)) -> None:
    """Queue ``recipes`` on ``cfg`` (a worker process starts it when a slot is free)."""
    student = identity.current_student()
    labels = {"transfer": RUN_LABELS.get(kind) or "", "scratch": SCRATCH_LABEL}
    state.set_training_error(None)
    try:
        job = start_training(student.id, student.nickname, kind, cfg, recipes, labels=labels)
    except AlreadyTraining as busy:  # e.g. started in another tab a moment ago: this tab follows that one
        state.set_training_error(str(busy))
        job = busy.job
    state.set_training_job(job)
    st.rerun()  # draw the page again with the buttons disabled and the live view


def _running(job: Job) -> Running:
    return Running(job, job.kind, TrainConfig.from_dict(job.spec["config"]), tuple(job.spec["recipes"]))


def running() -> Running | None:
    """This tab's training, or the student's training started in another tab or before a refresh."""
    job = state.training_job()
    if job is None:
        student = identity.current_student()
        job = runner().job_for(student.id) if student is not None else None
        if job is not None:
            state.set_training_job(job)
    return _running(job) if job is not None else None


def collect(on_finished: Callable[[str, dict[str, TrainResult]], None]) -> None:
    """If the job has ended, forget it and pass its results to ``on_finished(kind, results)`` (once), or keep
    its error for ``show_error``. Another tab of the same student that saw it first has filed it already."""
    current = running()
    if current is None or not current.finished:
        return
    state.set_training_job(None)
    job = current.job
    first = runner().job_for(job.owner) is job
    runner().collect(job)
    if job.state.status == "failed":
        state.set_training_error(job.state.error)
        store().mark_seen(job.owner, job.job_id)
    elif first:
        on_finished(current.kind, job.state.result)
        identity.mark_known(job.state.run_ids.values())


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def queue_message(place: int, running_now: int | None) -> str:
    """What a waiting student reads: their place in the queue and, if known, how many trainings are running."""
    ahead = f"{_count(place - 1, 'training')} ahead of yours" if place > 1 else "yours is next"
    busy = "" if running_now is None else f"; {_count(running_now, 'training')} running on this computer"
    return f"Waiting for a free spot: you are number {place} in the queue ({ahead}){busy}."


def _queue_place(job_state) -> tuple[int, int | None]:
    """(place in the queue, trainings running now), kept up to date by the server's scheduler."""
    return max(1, job_state.queue_place), job_state.running


def _epoch_charts(current: Running) -> None:
    """The learning curves so far: drawn on full reruns only (one per finished epoch), not every second."""
    if current.job.state.epochs:
        epochs = [asdict(e) for e in current.job.state.epochs]
        left, right = st.columns(2)
        left.plotly_chart(charts.learning_curves(epochs, current.config.epochs1, "accuracy"),
                          config=charts.PHONE_FRIENDLY, key="live_acc")
        right.plotly_chart(charts.learning_curves(epochs, current.config.epochs1, "loss"),
                           config=charts.PHONE_FRIENDLY, key="live_loss")


def _time_words(job: Job) -> str:
    """From what earlier trainings on this server took, and the queue ahead ("estimating…" until it can say)."""
    return time_left_words(time_until_result(job))


def _job_panel(current: Running) -> None:
    """The place in the queue while the training waits (every 3 s), then its progress bar (every second).

    One fragment for both states (the same function at the same place keeps its id): when a full rerun swapped one
    fragment for another, a timer tick in flight for the removed one could leave that page never updating again
    (two of 30 pages in the class bench)."""
    waiting = current.job.state.status == "waiting"
    st.fragment(run_every=WAITING_REFRESH_S if waiting else LIVE_REFRESH_S)(_job_view)(
        waiting, len(current.job.state.epochs))


def _job_view(drawn_waiting: bool, epochs_drawn: int) -> None:
    """Redraws only the queue place or the bar: 30 phones (and the server) do not re-render two charts every second.
    The whole page reruns when the training starts, when an epoch ends (new curves) and when it all ends."""
    current = running()
    if current is None:
        return
    waiting = current.job.state.status == "waiting"
    if current.finished or waiting != drawn_waiting or len(current.job.state.epochs) != epochs_drawn:
        st.rerun(scope="app")
    if waiting:
        st.info(queue_message(*_queue_place(current.job.state)) + f" Your result: {_time_words(current.job)}.")
        return
    progress = current.job.state.progress
    fraction = progress.fraction if progress else 0.0
    eta = f" · {_time_words(current.job)}"
    message = progress.message if progress else "Starting (loading TensorFlow and the base model)…"
    stopping = " · stopping…" if current.job.stopping else ""
    st.progress(min(1.0, fraction), text=f"{message}{eta}{stopping}")


def controls() -> None:
    """The Stop button and the live panel while a training runs; the error of one that failed."""
    current = running()
    if current is not None:
        if st.button("Stop", key="train_stop", help="Stops between batches and keeps what was trained so far "
                     "(inside a long step it stops within seconds and keeps nothing)."):
            current.job.stop()
        _job_panel(current)
        _epoch_charts(current)
    error = state.training_error()
    if error and current is None:
        st.error(f"Training failed: {error}")
