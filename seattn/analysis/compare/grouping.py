"""Which trained models are comparable: the same images (data fingerprint) and the same recipe.

Within a group the variants are (attention module, ratio): SE's ratios, ECA, CBAM's ratios and
the network without attention, side by side whatever their kind, when their data and recipe match.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from seattn.analysis.catalog import ModelSource
from seattn.analysis.compare.sources import TrainedModel, Variant
from seattn.model.ratios import ratio_order
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
    models: tuple[TrainedModel, ...]  # counted, sorted by (variant, seed)
    # Repeats of a (variant, seed): (the model left out, the counted model it repeats).
    left_out: tuple[tuple[TrainedModel, TrainedModel], ...]

    @property
    def variants(self) -> list[Variant]:
        """(attention, ratio) of the group's models: no attention, SE by ratio, ECA, CBAM."""
        return sorted({m.variant_key for m in self.models}, key=Variant.order)

    @property
    def ratios(self) -> list[int | None]:
        """The ratios among the variants (None: no attention, or ECA)."""
        return sorted({m.reduction_ratio for m in self.models}, key=ratio_order)

    @property
    def classes(self) -> tuple[str, ...]:
        return self.models[0].classes

    def variant_models(self, variant: Variant | int | None) -> list[TrainedModel]:
        """The models of one variant; a bare ratio means SE's (None: no attention), as before."""
        if not isinstance(variant, Variant):
            variant = Variant.of(None, variant)
        return [m for m in self.models if m.variant_key == variant]


def group_models(models: Iterable[TrainedModel]) -> list[ComparisonGroup]:
    """Models grouped by (data fingerprint, recipe); the group with the most variants first."""
    by_key: dict[str, list[TrainedModel]] = {}
    for model in models:
        by_key.setdefault(comparison_key(model.data, model.recipe), []).append(model)
    groups = []
    for key, members in by_key.items():
        kept: dict[tuple[Variant, int | None], TrainedModel] = {}
        counted, left_out = [], []
        for model in members:
            identity = (model.variant_key, model.seed)
            first = kept.get(identity) if model.seed is not None else None
            if first is not None:
                left_out.append((model, first))
                continue
            kept[identity] = model
            counted.append(model)
        counted.sort(key=lambda m: (m.variant_key.order(), m.seed or 0, m.name))
        data, recipe = dict(counted[0].data), counted[0].recipe
        groups.append(ComparisonGroup(key, data, recipe, tuple(counted), tuple(left_out)))
    groups.sort(
        key=lambda g: (
            -len(g.variants),
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
                "variants": ", ".join(variant.label for variant in group.variants),
                "models": len(group.models),
                "left out": len(group.left_out),
                "sources": ", ".join(sources),
            }
        )
    return pd.DataFrame(rows)


def representatives(group: ComparisonGroup) -> list[TrainedModel]:
    """One model with weights per variant (its lowest seed): the one shown for a single image."""
    chosen = []
    for variant in group.variants:
        with_weights = [m for m in group.variant_models(variant) if m.has_weights]
        if with_weights:
            chosen.append(min(with_weights, key=lambda m: (m.seed is None, m.seed or 0)))
    return chosen
