"""The process that runs uploaded models (``python -m core.inference.model_worker``), under a memory limit.

One request a line on stdin, one answer a line on stdout (JSON; photos and heatmaps as base64 of float32 /
uint8 bytes). A model whose run needs more memory than ``RLIMIT_AS`` allows fails here, in this process: the
server and every other student carry on. Started by ``core.inference.isolated_model``.
"""

from __future__ import annotations

import base64
import json
import sys
from collections import OrderedDict

import numpy as np

from core.inference.explain import CannotExplain, grad_cam
from core.inference.model_file import ModelFileProblem, load_checked

MODELS_KEPT = 2  # the last uploaded models used, ready for the next photo


def _array(payload: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(payload["data"]), dtype=payload["dtype"]).reshape(payload["shape"])


def _payload(array: np.ndarray) -> dict:
    array = np.ascontiguousarray(array)
    return {"data": base64.b64encode(array.tobytes()).decode(), "dtype": str(array.dtype), "shape": list(array.shape)}


def serve(lines, out) -> None:
    models: OrderedDict[str, object] = OrderedDict()
    for line in lines:
        request = json.loads(line)
        try:
            path = request["path"]
            if path not in models:
                models[path] = load_checked(path, request.get("name"))[0]
                while len(models) > MODELS_KEPT:
                    models.popitem(last=False)
            models.move_to_end(path)
            model = models[path]
            image = _array(request["image"])
            if request["do"] == "predict":
                answer = {"ok": _payload(np.asarray(model.predict_on_batch(image), dtype=np.float32))}
            else:
                answer = {"ok": _payload(grad_cam(model, image, request.get("class_index")))}
        except CannotExplain as refused:
            answer = {"cannot_explain": str(refused)}
        except ModelFileProblem as problem:
            answer = {"problem": str(problem)}
        except MemoryError:
            answer = {"memory": True}
        except Exception as error:  # noqa: BLE001 - reported to the server, which words it for the student
            if type(error).__name__ == "ResourceExhaustedError":  # TensorFlow's own out-of-memory
                answer = {"memory": True}
            else:  # the type only: TensorFlow's messages carry server paths and tracebacks
                answer = {"error": type(error).__name__}
            print(f"uploaded model failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    import os

    from core.utils import paths

    answers = os.fdopen(os.dup(1), "w")  # the answers' own pipe: whatever a library prints goes to stderr
    os.dup2(2, 1)
    paths.quiet_tensorflow_logs()
    serve(sys.stdin, answers)
