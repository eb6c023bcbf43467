"""Tests for seattn.analysis.compare.tables: per model, per ratio over seeds, learning curves."""

from __future__ import annotations

import pandas as pd
import pytest

from seattn.analysis.compare import grouping, tables
from seattn.model.architecture import architecture
from seattn.model.attention import AttentionKind
from seattn.model.checkpoints import load_model
from seattn.model.cnn import count_attention_parameters, count_parameters
from seattn.model.ratios import BLOCK_CHANNELS, se_hidden_width
from seattn.training.runfiles import Run
from seattn.training.sweep import sweep_run_name
from tests.helpers_compare import main_group, synthetic


def test_variants_table_gives_mean_and_sample_std_over_seeds():
    models = [synthetic("n", None, 0, 0.5)] + [
        synthetic(f"r4-{seed}", 4, seed, acc) for seed, acc in enumerate((0.6, 0.7, 0.8))
    ]
    (group,) = grouping.group_models(models)
    table = tables.variants_table(group).set_index("variant")
    assert table.index.tolist() == ["no SE", "r=4"]
    assert table.loc["r=4", "seeds"] == 3 and table.loc["r=4", "seed list"] == "0, 1, 2"
    assert table.loc["r=4", "best val accuracy"] == pytest.approx(0.7)
    assert table.loc["r=4", "best val accuracy std"] == pytest.approx(0.1)  # n - 1
    assert pd.isna(table.loc["no SE", "best val accuracy std"])  # one seed: no spread claimed
    assert table.loc["r=4", "hidden width block3"] == se_hidden_width(BLOCK_CHANNELS[2], 4)
    assert pd.isna(table.loc["no SE", "hidden width block1"])
    assert table.loc["r=4", "attention"] == "se" and table.loc["no SE", "attention"] == "none"
    assert table.loc["no SE", "attention parameters"] == 0
    csv = pd.read_csv(__import__("io").BytesIO(tables.table_csv(table.reset_index())))
    assert csv["best val accuracy"].tolist() == pytest.approx([0.5, 0.7])


def test_learning_curves_average_the_seeds_per_epoch():
    (group,) = grouping.group_models([synthetic("a", 4, 0, 0.6), synthetic("b", 4, 1, 0.8)])
    curves = tables.learning_curves(group)
    accuracy = curves[curves["metric"] == "validation accuracy"].set_index("epoch")
    assert accuracy.loc[2, "mean"] == pytest.approx(0.7)
    assert accuracy.loc[1, "seeds"] == 2 and accuracy.loc[2, "std"] == pytest.approx(0.1414, 1e-3)


def test_table_numbers_are_the_runs_metrics(store, groups):
    group = main_group(groups)
    table = tables.variants_table(group).set_index("variant")
    for ratio in (None, 8):
        run = Run(store["runs"] / sweep_run_name(ratio, 0, 1))
        metrics = run.read_metrics()
        row = table.loc["no SE" if ratio is None else f"r={ratio}"]
        assert row["best val accuracy"] == pytest.approx(metrics["val_accuracy"].max())
        assert row["final val loss"] == pytest.approx(metrics["val_loss"].iloc[-1])
        assert row["training seconds"] == pytest.approx(metrics["epoch_seconds"].sum())
        model, _ = load_model(run.checkpoint_path)
        assert row["parameters"] == count_parameters(model)
        assert row["checkpoint MB"] == pytest.approx(run.checkpoint_path.stat().st_size / 1e6)


def test_each_attention_variant_has_its_own_architecture_and_seed_statistics():
    models = [
        synthetic("n", None, 0, 0.5),
        synthetic("se", 16, 0, 0.6),
        *(
            synthetic(f"eca-{seed}", None, seed, acc, attention="eca")
            for seed, acc in enumerate((0.7, 0.8))
        ),
        synthetic("cbam", 16, 0, 0.9, attention="cbam"),
    ]
    (group,) = grouping.group_models(models)
    table = tables.variants_table(group).set_index("variant")
    assert table.index.tolist() == ["no SE", "r=16", "ECA", "CBAM r=16"]
    assert table["attention"].tolist() == ["none", "se", "eca", "cbam"]
    assert (
        pd.isna(table.loc["ECA", "reduction ratio"])
        and table.loc["CBAM r=16", "reduction ratio"] == 16
    )
    assert table.loc["ECA", "best val accuracy"] == pytest.approx(0.75)
    assert table.loc["ECA", "best val accuracy std"] == pytest.approx(0.0707, 1e-3)
    for variant, kind, ratio in (
        ("ECA", "eca", None),
        ("CBAM r=16", "cbam", 16),
        ("r=16", "se", 16),
    ):
        shape = architecture(ratio, 3, kind)
        row = table.loc[variant]
        assert row["parameters"] == shape.parameters
        assert row["attention parameters"] == shape.attention_parameters > 0
        assert row["FLOPs per image"] == shape.flops
        assert row["attention FLOPs per image"] == shape.attention_flops > 0
    # ECA has no channel MLP; CBAM's has the width SE's has at the same ratio.
    assert table.loc[["ECA"], [f"hidden width block{i}" for i in (1, 2, 3)]].isna().all(axis=None)
    assert table.loc["CBAM r=16", "hidden width block2"] == table.loc["r=16", "hidden width block2"]
    # ECA's and CBAM's attention cost more or less than SE's: the numbers are the module's own.
    assert table.loc["ECA", "attention parameters"] < table.loc["r=16", "attention parameters"]
    assert (
        table.loc["CBAM r=16", "attention parameters"] > table.loc["r=16", "attention parameters"]
    )
    models_table = tables.models_table(group)
    assert models_table["attention"].tolist() == ["none", "se", "eca", "eca", "cbam"]
    curves = tables.learning_curves(group)
    accuracy = curves[(curves["metric"] == "validation accuracy") & (curves["epoch"] == 2)]
    assert accuracy["variant"].tolist() == ["no SE", "r=16", "ECA", "CBAM r=16"]
    assert accuracy["attention"].tolist() == ["none", "se", "eca", "cbam"]
    assert accuracy["reduction ratio"].isna().tolist() == [True, False, True, False]
    assert accuracy.set_index("variant").loc["ECA", "mean"] == pytest.approx(0.75)


def test_the_attention_columns_are_the_trained_models_own(kinds_store, kinds_groups):
    table = tables.variants_table(kinds_groups[0]).set_index("variant")
    for variant, kind, ratio in (
        ("ECA", AttentionKind.ECA, None),
        ("CBAM r=4", AttentionKind.CBAM, 4),
    ):
        run = Run(kinds_store["runs"] / sweep_run_name(ratio, 0, 1, attention=kind))
        model, config = load_model(run.checkpoint_path)
        assert config["attention"] == kind
        row = table.loc[variant]
        assert row["parameters"] == count_parameters(model)
        assert row["attention parameters"] == count_attention_parameters(model)
        assert row["best val accuracy"] == pytest.approx(run.read_metrics()["val_accuracy"].max())
