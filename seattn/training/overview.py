"""The runs table: one row per run folder, what a person scans to find a run.

Read-only: it reads the run folders (runfiles) and words nothing; the Train page formats the
numbers and names the recipes.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from seattn import settings
from seattn.data.cifar10 import CIFAR10
from seattn.model.ratios import ratio_label
from seattn.training.queue import JobError, job_spec
from seattn.training.runfiles import (
    EARLIER_SECONDS,
    Phase,
    Run,
    RunState,
    effective_state,
    list_runs,
    seconds_trained,
)
from seattn.training.spec import TrainSpec

SUMMARY_COLUMNS = [
    "run",
    "state",
    "model",
    "optimizer",
    "augment",
    "data",
    "epochs done",
    "epochs",
    "progress",
    "best val accuracy",
    "training seconds",
    "started",
    "path",
]


def training_seconds(
    status: dict[str, Any],
    config: dict[str, Any],
    epoch_seconds: list[float],
    state: str,
    now: float,
) -> float | None:
    """Time spent training, summed over the run's sessions: a stopped and resumed run keeps the
    time of its first session (runfiles.seconds_trained); None before it has trained at all."""
    if EARLIER_SECONDS in status:
        earlier = None  # the trainer's own account of the sessions before this one
    elif status.get("started") and status.get("phase") not in (Phase.QUEUED, Phase.STARTING):
        # Written before sessions were summed: the sessions before the last resume, by the
        # time their epochs took.
        resumed_at = int(config.get("created_from_resume_at_epoch") or 0)
        earlier = sum(epoch_seconds[:resumed_at])
    else:
        earlier = sum(epoch_seconds)
    running = state == RunState.RUNNING
    return seconds_trained(status, running=running, now=now, earlier=earlier) or None


def _data_name(config: dict[str, Any], spec: TrainSpec | None) -> str | None:
    described = (config.get("data_description") or {}).get("name")
    if described:
        return str(described)
    if spec is None:
        return None
    return "CIFAR-10" if spec.data == CIFAR10 else Path(spec.data).name


def run_summary(run: Run, now: float | None = None) -> dict[str, Any]:
    """One row of the runs table (see SUMMARY_COLUMNS)."""
    now = time.time() if now is None else now
    status = run.read_status()
    config = run.read_config()
    state = effective_state(status, now)  # from the status read above, not read again
    metrics = run.read_metrics()
    epoch_seconds = metrics["epoch_seconds"].tolist() if "epoch_seconds" in metrics else []
    accuracies = metrics["val_accuracy"].dropna() if "val_accuracy" in metrics else pd.Series()
    spec: TrainSpec | None = None
    with contextlib.suppress(JobError):
        spec = job_spec(run)
    epochs = status.get("epochs") or (spec.epochs if spec else None)
    first_started = status.get("first_started") or (
        status.get("created") if state != RunState.QUEUED else None
    )
    return {
        "run": run.name,
        "state": state,
        "model": ratio_label(spec.reduction_ratio) if spec else None,
        "optimizer": spec.optimizer if spec else None,
        "augment": spec.augment if spec else None,
        "data": _data_name(config, spec),
        "epochs done": len(metrics),
        "epochs": epochs,
        "progress": (len(metrics) / epochs) if epochs else None,
        "best val accuracy": float(accuracies.max()) if len(accuracies) else None,
        "training seconds": training_seconds(status, config, epoch_seconds, state, now),
        # Local wall-clock time: what the person who pressed Start remembers.
        "started": datetime.fromtimestamp(first_started) if first_started else None,
        "path": str(run.path),
    }


def runs_table(root: Path | str | None = None, now: float | None = None) -> pd.DataFrame:
    """One row per run under ``root``, newest first (see :func:`run_summary`)."""
    root = Path(root if root is not None else settings.runs_root()).resolve()
    rows = [run_summary(run, now) for run in list_runs(root)]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
