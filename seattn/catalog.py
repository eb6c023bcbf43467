"""The models a user can pick: bundled ones, finished training runs, and uploaded checkpoints.

Each is a ``ModelEntry``: a checkpoint file on disk plus what to call it. Nothing here loads a
model for showing; the dashboard caches that (keyed by path and modification time), and this module
only decides what exists and vouches for uploaded files before they are offered.

Where to look is injectable so tests and a browser run can point at a folder of tiny checkpoints:
``SEATTN_ZOO_DIR`` overrides the bundled-model folder (see ``seattn.zoo``), ``SEATTN_RUNS_DIR``
the run store (see ``seattn.settings``), and every function also takes the folder directly.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seattn import settings, zoo
from seattn.checkpoints import CheckpointError, load_model
from seattn.model import ratio_label
from seattn.recipes import (
    ADAM_PLATEAU,
    COURSE,
    OPTIMIZER_LABELS,
    augmentation_text,
    optimizer_of,
    parse_augmentation,
)
from seattn.runs import COMPLETED, list_runs

BUNDLED, RUN, UPLOAD = "bundled", "run", "upload"
CHECKPOINT_UPLOAD_TYPES = ("pt", "pth", "ckpt")
_SOURCE_ORDER = {BUNDLED: 0, RUN: 1, UPLOAD: 2}


@dataclass(frozen=True)
class ModelEntry:
    """One pickable model. ``key`` is stable across reruns and sessions, so a choice survives."""

    key: str  # "bundled:se-r16", "run:<folder name>", "upload:<content hash>"
    label: str  # what the picker shows, e.g. "se-r16 (bundled) · val 86.1%"
    source: str  # BUNDLED, RUN or UPLOAD
    path: Path
    details: str = ""  # one line for the sidebar: data, epochs, accuracy


def bundled_entries(folder: Path | None = None) -> list[ModelEntry]:
    """Every bundled model (``seattn.zoo``), the default one (``se-r16``) first."""
    models = zoo.bundled_models(Path(folder) if folder is not None else None)
    names = sorted(models, key=lambda name: (name != zoo.DEFAULT_MODEL, name))
    return [_bundled_entry(models[name]) for name in names]


def _bundled_entry(path: Path) -> ModelEntry:
    meta = _read_metadata(path.parent, path.stem)
    accuracy = _accuracy_text(meta)
    label = f"{path.stem} (bundled)" + (f" · val {accuracy}" if accuracy else "")
    details = ", ".join(
        part
        for part in (
            _ratio_text(meta),
            _epochs_text(meta.get("epochs")),
            *_unusual_recipe(meta.get("recipe") or {}),
            f"validation accuracy {accuracy}" if accuracy else "",
        )
        if part
    )
    return ModelEntry(f"{BUNDLED}:{path.stem}", label, BUNDLED, path, details)


def run_entries(root: Path | None = None) -> list[ModelEntry]:
    """Every run with a checkpoint (its last complete epoch), newest first.

    Completed runs are what most people pick; a stopped or still running one is offered too,
    labelled with its state, so the Train page can open any run's model in Explore.
    """
    root = settings.runs_root() if root is None else Path(root)
    entries = []
    for run in list_runs(root):
        if not run.checkpoint_path.is_file():
            continue
        state = run.state()
        config = run.read_config()
        last = run.read_status().get("last_epoch") or {}
        accuracy = _percent(last.get("val_accuracy"))
        ratio = _ratio_text(config)
        label = f"{run.name} (run" + (f", {ratio}" if ratio else "") + ")"
        if state != COMPLETED:
            label += f" [{state}]"
        if accuracy:
            label += f" · val {accuracy}"
        data = (config.get("data_description") or {}).get("name") or config.get("data", "")
        details = ", ".join(
            part
            for part in (
                ratio,
                _epochs_text(config.get("epochs")),
                *_unusual_recipe(config.get("recipe") or {}),
                f"trained on {data}" if data else "",
                f"validation accuracy {accuracy}" if accuracy else "",
            )
            if part
        )
        entries.append(ModelEntry(f"{RUN}:{run.name}", label, RUN, run.checkpoint_path, details))
    return entries


def list_models(zoo_folder: Path | None = None, runs_root: Path | None = None) -> list[ModelEntry]:
    """Bundled models first (the default one leading), then finished runs."""
    return bundled_entries(zoo_folder) + run_entries(runs_root)


def default_entry(entries: list[ModelEntry]) -> ModelEntry | None:
    """The model shown when the user has not chosen: bundled r=16, else the first on offer."""
    for entry in entries:
        if entry.source == BUNDLED and entry.path.stem == zoo.DEFAULT_MODEL:
            return entry
    return min(entries, key=lambda e: _SOURCE_ORDER[e.source], default=None)


def upload_folder() -> Path:
    """Where accepted checkpoint uploads are kept: a per-machine temporary folder."""
    return Path(tempfile.gettempdir()) / "seattn-uploads"


def save_upload(data: bytes, name: str, folder: Path | None = None) -> ModelEntry:
    """Vouch for an uploaded checkpoint and keep it on disk; raise ``CheckpointError`` if unusable.

    The file is named by its content hash, so uploading the same bytes again (every Streamlit rerun
    does) reuses the file and the cached model instead of piling up copies. It is loaded once with
    ``load_model`` (``weights_only``: nothing in it runs) before it is offered; a refused file is
    deleted, and the message names the user's file, not the temporary path.
    """
    if not data:
        raise CheckpointError(f"{name}: the file is empty")
    folder = upload_folder() if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()[:16]
    path = folder / f"{digest}.pt"
    if not path.exists():
        # Written under a temporary name first: a concurrent session never sees half a file.
        fd, tmp_name = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            _, config = load_model(tmp_name)
        except CheckpointError as error:
            os.unlink(tmp_name)
            raise CheckpointError(str(error).replace(tmp_name, name)) from None
        os.replace(tmp_name, path)
    else:
        _, config = load_model(path)
    ratio = _ratio_text(config)
    label = f"{name} (uploaded" + (f", {ratio}" if ratio else "") + ")"
    details = f"{ratio}, {len(config.get('classes', []))} classes" if ratio else ""
    return ModelEntry(f"{UPLOAD}:{digest}", label, UPLOAD, path, details)


def _read_metadata(folder: Path, name: str) -> dict[str, Any]:
    """A bundled model's metadata; {} when missing or unreadable (the weights still work)."""
    try:
        meta = zoo.metadata(name, folder)
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _accuracy_text(meta: dict[str, Any]) -> str:
    return _percent(meta.get("val_accuracy"))


def _unusual_recipe(recipe: dict[str, Any]) -> tuple[str, str]:
    """Augmentation and optimiser, each named only when it is not the course's (most models')."""
    augment = recipe.get("augment")
    optimizer = optimizer_of(recipe)
    return (
        ""
        if augment is None or parse_augmentation(augment) == COURSE
        else augmentation_text(augment),
        "" if optimizer == ADAM_PLATEAU else OPTIMIZER_LABELS[optimizer],
    )


def _epochs_text(epochs: Any) -> str:
    if not isinstance(epochs, int):
        return ""
    return f"{epochs} epoch" + ("" if epochs == 1 else "s")


def _percent(value: Any) -> str:
    if not isinstance(value, int | float):
        return ""
    return f"{value:.1%}" if value <= 1 else f"{value:.1f}%"


def _ratio_text(config: dict[str, Any]) -> str:
    """'SE r=16' / 'no SE' from a config or metadata dict; '' when it says nothing about it."""
    if "reduction_ratio" not in config:
        return ""
    ratio = config["reduction_ratio"]
    if ratio is not None and not re.fullmatch(r"\d+", str(ratio)):
        return ""
    label = ratio_label(None if ratio is None else int(ratio))
    return label if ratio is None else f"SE {label}"
