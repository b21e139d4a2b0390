"""Job control for the Train page, in one module: start a training, show its queue place or progress with
live curves, stop it, and hand its results on when it ends.

Everything that knows *how* trainings run (today ``core.jobs.TrainingJob``, a thread per training) is here,
so switching to worker processes changes this file only. A job runs one or more recipes on one
``TrainConfig``: ``"transfer"`` (``core.engine.train``) and ``"scratch"`` (``train_from_scratch``); its
results come back as ``{recipe: TrainResult}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import streamlit as st

from core import engine
from core.engine import TrainConfig, TrainResult
from core.jobs import TrainingJob
from ui import charts, state

RECIPES = {"transfer": engine.train, "scratch": engine.train_from_scratch}


@dataclass
class Running:
    """A started training, as the page remembers it."""

    job: TrainingJob
    kind: str  # what the student asked for: "train", "high_lr", "kiran"…
    config: TrainConfig
    recipes: tuple[str, ...]

    @property
    def finished(self) -> bool:
        return self.job.finished


def start(kind: str, cfg: TrainConfig, recipes: tuple[str, ...] = ("transfer",)) -> None:
    """Start ``recipes`` on ``cfg`` in the background (or in the queue when the computer is busy)."""

    def work(on_epoch, on_progress, should_stop) -> dict[str, TrainResult]:
        callbacks = engine.Callbacks(on_epoch=on_epoch, on_progress=on_progress, should_stop=should_stop)
        return {recipe: RECIPES[recipe](cfg, callbacks) for recipe in recipes}

    state.set_training_error(None)
    state.set_training_job(Running(TrainingJob(work, kind).start(), kind, cfg, recipes))
    st.rerun()  # draw the page again with the buttons disabled and the live view


def running() -> Running | None:
    return state.training_job()


def collect(on_finished: Callable[[str, dict[str, TrainResult]], None]) -> None:
    """If the job has ended, forget it and pass its results to ``on_finished(kind, results)`` (once), or keep
    its error for ``show_error``."""
    current = running()
    if current is None or not current.finished:
        return
    state.set_training_job(None)
    job_state = current.job.state
    if job_state.status == "failed":
        state.set_training_error(job_state.error)
    else:
        on_finished(current.kind, job_state.result)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def queue_message(place: int, running_now: int | None) -> str:
    """What a waiting student reads: their place in the queue and, if known, how many trainings are running."""
    ahead = f"{_count(place - 1, 'training')} ahead of yours" if place > 1 else "yours is next"
    busy = "" if running_now is None else f"; {_count(running_now, 'training')} running on this computer"
    return f"Waiting for a free spot: you are number {place} in the queue ({ahead}){busy}."


def _queue_place(job_state) -> tuple[int, int | None]:
    """(place in the queue, trainings running now). A job state that keeps them up to date has ``queue_place``
    and ``running``; ``core.jobs.JobState`` only knows how many were waiting when it joined the queue."""
    place = getattr(job_state, "queue_place", None)
    return (place if place is not None else job_state.waiting_for + 1), getattr(job_state, "running", None)


def _live_view(current: Running) -> None:
    job_state = current.job.state
    if job_state.status == "waiting":
        st.info(queue_message(*_queue_place(job_state)))
        return
    progress = job_state.progress
    fraction = progress.fraction if progress else 0.0
    eta = f" · about {progress.eta_seconds:.0f} s left" if progress and progress.eta_seconds is not None else ""
    message = progress.message if progress else "Starting (loading TensorFlow and the base model)…"
    stopping = " · stopping…" if current.job.stopping else ""
    st.progress(min(1.0, fraction), text=f"{message}{eta}{stopping}")
    if job_state.epochs:
        epochs = [asdict(e) for e in job_state.epochs]
        left, right = st.columns(2)
        left.plotly_chart(charts.learning_curves(epochs, current.config.epochs1, "accuracy"),
                          config=charts.PHONE_FRIENDLY, key="live_acc")
        right.plotly_chart(charts.learning_curves(epochs, current.config.epochs1, "loss"),
                           config=charts.PHONE_FRIENDLY, key="live_loss")


@st.fragment(run_every=1.0)
def _live_panel() -> None:
    """Redrawn every second on its own; the whole page reruns once when the training ends."""
    current = running()
    if current is None:
        return
    if current.finished:
        st.rerun(scope="app")
    _live_view(current)


def controls() -> None:
    """The Stop button and the live panel while a training runs; the error of one that failed."""
    current = running()
    if current is not None:
        if st.button("Stop", key="train_stop", help="Stops between batches and keeps what was trained so far."):
            current.job.stop()
        _live_panel()
    error = state.training_error()
    if error and current is None:
        st.error(f"Training failed: {error}")
