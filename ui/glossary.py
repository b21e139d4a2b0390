"""The words a 15-year-old meets in this app, explained once: help tooltips (``help_text``), a "Words on this
page" expander (``expander``) and the legend of the Grad-CAM overlay (``heatmap_legend``)."""

from __future__ import annotations

import streamlit as st

from core.inference import heatmap_legend as heatmap_legend_image  # this module has its own heatmap_legend

TERMS: dict[str, str] = {
    "top-1": "Top-1 accuracy: the share of test photos whose FIRST guess is right. (Top-5 would count a photo as "
             "right if the answer is anywhere in the model's five best guesses.)",
    "ImageNet": "A collection of about 1.4 million labelled photos in 1,000 classes (dogs, cars, daisies…). The "
                "bases here learned to see on it.",
    "log scale": "On a log scale every step along the axis multiplies by the same amount (1, 10, 100, 1,000…), "
                 "so a 3-million and a 138-million model both fit on one chart. Equal gaps mean equal ratios.",
    "no top / include_top": "The \"top\" of an ImageNet model is its last layers, which pick one of ImageNet's "
                            "1,000 classes. include_top=False loads the model without them: we keep the part that "
                            "sees and put our own head on it.",
    "parameters": "The numbers (weights) a network learns. More parameters: more to store, more to compute.",
    "frozen / trainable": "A frozen layer keeps its weights while training; a trainable one is changed a little "
                          "after every batch of photos.",
    "epoch": "One pass over all the training photos.",
    "learning rate": "How big a step the weights take after each batch. Too big wrecks what was learned; too small "
                     "learns nothing.",
    "fine-tuning": "Phase 2: unfreezing the top layers of the base and training them gently (tiny learning rate).",
    "augmentation": "Changed copies of the training photos (turned, mirrored, zoomed, sheared) so the model learns "
                     "the flower, not the exact photo.",
    "BatchNorm": "Batch normalisation: a layer that rescales its inputs to a steady range using averages it "
                 "learned on ImageNet. We keep it in inference mode, so fine-tuning never overwrites those averages "
                 "with a few flower photos.",
    "softmax": "The last layer's way of turning scores into probabilities that add up to 100%.",
    "confusion matrix": "A table of test photos: rows are the true flower, columns what the model said. The "
                        "diagonal is right; every other square is a mix-up (e.g. 3 roses called tulips).",
    "validation / test photos": "Validation photos steer training choices; test photos are kept apart until the "
                                "end, so the test accuracy is a fair exam on photos the model never saw.",
    "95% interval": "With only a few hundred test photos or fewer, an accuracy is uncertain: the true value is "
                    "probably (95%) inside this range.",
    "entropy": "How spread out the model's votes are: 0% = all on one class (sure), 100% = equal on every class "
               "(no idea).",
    "Grad-CAM": "A heat map of which parts of the photo pushed the model towards a class the most.",
    "preprocessing": "Turning photo pixels (0…255) into the numbers a base was trained on, e.g. −1…1 for "
                     "MobileNetV2.",
}


def help_text(term: str) -> str:
    """The explanation of ``term`` for a ``help=`` tooltip (KeyError for an unknown term: a typo should fail)."""
    return TERMS[term]


def expander(terms: list[str], title: str = "📖 Words on this page") -> None:
    """A closed expander with the given terms explained, in that order."""
    with st.expander(title):
        st.markdown("\n".join(f"- **{term}**: {TERMS[term]}" for term in terms).replace("~", r"\~"))


def heatmap_legend() -> None:
    """The Grad-CAM overlay's colour scale with words at both ends: colour alone never carries the meaning."""
    st.image(heatmap_legend_image(), width="stretch",
             alt="Colour scale of the heat map: dark purple (hardly mattered), teal, bright yellow (mattered most)")
    st.caption("Colour scale of the heat map, left to right: ◀ hardly mattered (dark purple) · a little (teal) · "
               "mattered most (bright yellow) ▶")
