"""Attention across variants (SE's ratios, ECA, CBAM): the channel weights' statistics over the
validation images, how alike two variants' attention is (linear CKA), and one image through every
variant (Pearson r). Every module hands out the channel weights it used (seattn.model.probe), so
the three kinds are measured alike; the network without attention has none and is left out.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from seattn.analysis.catalog import ModelSource
from seattn.analysis.compare.grouping import ComparisonGroup, representatives
from seattn.analysis.compare.sources import TrainedModel
from seattn.analysis.statistics import weight_statistics
from seattn.data.cifar10 import CIFAR10, is_cifar10
from seattn.data.datasets import DataError, ImageSet, load_splits
from seattn.data.images import normalize_uint8
from seattn.i18n import _
from seattn.model.attention import AttentionKind
from seattn.model.checkpoints import load_model, read_checkpoint
from seattn.model.cnn import SECNN
from seattn.model.probe import probe
from seattn.settings import default_data_spec
from seattn.training.runfiles import Run

PROBE_BATCH = 500  # images per forward pass when measuring attention: bounds the memory
STATISTICS = ("mean", "std", "entropy")  # what the attention chart shows, per block
ModelLoader = Callable[[Path], tuple[SECNN, dict[str, Any]]]


def _data_candidates(config: dict[str, Any]) -> list[str]:
    """Where a model's training images may be, most specific first, without repeats."""
    data = config.get("data_description") or {}
    candidates = []
    if data.get("kind") == "cifar10" or is_cifar10(config.get("data", "")):
        candidates.append(CIFAR10)
    for value in (data.get("source"), config.get("data"), default_data_spec()):
        if value and str(value) not in candidates:
            candidates.append(str(value))
    return candidates


def training_config(model: TrainedModel) -> dict[str, Any]:
    """The model's full training config: config.json for a run, the checkpoint's for a bundle."""
    if model.checkpoint is None:
        message = _("{model} ships no weights, so its training config is unknown")
        raise DataError(message.format(model=model.name))
    if model.source == ModelSource.RUN:
        return Run(model.checkpoint.parent).read_config()
    return read_checkpoint(model.checkpoint)["config"]


def validation_images(group: ComparisonGroup, data_dir: Path | None = None) -> ImageSet:
    """The group's validation images: the very images its models were validated on.

    The data is looked for where the models' config says it was (and at ``SEATTN_DATA``), and a
    candidate is used only if its fingerprint matches the group's: excitation statistics over
    other images would not be the models' validation numbers. Raises DataError saying where it
    looked (in the active language: the Compare page shows it).
    """
    model = next((m for m in group.models if m.has_weights), None)
    if model is None:
        raise DataError(_("No model of this group has weights, so there is nothing to measure"))
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
            reason = str(error).splitlines()[0][:120]
            tried.append(_("{source} ({reason})").format(source=spec, reason=reason))
            continue
        if wanted and splits.description.get("fingerprint") != wanted:
            tried.append(
                _("{source} (other images than the models were trained on)").format(source=spec)
            )
            continue
        return splits.val
    message = _(
        "The validation images of {data} are not available here. Looked at: {places}. "
        "Set SEATTN_DATA to that data's folder."
    )
    raise DataError(
        message.format(
            data=group.data.get("name") or _("this data"),
            places="; ".join(tried) or _("nowhere"),
        )
    )


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
    load: ModelLoader = load_model,
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
    order = {variant: index for index, variant in enumerate(group.variants)}
    for model in group.models:
        if model.checkpoint is None or model.attention == AttentionKind.NONE:
            continue
        network, _ = load(model.checkpoint)
        weights = _excitation_weights(network, batch)
        if id(model) in shown:
            per_variant[model.variant] = weights
        for block, values in weights.items():
            rows.append(
                {
                    "order": order[model.variant_key],
                    "variant": model.variant,
                    "attention": str(model.attention),
                    "reduction ratio": model.reduction_ratio,
                    "seed": model.seed,
                    "model": model.name,
                    "block": block,
                    **weight_statistics(values),
                }
            )
    statistics = pd.DataFrame(rows)
    summary = _statistics_summary(statistics)
    if not statistics.empty:
        statistics["reduction ratio"] = statistics["reduction ratio"].astype("Int64")
        statistics = statistics.drop(columns="order")
    return ExcitationMeasurement(
        statistics=statistics,
        summary=summary,
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
    """Per (variant, block): mean over seeds of each statistic, and its std over seeds, in the
    group's order of variants."""
    columns = ["variant", "attention", "reduction ratio", "block", "seeds"]
    columns += [f"{name}{suffix}" for name in STATISTICS for suffix in ("", " std")]
    if statistics.empty:
        return pd.DataFrame(columns=columns)
    # ECA's ratio is None like the baseline's: dropna=False keeps its rows.
    keys = ["order", "variant", "attention", "reduction ratio", "block"]
    grouped = statistics.groupby(keys, sort=True, dropna=False)
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
    load: ModelLoader = load_model,
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
