"""Concept page: what transfer learning is, told through Kiran's flowers, with an unfreeze slider.

A thin view over ``core.models`` and ``core.lesson``. The layer diagram and parameter counts come from the committed
MobileNetV2 layer table, so this page opens without TensorFlow; only the "first layer" button loads a
model. Session state: ``concept_unfreeze`` (slider), ``concept_flower`` / ``concept_upload`` (the photo),
``concept_maps`` (the last feature maps shown).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.lesson import FeatureMaps, first_layer_feature_maps, sample_flowers
from core.models import TABLE_KEY, TABLE_SIZE, WeightsUnavailable, read_layer_table, unfreeze_summary, weights_available
from core.photos import ImageProblem, load_array
from ui import charts, glossary
from ui.chart_words import layer_bars_words
from ui.lesson_panels import claims_beside_measurements

MAPS_KEY = "concept_maps"


@st.cache_data(show_spinner=False)
def _summary(k: int) -> dict:
    return unfreeze_summary(k)


@st.cache_data(show_spinner=False)
def _table() -> dict:
    return read_layer_table()


@st.cache_data(show_spinner=False, max_entries=32)
def _feature_maps(image: np.ndarray) -> FeatureMaps:
    return first_layer_feature_maps(image, n_maps=8)


@st.cache_data(show_spinner=False)
def _samples() -> dict[str, list[str]]:
    return {name: [str(p) for p in photos] for name, photos in sample_flowers().items()}


def _story() -> None:
    st.title("💡 Transfer learning")
    st.markdown(
        "Kiran wants an app that names flowers. There are only about **200 photos of each species**: "
        "far too few to teach a network to *see* from nothing."
    )
    claims_beside_measurements("concept")
    st.markdown(
        "**The trick:** borrow **MobileNetV2**, a network that already learned to see from over a million "
        "ImageNet photos. **Freeze** it (its weights stay as they are) and put a small **new head** on top "
        "that learns *which* of the things it sees mean *daisy* or *tulip*."
    )
    with st.expander("Why does that work?"):
        st.markdown(
            "- The **first layers** find simple things: edges, textures, blobs of colour. "
            "They are useful for *any* photo.\n"
            "- **Later layers** combine them into parts: petals, leaf shapes, a flower's centre.\n"
            "- The **new head** only has to learn which parts go with which flower. "
            "That needs far fewer photos than learning to see.\n"
            "- **Fine-tuning** then gently adjusts the top layers (tiny learning rate, so they don't forget) "
            "to flower details."
        )


def _unfreeze() -> None:
    st.subheader("Freeze or unfreeze?")
    table = _table()
    n = len(table["layers"])
    k = st.slider(
        "Unfreeze the top … layers of MobileNetV2",
        min_value=0,
        max_value=n,
        value=30,
        key="concept_unfreeze",
        help="0 = the whole base frozen (step 1). The lesson fine-tunes the top 30 (step 2).",
    )
    summary = _summary(k)
    a, b = st.columns(2)
    a.metric(
        "🔥 Trainable parameters",
        f"{summary['model_params_trainable']:,}",
        help=f"{summary['params_trainable']:,} in the unfrozen base layers + {summary['head_params']:,} in the new head.",
    )
    b.metric(
        "❄️ Frozen parameters",
        f"{summary['model_params_frozen']:,}",
        help="Never change during training. Includes BatchNorm's running averages, which are never trained.",
    )
    st.plotly_chart(charts.layer_bars(summary), key="concept_layers", config={"displayModeBar": False})
    st.caption("Bars: ❄️ frozen = plain, 🔥 trainable = striped, layers with no parameters = dotted stubs.")
    with st.expander("The diagram in words (every stage's layers and parameters)"):
        st.markdown(layer_bars_words(summary))
    if summary["unfreeze"] == 0:
        st.caption(f"All {n} base layers frozen: only the new head learns. Fast, and safe with few photos.")
    else:
        share = summary["model_params_trainable"] / summary["model_params_total"]
        st.caption(
            f"Top {summary['unfreeze']} layers unfrozen (from **{summary['first_unfrozen']}** up), "
            f"{summary['layers_trainable']} of them with weights: {share:.0%} of all parameters can change. "
            "Bars are on a log scale: the top layers hold most of the parameters."
        )


def _pick_photo() -> np.ndarray | None:
    samples = _samples()
    if samples:
        species = st.selectbox("Flower", list(samples), key="concept_flower")
        path = samples[species][0]
        return load_array(path, TABLE_SIZE)
    upload = st.file_uploader("Choose a photo of a flower", type=None, key="concept_upload")
    if upload is None:
        st.caption("No sample photos on this computer: upload one of your own.")
        return None
    try:
        return load_array(upload, TABLE_SIZE)
    except ImageProblem as problem:
        st.error(f"That file can't be used: {problem.reason}.")
        return None


def _feature_maps_section() -> None:
    st.subheader("What does the first layer see?")
    st.write("The first layer of a **pretrained** MobileNetV2 next to the same layer with **random** weights.")
    if not weights_available(TABLE_KEY):
        st.warning(
            "The pretrained MobileNetV2 weights are not on this computer. The button will try to download "
            "them; without internet, ask your teacher for the offline bundle."
        )
    photo = _pick_photo()
    if st.button("Show the first layer's feature maps", key="concept_feature_maps", disabled=photo is None):
        try:
            with st.spinner("Loading MobileNetV2…"):
                st.session_state[MAPS_KEY] = _feature_maps(photo)
        except WeightsUnavailable as error:
            st.session_state.pop(MAPS_KEY, None)
            st.error(f"No pretrained weights, so nothing to compare with. {error}")
    result = st.session_state.get(MAPS_KEY)
    if result is None:
        return
    st.image(result.image, caption="The photo (224×224)", width=160, alt="The flower photo the feature maps come from")
    panels = [("pretrained", "**Pretrained**: edges, textures, colours", result.pretrained),
              ("random", "**Random**: nothing learned yet", result.random)]
    for column, (name, title, maps) in zip(st.columns(2), panels):
        with column:
            st.markdown(title)
            st.plotly_chart(charts.feature_map_grid(maps), key=f"concept_maps_{name}",
                            config={"displayModeBar": False, "staticPlot": True})
    st.caption(
        f"The {len(result.pretrained)} busiest of {result.channels_total} maps after layer {result.layer} (Conv1 + BatchNorm + ReLU). "
        "White = strong response. Pretrained filters already know useful patterns; random ones don't."
    )


_story()
_unfreeze()
_feature_maps_section()
glossary.expander(["ImageNet", "parameters", "frozen / trainable", "log scale", "BatchNorm", "fine-tuning"])
