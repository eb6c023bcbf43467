"""Tests for seattn.analysis.compare.sources: which trained models a comparison reads."""

from __future__ import annotations

import json
import shutil

import pytest

from seattn.analysis.compare import grouping, sources, tables
from seattn.training.runfiles import Run, RunState
from seattn.training.sweep import sweep_run_name
from tests.helpers import write_trainer_status
from tests.helpers_compare import main_group


def test_bundled_extra_seeds_count_once_and_carry_no_weights(groups):
    r4 = main_group(groups).variant_models(4)
    assert [(m.source, m.seed, m.has_weights) for m in r4] == [
        ("run", 0, True),
        ("bundled", 1, True),
        ("bundled", 2, False),
    ]
    extra = r4[2]
    assert extra.best_val_accuracy == 0.5 and extra.final_val_accuracy == 0.4
    assert extra.final_val_loss == 1.5 and extra.training_seconds is None


def test_a_model_exported_early_is_compared_by_the_epochs_it_trained(store, tmp_path):
    folder = tmp_path / "zoo"
    shutil.copytree(store["zoo"], folder)
    meta_path = folder / "se-r4.json"
    meta = json.loads(meta_path.read_text())
    meta["recipe"]["epochs"] = 5  # planned 5, exported after 1
    meta_path.write_text(json.dumps(meta))
    bundled = sources.read_bundled(folder)
    assert {m.recipe.epochs for m in bundled} == {1} and bundled[0].epochs == 1
    groups = grouping.group_models(sources.collect(store["runs"], folder))
    assert [len(g.models) for g in groups] == [5, 1]


def test_only_completed_runs_with_a_checkpoint_are_read(store, tmp_path):
    root = tmp_path / "runs"
    done = Run(root / "done")
    done.path.mkdir(parents=True)
    source = Run(store["runs"] / sweep_run_name(8, 0, 1))
    for name in ("config.json", "status.json", "metrics.csv", "checkpoint.pt"):
        (done.path / name).write_bytes((source.path / name).read_bytes())
    for state in (RunState.STOPPED, RunState.FAILED):
        other = Run(root / state)
        other.path.mkdir()
        for name in ("config.json", "metrics.csv", "checkpoint.pt"):
            (other.path / name).write_bytes((source.path / name).read_bytes())
        write_trainer_status(other, {**source.read_status(), "state": state})
    assert [m.name for m in sources.read_runs(root)] == ["done"]
    assert Run(root / "done").state() == RunState.COMPLETED


def test_bundled_seed_records_with_a_history_join_the_learning_curves(tmp_path):
    def history(accuracies):
        return [
            {"epoch": epoch, "val_accuracy": a, "val_loss": 1.0, "train_loss": 1.0}
            for epoch, a in enumerate(accuracies, start=1)
        ]

    meta = {
        "name": "se-r4",
        "reduction_ratio": 4,
        "seed": 0,
        "classes": ["a", "b"],
        "data": {"fingerprint": "f", "split": "s"},
        "recipe": {"optimizer": "Adam"},
        "epochs": 2,
        "history": history([0.5, 0.6]),
        "seeds": [{"seed": 1, "final_val_accuracy": 0.8, "history": history([0.6, 0.8])}],
    }
    (tmp_path / "se-r4.pt").write_bytes(b"")  # metadata says everything: weights are not read
    (tmp_path / "se-r4.json").write_text(json.dumps(meta))

    (group,) = grouping.group_models(sources.read_bundled(tmp_path))
    curves = tables.learning_curves(group)
    accuracy = curves[curves["metric"] == "validation accuracy"].set_index("epoch")
    assert accuracy.loc[2, "seeds"] == 2 and accuracy.loc[2, "mean"] == pytest.approx(0.7)


def test_a_run_says_its_attention_and_a_config_without_one_reads_as_before(kinds_store):
    runs = {m.name: m for m in sources.read_runs(kinds_store["runs"])}
    eca = runs[sweep_run_name(None, 0, 1, attention="eca")]
    cbam = runs[sweep_run_name(4, 0, 1, attention="cbam")]
    assert (eca.attention, eca.reduction_ratio, eca.variant) == ("eca", None, "ECA")
    assert (cbam.attention, cbam.reduction_ratio, cbam.variant) == ("cbam", 4, "CBAM r=4")
    # A config written before ECA and CBAM existed holds only the ratio.
    old = kinds_store["runs"].parent / "old-config-runs"
    for name in (sweep_run_name(None, 0, 1), sweep_run_name(8, 0, 1)):
        shutil.copytree(kinds_store["runs"] / name, old / name, dirs_exist_ok=True)
        run = Run(old / name)
        config = run.read_config()
        config.pop("attention", None)
        run.write_config(config)
    read = {m.name: m for m in sources.read_runs(old)}
    assert read[sweep_run_name(None, 0, 1)].variant_key == ("none", None)
    assert read[sweep_run_name(8, 0, 1)].variant_key == ("se", 8)
    assert read[sweep_run_name(8, 0, 1)].variant == "r=8"


def test_a_bundled_model_names_its_attention_in_its_metadata(store, tmp_path):
    folder = tmp_path / "zoo"
    shutil.copytree(store["zoo"], folder)
    meta_path = folder / "se-r4.json"
    meta = json.loads(meta_path.read_text())
    assert meta["attention"] == "se"  # the export says it
    assert {m.variant for m in sources.read_bundled(folder)} == {"r=4"}
    del meta["attention"]  # as models exported before the key existed: SE, by its ratio
    meta_path.write_text(json.dumps(meta))
    assert {m.variant for m in sources.read_bundled(folder)} == {"r=4"}
    meta_path.write_text(json.dumps({**meta, "attention": "cbam"}))
    assert {m.variant for m in sources.read_bundled(folder)} == {"CBAM r=4"}
