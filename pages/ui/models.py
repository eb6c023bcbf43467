"""The sidebar's model picker and the cached model loader every page shares.

    sidebar()             dashboard.py runs the page inside it: draws the shared sidebar first
    model_picker()        the picker alone (sidebar() and, as a fallback, current_model() call it)
    current_model()       the LoadedModel the user picked (None when there is none), for pages
    model_or_stop()       the same, or the explanation below and the end of the page
    explain_no_model()    the message a page shows when current_model() is None
    load_model(path)      a checkpoint's (model, config), cached by path and modification time
    upload_limit_mb()     the configured per-file upload limit, to state it on a page
    show_in_explore(path) open Explore with the model stored at ``path`` picked (Train's button)

A cached model is shared by every session and thread: it is in eval mode, its parameters do not
require grad, and callers only run it under ``seattn.model.probe.probe`` (inference mode, no
hooks). Never call ``.train()`` on it or load other weights into it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from pages.ui import text
from pages.ui.routing import EXPLORE_PAGE, TRAIN_PAGE
from seattn.analysis import catalog
from seattn.analysis.catalog import ModelEntry
from seattn.i18n import _
from seattn.model.checkpoints import CheckpointError
from seattn.model.checkpoints import load_model as load_checkpoint
from seattn.model.cnn import SECNN
from seattn.model.ratios import ratio_label

MODEL_KEY = "seattn_model_key"  # the picker's widget key: the chosen ModelEntry.key
_UPLOADED = "seattn_uploaded_models"  # file_id -> ModelEntry | error message, per session
_CURRENT = "seattn_current_model"  # the LoadedModel of this run, set by model_picker()
_FAILED = "seattn_model_failed"  # the error text when the picked model could not be opened
_PICKED_THIS_RUN = "seattn_picker_ran"  # set while sidebar() wraps the page of this run
# A model another page asked the picker to show; applied before the picker is drawn, because a
# widget's value cannot change once it is drawn in the same run.
_PENDING_MODEL = "seattn_pending_model_key"
_LINK_APPLIED = "seattn_model_link_applied"  # the URL's ?model= was applied in this session


@dataclass(frozen=True)
class LoadedModel:
    """The picked model, ready to run, and what the pages need to describe it."""

    entry: ModelEntry
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
        return text.model_label(self.entry)

    def describe(self) -> dict[str, Any]:
        """Plain values naming the model, for downloads."""
        return {
            "name": self.label,
            "source": self.entry.source,
            "file": self.entry.path.name,
            "se": ratio_label(self.reduction_ratio),
            "classes": self.classes,
        }


# No spinner text here: it would be fixed at import, in English; load_model says it instead.
@st.cache_resource(max_entries=8, show_spinner=False)
def _load_cached(path: str, mtime_ns: int) -> tuple[SECNN, dict[str, Any]]:
    # mtime_ns is only part of the key: a checkpoint rewritten in place is loaded afresh.
    return load_checkpoint(path)


def load_model(path: Path | str) -> tuple[SECNN, dict[str, Any]]:
    """(model, config) for a checkpoint, loaded once per file version; raises CheckpointError."""
    path = Path(path).resolve()
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError:
        raise CheckpointError(_("{path}: no such file").format(path=path)) from None
    with st.spinner(_("Loading the model…")):
        return _load_cached(str(path), mtime_ns)


def upload_limit_mb() -> int:
    return int(st.get_option("server.maxUploadSize"))


# -- the sidebar picker -----------------------------------------------------------------------


def model_picker() -> LoadedModel | None:
    """Draw the sidebar's model picker and load the choice; pages read it with current_model()."""
    uploaded: dict[str, ModelEntry | str] = st.session_state.setdefault(_UPLOADED, {})
    with st.sidebar:
        st.subheader(_("Model"))
        picker = st.container()
        with st.expander(_("Use your own checkpoint")):
            _checkpoint_uploader(uploaded)
    entries = catalog.list_models()
    entries += [entry for entry in uploaded.values() if isinstance(entry, ModelEntry)]
    by_key = {entry.key: entry for entry in entries}

    loaded, failure = None, None
    with picker:
        if not entries:
            st.info(
                _(
                    "No model yet. Upload a checkpoint below, or train one on the **Train** "
                    "page; it appears here when it finishes."
                )
            )
        else:
            pending = st.session_state.pop(_PENDING_MODEL, None) or _linked_model(entries)
            if pending in by_key:
                st.session_state[MODEL_KEY] = pending
            if st.session_state.get(MODEL_KEY) not in by_key:
                # First visit, or the chosen run was deleted: fall back to the default model.
                st.session_state[MODEL_KEY] = catalog.default_entry(entries).key
            key = st.selectbox(
                _("Network to look inside"),
                list(by_key),
                format_func=lambda k: text.model_label(by_key[k]),
                key=MODEL_KEY,
                help=_("Bundled models come with the dashboard; runs are the ones you trained."),
            )
            entry = by_key[key]
            details = text.model_details(entry)
            if details:
                st.caption(details)
            try:
                model, config = load_model(entry.path)
                loaded = LoadedModel(entry, model, config)
            except CheckpointError as error:
                failure = str(error)
                st.error(_("This model cannot be opened: {reason}").format(reason=failure))
    st.session_state[_CURRENT] = loaded
    st.session_state[_FAILED] = failure
    return loaded


def _linked_model(entries: list[ModelEntry]) -> str | None:
    """The entry a link names (``?model=se-r16``, or a run's folder name), once per session."""
    if st.session_state.get(_LINK_APPLIED):
        return None
    st.session_state[_LINK_APPLIED] = True
    wanted = st.query_params.get("model")
    for entry in entries:
        if wanted in (entry.name, entry.key):
            return entry.key
    return None


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


def _checkpoint_uploader(uploaded: dict[str, ModelEntry | str]) -> None:
    file = st.file_uploader(
        _("Checkpoint file (.pt)"),
        type=list(catalog.CHECKPOINT_UPLOAD_TYPES),
        key="seattn_checkpoint_upload",
        help=_("A checkpoint.pt from a seattn run folder, or a bundled model file."),
    )
    if file is None:
        return
    if file.file_id not in uploaded:
        # Validated once per upload, not on every rerun; success selects it once.
        try:
            entry = catalog.save_upload(file.getvalue(), file.name)
        except CheckpointError as error:
            uploaded[file.file_id] = str(error)
        else:
            uploaded[file.file_id] = entry
            st.session_state[MODEL_KEY] = entry.key
    outcome = uploaded[file.file_id]
    if isinstance(outcome, str):
        st.error(_("Not used: {reason}").format(reason=outcome))
    else:
        st.success(_("Added: {model}").format(model=text.model_label(outcome)))


def current_model() -> LoadedModel | None:
    """The model picked in the sidebar during this run.

    When the entry script did not run first (a page started on its own with ``streamlit run
    pages/x.py``, or AppTest, which reruns a page file alone when a ``pages/`` folder exists),
    the page draws the picker itself rather than use the previous run's choice.
    """
    if not st.session_state.get(_PICKED_THIS_RUN):
        return model_picker()
    return st.session_state.get(_CURRENT)


def model_or_stop() -> LoadedModel:
    """The picked model; when there is none, the page says why and what to do, and stops."""
    loaded = current_model()
    if loaded is None:
        explain_no_model()
        st.stop()
    return loaded


def explain_no_model() -> None:
    """Say why nothing can be shown and what to do, in words a non-coder can follow."""
    if st.session_state.get(_FAILED):
        st.warning(
            _(
                "**The network chosen in the sidebar could not be opened** (the sidebar says "
                "why). Pick another one there, or upload a checkpoint under *Use your own "
                "checkpoint*."
            )
        )
        return
    st.warning(
        _(
            "**There is no trained network to look inside yet.** You can:\n\n"
            "- **upload a checkpoint** in the sidebar (*Use your own checkpoint*): a `.pt` file "
            "saved by seattn, for example a run folder's `checkpoint.pt`; or\n"
            "- **train one** on the Train page; it appears in the sidebar when it finishes."
        )
    )
    st.page_link(TRAIN_PAGE, label=_("Go to the Train page"), icon=":material/model_training:")


def show_in_explore(checkpoint: Path) -> None:
    """Open Explore with the model stored at ``checkpoint`` chosen in the shared picker."""
    wanted = Path(checkpoint).resolve()
    for entry in catalog.list_models():
        if entry.path.resolve() == wanted:
            st.session_state[_PENDING_MODEL] = entry.key
            break
    st.switch_page(EXPLORE_PAGE)
