"""The comparison's tables: one row per model, one per variant (mean and std over seeds), curves.

A variant is (attention module, ratio). The columns keep their English names in the CSV; those
that hold the attention's own numbers say "attention" (SE's, ECA's or CBAM's, whichever the row's
is), and "hidden width <block>" is the channel MLP's (SE's and CBAM's: channels // r, at least 1).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from seattn.analysis.compare.grouping import ComparisonGroup
from seattn.model.architecture import architecture
from seattn.model.ratios import BLOCK_NAMES

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
            "attention": str(model.attention),
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
    """One row per variant: architecture, then mean and std over seeds of every per-seed number.

    The std is the sample standard deviation (n - 1); with one seed it is empty, not 0.
    """
    per_model = models_table(group)
    num_classes = len(group.classes) or 10
    rows = []
    for variant in group.variants:
        members = per_model[per_model["variant"] == variant.label]
        shape = architecture(variant.reduction_ratio, num_classes, variant.attention)
        widths = dict(zip(BLOCK_NAMES, shape.hidden_widths, strict=False))
        row: dict[str, Any] = {
            "variant": variant.label,
            "attention": str(variant.attention),
            "reduction ratio": variant.reduction_ratio,
            "seeds": len(members),
            "seed list": ", ".join(str(s) for s in members["seed"].dropna().tolist()),
        }
        for block in BLOCK_NAMES:
            row[f"hidden width {block}"] = widths.get(block)
        row.update(
            {
                "parameters": shape.parameters,
                "attention parameters": shape.attention_parameters,
                "FLOPs per image": shape.flops,
                "attention FLOPs per image": shape.attention_flops,
            }
        )
        for column in SEED_QUANTITIES:
            values = members[column].dropna()
            row[column] = values.mean() if len(values) else None
            row[f"{column} std"] = values.std() if len(values) > 1 else None
        row["checkpoint MB"] = members["checkpoint MB"].mean()
        rows.append(row)
    frame = pd.DataFrame(rows)
    integers = ["reduction ratio", *(f"hidden width {block}" for block in BLOCK_NAMES)]
    frame[integers] = frame[integers].astype("Int64")
    floats = [c for c in frame.columns if c in SEED_QUANTITIES or c.endswith(" std")]
    frame[floats] = frame[floats].astype("float64")
    return frame


def table_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def learning_curves(group: ComparisonGroup) -> pd.DataFrame:
    """Per variant and epoch: mean and std over seeds of validation accuracy and loss.

    Long format (variant, attention, reduction ratio, epoch, metric, mean, std, seeds), ready
    to overlay, in the group's order of variants.
    """
    metrics = {
        "val_accuracy": "validation accuracy",
        "val_loss": "validation loss",
        "train_loss": "training loss",
    }
    order = {variant: index for index, variant in enumerate(group.variants)}
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
        long["order"] = order[model.variant_key]
        parts.append(long)
    columns = ["variant", "attention", "reduction ratio", "epoch", "metric", "mean", "std", "seeds"]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True)
    frame["metric"] = frame["metric"].map(metrics)
    curves = (
        frame.groupby(["order", "variant", "epoch", "metric"], sort=True)["value"]
        .agg(mean="mean", std="std", seeds="count")
        .reset_index()
    )
    variants = group.variants
    curves["attention"] = [str(variants[i].attention) for i in curves["order"]]
    ratios = [variants[i].reduction_ratio for i in curves["order"]]
    curves["reduction ratio"] = pd.array(ratios, dtype="Int64")
    return curves[columns]
