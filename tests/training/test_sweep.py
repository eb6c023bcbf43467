"""Tests for seattn.training.sweep: seeds, run names, and sweeps planned and handed to the queue."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import pytest

from pages.ui import text
from seattn.data import datasets
from seattn.data.datasets import DataAvailability
from seattn.training import queue as jobs
from seattn.training import sweep
from seattn.training.runfiles import Run, RunState
from seattn.training.spec import TrainSpec
from seattn.training.sweep import sweep_run_name
from tests.helpers import write_trainer_status


def test_sweep_run_name_names_ratio_seed_epochs_and_only_an_unusual_recipe():
    assert sweep_run_name(16, 0, 30) == "sweep-r16-seed0-e30"
    assert sweep_run_name(None, 2, 5) == "sweep-no-SE-seed2-e5"
    # The course's recipe keeps the names runs had before there was a choice; another adds its.
    assert sweep_run_name(4, 1, 3, optimizer="sgd-cosine") == "sweep-r4-seed1-e3-sgd-cosine"
    assert sweep_run_name(4, 1, 3, augment="none") == "sweep-r4-seed1-e3-none"
    assert (
        sweep_run_name(4, 1, 3, optimizer="sgd-cosine", augment="crop-flip")
        == "sweep-r4-seed1-e3-sgd-cosine-crop-flip"
    )
    # The names the specs of a sweep get, ratios outermost.
    base = TrainSpec(epochs=3, optimizer="sgd-cosine")
    assert [name for name, _ in sweep.sweep_specs(base, [None, 8], [0, 1])] == [
        "sweep-no-SE-seed0-e3-sgd-cosine",
        "sweep-no-SE-seed1-e3-sgd-cosine",
        "sweep-r8-seed0-e3-sgd-cosine",
        "sweep-r8-seed1-e3-sgd-cosine",
    ]
    specs = [spec for _, spec in sweep.sweep_specs(base, [None, 8], [0, 1])]
    assert [(s.reduction_ratio, s.seed) for s in specs] == [(None, 0), (None, 1), (8, 0), (8, 1)]
    assert [s.attention_kind for s in specs] == ["none", "none", "se", "se"]
    assert all(
        s.replace(attention="none", reduction_ratio=None, seed=0)
        == base.replace(attention="none", reduction_ratio=None)
        for s in specs
    )


def test_a_sweep_of_attention_modules_names_each_variant_and_keeps_the_ratios_names():
    assert sweep_run_name(None, 0, 30, attention="eca") == "sweep-eca-seed0-e30"
    assert sweep_run_name(16, 0, 30, attention="cbam") == "sweep-cbam-r16-seed0-e30"
    assert sweep_run_name(16, 0, 30, attention="se") == sweep_run_name(16, 0, 30)
    assert sweep_run_name(None, 0, 30, attention="none") == "sweep-no-SE-seed0-e30"
    base = TrainSpec(epochs=30)  # SE at r=16: a spec like the forms' and the CLI's
    specs = sweep.sweep_specs(base, [None, 8, 16], [0], ["se", "eca", "cbam", "none"])
    assert [name for name, _ in specs] == [
        "sweep-no-SE-seed0-e30",
        "sweep-r8-seed0-e30",
        "sweep-r16-seed0-e30",
        "sweep-eca-seed0-e30",
        "sweep-cbam-r8-seed0-e30",
        "sweep-cbam-r16-seed0-e30",
    ]  # "none" asked twice (a ratio of none, and the module none) trains once
    assert [(s.attention_kind, s.reduction_ratio) for _, s in specs] == [
        ("none", None),
        ("se", 8),
        ("se", 16),
        ("eca", None),
        ("cbam", 8),
        ("cbam", 16),
    ]
    # The default is SE alone: the same runs as a sweep of ratios always made.
    assert sweep.sweep_specs(base, [None, 8], [0]) == sweep.sweep_specs(
        base, [None, 8], [0], ["se"]
    )
    # ECA needs no ratio; SE without one has nothing to train.
    assert [n for n, _ in sweep.sweep_specs(base, [], [0, 1], ["eca"])] == [
        "sweep-eca-seed0-e30",
        "sweep-eca-seed1-e30",
    ]
    assert sweep.sweep_specs(base, [], [0], ["se"]) == []


def test_parse_seeds():
    assert sweep.parse_seeds("0, 1,2") == [0, 1, 2]
    assert sweep.parse_seeds("0-2, 1, 5") == [0, 1, 2, 5]
    assert sweep.parse_seeds("3-3; 7 ,") == [3, 7]
    for bad in ("", " , ", "a", "-1", "2-x", "3-1", "1.5"):
        with pytest.raises(ValueError):
            sweep.parse_seeds(bad)


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
    write_trainer_status(Run(done), {"state": RunState.COMPLETED})
    stopped = root / sweep_run_name(4, 0, 1)
    stopped.mkdir()
    # (The no-SE run's config says "attention": "none"; these say SE, as their names do.)
    Run(stopped).write_config({**config, "reduction_ratio": 4, "attention": "se"})
    write_trainer_status(Run(stopped), {"state": RunState.STOPPED})
    # Another job (other learning rate) under the name the sweep wants for r=8.
    taken = root / sweep_run_name(8, 0, 1)
    taken.mkdir()
    Run(taken).write_config({**config, "reduction_ratio": 8, "attention": "se", "lr": 0.5})
    write_trainer_status(Run(taken), {"state": RunState.COMPLETED})

    plan = sweep.plan_sweep(base, [None, 4, 8], [0, 1], root)
    actions = {
        (item.spec.reduction_ratio, item.spec.seed): (item.action, item.name) for item in plan
    }
    assert actions[(None, 0)] == (sweep.SweepAction.SKIP, "sweep-no-SE-seed0-e1")
    assert actions[(4, 0)] == (sweep.SweepAction.RESUME, "sweep-r4-seed0-e1")
    assert actions[(8, 0)] == (sweep.SweepAction.START, "sweep-r8-seed0-e1-2")
    assert actions[(8, 1)] == (sweep.SweepAction.START, "sweep-r8-seed1-e1")
    assert all(item.spec.data == str(image_folder.resolve()) for item in plan)
    with pytest.raises(jobs.JobError, match="at least one reduction ratio"):
        sweep.plan_sweep(base, [], [0], root)
    with pytest.raises(jobs.JobError, match="at least one attention module"):
        sweep.plan_sweep(base, [4], [0], root, attentions=[])
    # Another module under its own name; a run of the same ratio with SE is not it.
    kinds = sweep.plan_sweep(base, [4], [0], root, attentions=["cbam", "eca"])
    assert [(i.name, i.action, i.spec.attention_kind) for i in kinds] == [
        ("sweep-cbam-r4-seed0-e1", sweep.SweepAction.START, "cbam"),
        ("sweep-eca-seed0-e1", sweep.SweepAction.START, "eca"),
    ]
    with pytest.raises(jobs.JobError, match="no such folder"):
        sweep.plan_sweep(base.replace(data=str(tmp_path / "absent")), [4], [0], root)


def test_a_sweep_on_cifar10_offline_is_refused_with_the_data_check(tmp_path, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on: the download host, offline
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setattr(datasets, "CIFAR10_URL", f"http://127.0.0.1:{probe.getsockname()[1]}/")
    root = tmp_path / "runs"
    with pytest.raises(jobs.DataUnavailable) as refused:
        sweep.plan_sweep(TrainSpec(epochs=1), [4, 8], [0], root)
    assert refused.value.check.availability == DataAvailability.OFFLINE
    assert not root.exists()
    # The Compare page's words for it: what to do, in the form's own terms.
    problem = text.data_problem(refused.value.check)
    assert "cannot be downloaded (offline)" in problem
    assert f"Choose '{text.DATA_FOLDER_CHOICE}' in the Data box" in problem


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
        sweep.SweepItem(
            "a",
            dataclasses.replace(spec, attention="none", reduction_ratio=None),
            sweep.SweepAction.START,
        ),
        sweep.SweepItem("b", dataclasses.replace(spec, reduction_ratio=8), sweep.SweepAction.START),
        sweep.SweepItem("c", spec, sweep.SweepAction.RESUME, RunState.STOPPED),
        sweep.SweepItem("d", spec, sweep.SweepAction.SKIP, RunState.COMPLETED),
    ]
    outcome = sweep.launch_sweep(plan, tmp_path)
    assert started == [("a", None, 0)] and resumed == ["c"]
    assert outcome.started == ["a", "c"] and outcome.skipped == [plan[3]]
    assert outcome.refused == [("b", "the same training is already running")]
    summary = text.sweep_summary(outcome)
    assert "started 2" in summary and "1 refused" in summary and "skipped 1" in summary
