"""Example pictures for every page: a data set's held-out images when one is found, else the
samples shipped with the package (seattn.data.examples.find_example_pool), listed once."""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from pages.ui.routing import EXPLORE_PAGE
from seattn import settings
from seattn.data.datasets import DataError
from seattn.data.examples import ExamplePool, find_example_pool
from seattn.i18n import _
from seattn.training.spec import DEFAULT_VAL_FRACTION

EXAMPLES_REQUESTED = "seattn_explore_examples_requested"


# No spinner text here: it would be fixed at import, in English; example_pool says it instead.
@st.cache_resource(max_entries=4, show_spinner=False)
def _cached_pool(
    candidates: tuple[str, ...], val_fraction: float, split_seed: int, stamps: tuple[float, ...]
) -> ExamplePool:
    # A resource, not data: thousands of paths are not copied on every rerun; nobody mutates it.
    # stamps (the folders' modification times) are only part of the key.
    return find_example_pool(candidates, val_fraction=val_fraction, split_seed=split_seed)


def _stamp(folder: str) -> float:
    try:
        return os.stat(folder).st_mtime
    except OSError:
        return 0.0


def example_pool(config: dict[str, Any] | None = None) -> ExamplePool | str:
    """Pictures the picked model did not train on: the held-out images of SEATTN_DATA's folder or
    of the model's own training folder, else the shipped samples; a sentence if none can be read.

    ``config`` (the picked model's) supplies the validation fraction and split seed, so the
    examples are images that model was not trained on when it was trained on this folder.
    """
    config = config or {}
    candidates = tuple(
        str(folder) for folder in (settings.example_data_folder(), config.get("data")) if folder
    )
    try:
        with st.spinner(_("Listing example images…")):
            return _cached_pool(
                candidates,
                float(config.get("val_fraction") or DEFAULT_VAL_FRACTION),
                int(config.get("split_seed") or 0),
                tuple(_stamp(folder) for folder in candidates),
            )
    except (DataError, OSError) as error:  # only when the shipped samples are missing too
        return _("No example pictures: {reason}").format(reason=error)


def request_examples() -> None:
    """Open the Explore page with dataset examples loaded (when there are any)."""
    st.session_state[EXAMPLES_REQUESTED] = True
    st.switch_page(EXPLORE_PAGE)
