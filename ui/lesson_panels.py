"""Panels that hold the app to the lesson: its claims beside measurements, the code of a run, and where the
app's code differs from the lesson's.

Each panel is one function a page calls. Nothing here imports TensorFlow at module level (the Quiz and Concept
pages stay TensorFlow-free); measurements run in the background.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.lesson import (
    CLAIMS,
    LESSON_TRAIN_PHOTOS,
    REFERENCE,
    SCALING,
    cached_measurement,
    claim_caption,
    control_lines,
    differences_from_claim,
    emit_notebook,
    emit_script,
    flower_counts,
    scaling_words,
    settings_words,
)
from core.models import LESSON_HEAD_UNITS, unfreeze_summary
from core.photos import TF_FLOWERS
from core.training import SHEAR_FACTORS, TrainConfig
from core.utils import accuracy_interval, difference_from_accuracies
from ui import server_measurement, state


@dataclass(frozen=True)
class Measured:
    accuracy: float
    n: int | None  # test photos, when known
    source: str  # "your latest run", "the reference run", ...
    differs: tuple[str, ...] = ()  # how its settings differ from the claim's; empty: it may stand beside it


def _settings_of(result) -> dict:
    config = getattr(result, "config", None)
    return config.to_dict() if hasattr(config, "to_dict") else {}


def _measurements() -> tuple[dict[str, Measured], dict | None]:
    """Per claim key, this app's figure. Only a run with the claim's settings fills a claim's cell (the student's
    own latest run first, then the server's reference); otherwise the closest run is kept with how it differs."""
    candidates: dict[str, list[Measured]] = {claim.key: [] for claim in CLAIMS}
    result = state.latest_result()
    if result is not None:
        phases = result.timings.get("phase_test_accuracy", {})
        n = int(result.test["n"])
        for key in ("phase1", "phase2"):
            if key in phases:
                candidates[key].append(Measured(float(phases[key]), n, "your latest run",
                                                tuple(differences_from_claim(key, _settings_of(result)))))
    kiran = state.kiran()
    if kiran:
        settings = {"image_size": kiran["size"], "epochs1": kiran["epochs"], **({"data": kiran["data"]}
                                                                               if "data" in kiran else {})}
        candidates["scratch"].append(Measured(float(kiran["scratch"]), None, "your Kiran experiment",
                                              tuple(differences_from_claim("scratch", settings))))
    ref = cached_measurement()
    if ref:
        configs = {"scratch": ref.get("scratch_config", {}), "phase1": ref.get("transfer_config", {}),
                   "phase2": ref.get("transfer_config", {})}
        for key, figure in ref["figures"].items():
            candidates[key].append(Measured(figure["test_accuracy"], figure["n_test"], "the reference run",
                                            tuple(differences_from_claim(key, configs[key]))))
    found = {}
    for key, runs in candidates.items():
        matching = [run for run in runs if not run.differs]
        if matching or runs:
            found[key] = (matching or runs)[0]
    return found, ref


def _measured_words(measured: Measured | None) -> str:
    if measured is None:
        return "not measured yet"
    differs = f", other settings than the claim's ({'; '.join(measured.differs)})" if measured.differs else ""
    if measured.n:
        interval = accuracy_interval(measured.accuracy, measured.n)
        return (f"{measured.accuracy:.0%}, {measured.source}, {measured.n} test photos (95% interval "
                f"{interval.low:.0%}–{interval.high:.0%}){differs}")
    return f"{measured.accuracy:.0%}, {measured.source}{differs}"


def _reference_button(key: str) -> None:
    server_measurement.panel(REFERENCE, "Measure the reference on this server (once for everyone: 5 to 30 minutes, "
                                        "depending on how busy it is)", key)
    st.caption(f"Reference settings: {settings_words()}")


def _measured_line(measured: Measured | None) -> str | None:
    """What a claim's cell says under the lesson's figure: a comparable figure, or how the run differs."""
    if measured is None:
        return None
    if not measured.differs:
        return f"Measured here: **{measured.accuracy:.0%}** ({measured.source})"
    return (f"{measured.source.capitalize()}: {measured.accuracy:.0%}, but not with the lesson's settings "
            f"({'; '.join(measured.differs)}), so it is not shown as its figure")


def claims_beside_measurements(key: str) -> None:
    """The lesson's three figures, labelled as its claims with their conditions, each with this app's figure
    beneath it when a run with the claim's settings exists (otherwise how the run differs, or nothing)."""
    found, ref = _measurements()
    st.markdown("**What the lesson says you can expect, and what this app measured**")
    for column, claim in zip(st.columns(len(CLAIMS)), CLAIMS):
        measured = found.get(claim.key)
        column.metric(claim.stage, claim.figure, help=claim_caption(claim))
        column.caption(f"↑ the lesson's claim ({claim.source})")
        line = _measured_line(measured)
        if line:
            (column.markdown if not measured.differs else column.caption)(line)
    comparable = [claim.key for claim in CLAIMS if claim.key in found and not found[claim.key].differs]
    if not comparable:
        st.caption("No run with the lesson's settings has been measured here yet.")
    counts = flower_counts()
    photos = (f"{counts.words()}, not the lesson's {LESSON_TRAIN_PHOTOS:,} training photos" if counts else
              f"the flowers on this computer, not the lesson's {LESSON_TRAIN_PHOTOS:,} training photos")
    with st.expander("Whose numbers are these? (conditions)"):
        st.markdown("\n".join(f"- {claim_caption(claim)}" for claim in CLAIMS))
        st.markdown(
            f"- **Measured here**: on {photos}; accuracy on the test photos, which swings by several points with "
            "a test set this small. Only a run with the claim's settings counts as its figure.\n"
            + "\n".join(f"- {claim.stage}: {_measured_words(found.get(claim.key))}." for claim in CLAIMS)
        )
        if ref:
            st.caption(f"Reference run measured {ref['computed_at']} on {ref['cpu_count']} CPU cores: "
                       f"{ref['settings']}")
    if ref is None and len(comparable) < len(CLAIMS):
        _reference_button(key)


# ------------------------------------------------------------------------------------ the code of this run
def show_code_of_run(cfg: TrainConfig) -> None:
    """The complete Keras 3 script of the current settings, which controls change which lesson line, and
    downloads as ``.py`` and ``.ipynb``."""
    data_dir = "flowers" if cfg.data == TF_FLOWERS else "my_photos"  # never a server path in a download
    with st.expander("🧾 The code of this run: take it home"):
        st.caption(f"A complete Keras 3 script for the settings above: the same head, two phases, 70/15/15 split "
                   f"and seed as this app. Put your photos in a folder of class folders (`{data_dir}/daisy/…`) "
                   "and run `python transfer_learning.py PHOTOS_FOLDER`. Comments marked LESSON: say where it "
                   "differs from the lesson's Colab code, and why.")
        try:
            script = emit_script(cfg, data_dir)
        except ValueError as problem:
            st.warning(f"No code for these settings: {problem}.")
            return
        st.dataframe(control_lines(cfg), hide_index=True, key="code_controls")
        left, right = st.columns(2)
        left.download_button("Download .py", script, "transfer_learning.py", "text/x-python", key="code_py")
        right.download_button("Download notebook (.ipynb)", emit_notebook(cfg, data_dir),
                              "transfer_learning.ipynb", "application/x-ipynb+json", key="code_ipynb")
        st.code(script, language="python", line_numbers=True)


# ------------------------------------------------------------------- where the app differs from the lesson
SHEAR_CHOICES = {
    "visible": f"visible: up to {SHEAR_FACTORS['visible']:.0%} of the image (about 5.7°)",
    "lesson": "the lesson's shear_range=0.1: 0.1 degrees (too small to see)",
}


def shear_choice(enabled: bool, key: str = "train_aug_shear_amount") -> str:
    """Which shear the student means by "shear", named for what it does (a key of ``SHEAR_FACTORS``)."""
    if not enabled:
        return "visible"
    return st.radio("Shear", list(SHEAR_CHOICES), format_func=SHEAR_CHOICES.get, key=key, horizontal=True,
                    persist_state="session",
                    help="ImageDataGenerator's shear_range is in degrees, so the lesson's 0.1 barely moves a pixel; "
                         "Keras 3's RandomShear(0.1) shears by 10% of the image. Pick what you mean.")


def _scaling_measurement() -> None:
    found = cached_measurement(SCALING)
    if found:
        figures = found["figures"]
        left, right = st.columns(2)
        for column, part, label in ((left, "model", "Pixels to −1…1 (this app)"), (right, "lesson", "Pixels / 255 "
                                                                                   "(the lesson)")):
            figure = figures[part]
            interval = accuracy_interval(figure["test_accuracy"], figure["n_test"])
            column.metric(label, f"{figure['test_accuracy']:.1%}",
                          help=f"{figure['n_test']} test photos; 95% interval {interval.low:.0%}–{interval.high:.0%}")
        check = difference_from_accuracies(figures["lesson"]["test_accuracy"], figures["lesson"]["n_test"],
                                           figures["model"]["test_accuracy"], figures["model"]["n_test"],
                                           names=("pixels / 255", "pixels to −1…1"))
        st.caption(f"{check.words} Measured on this server {found['computed_at']}: {found['settings']}")
        return
    server_measurement.panel(SCALING, "Measure both scalings on this server (once for everyone, a few minutes)",
                             "differences")
    st.caption(scaling_words())


def _photos_here() -> str:
    counts = flower_counts()
    if counts is None:
        return "The shared flowers are not on this computer yet."
    return f"The shared flowers here: {counts.words()}."


def differences(cfg: TrainConfig) -> None:
    """One short panel: each place the app's code differs from the lesson's, why, and a measurement where one
    can be made here."""
    summary = unfreeze_summary(0)  # the lesson's model: MobileNetV2, 5 classes, Dense(128)
    head = summary["head"]
    units = LESSON_HEAD_UNITS
    dense = next(row["params"] for row in head if row["type"] == "Dense")
    features = (dense - units) // units  # Dense(units) on F features has F × units weights + units biases
    with st.expander("🔧 Where this app differs from the lesson's code, and why"):
        st.markdown(
            "**1. Pixel scaling.** The lesson divides pixels by 255 (0…1). MobileNetV2 was trained on pixels "
            "scaled to −1…1 (`preprocess_input`), so the app uses that; the Preprocessing setting above lets you "
            "try the lesson's way."
        )
        _scaling_measurement()
        st.markdown(
            "**2. Augmentation and your own folders.** The lesson uses `ImageDataGenerator` and "
            "`flow_from_directory`: deprecated (plain `import keras` no longer has them; "
            "`tf.keras.preprocessing.image.ImageDataGenerator` still works, as a legacy copy). The app uses Keras 3's "
            "preprocessing layers (`RandomRotation`, `RandomFlip`, `RandomZoom`, `RandomShear`) on training photos "
            "only, and reads a folder of class folders itself (labels from folder names, as `flow_from_directory` "
            "did). Augmentation is **off by default**, for the shared flowers and for your own photos alike (the "
            f"lesson's code always augments): switch it on above. When it is on, each training photo gets "
            f"{TrainConfig().aug_views} augmented copies made once and reused every epoch, not new random changes "
            "every epoch as `ImageDataGenerator` makes.\n\n"
            "**3. Shear is not the same number.** `shear_range=0.1` in `ImageDataGenerator` is 0.1 *degrees*: "
            "invisible. `RandomShear(0.1)` shears by 10% of the image (about 5.7°). With augmentation on, you "
            "choose which one you mean.\n\n"
            f"**4. The head is not \"a few thousand\" parameters.** For 5 flowers it has "
            f"**{summary['head_params']:,}**: "
            + " + ".join(f"{row['name']} {row['params']:,}" for row in head if row["params"])
            + f". The pooled base output has {features:,} numbers and each of the {units} Dense units has a weight "
            f"for each, plus a bias ({features:,} × {units} + {units}).\n\n"
            "**5. The split.** The lesson cuts tf_flowers' own order at 70% and 85%; the app shuffles each class "
            "with the seed and cuts it 70/15/15, so every split holds every flower in proportion.\n\n"
            "**6. Speed.** The lesson pushes every photo through the whole frozen base on every epoch. The app "
            "runs the frozen part once per photo and caches its output: the same numbers, minutes faster on a CPU. "
            "The code of this run (below) is written the lesson's plain way.\n\n"
            f"**7. Fewer photos.** {_photos_here()} The lesson trains on tf_flowers' full 3,670 photos "
            f"({LESSON_TRAIN_PHOTOS:,} for training), so its accuracy has more to learn from.\n\n"
            f"**8. A fixed seed.** The split, the head's first weights and the augmented copies all come from seed "
            f"{cfg.seed}, so the same settings give the same result again; the lesson's code sets no seed, so two "
            "of its runs can give different figures."
        )
