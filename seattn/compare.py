"""Reduction ratios side by side: what the Compare page computes, without the page.

Sources. Completed runs of the run store (``SEATTN_RUNS_DIR``) and the bundled models
(``SEATTN_ZOO_DIR``, see seattn.zoo). A bundled model may also report extra seeds that were
trained without shipping their weights: they count in the accuracy columns, nothing else.

Grouping. Two trained models are comparable only when they saw the same images (the data
fingerprint, which hashes the exact training and validation images) and followed the same recipe
(``seattn.train.recipe_of``: optimiser, lr, batch size, schedule, augmentation, epochs, limit).
Every model lands in exactly one :class:`ComparisonGroup`; the page shows the groups and compares
within one, so runs of another data set or recipe are never averaged in silently. Within a group,
a second model with the same (ratio, seed) repeats an experiment instead of adding a seed: it is
left out of the statistics and listed with the reason (bundled models win, then runs by name).

Variants. One row per ratio in a group; accuracy, loss, time and speed are the mean and the sample
standard deviation (n - 1) over its seeds. Parameters and FLOPs belong to the architecture, so
they are computed once per (ratio, classes) on the meta device (no weights, no random numbers).

Attention. Per block, weight statistics (seattn.probe.weight_statistics) over validation images
for every model with weights, and how alike two ratios' attention is:

- for one image, the Pearson correlation of two ratios' excitation vectors of the same block.
  The hidden width differs between ratios but the excitation output has one weight per channel
  (C entries) whatever the ratio, so the vectors always line up entry by entry; the network
  without SE has no vectors and is left out. Channel c of two separately trained networks is
  only the same feature as far as training kept them alike (runs with one seed share block 1's
  initial filters and their batch order; deeper blocks start differently), so low correlations
  in deep blocks may mean "different channel order" as much as "different attention";
- over the validation images, linear CKA (centred kernel alignment) of the two ratios' [N, C]
  excitation matrices: it compares which images a block treats alike, so it does not depend on
  channel order at all.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode

from seattn import checkpoints, jobs, zoo
from seattn.data import CIFAR10, DataError, ImageSet, default_data_spec, load_splits
from seattn.images import normalize_uint8
from seattn.model import (
    BLOCK_CHANNELS,
    IMAGE_SIZE,
    SECNN,
    count_parameters,
    count_se_parameters,
    parse_ratio,
    ratio_label,
    se_hidden_widths,
)
from seattn.probe import probe, weight_statistics
from seattn.recipes import ADAM_PLATEAU, OPTIMIZER_LABELS, augmentation_text, optimizer_of
from seattn.runs import ACTIVE_STATES, COMPLETED, RESUMABLE_STATES, Run, list_runs
from seattn.settings import runs_root
from seattn.sweep import sweep_run_name
from seattn.train import recipe_of

RUN, BUNDLED = "run", "bundled"
BLOCK_NAMES = tuple(f"block{i}" for i in range(1, len(BLOCK_CHANNELS) + 1))
DEFAULT_SWEEP_RATIOS: tuple[int | None, ...] = (None, 2, 4, 8, 16, 32)
PROBE_BATCH = 500  # images per forward pass when measuring attention: bounds the memory
STATISTICS = ("mean", "std", "entropy")  # what the attention chart shows, per block
ModelLoader = Callable[[Path], tuple[SECNN, dict[str, Any]]]


# -- the trained models ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """One trained network (one ratio, one seed) and what its training reported."""

    source: str  # RUN or BUNDLED
    name: str  # run folder name, or bundled model name
    reduction_ratio: int | None
    seed: int | None
    classes: tuple[str, ...]
    data: dict[str, Any]  # the data_description: name, fingerprint, split, ...
    recipe: dict[str, Any]
    history: pd.DataFrame  # metrics.csv rows; empty for a bundled seed without weights
    epochs: int | None  # epochs actually trained (the recipe says how many were planned)
    best_val_accuracy: float | None
    final_val_accuracy: float | None
    final_val_loss: float | None
    training_seconds: float | None
    images_per_second: float | None
    checkpoint: Path | None  # None for a bundled seed reported without weights
    checkpoint_bytes: int | None

    @property
    def variant(self) -> str:
        return ratio_label(self.reduction_ratio)

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
    return TrainedModel(
        source=source,
        name=name,
        reduction_ratio=parse_ratio(config.get("reduction_ratio")),
        seed=_whole_number(config.get("seed")),
        classes=tuple(config.get("classes") or data.get("classes") or ()),
        data=dict(data),
        recipe=zoo.recipe_as_trained(
            config.get("recipe") or recipe_of(config), len(history) or None
        ),
        history=history,
        epochs=len(history) or None,
        checkpoint=checkpoint,
        checkpoint_bytes=_file_size(checkpoint),
        **_history_summary(history),
    )


def read_runs(root: Path | str | None = None) -> list[TrainedModel]:
    """Every completed run with a checkpoint under ``root`` (default: the run store)."""
    models = []
    for run in list_runs(runs_root() if root is None else root):
        if run.state() != COMPLETED or not run.checkpoint_path.is_file():
            continue
        config = run.read_config()
        if not config:
            continue
        try:
            models.append(
                _from_config(RUN, run.name, config, run.read_metrics(), run.checkpoint_path)
            )
        except ValueError:  # a config whose ratio makes no sense is not a comparable model
            continue
    return models


def pending_runs(root: Path | str | None = None) -> list[Run]:
    """Runs still queued or training: they join the comparison when they complete."""
    return [
        run
        for run in list_runs(runs_root() if root is None else root)
        if run.state() in ACTIVE_STATES
    ]


def read_bundled(folder: Path | str | None = None) -> list[TrainedModel]:
    """Every bundled model in ``folder`` (default: seattn.zoo.zoo_dir()), plus its extra seeds.

    The metadata JSON says everything the comparison needs, so the weights are not read here;
    a model shipped without metadata is described from its checkpoint instead.
    """
    folder = zoo.zoo_dir() if folder is None else Path(folder)
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
                payload = checkpoints.read_checkpoint(weights)
                history = pd.DataFrame(payload.get("history") or [])
                models.append(_from_config(BUNDLED, name, payload["config"], history, weights))
        except (checkpoints.CheckpointError, ValueError, KeyError):
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
    shipped = TrainedModel(
        source=BUNDLED,
        name=str(meta.get("name") or name),
        reduction_ratio=parse_ratio(meta.get("reduction_ratio")),
        seed=_whole_number(meta.get("seed")),
        classes=tuple(meta.get("classes") or data.get("classes") or ()),
        data=dict(data),
        recipe=zoo.recipe_as_trained(meta.get("recipe") or {}, epochs),
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


# -- grouping ---------------------------------------------------------------------------------


def comparison_key(data: dict[str, Any], recipe: dict[str, Any]) -> str:
    """Models with equal keys saw the same images with the same recipe."""
    # Old runs without a fingerprint fall back to the data's name and split, the next best thing.
    identity = data.get("fingerprint") or f"{data.get('name')}|{data.get('split')}"
    return f"{identity}|{json.dumps(recipe, sort_keys=True, default=str)}"


def _ratio_order(ratio: int | None) -> int:
    return 0 if ratio is None else ratio  # no SE first, then growing ratio (shrinking SE)


def _recipe_text(recipe: dict[str, Any]) -> str:
    parts = []
    if recipe.get("epochs") is not None:
        epochs = recipe["epochs"]
        parts.append(f"{epochs} epoch{'' if epochs == 1 else 's'}")
    if recipe.get("batch_size") is not None:
        parts.append(f"batch {recipe['batch_size']}")
    if recipe.get("lr") is not None:
        parts.append(f"lr {float(recipe['lr']):g}")
    if recipe.get("augment") is not None:
        parts.append(augmentation_text(recipe["augment"]))
    optimizer = optimizer_of(recipe)
    if optimizer != ADAM_PLATEAU:  # the course's goes unsaid: most models use it
        parts.append(OPTIMIZER_LABELS[optimizer])
    if recipe.get("limit"):
        parts.append(f"{recipe['limit']} images")
    return ", ".join(parts)


@dataclass(frozen=True, eq=False)
class ComparisonGroup:
    """Models trained on the same images with the same recipe: the only fair comparison."""

    key: str
    label: str
    data: dict[str, Any]
    recipe: dict[str, Any]
    models: tuple[TrainedModel, ...]  # counted, sorted by (ratio, seed)
    left_out: tuple[tuple[TrainedModel, str], ...]  # repeats of a (ratio, seed), with why

    @property
    def ratios(self) -> list[int | None]:
        return sorted({m.reduction_ratio for m in self.models}, key=_ratio_order)

    @property
    def classes(self) -> tuple[str, ...]:
        return self.models[0].classes

    def variant_models(self, ratio: int | None) -> list[TrainedModel]:
        return [m for m in self.models if m.reduction_ratio == ratio]


def group_models(models: Iterable[TrainedModel]) -> list[ComparisonGroup]:
    """Models grouped by (data fingerprint, recipe); the group with the most ratios first."""
    by_key: dict[str, list[TrainedModel]] = {}
    for model in models:
        by_key.setdefault(comparison_key(model.data, model.recipe), []).append(model)
    groups = []
    for key, members in by_key.items():
        kept: dict[tuple[int | None, int | None], TrainedModel] = {}
        counted, left_out = [], []
        for model in members:
            identity = (model.reduction_ratio, model.seed)
            first = kept.get(identity) if model.seed is not None else None
            if first is not None:
                left_out.append(
                    (
                        model,
                        f"repeats {first.name} ({model.variant}, seed {model.seed}) in this group",
                    )
                )
                continue
            kept[identity] = model
            counted.append(model)
        counted.sort(key=lambda m: (_ratio_order(m.reduction_ratio), m.seed or 0, m.name))
        data, recipe = dict(counted[0].data), dict(counted[0].recipe)
        label = f"{data.get('name') or 'unknown data'} · {_recipe_text(recipe) or 'unknown recipe'}"
        groups.append(ComparisonGroup(key, label, data, recipe, tuple(counted), tuple(left_out)))
    _disambiguate_labels(groups)
    groups.sort(
        key=lambda g: (
            -len(g.ratios),
            not any(m.source == BUNDLED for m in g.models),
            -len(g.models),
            g.label,
        )
    )
    return groups


def _disambiguate_labels(groups: list[ComparisonGroup]) -> None:
    """Two data sets of one name (a folder that changed) get their fingerprints in the label."""
    counts: dict[str, int] = {}
    for group in groups:
        counts[group.label] = counts.get(group.label, 0) + 1
    for index, group in enumerate(groups):
        if counts[group.label] > 1:
            fingerprint = str(group.data.get("fingerprint") or "no fingerprint")[:8]
            groups[index] = dataclasses.replace(group, label=f"{group.label} · data {fingerprint}")


def groups_table(groups: Sequence[ComparisonGroup]) -> pd.DataFrame:
    """One row per group: what its models have in common and what it holds."""
    rows = []
    for group in groups:
        sources = sorted({m.source for m in group.models})
        rows.append(
            {
                "group": group.label,
                "data": group.data.get("name"),
                "fingerprint": group.data.get("fingerprint"),
                "split": group.data.get("split"),
                "epochs": group.recipe.get("epochs"),
                "batch size": group.recipe.get("batch_size"),
                "optimizer": OPTIMIZER_LABELS[optimizer_of(group.recipe)],
                "lr": group.recipe.get("lr"),
                "augment": group.recipe.get("augment"),
                "limit": group.recipe.get("limit"),
                "ratios": ", ".join(ratio_label(r) for r in group.ratios),
                "models": len(group.models),
                "left out": len(group.left_out),
                "sources": ", ".join(sources),
            }
        )
    return pd.DataFrame(rows)


# -- architecture -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Architecture:
    parameters: int
    se_parameters: int
    se_hidden_widths: tuple[int, ...]
    flops: int  # per 1x3x32x32 image, as torch.utils.flop_counter counts them
    se_flops: int


@functools.lru_cache(maxsize=64)
def architecture(reduction_ratio: int | None, num_classes: int = 10) -> Architecture:
    """Parameter and FLOP counts of the reference network with this ratio.

    Built on the meta device: shapes only, so it is instant and draws no random numbers from
    anyone's generator. torch.utils.flop_counter counts convolutions and matrix multiplies
    (2 FLOPs per multiply-add); batch norm, ReLU, pooling, the sigmoid and SE's channel scaling
    are not counted. The scaling is C x H x W multiplies per block whatever the ratio, so the
    ratios' differences are exactly the counted SE matrix multiplies.
    """
    with torch.device("meta"):
        model = SECNN(reduction_ratio, num_classes=num_classes).eval()
        image = torch.empty(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    with FlopCounterMode(display=False) as counter:
        model(image)
    per_module = counter.get_flop_counts()
    se_flops = sum(
        sum(per_module.get(f"SECNN.blocks.{i}.se", {}).values()) for i in range(len(model.blocks))
    )
    return Architecture(
        parameters=count_parameters(model),
        se_parameters=count_se_parameters(model),
        se_hidden_widths=tuple(se_hidden_widths(reduction_ratio)),
        flops=int(counter.get_total_flops()),
        se_flops=int(se_flops),
    )


# -- the tables -------------------------------------------------------------------------------

# Per-seed quantities: the variants table gives their mean and "<name> std" over seeds.
SEED_QUANTITIES = {
    "best val accuracy": "best_val_accuracy",
    "final val accuracy": "final_val_accuracy",
    "final val loss": "final_val_loss",
    "training seconds": "training_seconds",
    "images per second": "images_per_second",
}


def models_table(group: ComparisonGroup) -> pd.DataFrame:
    """One row per counted model: the raw numbers behind every mean and std."""
    rows = []
    for model in group.models:
        row: dict[str, Any] = {
            "variant": model.variant,
            "reduction ratio": model.reduction_ratio,
            "seed": model.seed,
            "source": model.source,
            "model": model.name,
            "epochs": model.epochs,
        }
        row.update({column: getattr(model, attr) for column, attr in SEED_QUANTITIES.items()})
        row["checkpoint MB"] = (
            model.checkpoint_bytes / 1e6 if model.checkpoint_bytes is not None else None
        )
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["reduction ratio"] = frame["reduction ratio"].astype("Int64")
    frame["seed"] = frame["seed"].astype("Int64")
    frame["epochs"] = frame["epochs"].astype("Int64")
    numeric = [*SEED_QUANTITIES, "checkpoint MB"]
    frame[numeric] = frame[numeric].astype("float64")
    return frame


def variants_table(group: ComparisonGroup) -> pd.DataFrame:
    """One row per ratio: architecture, then mean and std over seeds of every per-seed number.

    The std is the sample standard deviation (n - 1); with one seed it is empty, not 0.
    """
    per_model = models_table(group)
    num_classes = len(group.classes) or 10
    rows = []
    for ratio in group.ratios:
        members = per_model[per_model["variant"] == ratio_label(ratio)]
        shape = architecture(ratio, num_classes)
        widths = dict(zip(BLOCK_NAMES, shape.se_hidden_widths, strict=False))
        row: dict[str, Any] = {
            "variant": ratio_label(ratio),
            "reduction ratio": ratio,
            "seeds": len(members),
            "seed list": ", ".join(str(s) for s in members["seed"].dropna().tolist()),
        }
        for block in BLOCK_NAMES:
            row[f"SE width {block}"] = widths.get(block)
        row.update(
            {
                "parameters": shape.parameters,
                "SE parameters": shape.se_parameters,
                "FLOPs per image": shape.flops,
                "SE FLOPs per image": shape.se_flops,
            }
        )
        for column in SEED_QUANTITIES:
            values = members[column].dropna()
            row[column] = values.mean() if len(values) else None
            row[f"{column} std"] = values.std() if len(values) > 1 else None
        row["checkpoint MB"] = members["checkpoint MB"].mean()
        rows.append(row)
    frame = pd.DataFrame(rows)
    integers = ["reduction ratio", *(f"SE width {block}" for block in BLOCK_NAMES)]
    frame[integers] = frame[integers].astype("Int64")
    floats = [c for c in frame.columns if c in SEED_QUANTITIES or c.endswith(" std")]
    frame[floats] = frame[floats].astype("float64")
    return frame


def table_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def learning_curves(group: ComparisonGroup) -> pd.DataFrame:
    """Per variant and epoch: mean and std over seeds of validation accuracy and loss.

    Long format (variant, reduction ratio, epoch, metric, mean, std, seeds), ready to overlay.
    """
    metrics = {
        "val_accuracy": "validation accuracy",
        "val_loss": "validation loss",
        "train_loss": "training loss",
    }
    parts = []
    for model in group.models:
        history = model.history
        if history.empty or "epoch" not in history:
            continue
        present = [c for c in metrics if c in history]
        long = history[["epoch", *present]].melt(
            id_vars="epoch", var_name="metric", value_name="value"
        )
        long["variant"] = model.variant
        long["order"] = _ratio_order(model.reduction_ratio)
        parts.append(long)
    columns = ["variant", "reduction ratio", "epoch", "metric", "mean", "std", "seeds"]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True)
    frame["metric"] = frame["metric"].map(metrics)
    curves = (
        frame.groupby(["order", "variant", "epoch", "metric"], sort=True)["value"]
        .agg(mean="mean", std="std", seeds="count")
        .reset_index()
    )
    curves["reduction ratio"] = curves["order"].where(curves["order"] > 0).astype("Int64")
    return curves[columns]


# -- attention --------------------------------------------------------------------------------


def _data_candidates(config: dict[str, Any]) -> list[str]:
    """Where a model's training images may be, most specific first, without repeats."""
    data = config.get("data_description") or {}
    candidates = []
    if data.get("kind") == "cifar10" or str(config.get("data", "")).lower() == CIFAR10:
        candidates.append(CIFAR10)
    for value in (data.get("source"), config.get("data"), default_data_spec()):
        if value and str(value) not in candidates:
            candidates.append(str(value))
    return candidates


def training_config(model: TrainedModel) -> dict[str, Any]:
    """The model's full training config: config.json for a run, the checkpoint's for a bundle."""
    if model.checkpoint is None:
        raise DataError(f"{model.name} ships no weights, so its training config is unknown")
    if model.source == RUN:
        return Run(model.checkpoint.parent).read_config()
    return checkpoints.read_checkpoint(model.checkpoint)["config"]


def validation_images(group: ComparisonGroup, data_dir: Path | None = None) -> ImageSet:
    """The group's validation images: the very images its models were validated on.

    The data is looked for where the models' config says it was (and at ``SEATTN_DATA``), and a
    candidate is used only if its fingerprint matches the group's: excitation statistics over
    other images would not be the models' validation numbers. Raises DataError saying where it
    looked.
    """
    model = next((m for m in group.models if m.has_weights), None)
    if model is None:
        raise DataError("No model of this group has weights, so there is nothing to measure")
    config = training_config(model)
    wanted = group.data.get("fingerprint")
    tried = []
    for spec in _data_candidates(config):
        try:
            splits = load_splits(
                spec,
                data_dir=data_dir,
                val_fraction=float(config.get("val_fraction") or 0.1),
                split_seed=int(config.get("split_seed") or 0),
                limit=config.get("limit"),
                download=False,
            )
        except (DataError, OSError, RuntimeError) as error:
            tried.append(f"{spec} ({str(error).splitlines()[0][:120]})")
            continue
        if wanted and splits.description.get("fingerprint") != wanted:
            tried.append(f"{spec} (other images than the models were trained on)")
            continue
        return splits.val
    raise DataError(
        f"The validation images of {group.data.get('name') or 'this data'} are not available "
        f"here. Looked at: {'; '.join(tried) or 'nowhere'}. Set SEATTN_DATA to that data's folder."
    )


def representatives(group: ComparisonGroup) -> list[TrainedModel]:
    """One model with weights per ratio (its lowest seed): the one shown for a single image."""
    chosen = []
    for ratio in group.ratios:
        with_weights = [m for m in group.variant_models(ratio) if m.has_weights]
        if with_weights:
            chosen.append(min(with_weights, key=lambda m: (m.seed is None, m.seed or 0)))
    return chosen


def weights_stamp(group: ComparisonGroup) -> tuple[tuple[str, int], ...]:
    """(checkpoint, modification time) of every model with weights: a cache key for the page."""
    stamp = []
    for model in group.models:
        if model.checkpoint is not None:
            try:
                stamp.append((str(model.checkpoint), model.checkpoint.stat().st_mtime_ns))
            except OSError:
                stamp.append((str(model.checkpoint), 0))
    return tuple(stamp)


def _excitation_weights(model: SECNN, images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per SE block, the [N, C] excitation weights of ``images`` (uint8), in batches."""
    parts: dict[str, list[torch.Tensor]] = {}
    for start in range(0, len(images), PROBE_BATCH):
        result = probe(model, normalize_uint8(images[start : start + PROBE_BATCH]))
        for record in result.blocks:
            parts.setdefault(record.name, []).append(record.weights.float())
    return {block: torch.cat(chunks) for block, chunks in parts.items()}


@dataclass(frozen=True)
class SimilarityMatrix:
    """How alike the ratios are in one block: a symmetric [variants, variants] matrix."""

    labels: list[str]
    values: np.ndarray


@dataclass(frozen=True)
class ExcitationMeasurement:
    statistics: pd.DataFrame  # one row per (model, block): weight_statistics over the images
    summary: pd.DataFrame  # one row per (variant, block): mean and std over seeds
    similarity: dict[str, SimilarityMatrix]  # per block: linear CKA between representatives
    images: int


def linear_cka(first: torch.Tensor, second: torch.Tensor) -> float:
    """Linear CKA of two [N, C] matrices over the same N images (Kornblith et al., 2019).

    1.0 when one is a rotation or scaling of the other (so channel order does not matter), near
    0 when unrelated; NaN when either has no variance at all.
    """
    x = first.double() - first.double().mean(dim=0)
    y = second.double() - second.double().mean(dim=0)
    cross = torch.linalg.matrix_norm(y.T @ x) ** 2
    norms = torch.linalg.matrix_norm(x.T @ x) * torch.linalg.matrix_norm(y.T @ y)
    return float(cross / norms) if float(norms) > 0 else math.nan


def measure_excitation(
    group: ComparisonGroup,
    images: ImageSet | torch.Tensor,
    *,
    max_images: int | None = None,
    load: ModelLoader = checkpoints.load_model,
) -> ExcitationMeasurement:
    """Attention of every model with weights over ``images`` (the group's validation images).

    ``load`` gives (model, config) for a checkpoint path; the page passes its cached loader.
    """
    batch = images.images if isinstance(images, ImageSet) else images
    if max_images is not None:
        batch = batch[:max_images]
    rows = []
    per_variant: dict[str, dict[str, torch.Tensor]] = {}
    shown = {id(m) for m in representatives(group)}
    for model in group.models:
        if model.checkpoint is None or model.reduction_ratio is None:
            continue
        network, _ = load(model.checkpoint)
        weights = _excitation_weights(network, batch)
        if id(model) in shown:
            per_variant[model.variant] = weights
        for block, values in weights.items():
            rows.append(
                {
                    "variant": model.variant,
                    "reduction ratio": model.reduction_ratio,
                    "seed": model.seed,
                    "model": model.name,
                    "block": block,
                    **weight_statistics(values),
                }
            )
    statistics = pd.DataFrame(rows)
    return ExcitationMeasurement(
        statistics=statistics,
        summary=_statistics_summary(statistics),
        similarity={
            block: _similarity(per_variant, block, linear_cka) for block in _blocks(per_variant)
        },
        images=len(batch),
    )


def _blocks(per_variant: dict[str, dict[str, Any]]) -> list[str]:
    return sorted({block for blocks in per_variant.values() for block in blocks})


def _similarity(
    per_variant: dict[str, dict[str, torch.Tensor]],
    block: str,
    measure: Callable[[torch.Tensor, torch.Tensor], float],
) -> SimilarityMatrix:
    labels = [label for label, blocks in per_variant.items() if block in blocks]
    values = np.full((len(labels), len(labels)), np.nan)
    for i, first in enumerate(labels):
        for j, second in enumerate(labels[i:], start=i):
            values[i, j] = values[j, i] = measure(
                per_variant[first][block], per_variant[second][block]
            )
    return SimilarityMatrix(labels, values)


def _statistics_summary(statistics: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, block): mean over seeds of each statistic, and its std over seeds."""
    columns = ["variant", "reduction ratio", "block", "seeds"]
    columns += [f"{name}{suffix}" for name in STATISTICS for suffix in ("", " std")]
    if statistics.empty:
        return pd.DataFrame(columns=columns)
    grouped = statistics.groupby(["reduction ratio", "variant", "block"], sort=True)
    summary = grouped[list(STATISTICS)].mean()
    spread = grouped[list(STATISTICS)].std().add_suffix(" std")
    summary = summary.join(spread).join(grouped.size().rename("seeds")).reset_index()
    summary["reduction ratio"] = summary["reduction ratio"].astype("Int64")
    return summary[columns]


@dataclass(frozen=True)
class ImageExcitation:
    """One image through every ratio: per block, a [variants, C] matrix of excitation weights."""

    vectors: dict[str, SimilarityMatrix]  # labels: variants; values: [variants, C] weights
    correlation: dict[str, SimilarityMatrix]  # per block: Pearson r between the variants' vectors
    predictions: pd.DataFrame  # variant, seed, predicted class, probability, for every ratio


def image_excitation(
    group: ComparisonGroup,
    image: torch.Tensor,
    *,
    load: ModelLoader = checkpoints.load_model,
) -> ImageExcitation:
    """Run one uint8 [3, 32, 32] image through each ratio's representative model."""
    batch = normalize_uint8(image[None] if image.dim() == 3 else image[:1])
    per_variant: dict[str, dict[str, torch.Tensor]] = {}
    predictions = []
    for model in representatives(group):
        network, config = load(model.checkpoint)
        result = probe(network, batch)
        probability, index = result.probabilities[0].max(dim=0)
        classes = list(config.get("classes") or model.classes)
        predictions.append(
            {
                "variant": model.variant,
                "seed": model.seed,
                "prediction": classes[int(index)] if classes else int(index),
                "probability": float(probability),
            }
        )
        if result.blocks:
            per_variant[model.variant] = {r.name: r.weights[0].float() for r in result.blocks}
    vectors = {}
    for block in _blocks(per_variant):
        labels = [label for label, blocks in per_variant.items() if block in blocks]
        matrix = torch.stack([per_variant[label][block] for label in labels]).numpy()
        vectors[block] = SimilarityMatrix(labels, matrix)
    return ImageExcitation(
        vectors=vectors,
        correlation={block: _pearson(matrix) for block, matrix in vectors.items()},
        predictions=pd.DataFrame(
            predictions, columns=["variant", "seed", "prediction", "probability"]
        ),
    )


def _pearson(vectors: SimilarityMatrix) -> SimilarityMatrix:
    """Pearson r between every pair of rows; NaN where a row is constant (r is undefined)."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        values = np.atleast_2d(np.corrcoef(vectors.values.astype(np.float64)))
    return SimilarityMatrix(list(vectors.labels), values)


def image_for_display(images: ImageSet, index: int, scale: int = 6) -> Image.Image:
    """Validation image ``index`` as a PIL image, enlarged with hard pixel edges."""
    array = images.images[index].permute(1, 2, 0).contiguous().numpy()
    picture = Image.fromarray(array)
    return picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)


def image_caption(images: ImageSet, index: int) -> str:
    label = images.classes[int(images.labels[index])]
    name = images.files[index] if images.files else f"image {index}"
    return f"{name} (class: {label})"


# -- sweeps from the page ---------------------------------------------------------------------

START, RESUME, SKIP = "start", "resume", "skip"


@dataclass(frozen=True)
class SweepItem:
    name: str
    spec: jobs.JobSpec
    action: str  # START, RESUME or SKIP
    reason: str = ""


def parse_seeds(text: str) -> list[int]:
    """'0, 1, 2' -> [0, 1, 2]; '0-2' -> [0, 1, 2]; repeats dropped; ValueError saying why."""
    seeds: list[int] = []
    for part in str(text).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part[1:]:
                first, last = (int(p) for p in part.split("-", 1))
                values = list(range(first, last + 1))
            else:
                values = [int(part)]
        except ValueError:
            raise ValueError(
                f"seeds must be whole numbers like 0, 1, 2 or 0-2; got {part!r}"
            ) from None
        if any(v < 0 for v in values) or not values:
            raise ValueError(f"seeds must be whole numbers >= 0; got {part!r}")
        seeds += [v for v in values if v not in seeds]
    if not seeds:
        raise ValueError("give at least one seed, e.g. 0 or 0, 1, 2")
    return seeds


def _comparable_spec(spec: jobs.JobSpec) -> jobs.JobSpec:
    # Threads change the speed, not the result; data paths are compared resolved.
    return dataclasses.replace(spec.with_absolute_data(), threads=1)


def plan_sweep(
    base: jobs.JobSpec,
    ratios: Sequence[int | None],
    seeds: Sequence[int],
    root: Path | str | None = None,
) -> list[SweepItem]:
    """One item per (ratio, seed), named as the CLI's sweep names its runs.

    A run of that name holding the same job is skipped when completed or active, and resumed when
    stopped, failed or interrupted (as the CLI resumes); a run of that name holding another job
    (other data or recipe) keeps its name, and the new one gets a free ``-2``, ``-3``... name.
    Raises JobError when the trainer would refuse the settings.
    """
    if not ratios:
        raise jobs.JobError("choose at least one reduction ratio")
    if not seeds:
        raise jobs.JobError("choose at least one seed")
    base = base.with_absolute_data()
    base.validate()
    root_path = Path(runs_root() if root is None else root)
    plan = []
    for ratio in ratios:
        for seed in seeds:
            spec = dataclasses.replace(base, reduction_ratio=ratio, seed=seed)
            name = sweep_run_name(
                ratio, seed, spec.epochs, optimizer=spec.optimizer, augment=spec.augment
            )
            plan.append(_plan_one(spec, name, root_path))
    return plan


def _plan_one(spec: jobs.JobSpec, base_name: str, root: Path) -> SweepItem:
    name, suffix = base_name, 2
    while (root / name).exists():
        run = Run(root / name)
        try:
            same = _comparable_spec(jobs.job_spec(run)) == _comparable_spec(spec)
        except (jobs.JobError, TypeError, ValueError):
            same = False
        if same:
            state = run.state()
            if state == COMPLETED:
                return SweepItem(name, spec, SKIP, "already trained")
            if state in ACTIVE_STATES:
                return SweepItem(name, spec, SKIP, f"already {state}")
            if state in RESUMABLE_STATES:
                return SweepItem(name, spec, RESUME, f"{state}: continues from its last epoch")
        name, suffix = f"{base_name}-{suffix}", suffix + 1
    return SweepItem(name, spec, START)


@dataclass
class SweepOutcome:
    started: list[str] = dataclasses.field(default_factory=list)
    queued: list[str] = dataclasses.field(default_factory=list)
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    refused: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        parts = []
        if self.started:
            parts.append(f"started {len(self.started)}")
        if self.queued:
            parts.append(f"queued {len(self.queued)} (they start as cores free up)")
        if self.skipped:
            parts.append(f"skipped {len(self.skipped)} already trained or on the way")
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        return ("Sweep: " + ", ".join(parts) + ".") if parts else "Sweep: nothing to do."


def launch_sweep(
    plan: Sequence[SweepItem], root: Path | str | None = None, *, max_jobs: int | None = None
) -> SweepOutcome:
    """Hand every item to the job queue (seattn.jobs); at most ``max_jobs`` train at once."""
    root_path = Path(runs_root() if root is None else root)
    outcome = SweepOutcome()
    for item in plan:
        if item.action == SKIP:
            outcome.skipped.append((item.name, item.reason))
            continue
        try:
            # Looked up at call time, so a test can stand in for the queue.
            if item.action == RESUME:
                run = jobs.resume(Run(root_path / item.name), max_jobs=max_jobs)
            else:
                run = jobs.start(item.spec, root=root_path, name=item.name, max_jobs=max_jobs)
        except jobs.JobError as error:
            outcome.refused.append((item.name, str(error)))
            continue
        if jobs.queue_position(run):
            outcome.queued.append(item.name)
        else:
            outcome.started.append(item.name)
    return outcome
