"""Kiran's experiment on the Train page: a CNN from scratch against transfer learning, same photos, same
number of epochs, side by side."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core.training import TrainConfig, TrainResult
from ui import charts, state

IMAGE_SIZE = 96  # the scratch CNN is slow on a CPU; both sides of the comparison use this size
RECIPES = ("transfer", "scratch")
BUTTON_HELP = f"Both at {IMAGE_SIZE} px, same photos, same number of epochs."


def config(cfg: TrainConfig) -> TrainConfig:
    """The student's settings at the experiment's image size."""
    return replace(cfg, image_size=IMAGE_SIZE)


def record(scratch: TrainResult, transfer: TrainResult) -> None:
    state.set_kiran({"scratch": scratch.test["accuracy"], "transfer": transfer.test["accuracy"],
                     "epochs": transfer.config.epochs1 + transfer.config.epochs2, "size": transfer.config.image_size,
                     "data": transfer.config.data})


def show() -> None:
    comparison = state.kiran()
    if not comparison:
        return
    st.subheader("Kiran's experiment")
    st.plotly_chart(charts.side_by_side(["CNN from scratch", "Transfer learning"],
                                        [comparison["scratch"], comparison["transfer"]]),
                    config=charts.PHONE_FRIENDLY, key="kiran_chart")
    st.caption(f"Both trained for {comparison['epochs']} epochs on the same photos at {comparison['size']} px. "
               "The pretrained base already knows edges, textures and shapes; the scratch CNN must learn them "
               "from a few hundred photos.")
