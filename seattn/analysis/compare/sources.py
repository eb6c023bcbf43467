"""The trained models a comparison holds: completed runs and bundled models, with their seeds."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from seattn import settings, zoo
from seattn.analysis.catalog import ModelSource
from seattn.model.attention import (
    AttentionKind,
    config_attention,
    resolve,
    variant_label,
    variant_order,
)
from seattn.model.checkpoints import CheckpointError, read_checkpoint
from seattn.settings import zoo_dir
from seattn.training.recipes import Recipe
from seattn.training.runfiles import ACTIVE_STATES, Run, RunState, list_runs


class Variant(NamedTuple):
    """What a comparison sets side by side: an attention module and its ratio (None for ECA
    and for the network without attention)."""

    attention: AttentionKind
    reduction_ratio: int | None

    @classmethod
    def of(cls, attention: AttentionKind | str | None, reduction_ratio: int | None) -> Variant:
        """The variant as a network is built (seattn.model.attention.resolve): ``attention=None``
        reads the ratio as configs before ECA and CBAM did, SE for a ratio, none without."""
        return cls(*resolve(attention, reduction_ratio))

    @property
    def label(self) -> str:
        """The English identity tables and charts key it by: "no SE", "r=16", "ECA", "CBAM r=16"."""
        return variant_label(self.attention, self.reduction_ratio)

    def order(self) -> tuple[int, int]:
        return variant_order(self.attention, self.reduction_ratio)


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """One trained network (one attention variant, one seed) and what its training reported."""

    source: ModelSource  # RUN or BUNDLED
    name: str  # run folder name, or bundled model name
    reduction_ratio: int | None
    seed: int | None
    classes: tuple[str, ...]
    data: dict[str, Any]  # the data_description: name, fingerprint, split, ...
    recipe: Recipe
    history: pd.DataFrame  # metrics.csv rows; empty for a bundled seed without weights
    epochs: int | None  # epochs actually trained (the recipe says how many were planned)
    best_val_accuracy: float | None
    final_val_accuracy: float | None
    final_val_loss: float | None
    training_seconds: float | None
    images_per_second: float | None
    checkpoint: Path | None  # None for a bundled seed reported without weights
    checkpoint_bytes: int | None
    # None (a record from before ECA and CBAM): the ratio says, SE for a ratio, none without.
    attention: AttentionKind | None = None

    def __post_init__(self) -> None:
        kind, ratio = resolve(self.attention, self.reduction_ratio)  # ValueError: no such model
        object.__setattr__(self, "attention", kind)
        object.__setattr__(self, "reduction_ratio", ratio)

    @property
    def variant_key(self) -> Variant:
        return Variant(self.attention, self.reduction_ratio)

    @property
    def variant(self) -> str:
        """The variant's English identity: "no SE" and "r=16" as before, "ECA", "CBAM r=16"."""
        return self.variant_key.label

    @property
    def has_weights(self) -> bool:
        return self.checkpoint is not None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _history_summary(history: pd.DataFrame) -> dict[str, float | None]:
    """Best and final accuracy, final loss, time and speed, as the zoo's export computes them."""
    if history.empty or "val_accuracy" not in history:
        return dict.fromkeys(
            (
                "best_val_accuracy",
                "final_val_accuracy",
                "final_val_loss",
                "training_seconds",
                "images_per_second",
            )
        )
    last = history.iloc[-1]
    return {
        "best_val_accuracy": _number(history["val_accuracy"].max()),
        "final_val_accuracy": _number(last["val_accuracy"]),
        "final_val_loss": _number(last.get("val_loss")),
        "training_seconds": _number(history["epoch_seconds"].sum())
        if "epoch_seconds" in history
        else None,
        # The mean of the per-epoch speeds: seattn.zoo.export_run reports the same for bundled
        # models, so runs and bundled models are measured alike.
        "images_per_second": _number(history["images_per_second"].mean())
        if "images_per_second" in history
        else None,
    }


def _file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _whole_number(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _from_config(
    source: str, name: str, config: dict[str, Any], history: pd.DataFrame, checkpoint: Path
) -> TrainedModel:
    data = config.get("data_description") or {}
    attention, ratio = config_attention(config)
    return TrainedModel(
        source=source,
        name=name,
        attention=attention,
        reduction_ratio=ratio,
        seed=_whole_number(config.get("seed")),
        classes=tuple(config.get("classes") or data.get("classes") or ()),
        data=dict(data),
        # Configs from before recipes were recorded hold the same names at the top level.
        recipe=Recipe.from_record(config.get("recipe") or config).as_trained(len(history) or None),
        history=history,
        epochs=len(history) or None,
        checkpoint=checkpoint,
        checkpoint_bytes=_file_size(checkpoint),
        **_history_summary(history),
    )


def read_runs(root: Path | str | None = None) -> list[TrainedModel]:
    """Every completed run with a checkpoint under ``root`` (default: the run store)."""
    models = []
    for run in list_runs(settings.runs_root() if root is None else root):
        if run.state() != RunState.COMPLETED or not run.checkpoint_path.is_file():
            continue
        config = run.read_config()
        if not config:
            continue
        try:
            models.append(
                _from_config(
                    ModelSource.RUN, run.name, config, run.read_metrics(), run.checkpoint_path
                )
            )
        except ValueError:  # a config whose ratio makes no sense is not a comparable model
            continue
    return models


def pending_runs(root: Path | str | None = None) -> list[Run]:
    """Runs still queued or training: they join the comparison when they complete."""
    return [
        run
        for run in list_runs(settings.runs_root() if root is None else root)
        if run.state() in ACTIVE_STATES
    ]


def read_bundled(folder: Path | str | None = None) -> list[TrainedModel]:
    """Every bundled model in ``folder`` (default: the bundled-model folder), plus its extra seeds.

    The metadata JSON says everything the comparison needs, so the weights are not read here;
    a model shipped without metadata is described from its checkpoint instead.
    """
    folder = zoo_dir() if folder is None else Path(folder)
    models: list[TrainedModel] = []
    for name, weights in zoo.bundled_models(folder).items():
        try:
            meta = json.loads(weights.with_suffix(".json").read_text())
        except (OSError, ValueError):
            meta = None
        try:
            if isinstance(meta, dict):
                models += _bundled_from_metadata(name, weights, meta)
            else:
                payload = read_checkpoint(weights)
                history = pd.DataFrame(payload.get("history") or [])
                models.append(
                    _from_config(ModelSource.BUNDLED, name, payload["config"], history, weights)
                )
        except (CheckpointError, ValueError, KeyError):
            continue  # an unreadable bundled model is the catalog's problem, not a comparison
    return models


def _bundled_from_metadata(name: str, weights: Path, meta: dict[str, Any]) -> list[TrainedModel]:
    data = meta.get("data") or {}
    history = pd.DataFrame(meta.get("history") or [])
    from_history = _history_summary(history)

    def reported(key: str, history_key: str) -> float | None:
        value = _number(meta.get(key))
        return value if value is not None else from_history[history_key]

    epochs = _whole_number(meta.get("epochs")) or len(history) or None
    attention, ratio = config_attention(meta)  # metadata without "attention": SE or none
    shipped = TrainedModel(
        source=ModelSource.BUNDLED,
        name=str(meta.get("name") or name),
        attention=attention,
        reduction_ratio=ratio,
        seed=_whole_number(meta.get("seed")),
        classes=tuple(meta.get("classes") or data.get("classes") or ()),
        data=dict(data),
        recipe=Recipe.from_record(meta.get("recipe") or {}).as_trained(epochs),
        history=history,
        epochs=epochs,
        best_val_accuracy=reported("best_val_accuracy", "best_val_accuracy"),
        final_val_accuracy=reported("val_accuracy", "final_val_accuracy"),
        final_val_loss=reported("val_loss", "final_val_loss"),
        training_seconds=reported("training_seconds", "training_seconds"),
        images_per_second=reported("images_per_second", "images_per_second"),
        checkpoint=weights,
        checkpoint_bytes=_file_size(weights),
    )
    extra = []
    for entry in meta.get("seeds") or []:
        seed = _whole_number(entry.get("seed")) if isinstance(entry, dict) else None
        if seed is None or seed == shipped.seed:
            continue  # the shipped seed is counted once, from its own record
        extra.append(
            dataclasses.replace(
                shipped,
                name=f"{shipped.name} (seed {seed}, metrics only)",
                seed=seed,
                # Seeds shipped with their metrics history join the averaged learning curves.
                history=pd.DataFrame(entry.get("history") or []),
                best_val_accuracy=_number(entry.get("best_val_accuracy")),
                final_val_accuracy=_number(entry.get("final_val_accuracy")),
                final_val_loss=_number(entry.get("val_loss")),
                training_seconds=_number(entry.get("training_seconds")),
                images_per_second=None,
                checkpoint=None,
                checkpoint_bytes=None,
            )
        )
    return [shipped, *extra]


def collect(
    runs: Path | str | None = None, bundled: Path | str | None = None
) -> list[TrainedModel]:
    """Bundled models first, then completed runs: the order in which duplicates are kept."""
    return read_bundled(bundled) + sorted(read_runs(runs), key=lambda model: model.name)
