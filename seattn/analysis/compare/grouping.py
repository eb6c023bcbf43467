"""Which trained models are comparable: the same images (data fingerprint) and the same recipe."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from seattn.analysis.catalog import ModelSource
from seattn.analysis.compare.sources import TrainedModel
from seattn.model.ratios import ratio_label, ratio_order
from seattn.training.recipes import Recipe


def comparison_key(data: dict[str, Any], recipe: Recipe) -> str:
    """Models with equal keys saw the same images with the same recipe."""
    # Old runs without a fingerprint fall back to the data's name and split, the next best thing.
    identity = data.get("fingerprint") or f"{data.get('name')}|{data.get('split')}"
    return f"{identity}|{json.dumps(recipe.to_dict(), sort_keys=True)}"


@dataclass(frozen=True, eq=False)
class ComparisonGroup:
    """Models trained on the same images with the same recipe: the only fair comparison."""

    key: str
    data: dict[str, Any]
    recipe: Recipe
    models: tuple[TrainedModel, ...]  # counted, sorted by (ratio, seed)
    # Repeats of a (ratio, seed): (the model left out, the counted model it repeats).
    left_out: tuple[tuple[TrainedModel, TrainedModel], ...]

    @property
    def ratios(self) -> list[int | None]:
        return sorted({m.reduction_ratio for m in self.models}, key=ratio_order)

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
                left_out.append((model, first))
                continue
            kept[identity] = model
            counted.append(model)
        counted.sort(key=lambda m: (ratio_order(m.reduction_ratio), m.seed or 0, m.name))
        data, recipe = dict(counted[0].data), counted[0].recipe
        groups.append(ComparisonGroup(key, data, recipe, tuple(counted), tuple(left_out)))
    groups.sort(
        key=lambda g: (
            -len(g.ratios),
            not any(m.source == ModelSource.BUNDLED for m in g.models),
            -len(g.models),
            str(g.data.get("name")),
            g.key,
        )
    )
    return groups


def groups_table(groups: Sequence[ComparisonGroup]) -> pd.DataFrame:
    """One row per group: what its models have in common and what it holds."""
    rows = []
    for group in groups:
        sources = sorted({m.source for m in group.models})
        rows.append(
            {
                "data": group.data.get("name"),
                "fingerprint": group.data.get("fingerprint"),
                "split": group.data.get("split"),
                "epochs": group.recipe.epochs,
                "batch size": group.recipe.batch_size,
                "optimizer": group.recipe.optimizer,
                "lr": group.recipe.lr,
                "augment": group.recipe.augment,
                "limit": group.recipe.limit,
                "ratios": ", ".join(ratio_label(r) for r in group.ratios),
                "models": len(group.models),
                "left out": len(group.left_out),
                "sources": ", ".join(sources),
            }
        )
    return pd.DataFrame(rows)


def representatives(group: ComparisonGroup) -> list[TrainedModel]:
    """One model with weights per ratio (its lowest seed): the one shown for a single image."""
    chosen = []
    for ratio in group.ratios:
        with_weights = [m for m in group.variant_models(ratio) if m.has_weights]
        if with_weights:
            chosen.append(min(with_weights, key=lambda m: (m.seed is None, m.seed or 0)))
    return chosen
