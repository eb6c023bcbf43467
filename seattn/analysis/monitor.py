"""The live view of one run, computed from its files: progress, time left, curves, attention.

One function reads (:func:`read_snapshot`); everything else is pure - a snapshot in, plain
values, frames and arrays out - so the page only draws, and tests need no process or clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seattn.training.runfiles import (
    EXCITATION_FILE,
    METRICS_FILE,
    Phase,
    Run,
    RunState,
    effective_state,
    file_version,
)

# Validation, the excitation probe and the checkpoint come on top of the training batches; used
# only until the first epoch has been timed as a whole.
VALIDATION_OVERHEAD = 1.1
RECENT_EPOCHS = 3  # time left follows the latest epochs: the first ones include warm-up


@dataclass(frozen=True)
class RunSnapshot:
    """Everything the live view needs of one run, read at one moment."""

    name: str
    path: Path
    state: str  # as a reader should show it: a dead "running" reads "interrupted"
    status: dict[str, Any]
    config: dict[str, Any]
    metrics: pd.DataFrame  # one row per completed epoch; shared, do not modify
    excitation: dict[str, Any]  # {"epochs": [...], "blocks": {...}}; shared, do not modify
    log_tail: str
    has_checkpoint: bool
    now: float
    # (mtime_ns, size) of metrics.csv and excitation.json: what the figures depend on.
    versions: tuple[tuple[int, int], ...] = ()


def read_snapshot(run: Run, *, log_lines: int = 20, now: float | None = None) -> RunSnapshot:
    """Read ``run``'s files once; the only function here that touches the disk."""
    now = time.time() if now is None else now
    status = run.read_status()
    metrics_version = file_version(run.path / METRICS_FILE)
    excitation_version = file_version(run.path / EXCITATION_FILE)
    return RunSnapshot(
        name=run.name,
        path=run.path,
        state=effective_state(status, now),
        status=status,
        config=run.read_config(),
        metrics=run.read_metrics(),
        excitation=run.read_excitation(),
        log_tail=run.log_tail(log_lines),
        has_checkpoint=run.checkpoint_path.exists(),
        now=now,
        versions=(metrics_version, excitation_version),
    )


# -- progress -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    state: str
    phase: str
    epoch: int  # the epoch in progress, or the last one finished
    epochs: int
    epochs_done: int
    batch: int
    batches: int
    epoch_fraction: float  # of the epoch in progress, 0..1
    overall_fraction: float  # of all epochs, 0..1
    images_per_second: float | None
    seconds_left: float | None  # None when not running or not yet estimable


def epochs_done(metrics: pd.DataFrame) -> int:
    return 0 if metrics.empty or "epoch" not in metrics else int(metrics["epoch"].max())


def estimate_epoch_seconds(
    metrics: pd.DataFrame, train_images: int | None, images_per_second: float | None
) -> float | None:
    """Seconds one whole epoch takes: the latest measured epochs, else the current speed."""
    if not metrics.empty and "epoch_seconds" in metrics:
        recent = metrics["epoch_seconds"].dropna().tail(RECENT_EPOCHS)
        if not recent.empty:
            return float(recent.mean())
    if train_images and images_per_second:
        return train_images / images_per_second * VALIDATION_OVERHEAD
    return None


def live_progress(snapshot: RunSnapshot) -> Progress:
    """Where the run stands: fractions within the epoch and overall, speed, time left."""
    status, metrics = snapshot.status, snapshot.metrics
    epochs = int(status.get("epochs") or snapshot.config.get("epochs") or 0)
    done = epochs_done(metrics)
    phase = str(status.get("phase") or snapshot.state)
    batch = int(status.get("batch") or 0)
    batches = int(status.get("batches") or 0)
    in_progress = int(status.get("epoch") or 0) == done + 1 and snapshot.state == RunState.RUNNING
    if not in_progress:
        epoch_fraction = 0.0
    elif phase == Phase.VALIDATING:
        epoch_fraction = 1.0
    elif phase == Phase.TRAINING and batches:
        epoch_fraction = min(1.0, batch / batches)
    else:
        epoch_fraction = 0.0
    if snapshot.state == RunState.COMPLETED:
        overall = 1.0
    else:
        overall = min(1.0, (done + epoch_fraction) / epochs) if epochs else 0.0
    speed = status.get("images_per_second") if phase == Phase.TRAINING else None
    if speed is None and not metrics.empty and "images_per_second" in metrics:
        speed = float(metrics["images_per_second"].iloc[-1])
    seconds_left = None
    if snapshot.state == RunState.RUNNING and epochs:
        train_images = (snapshot.config.get("data_description") or {}).get("train_images")
        per_epoch = estimate_epoch_seconds(metrics, train_images, status.get("images_per_second"))
        if per_epoch is not None:
            seconds_left = max(0.0, (epochs - done - epoch_fraction) * per_epoch)
    return Progress(
        state=snapshot.state,
        phase=phase,
        epoch=done + 1 if in_progress else done,
        epochs=epochs,
        epochs_done=done,
        batch=batch if in_progress else 0,
        batches=batches,
        epoch_fraction=epoch_fraction,
        overall_fraction=overall,
        images_per_second=float(speed) if speed else None,
        seconds_left=seconds_left,
    )


# -- curves -------------------------------------------------------------------------------------

CURVE_COLUMNS = {
    ("loss", "train"): "train_loss",
    ("loss", "validation"): "val_loss",
    ("accuracy", "train"): "train_accuracy",
    ("accuracy", "validation"): "val_accuracy",
    ("learning rate", "schedule"): "lr",
}


def curves_frame(metrics: pd.DataFrame) -> pd.DataFrame:
    """Tidy per-epoch curves: epoch, quantity (loss, accuracy, learning rate), split, value."""
    columns = ["epoch", "quantity", "split", "value"]
    if metrics.empty or "epoch" not in metrics:
        return pd.DataFrame(columns=columns)
    present = [(key, column) for key, column in CURVE_COLUMNS.items() if column in metrics]
    epochs = len(metrics)
    # Built column by column with numpy (one frame, no melt/merge): this runs on every epoch.
    return pd.DataFrame(
        {
            "epoch": np.tile(metrics["epoch"].to_numpy(), len(present)),
            "quantity": np.repeat([quantity for (quantity, _), _ in present], epochs),
            "split": np.repeat([split for (_, split), _ in present], epochs),
            "value": metrics[[column for _, column in present]].to_numpy(float).ravel("F"),
        }
    )


def best_epoch(metrics: pd.DataFrame) -> dict[str, Any] | None:
    """The row of the epoch with the best validation accuracy, as a plain dict."""
    if metrics.empty or "val_accuracy" not in metrics or metrics["val_accuracy"].isna().all():
        return None
    return metrics.loc[metrics["val_accuracy"].idxmax()].to_dict()


# -- attention over the epochs ----------------------------------------------------------------


@dataclass(frozen=True)
class ChannelView:
    """One block's mean excitation weight per channel, per epoch: rows epochs, columns channels."""

    block: str
    epochs: list[int]
    channels: list[int]  # original channel index of each column
    weights: np.ndarray  # [epochs, channels]


@dataclass(frozen=True)
class HistogramView:
    """One block's distribution of excitation weights per epoch, as shares of each bin."""

    block: str
    epochs: list[int]
    bin_edges: np.ndarray  # [bins + 1] over 0..1
    shares: np.ndarray  # [epochs, bins], each row sums to 1 (or is all 0 when empty)


def _matrix(rows: list[list[float]]) -> np.ndarray:
    """[epochs, values]; [0, 0] when there are no epochs yet."""
    return np.asarray(rows, dtype=float) if rows else np.zeros((0, 0))


def se_blocks(excitation: dict[str, Any]) -> list[str]:
    """Names of the blocks with excitation records, in network order ([] for a run without SE)."""
    return sorted(excitation.get("blocks", {}))


def channel_view(
    excitation: dict[str, Any], block: str, *, sort_by_last_epoch: bool = True
) -> ChannelView:
    """Mean weight per channel per epoch; optionally columns sorted by the latest epoch's weight,
    so that channels the block learnt to favour gather at one side and their history reads as
    bands."""
    epochs = list(excitation.get("epochs", []))
    means = excitation.get("blocks", {}).get(block, {}).get("channel_means", [])
    weights = _matrix(means)
    order = np.arange(weights.shape[1])
    if sort_by_last_epoch and len(weights):
        order = np.argsort(-weights[-1], kind="stable")
    return ChannelView(block, epochs[: len(weights)], order.tolist(), weights[:, order])


def histogram_view(excitation: dict[str, Any], block: str) -> HistogramView:
    counts = excitation.get("blocks", {}).get(block, {}).get("histogram", [])
    epochs = list(excitation.get("epochs", []))
    counts_array = _matrix(counts)
    totals = counts_array.sum(axis=1, keepdims=True)
    shares = np.divide(counts_array, totals, out=np.zeros_like(counts_array), where=totals > 0)
    edges = np.linspace(0.0, 1.0, counts_array.shape[1] + 1)
    return HistogramView(block, epochs[: len(counts_array)], edges, shares)


def failure_text(snapshot: RunSnapshot) -> str | None:
    """The error a failed run recorded, if any."""
    error = snapshot.status.get("error")
    return str(error) if error else None
