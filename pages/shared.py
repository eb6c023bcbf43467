"""Streamlit-side helpers every page shares: the sidebar model picker and cached loading.

The API, kept small on purpose:

    sidebar()             dashboard.py runs the page inside it: draws the shared sidebar first
    model_picker()        the picker alone (sidebar() and, as a fallback, current_model() call it)
    current_model()       the LoadedModel the user picked (None when there is none), for pages
    explain_no_model()    the message a page shows when current_model() is None
    load_model(path)      a checkpoint's (model, config), cached by path and modification time
    upload_limit_mb()     the configured per-file upload limit, to state it on a page
    example_pool()        held-out dataset images for examples (or the reason there are none)
    data_input(...)       the training forms' Data radio and Image folder box -> data spec
    recipe_inputs(...)    the training forms' recipe boxes (epochs, batch, lr, images)
    optimizer_input(...), augmentation_input(...)  the training forms' named-recipe boxes
    request_examples()    ask Explore to open with dataset examples (the Home page's "Try it")
    show_in_explore(path) open Explore with the model stored at ``path`` picked (Train's button)
    run_through_dashboard()  every page calls it first: dashboard.py must run before the page

A cached model is shared by every session and thread: it is in eval mode, its parameters do not
require grad, and callers only run it under ``seattn.probe.probe`` (inference mode, no hooks).
Never call ``.train()`` on it or load other weights into it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from seattn import catalog, checkpoints, explore, recipes
from seattn.data import CIFAR10, DEFAULT_VAL_FRACTION, DataError, default_data_spec
from seattn.model import SECNN, ratio_label

MODEL_KEY = "seattn_model_key"  # the picker's widget key: the chosen ModelEntry.key
_UPLOADED = "seattn_uploaded_models"  # file_id -> ModelEntry | error message, per session
_CURRENT = "seattn_current_model"  # the LoadedModel of this run, set by model_picker()
_FAILED = "seattn_model_failed"  # the error text when the picked model could not be opened
_PICKED_THIS_RUN = "seattn_picker_ran"  # set while sidebar() wraps the page of this run
EXAMPLES_REQUESTED = "seattn_explore_examples_requested"
# A model another page asked the picker to show; applied before the picker is drawn, because a
# widget's value cannot change once it is drawn in the same run.
_PENDING_MODEL = "seattn_pending_model_key"
EXPLORE_PAGE = "pages/explore.py"


@dataclass(frozen=True)
class LoadedModel:
    """The picked model, ready to run, and what the pages need to describe it."""

    entry: catalog.ModelEntry
    model: SECNN
    config: dict[str, Any]

    @property
    def classes(self) -> list[str]:
        return list(self.config["classes"])

    @property
    def reduction_ratio(self) -> int | None:
        return self.model.reduction_ratio

    @property
    def label(self) -> str:
        return self.entry.label

    def describe(self) -> dict[str, Any]:
        """Plain values naming the model, for downloads."""
        return {
            "name": self.entry.label,
            "source": self.entry.source,
            "file": self.entry.path.name,
            "se": ratio_label(self.reduction_ratio),
            "classes": self.classes,
        }


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def _load_cached(path: str, mtime_ns: int) -> tuple[SECNN, dict[str, Any]]:
    # mtime_ns is only part of the key: a checkpoint rewritten in place is loaded afresh.
    return checkpoints.load_model(path)


def load_model(path: Path | str) -> tuple[SECNN, dict[str, Any]]:
    """(model, config) for a checkpoint, loaded once per file version; raises CheckpointError."""
    path = Path(path).resolve()
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError:
        raise checkpoints.CheckpointError(f"{path}: no such file") from None
    return _load_cached(str(path), mtime_ns)


def upload_limit_mb() -> int:
    return int(st.get_option("server.maxUploadSize"))


# -- the sidebar picker -----------------------------------------------------------------------


def model_picker() -> LoadedModel | None:
    """Draw the sidebar's model picker and load the choice; pages read it with current_model()."""
    uploaded: dict[str, catalog.ModelEntry | str] = st.session_state.setdefault(_UPLOADED, {})
    with st.sidebar:
        st.subheader("Model")
        picker = st.container()
        with st.expander("Use your own checkpoint"):
            _checkpoint_uploader(uploaded)
    entries = catalog.list_models()
    entries += [entry for entry in uploaded.values() if isinstance(entry, catalog.ModelEntry)]
    by_key = {entry.key: entry for entry in entries}

    loaded, failure = None, None
    with picker:
        if not entries:
            st.info(
                "No model yet. Upload a checkpoint below, or train one on the **Train** page; "
                "it appears here when it finishes."
            )
        else:
            pending = st.session_state.pop(_PENDING_MODEL, None)
            if pending in by_key:
                st.session_state[MODEL_KEY] = pending
            if st.session_state.get(MODEL_KEY) not in by_key:
                # First visit, or the chosen run was deleted: fall back to the default model.
                st.session_state[MODEL_KEY] = catalog.default_entry(entries).key
            key = st.selectbox(
                "Network to look inside",
                list(by_key),
                format_func=lambda k: by_key[k].label,
                key=MODEL_KEY,
                help="Bundled models come with the dashboard; runs are the ones you trained.",
            )
            entry = by_key[key]
            if entry.details:
                st.caption(entry.details)
            try:
                model, config = load_model(entry.path)
                loaded = LoadedModel(entry, model, config)
            except checkpoints.CheckpointError as error:
                failure = str(error)
                st.error(f"This model cannot be opened: {failure}")
    st.session_state[_CURRENT] = loaded
    st.session_state[_FAILED] = failure
    return loaded


@contextlib.contextmanager
def sidebar() -> Iterator[LoadedModel | None]:
    """Draw the shared sidebar, then run the page inside the block (``with sidebar(): ...``).

    Pages learn from the marker set here that the picker already ran in this run.
    """
    loaded = model_picker()
    st.session_state[_PICKED_THIS_RUN] = True
    try:
        yield loaded
    finally:  # also on st.stop() and st.switch_page(), which end a page with an exception
        st.session_state.pop(_PICKED_THIS_RUN, None)


def _checkpoint_uploader(uploaded: dict[str, catalog.ModelEntry | str]) -> None:
    file = st.file_uploader(
        "Checkpoint file (.pt)",
        type=list(catalog.CHECKPOINT_UPLOAD_TYPES),
        key="seattn_checkpoint_upload",
        help="A checkpoint.pt from a seattn run folder, or a bundled model file.",
    )
    if file is None:
        return
    if file.file_id not in uploaded:
        # Validated once per upload, not on every rerun; success selects it once.
        try:
            entry = catalog.save_upload(file.getvalue(), file.name)
        except checkpoints.CheckpointError as error:
            uploaded[file.file_id] = str(error)
        else:
            uploaded[file.file_id] = entry
            st.session_state[MODEL_KEY] = entry.key
    outcome = uploaded[file.file_id]
    if isinstance(outcome, str):
        st.error(f"Not used: {outcome}")
    else:
        st.success(f"Added: {outcome.label}")


def current_model() -> LoadedModel | None:
    """The model picked in the sidebar during this run.

    When the entry script did not run first (a page started on its own with ``streamlit run
    pages/x.py``, or AppTest, which reruns a page file alone when a ``pages/`` folder exists),
    the page draws the picker itself rather than use the previous run's choice.
    """
    if not st.session_state.get(_PICKED_THIS_RUN):
        return model_picker()
    return st.session_state.get(_CURRENT)


def explain_no_model() -> None:
    """Say why nothing can be shown and what to do, in words a non-coder can follow."""
    if st.session_state.get(_FAILED):
        st.warning(
            "**The network chosen in the sidebar could not be opened** (the sidebar says why). "
            "Pick another one there, or upload a checkpoint under *Use your own checkpoint*."
        )
        return
    st.warning(
        "**There is no trained network to look inside yet.** You can:\n\n"
        "- **upload a checkpoint** in the sidebar (*Use your own checkpoint*): a `.pt` file "
        "saved by seattn, for example a run folder's `checkpoint.pt`; or\n"
        "- **train one** on the Train page; it appears in the sidebar when it finishes."
    )
    st.page_link("pages/train.py", label="Go to the Train page", icon=":material/model_training:")


# -- training forms (Train and Compare) -------------------------------------------------------
# One recipe, one set of defaults: runs started from either page compare as equals.


def _data_choices() -> dict[str, str]:
    """Labels of the data radio -> data spec ('' = the folder typed below)."""
    default = default_data_spec()
    choices = {"CIFAR-10": CIFAR10, "An image folder": ""}
    if default.strip().lower() != CIFAR10:
        choices = {f"Configured default ({default})": default, **choices}
    return choices


def data_input(container: DeltaGenerator, key_prefix: str, folder_help: str) -> str:
    """Draw the Data radio and the Image folder box; the data spec chosen ('' = no folder typed).

    Widget keys: ``<key_prefix>_data`` and ``<key_prefix>_folder``.
    """
    choices = _data_choices()
    label = container.radio("Data", list(choices), key=f"{key_prefix}_data")
    folder = container.text_input(
        "Image folder",
        key=f"{key_prefix}_folder",
        placeholder="/path/to/images (one sub-folder per class)",
        help=folder_help,
    )
    return choices[label] or folder.strip()


def recipe_inputs(columns: Sequence[DeltaGenerator], key_prefix: str) -> dict[str, Any]:
    """Draw the recipe's boxes in four columns: epochs, batch size, learning rate, images.

    Returns them as ``jobs.JobSpec`` fields (``limit`` None: every image, ``lr`` None: the
    optimiser's own). Widget keys:
    ``<key_prefix>_epochs``, ``_batch``, ``_lr`` and ``_limit``.
    """
    epochs_column, batch_column, lr_column, limit_column = columns
    epochs = epochs_column.number_input("Epochs", 1, 500, 10, key=f"{key_prefix}_epochs")
    batch_size = batch_column.number_input("Batch size", 1, 1024, 128, key=f"{key_prefix}_batch")
    lr = lr_column.number_input(
        "Learning rate",
        1e-5,
        1.0,
        None,
        step=1e-4,
        format="%.4f",
        key=f"{key_prefix}_lr",
        placeholder="default",
        help="Empty: each optimiser's own starting rate ("
        + ", ".join(
            f"{rate:g} for {recipes.OPTIMIZER_LABELS[name]}"
            for name, rate in recipes.DEFAULT_LEARNING_RATES.items()
        )
        + ").",
    )
    limit = limit_column.number_input(
        "Images (0 = all)",
        0,
        None,
        0,
        key=f"{key_prefix}_limit",
        help="Train on a subset, to try.",
    )
    return {
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "lr": None if lr is None else float(lr),
        "limit": int(limit) or None,
    }


def optimizer_input(container: DeltaGenerator, key: str) -> str:
    """The optimiser recipe, by name (seattn.recipes); the course's is preselected."""
    return _named_recipe_input(
        container,
        "Optimiser",
        recipes.OPTIMIZERS,
        recipes.ADAM_PLATEAU,
        key,
        "How the weights are updated and the learning rate scheduled. SGD on a cosine fits this "
        "network further than the course's Adam; models are compared within one recipe.",
    )


def augmentation_input(container: DeltaGenerator, key: str) -> str:
    """The augmentation recipe, by name (seattn.recipes); the course's is preselected."""
    return _named_recipe_input(
        container,
        "Augmentation",
        recipes.AUGMENTATIONS,
        recipes.COURSE,
        key,
        "How the training images are varied each epoch. The course's full set fits this network "
        "less well than crop and flip alone; models are compared within one recipe.",
    )


def _named_recipe_input(
    container: DeltaGenerator,
    label: str,
    choices: dict[str, str],
    default: str,
    key: str,
    help_text: str,
) -> str:
    """A selectbox of recipe names, each shown by its description."""
    names = list(choices)
    return container.selectbox(
        label,
        names,
        index=names.index(default),
        format_func=choices.__getitem__,
        key=key,
        help=help_text,
    )


# -- dataset examples -------------------------------------------------------------------------


@st.cache_resource(max_entries=4, show_spinner="Listing example images…")
def _cached_pool(
    spec: str, val_fraction: float, split_seed: int, stamp: float
) -> explore.ExamplePool:
    # A resource, not data: thousands of paths are not copied on every rerun; nobody mutates it.
    # stamp (the folder's modification time) is only part of the key.
    return explore.example_pool(spec, val_fraction=val_fraction, split_seed=split_seed)


def example_pool(config: dict[str, Any] | None = None) -> explore.ExamplePool | str:
    """Held-out images of the SEATTN_DATA folder, or a sentence saying why there are none.

    ``config`` (the picked model's) supplies the validation fraction and split seed, so the
    examples are images that model was not trained on when it was trained on this folder.
    """
    spec = explore.example_dataset()
    config = config or {}
    try:
        stamp = os.stat(spec).st_mtime if spec else 0.0
    except OSError:
        stamp = 0.0
    try:
        return _cached_pool(
            spec or "",
            float(config.get("val_fraction") or DEFAULT_VAL_FRACTION),
            int(config.get("split_seed") or 0),
            stamp,
        )
    except DataError as error:
        return str(error)


def request_examples() -> None:
    """Open the Explore page with dataset examples loaded (when there are any)."""
    st.session_state[EXAMPLES_REQUESTED] = True
    st.switch_page("pages/explore.py")


def show_in_explore(checkpoint: Path) -> None:
    """Open Explore with the model stored at ``checkpoint`` chosen in the shared picker."""
    wanted = Path(checkpoint).resolve()
    for entry in catalog.list_models():
        if entry.path.resolve() == wanted:
            st.session_state[_PENDING_MODEL] = entry.key
            break
    st.switch_page(EXPLORE_PAGE)


def run_through_dashboard() -> None:
    """Send this session through dashboard.py (page config, sidebar, navigation) if it skipped it.

    The pages live in a folder named pages/, so until some session has run dashboard.py's
    st.navigation, Streamlit treats that folder the old way and runs a deep-linked page (say
    /train on a freshly started server) on its own, without the entry point. st.navigation ends
    that mode by clearing this flag; clearing it here and rerunning does the same at once, and
    the rerun lands on the page that was asked for, now inside the dashboard.
    """
    from streamlit import config
    from streamlit.runtime.pages_manager import PagesManager

    # AppTest rebuilds that flag on every run, so a rerun there would only repeat itself (and
    # drop the click being tested); pages cope with running alone (current_model() draws the
    # picker itself), which is what AppTest then exercises.
    if PagesManager.uses_pages_directory and not config.get_option("global.appTest"):
        PagesManager.uses_pages_directory = False
        st.rerun()


if __name__ == "__main__":  # opened as a page of its own: route it through the dashboard
    run_through_dashboard()
