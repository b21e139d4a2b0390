"""Trainings of a shared server, each in its own worker process, through one queue.

The app uses the names below: ``start_training`` queues a job, ``runner()`` is the server's one scheduler
(``Runner``: the queue and its rules), ``store()`` its one ``Store`` and ``saved_runs`` a student's finished runs.
A backend (``LocalProcessBackend`` by default) runs ``core.classroom.runner.worker`` for each job.
"""

from core.utils.lazy import public_names

__getattr__, __dir__, __all__ = public_names(__name__, {
    "backend": ["Backend", "LocalProcessBackend", "WorkerHandle"],
    "results": ["ModelCache", "SavedResult", "result_from_summary"],
    "scheduler": ["AlreadyTraining", "Job", "JobState", "Runner"],
    "service": ["SERVER_JOBS", "delete_student", "prepare_workers", "runner", "saved_runs", "server_job", "server_result", "start_server_job",
                "start_training", "store", "time_until_result"],
    "time_estimate": ["time_left_words"],
})
