"""A real (tiny) training through the classroom service: a worker process trains through core.training, the model
comes back through the student's folder, and a restarted server still has the run and its model."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from core.classroom.runner import SavedResult, service
from core.training import TrainConfig


@pytest.mark.slow
def test_a_tiny_training_in_a_worker_persists_across_a_restart(tmp_path, small_flowers):
    service.reset_for_tests(tmp_path / "data")
    try:
        sam, _, token = service.store().join("Sam")
        cfg = TrainConfig(data=str(small_flowers), image_size=96, epochs1=1, epochs2=0, batch_size=8, seed=3)
        job = service.start_training(sam.id, sam.nickname, "train", cfg, ("transfer",), labels={"transfer": "tiny"})
        assert job.spec["data"] != str(small_flowers)  # the worker reads its own snapshot of the photos...
        shutil.rmtree(small_flowers)  # ...so a new upload replacing the folder cannot break it
        assert job.wait(300), "the training did not finish"
        assert job.state.status == "done", job.state.error
        assert [e.epoch for e in job.state.epochs] == [1] and job.state.progress is not None
        result = job.state.result["transfer"]
        assert isinstance(result, SavedResult) and result.run_id is not None
        assert str(tmp_path / "data" / "students" / sam.id) in result.model_path
        assert not (tmp_path / "data" / "snapshots").exists() or not any((tmp_path / "data" / "snapshots").iterdir())

        service.reset_for_tests(tmp_path / "data")  # a server restart
        assert service.store().student_for_token(token) == sam
        [(row, restored)] = service.saved_runs(sam.id)
        assert row["label"] == "tiny" and restored.test["accuracy"] == result.test["accuracy"]
        assert restored.history[0].loss == pytest.approx(result.history[0].loss)
        probabilities = restored.model.predict_on_batch(np.zeros((1, 96, 96, 3), "float32"))
        assert probabilities.shape == (1, 3)
    finally:
        service.reset_for_tests()
