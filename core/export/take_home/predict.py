"""Classify a photo with the exported model: python predict.py photo.jpg [model.tflite | model_int8.tflite]"""
import sys
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter  # pip install ai-edge-litert pillow numpy (no TensorFlow)
from PIL import Image, ImageOps

here = Path(__file__).resolve().parent
labels = (here / "labels.txt").read_text(encoding="utf-8").splitlines()
interpreter = Interpreter(model_path=str(here / (sys.argv[2] if len(sys.argv) > 2 else "model.tflite")))
interpreter.allocate_tensors()
pixels, answer = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
size = int(pixels["shape"][1])  # squash (not crop) to the model's square, raw 0..255: preprocessing is inside
photo = ImageOps.exif_transpose(Image.open(sys.argv[1])).convert("RGB").resize((size, size), Image.BILINEAR)
interpreter.set_tensor(pixels["index"], np.asarray(photo, dtype=np.float32)[None])
interpreter.invoke()
p = interpreter.get_tensor(answer["index"])[0]
best, second = np.argsort(-p)[:2]
print(f"{labels[best]} {p[best]:.0%}" + ("" if p[best] >= 0.6 and p[best] - p[second] >= 0.2 else " (not sure)"))
