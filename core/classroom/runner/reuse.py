"""A training identical to a finished run gets that run's result and model file, without training again.

The scheduler asks ``identical_results`` when a job is submitted and whenever a job finishes (a twin that was
computing when this one was submitted waits in the queue for it instead of taking a worker). Each reused run is
the student's own row in the store, pointing to the same model file as the run it reuses (never a copy); the
store counts those pointers, so forgetting or deleting one student never deletes a file another still uses.
"""

from __future__ import annotations

from core.classroom.run_key import REUSED_NOTE
from core.classroom.runner.results import SavedResult, result_from_summary
from core.classroom.store import Store


def identical_results(job, data: Store) -> dict[str, SavedResult] | None:
    """``{recipe: result}`` saved for ``job.owner`` if every recipe of the job has a reusable run, else None."""
    keys = job.run_keys
    found = {recipe: data.reusable_run(key) for recipe, key in keys.items()}
    if not found or not all(found.values()):
        return None
    results = {}
    for recipe, earlier in found.items():
        summary = {**earlier["summary"], "notes": [*earlier["summary"].get("notes", []), REUSED_NOTE]}
        label = job.spec.get("labels", {}).get(recipe) or ""
        run_id = data.add_run(job.owner, label, earlier["kind"], summary, earlier["misclassified"],
                              earlier["model_path"], job.job_id, run_key=keys[recipe], reused_from=earlier["id"])
        results[recipe] = result_from_summary(summary, earlier["misclassified"], earlier["model_path"], run_id)
    return results
