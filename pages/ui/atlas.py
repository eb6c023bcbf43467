"""The atlas on the Streamlit side: a cached loader, and builds that run beside the page.

    cached_atlas(path)      the model's valid cached atlas (or None), loaded once per file
    start_build(path, name) build it in a background thread (one per model, shared by sessions)
    start_builds(models)    several, one after another in one thread
    build_of(path)          that build's progress, for a progress bar
    build_progress(path)    draw the bar until the build ends, then rerun the page

A build runs in a thread of the server process, not the script thread: a rerun or another
session's visit never stops it, and torch releases the interpreter lock while it computes, so
other sessions stay responsive. Its only output is the atlas cache file (seattn.analysis.atlas).
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from pages.ui import language, models, text
from seattn import settings
from seattn.analysis.atlas import Atlas, open_atlas, resolve_request
from seattn.analysis.atlas.build import cache_path, file_sha
from seattn.data.datasets import DataError
from seattn.i18n import _
from seattn.model.checkpoints import CheckpointError


@dataclass
class Build:
    stage: str = ""
    done: int = 0
    total: int = 0
    error: str | None = None
    finished: bool = False

    def report(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


@st.cache_resource
def _builds() -> dict[str, Build]:
    return {}


_builds_lock = threading.Lock()


class AtlasUnavailable(Exception):
    """The atlas cannot be made for this model here: the message says why, in plain words."""


@st.cache_resource(max_entries=32, show_spinner=False)
def _atlas_file(model_path: str, mtime_ns: int, data_dir: str, default_data: str) -> str:
    """Where the model's atlas is cached (AtlasUnavailable when its images cannot be named)."""
    # mtime_ns, data_dir and default_data only key the cache: they decide where the file is.
    try:
        _, config = models.load_model(model_path)
        request = resolve_request(config)
    except (CheckpointError, DataError) as error:
        raise AtlasUnavailable(str(error)) from None
    return str(cache_path(file_sha(Path(model_path)), request))


@st.cache_resource(max_entries=16, show_spinner=False)
def _cached(path: str, mtime_ns: int, atlas_file: str, atlas_mtime_ns: int) -> Atlas | None:
    # The atlas file and its mtime only key the cache: a new or rebuilt atlas is read afresh.
    try:
        return open_atlas(path, cached_only=True)
    except (DataError, CheckpointError) as error:
        raise AtlasUnavailable(str(error)) from None


def cached_atlas(path: Path | str) -> Atlas | None:
    """The valid cached atlas of the model at ``path``, or None; AtlasUnavailable when its
    evaluation images cannot be named or read here.

    A model never measured costs one look for a file: no image is read.
    """
    path = Path(path).resolve()
    mtime_ns = path.stat().st_mtime_ns
    location = Path(
        _atlas_file(
            str(path), mtime_ns, str(settings.data_dir().resolve()), settings.default_data_spec()
        )
    )
    try:
        atlas_mtime_ns = location.stat().st_mtime_ns
    except OSError:
        return None
    # The spinner shows only when reading takes a while: a cached atlas returns at once.
    with st.spinner(_("Reading the model's atlas…")):
        return _cached(str(path), mtime_ns, str(location), atlas_mtime_ns)


def build_of(path: Path | str) -> Build | None:
    return _builds().get(str(Path(path).resolve()))


def start_build(path: Path | str, model_name: str) -> Build:
    """Start building the atlas of ``path`` unless a build of it is already running."""
    return start_builds([(path, model_name)])[0]


def start_builds(models: list[tuple[Path | str, str]]) -> list[Build]:
    """Build the atlases of several (checkpoint, name) models one after another, in one thread:
    two at once would only share the same cores."""
    builds, todo = [], []
    with _builds_lock:
        for path, name in models:
            key = str(Path(path).resolve())
            build = _builds().get(key)
            if build is None or build.finished:
                build = Build()
                _builds()[key] = build
                todo.append((key, name, build))
            builds.append(build)

    def run() -> None:
        for key, name, build in todo:
            try:
                open_atlas(key, model_name=name, progress=build.report)
            except (DataError, CheckpointError) as error:
                build.error = str(error)
            except Exception as error:  # reported on the page; the server stays up
                build.error = f"{type(error).__name__}: {error}\n\n{traceback.format_exc()}"
            finally:
                build.finished = True
                _cached.clear()

    if todo:
        threading.Thread(target=run, name="atlas builds", daemon=True).start()
    return builds


def forget_build(path: Path | str) -> None:
    _builds().pop(str(Path(path).resolve()), None)


@language.fragment(run_every=0.5)
def build_progress(*paths: Path | str) -> None:
    """A progress bar per running build of ``paths``; the whole page reruns once they end."""
    builds = [build for build in map(build_of, paths) if build is not None]
    if all(build.finished for build in builds):
        st.rerun()
    for build in builds:
        if not build.finished:
            stage = _(build.stage) if build.stage else _("waiting for the one before")
            st.progress(build.fraction, text=text.atlas_progress(stage, build.done, build.total))
