"""The Train page's settings form: widgets in, one ``TrainConfig`` out (the UI returns plain inputs).

Each setting lives once, in its own widget (``persist_state="session"`` keeps it when the student visits
another page and comes back). Epochs, unfreeze depth and both learning rates are sliders a thumb can move
on a phone: few, evenly spaced stops, and learning rates on a log scale (1-2-5 steps from 1e-6 to 1e-2).
"""

from __future__ import annotations

from dataclasses import asdict, replace

import streamlit as st

from core.models import BASES, IMAGE_SIZES, unfreeze_counts, weights_available
from core.training import AugmentConfig, TrainConfig, preview_augmentations
from ui import lesson_panels

DEFAULTS = TrainConfig()
LEARNING_RATES = [float(f"{m}e{e}") for e in range(-6, -2) for m in (1, 2, 5)] + [1e-2]  # 1e-6 … 1e-2, log scale
EPOCHS_MAX = 30
UNFREEZE_STOPS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 35, 40, 50, 60, 70, 80, 90, 100, 120, 140]
BATCH_SIZES = [8, 16, 32, 64]
PREPROCESSING = {"model": "Correct: the base's own (pixels to −1…1)", "lesson": "The lesson's: divide by 255 (0…1)"}
AUGMENT_OPS = {"rotation": "rotate ±20°", "flip": "flip", "zoom": "zoom ±20%", "shear": "shear"}
KEEP = {"persist_state": "session"}  # a setting survives a trip to another page
# Where the pointer is a finger: thumbs of 28 px (the thumb is the element that holds the slider's hidden
# <input type=range>), and room above them so the value shown over the thumb clears the label.
THUMB_CSS = """<style>
@media (pointer: coarse) {
  .st-key-train_settings [data-testid="stSlider"] div:has(> div > input[type="range"]) {
    width: 28px !important; height: 28px !important;
  }
  .st-key-train_settings [data-testid="stSlider"] [role="group"] { padding-top: 14px; }  /* room for the value */
}
</style>"""


def learning_rate_text(value: float) -> str:
    """1e-05 -> "1e-5": short enough to sit above a thumb on a phone."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def unfreeze_stops(layers_total: int) -> list[int]:
    return [k for k in UNFREEZE_STOPS if k < layers_total] + [layers_total]


def seed() -> int:
    """The seed the form holds (the photos' split depends on it, so the photos section reads it first)."""
    return int(st.session_state.get("train_seed", DEFAULTS.seed))


@st.cache_data(show_spinner=False)
def _unfreeze_counts(base_key: str, k: int) -> dict:
    return unfreeze_counts(base_key, k)


@st.cache_data(show_spinner="Making augmented copies…", max_entries=16)  # 6 photos each: bounded per server
def _augmentation_preview(photo: str, ops: tuple, size: int) -> list:
    return list(preview_augmentations(photo, AugmentConfig(*ops), size, n=6))


def _usable_bases() -> list[str]:
    usable = [key for key in BASES if weights_available(key)]
    missing = [BASES[key].name for key in BASES if key not in usable]
    if not usable:
        st.error("No pretrained ImageNet weights are on this computer, so transfer learning cannot run. "
                 "Ask your teacher to set TLL_OFFLINE_BUNDLE (see README) or connect to the internet.")
        st.stop()
    if missing:
        st.caption(f"No pretrained weights here for {', '.join(missing)}: compare them on the Compare page.")
    return usable


def _epochs(label: str, key: str, default: int, help: str) -> int:
    return st.slider(label, 0, EPOCHS_MAX, default, key=key, help=help, **KEEP)


def _learning_rate(label: str, key: str, default: float, help: str) -> float:
    return st.select_slider(label, LEARNING_RATES, value=default, key=key, format_func=learning_rate_text,
                            help=help, **KEEP)


def _unfreeze(base_key: str) -> int:
    """The unfreeze-depth slider, with the trainable parameter count under it (it follows the thumb)."""
    layers_total = _unfreeze_counts(base_key, 0)["layers_total"]
    stops = unfreeze_stops(layers_total)
    chosen = st.session_state.get("train_unfreeze")
    start = {"value": min(stops, key=lambda s: abs(s - DEFAULTS.unfreeze))}
    if chosen is not None and chosen not in stops:  # another base has other stops: take the nearest
        st.session_state["train_unfreeze"] = min(stops, key=lambda k: abs(k - chosen))
        start = {}  # the value just set wins (a default as well would be a warning on the page)
    k = st.select_slider(f"Unfreeze the top K of {layers_total} base layers (0 = no fine-tuning)", stops,
                         key="train_unfreeze", **start,
                         help="Phase 2 trains these layers of the base (and the head) at the phase-2 learning rate.",
                         **KEEP)
    counts = _unfreeze_counts(base_key, int(k))
    st.caption(f"Trainable in the base: **{counts['params_trainable']:,}** of {counts['params_total']:,} "
               f"parameters ({counts['params_trainable'] / counts['params_total']:.0%}); the head is always trainable.")
    return int(k)


def _augmentation(data_spec: str | None, sample_photo, image_size: int) -> tuple[bool, AugmentConfig]:
    augment = st.toggle("Augment the training photos (rotate, flip, zoom, shear)", value=DEFAULTS.augment,
                        key="train_augment", **KEEP)
    if not augment:
        return False, DEFAULTS.augment_ops
    cols = st.columns(len(AUGMENT_OPS))
    ops = AugmentConfig(**{name: col.checkbox(label, getattr(DEFAULTS.augment_ops, name), key=f"train_aug_{name}",
                                              **KEEP)
                           for col, (name, label) in zip(cols, AUGMENT_OPS.items())})
    ops = replace(ops, shear_amount=lesson_panels.shear_choice(ops.shear))  # which shear "shear" means
    st.caption(f"Each training photo gets {DEFAULTS.aug_views} augmented copies, made once and reused "
               "(so fine-tuning stays fast). Validation and test photos are never augmented.")
    if ops.any() and data_spec and st.toggle("Show one photo augmented 6 ways", key="train_aug_preview"):
        photo = sample_photo(data_spec)
        previews = _augmentation_preview(photo, tuple(asdict(ops).values()), image_size)
        st.image(previews, width=110, alt=[f"The same photo, augmented copy {i + 1}" for i in range(len(previews))])
    return True, ops


FOLLOWED_KEY = "train_settings_followed_run"


def follow_run(cfg: TrainConfig | None) -> None:
    """A new session (a refresh, a reconnect) starts the form at the running (or last) run's settings, not at
    the heavy defaults: the next tap on Train then means what the student last chose. Once per session."""
    if st.session_state.get(FOLLOWED_KEY):
        return
    st.session_state[FOLLOWED_KEY] = True  # even with no run yet: a run finished later must not reset the form
    if cfg is None:
        return
    values = {
        "train_base": cfg.base, "train_image_size": cfg.image_size, "train_epochs1": min(cfg.epochs1, EPOCHS_MAX),
        "train_epochs2": min(cfg.epochs2, EPOCHS_MAX), "train_unfreeze": cfg.unfreeze, "train_seed": cfg.seed,
        "train_preprocessing": cfg.preprocessing, "train_augment": cfg.augment,
        "train_lr1": min(LEARNING_RATES, key=lambda lr: abs(lr - cfg.lr1)),
        "train_lr2": min(LEARNING_RATES, key=lambda lr: abs(lr - cfg.lr2)),
        **({"train_batch_size": cfg.batch_size} if cfg.batch_size in BATCH_SIZES else {}),
        **{f"train_aug_{name}": getattr(cfg.augment_ops, name) for name in AUGMENT_OPS},
    }
    if cfg.image_size not in IMAGE_SIZES:
        values.pop("train_image_size")
    for key, value in values.items():
        st.session_state[key] = value


def settings_form(data_spec: str | None, sample_photo) -> TrainConfig:
    """The settings, as the ``TrainConfig`` a run will use (``data`` = ``data_spec`` or the flowers).

    ``sample_photo(spec)`` gives one photo of the chosen data, for the augmentation preview."""
    usable = _usable_bases()
    st.html(THUMB_CSS)
    with st.container(key="train_settings"):
        left, right = st.columns(2)
        with left:
            base_key = st.selectbox("Base model", usable, format_func=lambda k: BASES[k].name,
                                    key="train_base", **KEEP)
            image_size = st.selectbox("Image size (pixels)", IMAGE_SIZES,
                                      index=IMAGE_SIZES.index(DEFAULTS.image_size), key="train_image_size",
                                      help="Smaller photos train faster; 224 is what the base was trained on.", **KEEP)
            epochs1 = _epochs("Phase 1 epochs (head only)", "train_epochs1", DEFAULTS.epochs1,
                              "Passes over the training photos with the base frozen: only the new head learns.")
            lr1 = _learning_rate("Phase 1 learning rate (log scale)", "train_lr1", DEFAULTS.lr1,
                                 "How big a step the head takes after each batch. Each stop is about 2× the last.")
            batch_size = st.selectbox("Batch size", BATCH_SIZES, index=BATCH_SIZES.index(DEFAULTS.batch_size),
                                      key="train_batch_size", **KEEP)
        with right:
            unfreeze = _unfreeze(base_key)
            epochs2 = _epochs("Phase 2 epochs (fine-tuning)", "train_epochs2", DEFAULTS.epochs2,
                              "Passes with the top K base layers unfrozen. 0 = no fine-tuning.")
            lr2 = _learning_rate("Phase 2 learning rate (log scale)", "train_lr2", DEFAULTS.lr2,
                                 "Keep it low: big steps wreck what the base knows.")
            seed_value = st.number_input("Seed (same seed + same settings = same result)", 0, 10_000, DEFAULTS.seed,
                                         key="train_seed", **KEEP)
        preprocessing = st.radio(
            "Preprocessing", list(PREPROCESSING), key="train_preprocessing", horizontal=True,
            format_func=PREPROCESSING.get, **KEEP,
            help="MobileNetV2 learned on pixels scaled to −1…1. Feeding 0…1 is a mistake the lesson made: try both!",
        )
        augment, ops = _augmentation(data_spec, sample_photo, int(image_size))
    return TrainConfig(data=data_spec or DEFAULTS.data, base=base_key, image_size=int(image_size),
                       epochs1=int(epochs1), epochs2=int(epochs2), unfreeze=unfreeze, lr1=float(lr1), lr2=float(lr2),
                       batch_size=int(batch_size), seed=int(seed_value), preprocessing=preprocessing,
                       augment=augment, augment_ops=ops)
