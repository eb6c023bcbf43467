"""The live view's arithmetic and figures, on hand-written snapshots: no process, no clock."""

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from seattn.analysis import monitor
from seattn.figures import training as train_figures
from seattn.training.runfiles import Run, RunState
from tests.helpers import write_trainer_status

NOW = 1_800_000_000.0


def snapshot(status=None, metrics=None, config=None, excitation=None, state=RunState.RUNNING):
    return monitor.RunSnapshot(
        name="r",
        path=Path("/nowhere/r"),
        state=state,
        status=status or {},
        config=config or {},
        metrics=metrics if metrics is not None else pd.DataFrame(),
        excitation=excitation or {},
        log_tail="",
        has_checkpoint=False,
        now=NOW,
    )


def metrics_rows(n, epoch_seconds=10.0):
    return pd.DataFrame(
        {
            "epoch": range(1, n + 1),
            "train_loss": np.linspace(2, 1, n),
            "train_accuracy": np.linspace(0.3, 0.6, n),
            "val_loss": np.linspace(1.8, 1.1, n),
            "val_accuracy": np.linspace(0.35, 0.65, n),
            "lr": [1e-3] * n,
            "epoch_seconds": [epoch_seconds] * n,
            "images_per_second": [4500.0] * n,
        }
    )


def test_progress_mid_epoch_counts_done_epochs_and_batches():
    status = {
        "phase": "training",
        "epoch": 3,
        "epochs": 10,
        "batch": 25,
        "batches": 100,
        "images_per_second": 1000.0,
    }
    progress = monitor.live_progress(snapshot(status, metrics_rows(2)))
    assert progress.epoch == 3 and progress.epochs_done == 2
    assert progress.epoch_fraction == pytest.approx(0.25)
    assert progress.overall_fraction == pytest.approx(2.25 / 10)
    assert progress.images_per_second == 1000.0
    # 7.75 epochs left at the measured 10 s per epoch
    assert progress.seconds_left == pytest.approx(77.5)
    assert (progress.state, progress.phase) == (RunState.RUNNING, "training")
    assert (progress.batch, progress.batches, progress.epochs) == (25, 100, 10)


def test_time_left_before_the_first_epoch_comes_from_the_current_speed():
    status = {
        "phase": "training",
        "epoch": 1,
        "epochs": 2,
        "batch": 50,
        "batches": 100,
        "images_per_second": 100.0,
    }
    config = {"data_description": {"train_images": 1000}}
    progress = monitor.live_progress(snapshot(status, config=config))
    per_epoch = 1000 / 100.0 * monitor.VALIDATION_OVERHEAD
    assert progress.seconds_left == pytest.approx(1.5 * per_epoch)


def test_finished_and_queued_runs_have_no_time_left():
    done = monitor.live_progress(
        snapshot(
            {"phase": "completed", "epoch": 4, "epochs": 4},
            metrics_rows(4),
            state=RunState.COMPLETED,
        )
    )
    assert done.overall_fraction == 1.0 and done.seconds_left is None and done.epoch == 4
    queued = monitor.live_progress(
        snapshot({"epochs": 4, "phase": "queued"}, state=RunState.QUEUED)
    )
    assert queued.overall_fraction == 0.0 and queued.seconds_left is None
    assert queued.state == RunState.QUEUED and queued.epochs_done == 0


def test_a_stale_status_epoch_does_not_count_as_in_progress():
    # An interrupted run's status still says "training, epoch 3"; only 2 epochs were kept.
    status = {"phase": "training", "epoch": 3, "epochs": 5, "batch": 40, "batches": 50}
    progress = monitor.live_progress(snapshot(status, metrics_rows(2), state="interrupted"))
    assert progress.epoch_fraction == 0.0 and progress.overall_fraction == pytest.approx(0.4)


def test_curves_frame_is_tidy():
    curves = monitor.curves_frame(metrics_rows(3))
    assert list(curves.columns) == ["epoch", "quantity", "split", "value"]
    assert len(curves) == 3 * 5
    val_acc = curves[(curves.quantity == "accuracy") & (curves.split == "validation")]
    assert val_acc["value"].tolist() == pytest.approx([0.35, 0.5, 0.65])
    assert monitor.curves_frame(pd.DataFrame()).empty
    assert monitor.best_epoch(metrics_rows(3))["epoch"] == 3
    assert monitor.best_epoch(pd.DataFrame()) is None


def excitation_of(epochs=3, channels=4):
    means = [[0.5 + 0.1 * e * (c - 1.5) / 1.5 for c in range(channels)] for e in range(epochs)]
    histogram = [[0] * 10 + [channels * 8] + [0] * 9 for _ in range(epochs)]
    histogram[-1] = [channels * 4] + [0] * 18 + [channels * 4]
    return {
        "epochs": list(range(1, epochs + 1)),
        "blocks": {
            "block2": {"channel_means": means, "histogram": histogram},
            "block1": {"channel_means": means, "histogram": histogram},
        },
    }


def test_channel_view_sorts_columns_by_the_last_epoch_and_keeps_channel_indices():
    excitation = excitation_of()
    assert monitor.se_blocks(excitation) == ["block1", "block2"]
    view = monitor.channel_view(excitation, "block1")
    assert view.epochs == [1, 2, 3] and view.weights.shape == (3, 4)
    assert view.channels == [3, 2, 1, 0]  # the last epoch weights channel 3 highest
    assert np.all(np.diff(view.weights[-1]) <= 0)
    raw = monitor.channel_view(excitation, "block1", sort_by_last_epoch=False)
    assert raw.channels == [0, 1, 2, 3]


def test_histogram_view_gives_shares_per_epoch():
    view = monitor.histogram_view(excitation_of(), "block2")
    assert view.shares.shape == (3, 20) and len(view.bin_edges) == 21
    assert view.shares.sum(axis=1) == pytest.approx([1, 1, 1])
    assert view.shares[-1, 0] == pytest.approx(0.5)
    empty = monitor.histogram_view({}, "block1")
    assert empty.shares.size == 0


def test_figures_are_plotly_figures_with_one_trace_per_block_or_split():
    curves = monitor.curves_frame(metrics_rows(5))
    figure = train_figures.curves_figure(curves)
    assert isinstance(figure, go.Figure) and len(figure.data) == 4
    assert len(train_figures.learning_rate_figure(curves).data) == 1
    excitation = excitation_of()
    views = [monitor.channel_view(excitation, b) for b in monitor.se_blocks(excitation)]
    heatmap = train_figures.channel_heatmap(views)
    assert [trace.type for trace in heatmap.data] == ["heatmap", "heatmap"]
    # rows are channels in rank order, columns epochs; hover names the original channel
    assert heatmap.data[0].z.shape == (4, 3) and list(heatmap.data[0].x) == [1, 2, 3]
    assert heatmap.data[0].customdata[:, 0].tolist() == [3, 2, 1, 0]
    hists = [monitor.histogram_view(excitation, b) for b in monitor.se_blocks(excitation)]
    assert len(train_figures.histogram_heatmap(hists).data) == 2
    # Before the first epoch every builder still returns a figure, with a note instead of data.
    for empty in (
        train_figures.curves_figure(monitor.curves_frame(pd.DataFrame())),
        train_figures.channel_heatmap([]),
        train_figures.histogram_heatmap([monitor.histogram_view({}, "block1")]),
    ):
        assert isinstance(empty, go.Figure) and not empty.data and empty.layout.annotations


def test_read_snapshot_reads_a_run_folder_and_rereads_changed_files(tmp_path):
    run = Run(tmp_path / "r")
    write_trainer_status(
        run, {"state": RunState.RUNNING, "pid": 0, "heartbeat": time.time() - 100, "epochs": 3}
    )
    run.write_metrics(metrics_rows(1).to_dict("records"))
    run.write_excitation(excitation_of(1))
    first = monitor.read_snapshot(run)
    assert first.state == "interrupted" and len(first.metrics) == 1
    assert first.excitation["epochs"] == [1] and not first.has_checkpoint
    run.write_metrics(metrics_rows(2).to_dict("records"))
    (run.path / "excitation.json").write_text(json.dumps(excitation_of(2)))
    second = monitor.read_snapshot(run)
    assert len(second.metrics) == 2 and second.excitation["epochs"] == [1, 2]


def test_live_figures_are_rebuilt_only_when_the_run_files_change(tmp_path):
    run = Run(tmp_path / "r")
    write_trainer_status(run, {"state": RunState.COMPLETED, "epochs": 2})
    run.write_metrics(metrics_rows(1).to_dict("records"))
    run.write_excitation(excitation_of(1))
    first = train_figures.live_figures(monitor.read_snapshot(run))
    assert train_figures.live_figures(monitor.read_snapshot(run)) is first
    run.write_metrics(metrics_rows(2).to_dict("records"))
    second = train_figures.live_figures(monitor.read_snapshot(run))
    assert second is not first and len(second.curves.data[0].x) == 2
    assert second.channels is not None and len(second.histograms.data) == 2
    run.write_excitation({"epochs": [], "blocks": {}})  # a model without SE
    assert train_figures.live_figures(monitor.read_snapshot(run)).channels is None
