"""Trainings of a shared server, each in its own worker process, through one queue.

``core.classroom.runner.service`` is what the app uses (``start_training``, ``runner()``, ``store()``); the scheduler
(``Runner``) keeps the queue and its rules; a backend (``LocalProcessBackend`` today, a cluster later) runs
``core.classroom.runner.worker``, which trains through ``core.engine`` and nothing else.
"""

from core.classroom.runner.backend import Backend, LocalProcessBackend, WorkerHandle
from core.classroom.runner.results import ModelCache, SavedResult, result_from_summary
from core.classroom.runner.scheduler import AlreadyTraining, Job, JobState, Runner

__all__ = ["AlreadyTraining", "Backend", "Job", "JobState", "LocalProcessBackend", "ModelCache", "Runner",
           "SavedResult", "WorkerHandle", "result_from_summary"]
