"""Example pictures for Explore: held-out images of the SEATTN_DATA folder, listed once."""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from pages.ui.routing import EXPLORE_PAGE
from seattn import settings
from seattn.data.datasets import DataError
from seattn.data.examples import ExamplePool
from seattn.data.examples import example_pool as list_example_pool
from seattn.training.spec import DEFAULT_VAL_FRACTION

EXAMPLES_REQUESTED = "seattn_explore_examples_requested"


@st.cache_resource(max_entries=4, show_spinner="Listing example images…")
def _cached_pool(folder: str, val_fraction: float, split_seed: int, stamp: float) -> ExamplePool:
    # A resource, not data: thousands of paths are not copied on every rerun; nobody mutates it.
    # stamp (the folder's modification time) is only part of the key.
    return list_example_pool(folder, val_fraction=val_fraction, split_seed=split_seed)


def example_pool(config: dict[str, Any] | None = None) -> ExamplePool | str:
    """Held-out images of the SEATTN_DATA folder, or a sentence saying why there are none.

    ``config`` (the picked model's) supplies the validation fraction and split seed, so the
    examples are images that model was not trained on when it was trained on this folder.
    """
    folder = settings.example_data_folder()
    config = config or {}
    try:
        stamp = os.stat(folder).st_mtime if folder else 0.0
    except OSError:
        stamp = 0.0
    try:
        return _cached_pool(
            folder or "",
            float(config.get("val_fraction") or DEFAULT_VAL_FRACTION),
            int(config.get("split_seed") or 0),
            stamp,
        )
    except DataError as error:
        return str(error)


def request_examples() -> None:
    """Open the Explore page with dataset examples loaded (when there are any)."""
    st.session_state[EXAMPLES_REQUESTED] = True
    st.switch_page(EXPLORE_PAGE)
