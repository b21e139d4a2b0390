"""The code of a run: a complete, runnable Keras 3 script (and notebook) for a ``TrainConfig``.

The script does what the app does for those settings (the same head, the same two phases, the same 70/15/15
per-class split with the seed, the same augmentation, the base's own preprocessing) in the lesson's plain
style: every photo through the whole model on every epoch, ``model.fit``, in the lesson's Steps 1-8 (one
notebook cell each). Comments marked ``LESSON:`` point to where it differs from the lesson's Colab code, and why. It runs offline: photos from a folder of class
folders, ImageNet weights from Keras's cache (``$KERAS_HOME/models``, default ``~/.keras/models``; downloaded
once if missing), no tensorflow-datasets.

Plain Python: building the text imports no TensorFlow (the Train page shows it instantly).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from core.models.bases import base_spec, preprocessing_mode
from core.photos.datasets import TF_FLOWERS
from core.training.settings import SHEAR_FACTORS, AugmentConfig, TrainConfig

STEP_MARK = "# ── Step"  # each step starts a notebook cell
MOBILENET_V2_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
_MODULES = {  # keras.applications sub-module of each constructor (for preprocess_input)
    "MobileNetV2": "mobilenet_v2", "VGG16": "vgg16", "ResNet50": "resnet50", "EfficientNetB0": "efficientnet",
    "InceptionV3": "inception_v3", "MobileNetV3Small": "mobilenet_v3",
}


def default_data_dir(cfg: TrainConfig) -> str:
    """Where the script looks for photos unless told: the folder trained on, or ``flowers`` for tf_flowers."""
    if cfg.data != TF_FLOWERS and Path(cfg.data).suffix.lower() != ".zip":
        return cfg.data
    return "flowers" if cfg.data == TF_FLOWERS else Path(cfg.data).stem


STEP_TITLES = {  # the lesson's "Full Code" steps in its words (its Step 8 predicts five photos, as here)
    1: "Load dataset", 2: "Preprocess (resize and normalise)", 3: "Load {base} base (frozen)",
    4: "Add classification head", 5: "Phase 1 — Train the head only", 6: "Phase 2 — Fine-tune top layers of base model",
    7: "Evaluate on test set", 8: "Predict on a few test photos, and save the model",
}
HELPERS_MARK = "# ── Helpers: reading a folder of photos"
_TRAINED_ON = {"tf": "-1..1 pixels", "caffe": "BGR pixels minus ImageNet's mean pixel",
               "none": "raw 0..255 pixels (it rescales them itself)"}


def _step(n: int, cfg: TrainConfig) -> str:
    return f"{STEP_MARK} {n}: {STEP_TITLES[n].format(base=base_spec(cfg.base).name)} ──"


def differences(cfg: TrainConfig) -> list[str]:
    """Where this run's script differs from the lesson's Colab code, true for its preprocessing and augmentation."""
    spec = base_spec(cfg.base)
    mode = preprocessing_mode(spec, cfg.preprocessing)
    scaling = {
        "lesson": f"pixels are divided by 255 as in the lesson (this run's choice; {spec.name} was trained on "
                  f"{_TRAINED_ON[spec.preprocessing]}), inside the model, so the saved model takes raw photos;",
        "tf": f"pixels are scaled to -1..1, the way {spec.name} was trained, not divided by 255; inside the model, so "
              "the saved model takes raw photos;",
        "caffe": f"pixels become BGR minus ImageNet's mean pixel, the way {spec.name} was trained, not divided by "
                 "255; inside the model, so the saved model takes raw photos;",
        "none": f"raw 0..255 pixels go in, not divided by 255: {spec.name} rescales them inside itself;",
    }[mode]
    if cfg.augmenting:
        augment = ("augmentation uses Keras 3 preprocessing layers inside the model (ImageDataGenerator, in the "
                   "lesson's own-photos section, is deprecated);")
    else:
        augment = ("no augmentation in this run (the lesson's own-photos section adds it with ImageDataGenerator; "
                   "switch Augmentation on to get it as Keras 3 layers);")
    return ["photos come from a folder, not tensorflow_datasets, so it runs offline and on your own photos;",
            scaling, augment, "seeds are fixed, so a rerun on the same photos gives (nearly) the same numbers."]


def _header(cfg: TrainConfig, data_dir: str) -> str:
    spec = base_spec(cfg.base)
    settings = json.dumps({k: v for k, v in {
        "base": cfg.base, "image_size": cfg.image_size, "epochs1": cfg.epochs1, "epochs2": cfg.epochs2,
        "unfreeze": cfg.unfreeze, "lr1": cfg.lr1, "lr2": cfg.lr2, "batch_size": cfg.batch_size,
        "augment": cfg.augment, "preprocessing": cfg.preprocessing, "seed": cfg.seed}.items()})
    different = "\n".join(textwrap.fill(line, 112, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False)
                          for line in differences(cfg))
    return f'''"""The code of this run, written by Transfer Learning Lab: transfer learning with {spec.name} (Keras 3).

Run it:   python this_file.py PHOTOS_FOLDER
PHOTOS_FOLDER holds one folder of photos per class (flowers/daisy/*.jpg, flowers/roses/*.jpg, ...), or the
lesson's train/ val/ test/ folders of classes. Without it, the script uses DATA_DIR below.

ImageNet weights: Keras keeps them in $KERAS_HOME/models (default ~/.keras/models) and downloads them there
once if they are missing. Offline, copy {spec.weight_file}
into that folder first (or point KERAS_HOME at a folder whose models/ holds it).

Settings of the run: {settings}

The lesson's Steps 1-8 follow the helpers that read a folder of photos. Where this differs from the lesson's
Colab code (each place is marked LESSON: below):
{different}
"""
import hashlib
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's start-up chatter

import keras
import numpy as np
from keras import layers
from PIL import Image, ImageOps

DATA_DIR = {data_dir!r}
if __name__ == "__main__" and len(sys.argv) > 1 and not sys.argv[1].startswith("-"):  # not Jupyter's -f
    DATA_DIR = sys.argv[1]
IMG_SIZE = {cfg.image_size}  # LESSON: 224; smaller photos train faster on a CPU
BATCH_SIZE = {cfg.batch_size}
EPOCHS_1 = {cfg.epochs1}  # phase 1: the new head only (lesson: 5)
EPOCHS_2 = {cfg.epochs2}  # phase 2: fine-tuning (lesson: 10)
UNFREEZE = {cfg.unfreeze}  # top base layers unfrozen in phase 2 (lesson: 30)
LR_1 = {cfg.lr1:g}  # lesson: optimizer='adam', whose default is 1e-3
LR_2 = {cfg.lr2:g}  # lesson: 1e-5
SEED = {cfg.seed}
keras.utils.set_random_seed(SEED)
'''


def _helpers() -> str:
    return f'''{HELPERS_MARK} (not in the lesson: Steps 1 and 2 below use them) ──
SUFFIXES = {{".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}}


def hidden(path):
    return any(p.startswith(".") or p.lower() == "__macosx" for p in path.parts) or path.name.lower() in (
        "thumbs.db", "desktop.ini")


def class_folders(folder):
    return sorted(p for p in folder.iterdir() if p.is_dir() and not hidden(p.relative_to(folder)))


def photos_by_class(folder, seen):
    classes = {{}}
    for class_dir in class_folders(folder):
        kept = []
        for path in sorted(class_dir.rglob("*")):
            if path.is_dir() or path.is_symlink() or hidden(path.relative_to(folder)):
                continue
            if path.suffix.lower() in SUFFIXES:
                digest = hashlib.sha1(path.read_bytes()).hexdigest()
                if digest not in seen:  # keep the first copy of a photo
                    seen[digest] = path
                    kept.append(path)
        classes[class_dir.name] = kept
    return classes


def split_per_class(by_class, seed):
    splits = {{"train": {{}}, "val": {{}}, "test": {{}}}}
    for name, photos in by_class.items():
        shuffled = sorted(photos)
        random.Random(f"{{seed}}:{{name}}").shuffle(shuffled)
        n = len(shuffled)
        n_train, n_val = round(n * 0.70), round(n * 0.15)
        if n >= 3:  # every split gets at least one photo of every class when it can
            n_train = min(max(n_train, 1), n - 2)
            n_val = min(max(n_val, 1), n - n_train - 1)
        splits["train"][name] = shuffled[:n_train]
        splits["val"][name] = shuffled[n_train:n_train + n_val]
        splits["test"][name] = shuffled[n_train + n_val:]
    return splits


def load_photo(path):
    """Upright RGB, squashed to IMG_SIZE x IMG_SIZE, 0..255 (as the app and image_dataset_from_directory do)."""
    with Image.open(path) as image:
        if image.format == "JPEG":
            image.draft("RGB", (IMG_SIZE, IMG_SIZE))  # decode big JPEGs at a reduced size: faster, same as the app
        image.load()
        image = ImageOps.exif_transpose(image).convert("RGB")
    return np.asarray(image.resize((IMG_SIZE, IMG_SIZE), Image.BILINEAR), dtype=np.uint8)


def load_split(per_class, class_names):
    images, labels = [], []
    for label, name in enumerate(class_names):
        for path in per_class.get(name, []):
            try:
                images.append(load_photo(path))
                labels.append(label)
            except OSError as problem:  # a damaged file is left out, not a crash
                print(f"skipped {{path}}: {{problem}}")
    return np.stack(images), np.array(labels)
'''


def _load_step(cfg: TrainConfig) -> str:
    return f'''{_step(1, cfg)}
# LESSON: tfds.load('tf_flowers', split=['train[:70%]', 'train[70%:85%]', 'train[85%:]']) needs the internet and
# cuts tf_flowers' own order. Here, as in the app, every class is shuffled with the seed and cut 70/15/15, so
# each split holds every class in proportion. Identical files count once (a photo in train and test would
# flatter the test score).
root = Path(DATA_DIR).expanduser().resolve()
folders = {{p.name.lower(): p for p in class_folders(root)}}
seen = {{}}
if {{"train", "val", "test"}} <= set(folders):  # the lesson's my_dataset/train, val, test layout
    splits = {{s: photos_by_class(folders[s], seen) for s in ("train", "val", "test")}}
else:
    splits = split_per_class(photos_by_class(root, seen), SEED)
class_names = sorted(set().union(*(splits[s] for s in splits)))
NUM_CLASSES = len(class_names)
print(f"Classes: {{class_names}}")
'''


def _resize_step(cfg: TrainConfig) -> str:
    return f'''{_step(2, cfg)}
# Every photo squashed to IMG_SIZE x IMG_SIZE, 0..255 (load_photo, in the helpers). LESSON: / 255.0 here, in the
# data pipeline; this script scales the pixels inside the model (Step 4), so the saved model takes raw photos.
(x_train, y_train), (x_val, y_val), (x_test, y_test) = (
    load_split(splits[s], class_names) for s in ("train", "val", "test"))
print(f"{{IMG_SIZE}} x {{IMG_SIZE}} px; photos: {{len(y_train)}} train, {{len(y_val)}} val, {{len(y_test)}} test")
'''


def _augment_lines(ops: AugmentConfig, seed_expr: str = "SEED") -> list[str]:
    shear = SHEAR_FACTORS[ops.shear_amount]
    lines = []
    if ops.rotation:
        lines.append(f'    layers.RandomRotation(20 / 360, fill_mode="nearest", seed={seed_expr}),'
                     "  # rotation_range=20: ±20° (the factor is a fraction of a full turn)")
    if ops.flip:
        lines.append(f'    layers.RandomFlip("horizontal", seed={seed_expr} + 1),  # horizontal_flip=True')
    if ops.zoom:
        lines.append(f'    layers.RandomZoom(0.2, fill_mode="nearest", seed={seed_expr} + 2),  # zoom_range=0.2')
    if ops.shear:
        if shear < 0.01:
            lines.append("    # The lesson's shear_range=0.1 exactly: 0.1 DEGREES in ImageDataGenerator, tan(0.1°) here, too small to see")
        else:
            lines.append("    # A visible shear, up to 10% of the image (about 5.7°). LESSON: its shear_range=0.1 is 0.1 DEGREES")
        lines.append(f'    layers.RandomShear(x_factor={shear:g}, y_factor={shear:g}, fill_mode="nearest", seed={seed_expr} + 3),')
    return lines


def _preprocess_line(cfg: TrainConfig) -> str:
    """The scaling line of the model, with a comment line above it saying why."""
    spec = base_spec(cfg.base)
    mode = preprocessing_mode(spec, cfg.preprocessing)
    module = _MODULES[spec.constructor]
    if mode == "lesson":
        return (f"# LESSON's / 255.0 (0..1), as chosen on the Train page: {spec.name} was trained on -1..1 pixels,\n"
                "# so its features fit these photos worse. Try Rescaling(1 / 127.5, offset=-1) instead.\n"
                "x = layers.Rescaling(1 / 255)(x)")
    if mode == "tf":
        return (f"# = keras.applications.{module}.preprocess_input: 0..255 to -1..1, what {spec.name} was trained on.\n"
                "# LESSON: / 255.0 gives 0..1, half the range the pretrained filters expect.\n"
                "x = layers.Rescaling(1 / 127.5, offset=-1)(x)")
    if mode == "caffe":
        return (f"# = keras.applications.{module}.preprocess_input: minus ImageNet's mean pixel, RGB to BGR, what\n"
                f"# {spec.name} was trained on. LESSON: / 255.0. Keras's own layers (not a Lambda), so Keras opens the\n"
                "# saved model anywhere in its safe mode.\n"
                "x = layers.Rescaling(1.0, offset=[-123.68, -116.779, -103.939])(x)\n"
                "x = layers.Dense(3, use_bias=False, trainable=False, name=\"rgb_to_bgr\",\n"
                "                 kernel_initializer=keras.initializers.Constant(np.eye(3)[::-1]))(x)")
    return f"# (no scaling here: {spec.name} rescales raw 0..255 pixels inside the model)"


def _weights_line(cfg: TrainConfig) -> str:
    spec = base_spec(cfg.base)
    if spec.constructor == "MobileNetV2" and cfg.image_size != 224:
        return (f'    weights=keras.utils.get_file(  # the 224 px ImageNet weights in $KERAS_HOME/models, as the app uses\n'
                f'        "{spec.weight_file}",\n'
                f'        "{MOBILENET_V2_WEIGHTS}{spec.weight_file}", cache_subdir="models"),\n')
    return "    weights=\"imagenet\",  # from $KERAS_HOME/models (downloaded once if missing)\n"


def _base_step(cfg: TrainConfig) -> str:
    spec = base_spec(cfg.base)
    extra = "".join(f", {k}={v!r}" for k, v in spec.kwargs.items())
    return f'''{_step(3, cfg)}
base_model = keras.applications.{spec.constructor}(
    input_shape=(IMG_SIZE, IMG_SIZE, 3),
    include_top=False,  # remove the ImageNet classification head (1000 classes)
{_weights_line(cfg)}{extra and f"   {extra[1:]},{chr(10)}"})
base_model.trainable = False  # FREEZE: don't retrain these layers in phase 1
print(f"Base model parameters: {{base_model.count_params():,}}")
'''


def _head_step(cfg: TrainConfig) -> str:
    aug = _augment_lines(cfg.augment_ops) if cfg.augmenting else []
    augment = ""
    if aug:
        augment = ("# LESSON: ImageDataGenerator(rotation_range=20, horizontal_flip=True, zoom_range=0.2, shear_range=0.1)\n"
                   "# is deprecated (Keras 3 has no such class; TensorFlow still offers it as tf.keras.preprocessing.image);\n"
                   "# these layers do the same inside the model, on training photos only.\n"
                   "# The app itself makes a few augmented copies of each photo once and reuses them (faster on a CPU);\n"
                   "# here every epoch draws new ones, as the lesson does.\n"
                   "augment = keras.Sequential([\n" + "\n".join(aug) + '\n], name="augment")\n\n')
    first = ("augment(inputs)  # only while training: Keras switches these layers off to evaluate and predict"
             if aug else "inputs")
    return f'''{_step(4, cfg)}
{augment}inputs = keras.Input(shape=(IMG_SIZE, IMG_SIZE, 3))  # raw pixels, 0..255
x = {first}
{_preprocess_line(cfg)}
x = base_model(x, training=False)  # BatchNorm stays in inference mode, even when fine-tuning
x = layers.GlobalAveragePooling2D()(x)  # feature maps -> one vector
x = layers.Dense({cfg.head_units}, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(SEED))(x)
x = layers.Dropout({cfg.dropout:g}, seed=SEED)(x)
outputs = layers.Dense(NUM_CLASSES, activation="softmax",
                       kernel_initializer=keras.initializers.GlorotUniform(SEED + 1))(x)
model = keras.Model(inputs, outputs)


def compile_with(learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])


compile_with(LR_1)
head = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
# LESSON: "only a few thousand parameters"; Dense({cfg.head_units}) alone has (features x {cfg.head_units}) weights
print(f"Trainable parameters (the new head): {{head:,}}")
'''


def _fine_tuning(cfg: TrainConfig) -> bool:
    return cfg.epochs2 > 0 and cfg.unfreeze > 0


def _phase1_step(cfg: TrainConfig) -> str:
    return f'''{_step(5, cfg)}
print("\\nPhase 1: training the classification head...")
history1 = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS_1, validation_data=(x_val, y_val),
                     shuffle=True, verbose=2)
test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=64, verbose=0)  # as the app shows it (Step 7 again)
print(f"Test accuracy after phase 1: {{test_acc:.2%}}")
'''


def _phase2_step(cfg: TrainConfig) -> str:
    if not _fine_tuning(cfg):
        return (f"{_step(6, cfg)}\n"
                "# No phase 2 in this run: 0 epochs or 0 layers to unfreeze. LESSON: base_model.layers[:-0] would\n"
                "# unfreeze every layer, so the app skips the slice when the depth is 0.\n")
    return f'''{_step(6, cfg)}
base_model.trainable = True
for layer in base_model.layers[:-UNFREEZE]:
    layer.trainable = False
compile_with(LR_2)  # recompile with a much lower learning rate: small steps nudge the pretrained features
print(f"\\nPhase 2: fine-tuning the top {{UNFREEZE}} layers...")
history2 = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS_1 + EPOCHS_2, initial_epoch=EPOCHS_1,
                     validation_data=(x_val, y_val), shuffle=True, verbose=2)
'''


def _evaluate_step(cfg: TrainConfig) -> str:
    when = "after fine-tuning" if _fine_tuning(cfg) else "(head only, no phase 2)"
    return f'''{_step(7, cfg)}
test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=64, verbose=0)
print(f"\\nTest accuracy {when}: {{test_acc:.2%}}")
'''


def _predict_step(cfg: TrainConfig) -> str:
    return f'''{_step(8, cfg)}
probabilities = model.predict(x_test[:5], verbose=0)
for p, actual in zip(probabilities, y_test[:5]):
    print(f"Predicted: {{class_names[int(np.argmax(p))]:15s}}  Actual: {{class_names[int(actual)]}}")
model.save("model.keras")  # raw photos in, probabilities out: keras.saving.load_model("model.keras") opens it
print("Saved model.keras")
'''


def sections(cfg: TrainConfig, data_dir: str | None = None) -> list[str]:
    """The script in parts: the header, the photo-reading helpers, then the lesson's Steps 1-8, one part each."""
    cfg.validate()
    steps = [_load_step, _resize_step, _base_step, _head_step, _phase1_step, _phase2_step, _evaluate_step,
             _predict_step]
    return [_header(cfg, data_dir or default_data_dir(cfg)), _helpers(), *(step(cfg) for step in steps)]


def _check_written(cfg: TrainConfig) -> None:
    """The script covers the lesson's choices; the options beyond it (CLI only) are not written out."""
    beyond = [name for name, on in (("--label-smoothing", cfg.label_smoothing), ("--lr-schedule cosine",
              cfg.lr_schedule != "constant"), ("--head-lr-factor", cfg.head_lr_factor != 1)) if on]
    if beyond:
        raise ValueError(f"the code export covers the lesson's settings; {', '.join(beyond)} cannot be written "
                         "into it yet: leave them out to get the code")


def emit_script(cfg: TrainConfig, data_dir: str | None = None) -> str:
    """The complete, runnable Keras 3 script for ``cfg`` (``data_dir``: the default photo folder in it)."""
    _check_written(cfg)
    return "\n\n".join(part.rstrip("\n") for part in sections(cfg, data_dir)) + "\n"


def emit_notebook(cfg: TrainConfig, data_dir: str | None = None) -> bytes:
    """The same code as a Jupyter notebook (``.ipynb``): a title, the settings cell, the photo-reading helpers
    (folded away in Colab and JupyterLab: run them, read them if you like), then one cell per lesson step."""
    import nbformat  # only when a notebook is asked for

    _check_written(cfg)
    header, helpers, *steps = [part.rstrip("\n") for part in sections(cfg, data_dir)]
    title = (f"# The code of this run ({base_spec(cfg.base).name}, {cfg.image_size} px)\n\n"
             "Written by Transfer Learning Lab. Set `DATA_DIR` in the first cell to your folder of class folders, "
             "then run the cells in order: the settings, the helpers that read your photos (folded: not part of "
             "the lesson), then the lesson's Steps 1-8, one cell each. Comments marked `LESSON:` say where this "
             "differs from the lesson's code.")
    folded = nbformat.v4.new_code_cell(f"#@title Helpers: reading a folder of photos (not in the lesson)\n{helpers}")
    folded.metadata.update({"cellView": "form", "jupyter": {"source_hidden": True}})  # Colab, JupyterLab
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(title), nbformat.v4.new_code_cell(header), folded,
                      *(nbformat.v4.new_code_cell(step) for step in steps)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.validate(notebook)
    return nbformat.writes(notebook).encode("utf-8")


def control_lines(cfg: TrainConfig) -> list[dict[str, str]]:
    """Each Train-page control, the line of the lesson's Colab code it changes, and its line in this script."""
    spec = base_spec(cfg.base)
    mode = preprocessing_mode(spec, cfg.preprocessing)
    scaling = {"lesson": "Rescaling(1 / 255)", "tf": "Rescaling(1 / 127.5, offset=-1)",
               "caffe": f"Rescaling(1.0, offset=-mean) + rgb_to_bgr (= {_MODULES[spec.constructor]}.preprocess_input)"}.get(mode, "inside the model")
    ops = cfg.augment_ops
    augmentation = ", ".join(name for name, on in (("rotate", ops.rotation), ("flip", ops.flip), ("zoom", ops.zoom),
                                                    (f"shear ({ops.shear_amount})", ops.shear)) if on)
    rows = [
        ("Base model", "MobileNetV2(input_shape=..., include_top=False, weights='imagenet')",
         f"keras.applications.{spec.constructor}(...)"),
        ("Image size", "IMG_SIZE = 224", f"IMG_SIZE = {cfg.image_size}"),
        ("Phase 1 epochs", "model.fit(ds_train, epochs=5, ...)", f"EPOCHS_1 = {cfg.epochs1}"),
        ("Phase 1 learning rate", "optimizer='adam' (Adam's default, 1e-3)", f"LR_1 = {cfg.lr1:g}"),
        ("Unfreeze depth", "for layer in base_model.layers[:-30]: layer.trainable = False",
         f"UNFREEZE = {cfg.unfreeze}"),
        ("Phase 2 epochs", "model.fit(ds_train, epochs=10, ...)", f"EPOCHS_2 = {cfg.epochs2}"),
        ("Phase 2 learning rate", "keras.optimizers.Adam(learning_rate=1e-5)", f"LR_2 = {cfg.lr2:g}"),
        ("Batch size", "BATCH_SIZE = 32", f"BATCH_SIZE = {cfg.batch_size}"),
        ("Preprocessing", "image = tf.cast(image, tf.float32) / 255.0", scaling),
        ("Augmentation", "ImageDataGenerator(rotation_range=20, horizontal_flip=True, zoom_range=0.2, "
                         "shear_range=0.1)", f"augment = keras.Sequential([...]): {augmentation}"
         if cfg.augmenting else "off"),
        ("Seed", "(none: every Colab run differs)", f"SEED = {cfg.seed}"),
    ]
    return [{"Control": c, "The lesson's line": lesson, "This run": here} for c, lesson, here in rows]
