"""seattn.compare and seattn.compare_figures: grouping, tables, architecture counts, attention and
sweep planning, on runs made by the real trainer on generated images (trained once per session).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch

from seattn import zoo
from seattn.analysis import compare  # FIXME
from seattn.analysis.statistics import weight_statistics
from seattn.data.datasets import DataError, load_splits
from seattn.figures import compare as compare_figures
from seattn.model.checkpoints import load_model
from seattn.model.cnn import SECNN, count_parameters, count_se_parameters
from seattn.model.probe import probe
from seattn.model.ratios import BLOCK_CHANNELS, se_hidden_width
from seattn.training import queue as jobs
from seattn.training.engine import (
    recipe_of,  # FIXME recipe_of
    train,
)
from seattn.training.runfiles import Run, RunState
from seattn.training.sweep import sweep_run_name
from tests.helpers import tiny_spec, write_image_folder

RATIOS = (None, 4, 8)
EXTRA_BUNDLED_SEED = {
    "seed": 2,
    "best_val_accuracy": 0.5,
    "final_val_accuracy": 0.4,
    "val_loss": 1.5,
}


def comparison_store(base: Path, image_folder: Path) -> dict[str, Path]:
    """Runs and a zoo for the comparison, trained by the real trainer once per test session.

    runs/: no SE, r=4 and r=8 (seed 0) on ``image_folder``, named as the CLI's sweep names them,
    plus r=4 on another generated folder. zoo/: r=4 trained with seed 1 on ``image_folder``,
    exported by seattn.zoo with one extra metrics-only seed. Shared by test_compare and
    test_app_compare through the session's base folder, so the training happens once.
    """
    store = base / "compare-store"
    paths = {
        "runs": store / "runs",
        "zoo": store / "zoo",
        "data": store / "data",
        "other_images": store / "other-images",
    }
    if (store / "complete").exists():
        return paths
    for ratio in RATIOS:
        train(
            tiny_spec(image_folder, ratio),
            paths["runs"] / sweep_run_name(ratio, 0, 1),
            threads=1,
            data_dir=paths["data"],
        )
    write_image_folder(paths["other_images"], per_class=16, seed=7)
    train(
        tiny_spec(paths["other_images"], 4),
        paths["runs"] / "other-data-r4",
        threads=1,
        data_dir=paths["data"],
    )
    seed_one = store / "for-zoo" / "r4-seed1"
    train(tiny_spec(image_folder, 4, seed=1), seed_one, threads=1, data_dir=paths["data"])
    zoo.export_run(seed_one, paths["zoo"], extra_seeds=[EXTRA_BUNDLED_SEED, {"seed": 1}])
    (store / "complete").touch()
    return paths


@pytest.fixture(scope="module")
def store(tmp_path_factory, image_folder) -> dict[str, Path]:
    return comparison_store(tmp_path_factory.getbasetemp(), image_folder)


@pytest.fixture(scope="module")
def groups(store) -> list[compare.ComparisonGroup]:
    return compare.group_models(compare.collect(store["runs"], store["zoo"]))


def main_group(groups) -> compare.ComparisonGroup:
    return next(g for g in groups if len(g.ratios) == 3)


# -- reading and grouping ----------------------------------------------------------------------


def test_runs_and_bundled_models_are_grouped_by_data_and_recipe(store, groups):
    assert len(groups) == 2
    first, other = groups
    assert first.ratios == [None, 4, 8]  # the group with most ratios leads
    assert other.ratios == [4] and [m.name for m in other.models] == ["other-data-r4"]
    assert first.data["fingerprint"] != other.data["fingerprint"]
    assert first.recipe == other.recipe  # same recipe, other images: still two groups
    table = compare.groups_table(groups)
    assert table["models"].tolist() == [5, 1]
    assert table["sources"].tolist() == ["bundled, run", "run"]
    assert "1 epoch," in first.label and "1 epochs" not in first.label


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
    bundled = compare.read_bundled(folder)
    assert {m.recipe["epochs"] for m in bundled} == {1} and bundled[0].epochs == 1
    groups = compare.group_models(compare.collect(store["runs"], folder))
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
        other.write_status({**source.read_status(), "state": state})
    assert [m.name for m in compare.read_runs(root)] == ["done"]
    assert Run(root / "done").state() == RunState.COMPLETED


def synthetic(
    name: str, ratio: int | None, seed: int, accuracy: float, **changes
) -> compare.TrainedModel:
    model = compare.TrainedModel(
        source=compare.RUN,
        name=name,
        reduction_ratio=ratio,
        seed=seed,
        classes=("a", "b", "c"),
        data={"name": "shapes", "fingerprint": "f1", "split": "seeded"},
        recipe={"epochs": 2, "lr": 0.001, "batch_size": 16, "augment": True, "limit": None},
        history=pd.DataFrame(
            {
                "epoch": [1, 2],
                "val_accuracy": [accuracy - 0.1, accuracy],
                "val_loss": [1.0, 0.5],
                "train_loss": [1.2, 0.8],
                "epoch_seconds": [2.0, 4.0],
                "images_per_second": [100.0, 50.0],
            }
        ),
        epochs=2,
        best_val_accuracy=accuracy,
        final_val_accuracy=accuracy,
        final_val_loss=0.5,
        training_seconds=6.0,
        images_per_second=75.0,
        checkpoint=None,
        checkpoint_bytes=None,
    )
    return dataclasses.replace(model, **changes)


def test_a_repeated_ratio_and_seed_is_left_out_and_said_so():
    kept = synthetic("a", 4, 0, 0.8, source=compare.BUNDLED)
    repeat = synthetic("b", 4, 0, 0.6)
    (group,) = compare.group_models([kept, repeat, synthetic("c", 4, 1, 0.7)])
    assert [m.name for m in group.models] == ["a", "c"]
    assert group.left_out[0][0] is repeat and "repeats a" in group.left_out[0][1]


def test_runs_saved_before_augmentation_had_names_group_with_the_course_recipe():
    recipe = synthetic("base", 4, 0, 0.8).recipe

    def as_saved(augment):
        return zoo.recipe_as_trained({**recipe, "augment": augment}, 2)

    old = synthetic("old", 4, 0, 0.8, recipe=as_saved(True))
    new = synthetic("new", 8, 0, 0.8, recipe=as_saved("course"))
    crop_flip = synthetic("crop", 16, 0, 0.8, recipe=as_saved("crop-flip"))
    groups = compare.group_models([old, new, crop_flip])
    assert sorted(sorted(m.name for m in g.models) for g in groups) == [["crop"], ["new", "old"]]
    labels = {m.name: g.label for g in groups for m in g.models}
    assert "course augmentation" in labels["new"] and "crop-flip augmentation" in labels["crop"]


def test_other_recipe_or_fingerprint_makes_another_group():
    base = synthetic("a", 4, 0, 0.8)
    other_lr = synthetic("b", 4, 1, 0.8, recipe={**base.recipe, "lr": 0.01})
    other_data = synthetic("c", 4, 2, 0.8, data={**base.data, "fingerprint": "f2"})
    groups = compare.group_models([base, other_lr, other_data])
    assert sorted(len(g.models) for g in groups) == [1, 1, 1]
    labels = [g.label for g in groups]
    assert len(set(labels)) == 3  # same data name, other images: the fingerprint tells them apart
    assert any("data f2" in label for label in labels)


# -- tables ------------------------------------------------------------------------------------


def test_variants_table_gives_mean_and_sample_std_over_seeds():
    models = [synthetic("n", None, 0, 0.5)] + [
        synthetic(f"r4-{seed}", 4, seed, acc) for seed, acc in enumerate((0.6, 0.7, 0.8))
    ]
    (group,) = compare.group_models(models)
    table = compare.variants_table(group).set_index("variant")
    assert table.index.tolist() == ["no SE", "r=4"]
    assert table.loc["r=4", "seeds"] == 3 and table.loc["r=4", "seed list"] == "0, 1, 2"
    assert table.loc["r=4", "best val accuracy"] == pytest.approx(0.7)
    assert table.loc["r=4", "best val accuracy std"] == pytest.approx(0.1)  # n - 1
    assert pd.isna(table.loc["no SE", "best val accuracy std"])  # one seed: no spread claimed
    assert table.loc["r=4", "SE width block3"] == se_hidden_width(BLOCK_CHANNELS[2], 4)
    assert pd.isna(table.loc["no SE", "SE width block1"])
    csv = pd.read_csv(__import__("io").BytesIO(compare.table_csv(table.reset_index())))
    assert csv["best val accuracy"].tolist() == pytest.approx([0.5, 0.7])


def test_learning_curves_average_the_seeds_per_epoch():
    (group,) = compare.group_models([synthetic("a", 4, 0, 0.6), synthetic("b", 4, 1, 0.8)])
    curves = compare.learning_curves(group)
    accuracy = curves[curves["metric"] == "validation accuracy"].set_index("epoch")
    assert accuracy.loc[2, "mean"] == pytest.approx(0.7)
    assert accuracy.loc[1, "seeds"] == 2 and accuracy.loc[2, "std"] == pytest.approx(0.1414, 1e-3)


@pytest.mark.parametrize("ratio", [None, 1, 4, 16, 64])
def test_architecture_counts_match_the_model_and_flops_come_from_se(ratio):
    state = torch.random.get_rng_state()
    shape = compare.architecture(ratio, 10)
    assert torch.equal(state, torch.random.get_rng_state())  # built on meta: no draws
    model = SECNN(ratio, num_classes=10)
    assert shape.parameters == count_parameters(model)
    assert shape.se_parameters == count_se_parameters(model)
    baseline = compare.architecture(None, 10)
    # Two bias-free C x h linear layers per block, 2 FLOPs per multiply-add, one image.
    widths = [se_hidden_width(c, ratio) for c in BLOCK_CHANNELS] if ratio else []
    se_flops = sum(2 * 2 * c * h for c, h in zip(BLOCK_CHANNELS, widths, strict=False))
    assert shape.se_flops == se_flops
    assert shape.flops - baseline.flops == se_flops
    assert shape.flops > 20_000_000  # the convolutions dominate


def test_table_numbers_are_the_runs_metrics(store, groups):
    group = main_group(groups)
    table = compare.variants_table(group).set_index("variant")
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


# -- attention ---------------------------------------------------------------------------------


def test_validation_images_are_the_runs_validation_split(store, groups, image_folder):
    group = main_group(groups)
    images = compare.validation_images(group, data_dir=store["data"])
    expected = load_splits(str(image_folder), data_dir=store["data"], val_fraction=0.25).val
    assert torch.equal(images.images, expected.images)


def test_validation_images_refuse_other_data(groups, tmp_path, monkeypatch):
    group = main_group(groups)
    changed = dataclasses.replace(group, data={**group.data, "fingerprint": "0000"})
    monkeypatch.delenv("SEATTN_DATA", raising=False)
    with pytest.raises(DataError, match="not available here"):
        compare.validation_images(changed, data_dir=tmp_path)


def test_excitation_statistics_are_weight_statistics_over_the_images(store, groups):
    group = main_group(groups)
    images = compare.validation_images(group, data_dir=store["data"])
    result = compare.measure_excitation(group, images, max_images=20)
    stats = result.statistics
    # Models with weights and SE: r=4 seeds 0 and 1, r=8 seed 0; three blocks each.
    assert len(stats) == 9 and result.images == 20
    r8 = Run(store["runs"] / sweep_run_name(8, 0, 1))
    model, _ = load_model(r8.checkpoint_path)
    from seattn.data.images import normalize_uint8

    record = probe(model, normalize_uint8(images.images[:20])).blocks[1]
    expected = weight_statistics(record.weights)
    row = stats[(stats["variant"] == "r=8") & (stats["block"] == "block2")].iloc[0]
    assert row["mean"] == pytest.approx(expected["mean"], abs=1e-6)
    assert row["entropy"] == pytest.approx(expected["entropy"], abs=1e-6)
    summary = result.summary.set_index(["variant", "block"])
    assert summary.loc[("r=4", "block1"), "seeds"] == 2
    cka = result.similarity["block3"]
    assert cka.labels == ["r=4", "r=8"] and np.allclose(np.diag(cka.values), 1.0)


def test_one_image_through_every_ratio(store, groups):
    group = main_group(groups)
    images = compare.validation_images(group, data_dir=store["data"])
    seen = compare.image_excitation(group, images.images[0])
    assert seen.predictions["variant"].tolist() == ["no SE", "r=4", "r=8"]
    assert seen.predictions["seed"].tolist() == [0, 0, 0]  # the lowest seed represents a ratio
    for block, channels in zip(compare.BLOCK_NAMES, BLOCK_CHANNELS, strict=True):
        vectors = seen.vectors[block]
        assert vectors.labels == ["r=4", "r=8"] and vectors.values.shape == (2, channels)
        correlation = seen.correlation[block].values
        assert np.allclose(np.diag(correlation), 1.0)
        expected = np.corrcoef(vectors.values[0], vectors.values[1])[0, 1]
        assert correlation[0, 1] == pytest.approx(expected)


def test_cka_ignores_channel_order_and_scale():
    generator = torch.Generator().manual_seed(0)
    weights = torch.rand(50, 16, generator=generator)
    shuffled = weights[:, torch.randperm(16, generator=generator)] * 3
    assert compare.linear_cka(weights, shuffled) == pytest.approx(1.0)
    unrelated = torch.rand(50, 16, generator=generator)
    assert compare.linear_cka(weights, unrelated) < 0.6
    assert math.isnan(compare.linear_cka(torch.ones(5, 4), weights[:5, :4]))


# -- sweeps ------------------------------------------------------------------------------------


def test_parse_seeds():
    assert compare.parse_seeds("0, 1,2") == [0, 1, 2]
    assert compare.parse_seeds("0-2, 1, 5") == [0, 1, 2, 5]
    for bad in ("", "a", "-1", "2-x"):
        with pytest.raises(ValueError):
            compare.parse_seeds(bad)


def test_plan_sweep_names_runs_like_the_cli_and_reuses_what_exists(store, image_folder, tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    base = TrainSpec(data=str(image_folder), epochs=1, batch_size=16)
    # A completed run of the same job under the sweep's name, and a stopped one.
    existing = Run(store["runs"] / sweep_run_name(None, 0, 1))
    done = root / sweep_run_name(None, 0, 1)
    done.mkdir()
    config = {**existing.read_config(), "batch_size": 16, "val_fraction": 0.1, "threads": 3}
    Run(done).write_config(config)
    Run(done).write_status({"state": RunState.COMPLETED})
    stopped = root / sweep_run_name(4, 0, 1)
    stopped.mkdir()
    Run(stopped).write_config({**config, "reduction_ratio": 4})
    Run(stopped).write_status({"state": RunState.STOPPED})
    # Another job (other learning rate) under the name the sweep wants for r=8.
    taken = root / sweep_run_name(8, 0, 1)
    taken.mkdir()
    Run(taken).write_config({**config, "reduction_ratio": 8, "lr": 0.5})
    Run(taken).write_status({"state": RunState.COMPLETED})

    plan = compare.plan_sweep(base, [None, 4, 8], [0, 1], root)
    actions = {
        (item.spec.reduction_ratio, item.spec.seed): (item.action, item.name) for item in plan
    }
    assert actions[(None, 0)] == (compare.SKIP, "sweep-no-SE-seed0-e1")
    assert actions[(4, 0)] == (compare.RESUME, "sweep-r4-seed0-e1")
    assert actions[(8, 0)] == (compare.START, "sweep-r8-seed0-e1-2")
    assert actions[(8, 1)] == (compare.START, "sweep-r8-seed1-e1")
    assert all(item.spec.data == str(image_folder.resolve()) for item in plan)
    with pytest.raises(jobs.JobError, match="at least one"):
        compare.plan_sweep(base, [], [0], root)
    with pytest.raises(jobs.JobError):
        compare.plan_sweep(dataclasses.replace(base, epochs=0), [4], [0], root)


def test_launch_sweep_hands_every_item_to_the_job_queue(monkeypatch, image_folder, tmp_path):
    started, resumed = [], []

    def fake_start(spec, *, root, name, max_jobs=None):
        if spec.reduction_ratio == 8:
            raise jobs.JobError("the same training is already running")
        started.append((name, spec.reduction_ratio, spec.seed))
        return Run(Path(root) / name)

    def fake_resume(run, *, max_jobs=None):
        resumed.append(run.name)
        return run

    monkeypatch.setattr(jobs, "start", fake_start)
    monkeypatch.setattr(jobs, "resume", fake_resume)
    spec = TrainSpec(data=str(image_folder), epochs=1)
    plan = [
        compare.SweepItem("a", dataclasses.replace(spec, reduction_ratio=None), compare.START),
        compare.SweepItem("b", dataclasses.replace(spec, reduction_ratio=8), compare.START),
        compare.SweepItem("c", spec, compare.RESUME, "stopped"),
        compare.SweepItem("d", spec, compare.SKIP, "already trained"),
    ]
    outcome = compare.launch_sweep(plan, tmp_path)
    assert started == [("a", None, 0)] and resumed == ["c"]
    assert outcome.started == ["a", "c"] and outcome.skipped == [("d", "already trained")]
    assert outcome.refused == [("b", "the same training is already running")]
    assert "started 2" in outcome.summary() and "1 refused" in outcome.summary()


# -- figures -----------------------------------------------------------------------------------


def test_figures_draw_the_tables(store, groups):
    group = main_group(groups)
    table = compare.variants_table(group)
    accuracy = compare_figures.accuracy_vs_ratio(table)
    assert [t.name for t in accuracy.data] == ["best val accuracy", "final val accuracy"]
    assert list(accuracy.data[0].x) == ["no SE", "r=4", "r=8"]
    assert list(accuracy.data[0].y) == pytest.approx(table["best val accuracy"].tolist())
    assert accuracy.data[0].error_y.array[1] == pytest.approx(table["best val accuracy std"][1])
    parameters = compare_figures.parameters_vs_ratio(table)
    assert list(parameters.data[0].y) == table["SE parameters"].tolist()
    curves = compare_figures.learning_curves_figure(compare.learning_curves(group))
    assert {t.name for t in curves.data if t.showlegend} == {"no SE", "r=4", "r=8"}

    images = compare.validation_images(group, data_dir=store["data"])
    measured = compare.measure_excitation(group, images, max_images=10)
    stats = compare_figures.excitation_statistics_figure(measured.summary)
    assert len(stats.data) == 3 * 3  # three statistics x three blocks
    seen = compare.image_excitation(group, images.images[0])
    vectors = compare_figures.image_excitation_figure(seen.vectors)
    assert [t.z.shape for t in vectors.data] == [(2, 32), (2, 64), (2, 128)]
    heatmap = compare_figures.similarity_figure(seen.correlation)
    assert heatmap.layout.coloraxis.cmin == -1 and len(heatmap.data) == 3


def test_figures_say_when_there_is_nothing_to_draw():
    empty = pd.DataFrame()
    for figure in (
        compare_figures.accuracy_vs_ratio(empty),
        compare_figures.parameters_vs_ratio(empty),
        compare_figures.learning_curves_figure(empty),
        compare_figures.excitation_statistics_figure(empty),
        compare_figures.image_excitation_figure({}),
        compare_figures.similarity_figure({}),
    ):
        assert isinstance(figure, go.Figure) and not figure.data
        assert figure.layout.annotations


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

    (group,) = compare.group_models(compare.read_bundled(tmp_path))
    curves = compare.learning_curves(group)
    accuracy = curves[curves["metric"] == "validation accuracy"].set_index("epoch")
    assert accuracy.loc[2, "seeds"] == 2 and accuracy.loc[2, "mean"] == pytest.approx(0.7)


def test_an_sgd_cosine_model_groups_apart_and_its_label_says_so():
    def recipe(optimizer):
        config = {"optimizer": optimizer, "lr": 0.05, "batch_size": 16, "augment": "crop-flip"}
        return zoo.recipe_as_trained(recipe_of(config), 2)

    adam = synthetic("adam", 4, 0, 0.8, recipe=recipe(None))  # saved before the choice
    sgd = synthetic("sgd", 8, 0, 0.8, recipe=recipe("sgd-cosine"))
    groups = compare.group_models([adam, sgd])
    labels = {m.name: g.label for g in groups for m in g.models}
    assert len(groups) == 2 and "SGD + cosine" in labels["sgd"]
    assert "SGD" not in labels["adam"] and "Adam" not in labels["adam"]  # the course's, unsaid
    table = compare.groups_table(groups).set_index("group")
    assert table.loc[labels["sgd"], "optimizer"] == "SGD + cosine"
