"""The models a user can pick: bundled ones, training runs with a checkpoint, uploaded checkpoints.

Each is a ``ModelEntry``: a checkpoint file on disk plus the facts that describe it (the pages
word them). Nothing here loads a model for showing; the dashboard caches that (keyed by path and
modification time), and this module only decides what exists and vouches for uploaded files
before they are offered.

Where to look is injectable so tests and a browser run can point at a folder of tiny checkpoints:
``SEATTN_ZOO_DIR`` overrides the bundled-model folder, ``SEATTN_RUNS_DIR`` the run store (see
seattn.settings), and every function also takes the folder directly.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from seattn import settings, zoo
from seattn.atomic import atomic_path
from seattn.i18n import _
from seattn.model.attention import AttentionKind, resolve, variant_order
from seattn.model.checkpoints import CheckpointError, load_model
from seattn.model.ratios import parse_ratio
from seattn.training.recipes import Recipe
from seattn.training.runfiles import CHECKPOINT_FILE, RunState, effective_state, list_runs

CHECKPOINT_UPLOAD_TYPES = ("pt", "pth", "ckpt")
# Uploaded checkpoints kept on disk (the most recently used; older ones are removed).
UPLOADS_KEPT = 16


class ModelSource(StrEnum):
    BUNDLED = "bundled"
    RUN = "run"
    UPLOAD = "upload"


_SOURCE_ORDER = {ModelSource.BUNDLED: 0, ModelSource.RUN: 1, ModelSource.UPLOAD: 2}
_UNKNOWN: Any = object()  # a record that says nothing (usable) about the ratio


@dataclass(frozen=True)
class ModelEntry:
    """One pickable model. ``key`` is stable across reruns and sessions, so a choice survives."""

    key: str  # "bundled:se-r16", "run:<folder name>", "upload:<content hash>"
    name: str  # the bundled model's name, the run folder's, or the uploaded file's
    source: ModelSource
    path: Path
    reduction_ratio: int | None = None
    ratio_known: bool = False  # False: the record does not say (or says nonsense)
    attention: AttentionKind | None = None  # known with the ratio
    epochs: int | None = None
    val_accuracy: float | None = None  # of these weights (a run: its last epoch); a share 0..1
    best_val_accuracy: float | None = None  # the best epoch's, when it differs from the weights
    recipe: Recipe | None = None
    data_name: str | None = None
    state: RunState | str | None = None  # runs only
    classes: int | None = None  # uploads only


def _ratio(record: dict[str, Any]) -> Any:
    if "reduction_ratio" not in record:
        return _UNKNOWN
    try:
        return parse_ratio(record["reduction_ratio"])
    except ValueError:
        return _UNKNOWN


def _attention(record: dict[str, Any], ratio: Any) -> AttentionKind | None:
    if ratio is _UNKNOWN:
        return None
    try:
        return resolve(record.get("attention"), ratio)[0]
    except ValueError:
        return None


def _facts(record: dict[str, Any]) -> dict[str, Any]:
    ratio = _ratio(record)
    attention = _attention(record, ratio)
    epochs = record.get("epochs")
    recipe = record.get("recipe")
    return {
        "reduction_ratio": None if attention is None else ratio,
        "ratio_known": attention is not None,
        "attention": attention,
        "epochs": epochs if isinstance(epochs, int) else None,
        "recipe": Recipe.from_record(recipe) if isinstance(recipe, dict) else None,
    }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def bundled_entries(folder: Path | None = None) -> list[ModelEntry]:
    """Every bundled model (``seattn.zoo``): the default one (``se-r16``) first, then by recipe
    (one model's variants together) and growing ratio: no-se, se-r2, se-r4, ... se-r32."""
    models = zoo.bundled_models(Path(folder) if folder is not None else None)
    entries = [_bundled_entry(models[name]) for name in models]
    return sorted(entries, key=_bundled_order)


def _bundled_order(entry: ModelEntry) -> tuple:
    variant = (
        variant_order(entry.attention, entry.reduction_ratio) if entry.ratio_known else (10**6, 0)
    )
    recipe = (
        entry.name.removeprefix(zoo.model_name(entry.reduction_ratio, entry.attention))
        if entry.ratio_known
        else entry.name
    )
    return (entry.name != zoo.DEFAULT_MODEL, recipe, variant, entry.name)


def _bundled_entry(path: Path) -> ModelEntry:
    meta = _read_metadata(path.parent, path.stem)
    return ModelEntry(
        key=f"{ModelSource.BUNDLED}:{path.stem}",
        name=path.stem,
        source=ModelSource.BUNDLED,
        path=path,
        val_accuracy=_number(meta.get("val_accuracy")),
        best_val_accuracy=_number(meta.get("best_val_accuracy")),
        **_facts(meta),
    )


def run_entries(root: Path | None = None) -> list[ModelEntry]:
    """Every run with a checkpoint (its last complete epoch), newest first.

    Completed runs are what most people pick; a stopped or still running one is offered too, with
    its state, so the Train page can open any run's model in Explore.
    """
    root = settings.runs_root() if root is None else Path(root)
    entries = []
    for run in list_runs(root):
        if not run.checkpoint_path.is_file():
            continue
        config = run.read_config()
        status = run.read_status()
        last = status.get("last_epoch") or {}
        accuracies = run.read_metrics().get("val_accuracy")
        entries.append(
            ModelEntry(
                key=f"{ModelSource.RUN}:{run.name}",
                name=run.name,
                source=ModelSource.RUN,
                path=run.checkpoint_path,
                val_accuracy=_number(last.get("val_accuracy")),
                best_val_accuracy=(
                    float(accuracies.max())
                    if accuracies is not None and accuracies.notna().any()
                    else None
                ),
                data_name=(config.get("data_description") or {}).get("name") or config.get("data"),
                state=effective_state(status),
                **_facts(config),
            )
        )
    return entries


def list_models(zoo_folder: Path | None = None, runs_root: Path | None = None) -> list[ModelEntry]:
    """Bundled models first (the default one leading), then runs."""
    return bundled_entries(zoo_folder) + run_entries(runs_root)


def default_entry(entries: list[ModelEntry]) -> ModelEntry | None:
    """The model shown when the user has not chosen: bundled r=16, else the first on offer."""
    for entry in entries:
        if entry.source == ModelSource.BUNDLED and entry.path.stem == zoo.DEFAULT_MODEL:
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
    never kept, and the message names the user's file, not the temporary path.
    """
    if not data:
        raise CheckpointError(_("{path}: the file is empty").format(path=name))
    folder = upload_folder() if folder is None else Path(folder)
    digest = hashlib.sha256(data).hexdigest()[:16]
    path = folder / f"{digest}.pt"
    if path.exists():
        config = load_model(path)[1]
        path.touch()  # recently used: the last to be removed
    else:
        # Checked under its temporary name: a concurrent session never sees half a file, and a
        # refused one never takes the real name.
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
            try:
                config = load_model(tmp)[1]
            except CheckpointError as error:
                raise CheckpointError(str(error).replace(str(tmp), name)) from None
        prune_uploads(folder)
    facts = _facts(config)
    facts.pop("epochs")  # a checkpoint's config gives the planned epochs, not the trained ones
    return ModelEntry(
        key=f"{ModelSource.UPLOAD}:{digest}",
        name=name,
        source=ModelSource.UPLOAD,
        path=path,
        classes=len(config.get("classes", [])),
        **facts,
    )


def prune_uploads(folder: Path, keep: int | None = None) -> list[Path]:
    """Remove all but the ``keep`` most recently used uploads of ``folder``; returns the removed.

    Uploads are a cache of what visitors brought, not their only copy; without a cap a public
    dashboard's temporary folder would only grow.
    """
    keep = UPLOADS_KEPT if keep is None else keep
    uploads = sorted(Path(folder).glob("*.pt"), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = []
    for old in uploads[keep:]:
        try:
            old.unlink()
            removed.append(old)
        except OSError:  # another session removed it first
            pass
    return removed


def _read_metadata(folder: Path, name: str) -> dict[str, Any]:
    """A bundled model's metadata; {} when missing or unreadable (the weights still work)."""
    try:
        meta = zoo.metadata(name, folder)
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def resolve_model(text: str | Path) -> tuple[Path, str]:
    """(checkpoint file, name) for a bundled model's name, a checkpoint file or a run folder.

    Raises CheckpointError naming what was given when it is none of them.
    """
    bundled = zoo.bundled_models()
    if str(text) in bundled:
        return bundled[str(text)], str(text)
    path = Path(text).expanduser()
    if path.is_dir():
        checkpoint = path / CHECKPOINT_FILE
        if not checkpoint.is_file():
            raise CheckpointError(f"{path}: a folder without checkpoint.pt (not a finished run?)")
        return checkpoint, path.name
    if path.is_file():
        return path, path.stem
    raise CheckpointError(
        f"{text}: not a bundled model ({', '.join(bundled) or 'none installed'}), "
        "a checkpoint file or a run folder"
    )
