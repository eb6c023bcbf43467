"""The training engine: the spec's recipe, fast on a CPU, resumable, observable from its files.

Recipe: CrossEntropyLoss, a named optimiser recipe and a named augmentation recipe
(seattn.training.recipes; seattn.training.builders builds each).

Speed comes from where the time went in the per-image pipeline, not from changing the recipe:
images are decoded once into a uint8 tensor (seattn.data.datasets), augmented a whole batch at a
time (seattn.data.augment), and the network runs channels-last with bfloat16 autocast where the
CPU has native bfloat16 (see bench/train_throughput.py for the measurements behind each default).
On a CUDA GPU (``device="auto"`` picks one when there is one) the data set sits on the GPU whole
and the batches are augmented there; the random choices are still drawn on the CPU, so a seed
gives the same crops, flips and order on either device.

Reproducibility: every epoch reseeds its own random streams from (seed, epoch), so a run that
stopped and resumed at an epoch boundary takes exactly the same steps as one that never stopped.

A run is four steps, one function each: :func:`prepare` (data, model, optimiser, what a resume
restores), :func:`train_epoch`, :func:`validate` and :func:`persist` (checkpoint first, then the
files derived from it). The engine writes the trainer's files of the run folder (runfiles).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seattn.data import datasets
from seattn.data.augment import AugmentParameters, BatchAugment, augment_disabled
from seattn.data.images import normalize, normalize_uint8
from seattn.model import checkpoints
from seattn.model.attention import variant_label
from seattn.model.cnn import SECNN, count_parameters
from seattn.model.ratios import se_hidden_widths
from seattn.training.builders import (
    batch_augment,
    build_optimizer,
    build_plateau,
    cosine_rate,
    epoch_seed,
)
from seattn.training.evaluation import evaluate, excitation_snapshot
from seattn.training.hardware import (
    device_name,
    native_bf16,
    resolve_device,
    software_versions,
)
from seattn.training.recipes import (
    Optimizer,
)
from seattn.training.runfiles import (
    EARLIER_SECONDS,
    FailureKind,
    Phase,
    Run,
    RunState,
    StatusWriter,
    seconds_trained,
)
from seattn.training.spec import TrainSpec, resume_conflict

PROBE_IMAGES = 256
# On a GPU, progress is reported at most this often: reading the running loss waits for the
# device. On the CPU that read is free, and every batch is reported.
REPORT_SECONDS = 0.2

ProgressCallback = Callable[[dict[str, Any]], None]


class StopRequested(Exception):
    """Raised inside the loop when a stop was asked for; the last complete epoch is kept."""


# -- one run, step by step ----------------------------------------------------------------------


@dataclass
class Session:
    """Everything one training session holds between its steps."""

    spec: TrainSpec  # with the device and bf16 settled
    run: Run
    device: torch.device
    splits: datasets.DataSplits
    model: SECNN
    optimizer: torch.optim.Optimizer
    plateau: torch.optim.lr_scheduler.ReduceLROnPlateau | None
    run_config: dict[str, Any]
    augment: BatchAugment | None
    train_images: torch.Tensor  # on the device
    train_labels: torch.Tensor
    probe_batch: torch.Tensor  # normalised validation images for the excitation snapshot
    start_epoch: int = 1
    history: list[dict[str, Any]] = field(default_factory=list)
    excitation: dict[str, Any] = field(default_factory=lambda: {"epochs": [], "blocks": {}})

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.spec.channels_last else torch.contiguous_format

    @property
    def batches(self) -> int:
        return (len(self.splits.train) + self.spec.batch_size - 1) // self.spec.batch_size


def build_run_config(spec: TrainSpec, splits: datasets.DataSplits, threads: int) -> dict[str, Any]:
    """config.json: the spec, with what the engine learnt about the data, model and software."""
    model = SECNN(spec.reduction_ratio, len(splits.train.classes), spec.attention)
    return {
        **spec.to_dict(),
        "threads": threads,
        "classes": splits.train.classes,
        "data_description": splits.description,
        "model": {
            "name": "SECNN",
            "label": variant_label(spec.attention_kind, spec.reduction_ratio),
            "parameters": count_parameters(model),
            "se_hidden_widths": se_hidden_widths(spec.reduction_ratio),
        },
        "recipe": spec.recipe().to_dict(),
        "versions": software_versions(torch.device(spec.device)),
    }


def prepare(
    spec: TrainSpec,
    run: Run,
    *,
    resume: bool,
    threads: int,
    data_dir: Path | None,
    report: Callable[..., None],
) -> Session:
    """Load the data, build the model and optimiser, and restore a resumed run's checkpoint.

    The files derived from the checkpoint are rewritten from it: rows of an epoch that never got
    its checkpoint (a kill between the two writes) disappear here.
    """
    splits = datasets.load_splits(
        spec.data,
        data_dir=data_dir,
        val_fraction=spec.val_fraction,
        split_seed=spec.split_seed,
        limit=spec.limit,
        progress=lambda done, total: report(phase=Phase.DECODING, done=done, total=total),
    )
    device = resolve_device(spec.device)
    spec = spec.replace(
        device=str(device), bf16=native_bf16(device) if spec.bf16 is None else spec.bf16
    )
    run_config = build_run_config(spec, splits, threads)

    torch.manual_seed(spec.seed)
    model = SECNN(spec.reduction_ratio, len(splits.train.classes), spec.attention)
    payload = None
    if resume and run.checkpoint_path.exists():
        payload = checkpoints.read_checkpoint(run.checkpoint_path)
        conflict = resume_conflict(payload["config"], spec)
        if conflict:
            raise ValueError(f"{run.checkpoint_path}: {conflict}")
        model = checkpoints.model_from_checkpoint(payload, run.checkpoint_path).train()
    memory_format = torch.channels_last if spec.channels_last else torch.contiguous_format
    # On the device before the optimizer exists: its state lives where the parameters do.
    model = model.to(device=device, memory_format=memory_format)
    optimizer = build_optimizer(model, spec)
    plateau = build_plateau(optimizer, spec)
    session = Session(
        spec=spec,
        run=run,
        device=device,
        splits=splits,
        model=model,
        optimizer=optimizer,
        plateau=plateau,
        run_config=run_config,
        augment=batch_augment(spec.augment),
        # The whole training set moves to the device once (150 MB for CIFAR-10).
        train_images=splits.train.images.to(device),
        train_labels=splits.train.labels.to(device),
        probe_batch=normalize_uint8(splits.val.images[:PROBE_IMAGES]).to(device),
    )
    if payload is not None:
        optimizer.load_state_dict(payload["optimizer_state"])
        if plateau is not None:
            plateau.load_state_dict(payload["scheduler_state"])
        session.history = list(payload.get("history", []))
        session.excitation = payload.get("excitation", session.excitation)
        session.start_epoch = int(payload["epoch"]) + 1
        run_config["created_from_resume_at_epoch"] = session.start_epoch - 1
        run.log(f"resumed from the checkpoint of epoch {session.start_epoch - 1}")
        # Progress counts from the checkpoint, also when no epoch is left to train.
        history = session.history
        report(epoch=session.start_epoch - 1, batch=0, last_epoch=history[-1] if history else None)
    elif resume:
        run.log("no checkpoint yet: starting from the first epoch")
    run.write_config(run_config)
    run.write_metrics(session.history)
    run.write_excitation(session.excitation)
    run.log(f"training on {device_name(device)}, bf16 autocast {'on' if spec.bf16 else 'off'}")
    return session


def _training_batch(
    raw: torch.Tensor, augment: BatchAugment | None, generator: torch.Generator
) -> torch.Tensor:
    if augment is None:
        floats = augment_disabled(raw)
    else:
        # The random choices come from the CPU generator on any device, so a seed replays the
        # same crops and flips on a GPU as on a CPU; only the pixel work runs where the batch is.
        parameters = augment.draw_parameters(raw.shape[0], generator)
        floats = augment.apply(raw, AugmentParameters(*(p.to(raw.device) for p in parameters)))
    return normalize(floats)


def train_epoch(
    session: Session,
    epoch: int,
    *,
    should_stop: Callable[[], bool],
    report: Callable[..., None],
) -> dict[str, float]:
    """One pass over the training images; raises StopRequested when a stop was asked for."""
    spec, model, device = session.spec, session.model, session.device
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(epoch_seed(spec.seed, epoch))
    torch.manual_seed(epoch_seed(spec.seed, epoch))  # dropout draws from the global stream
    n_train = len(session.splits.train)
    order = torch.randperm(n_train, generator=generator).to(device)
    if spec.optimizer == Optimizer.SGD_COSINE:
        for group in session.optimizer.param_groups:
            group["lr"] = cosine_rate(spec.lr, epoch, spec.epochs)
    model.train()
    # Running sums stay on the device; reading them waits for it, so only a report does.
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    seen, last_report = 0, 0.0
    sync_free = device.type == "cpu"
    batches = session.batches
    for batch_index in range(batches):
        if should_stop():
            raise StopRequested
        indices = order[batch_index * spec.batch_size : (batch_index + 1) * spec.batch_size]
        labels = session.train_labels[indices]
        images = _training_batch(
            session.train_images[indices], session.augment, generator
        ).contiguous(memory_format=session.memory_format)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=spec.bf16):
            logits = model(images)
            loss = nn.functional.cross_entropy(logits.float(), labels)
        session.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        session.optimizer.step()
        loss_sum += loss.detach() * len(labels)
        correct += (logits.argmax(dim=1) == labels).sum()
        seen += len(labels)
        now = time.perf_counter()
        if sync_free or now - last_report >= REPORT_SECONDS or batch_index + 1 == batches:
            last_report = now
            elapsed = now - started
            report(
                phase=Phase.TRAINING,
                epoch=epoch,
                epochs=spec.epochs,
                batch=batch_index + 1,
                batches=batches,
                images_per_second=seen / elapsed if elapsed > 0 else None,
                train_loss=float(loss_sum) / seen,
            )
    return {
        "train_loss": float(loss_sum) / seen,
        "train_accuracy": int(correct) / seen,
        "lr": session.optimizer.param_groups[0]["lr"],
    }


def validate(session: Session) -> tuple[dict[str, Any], dict[str, dict]]:
    """The validation figures and the excitation snapshot of the model as it is now."""
    val = evaluate(
        session.model,
        session.splits.val,
        bf16=bool(session.spec.bf16),
        channels_last=session.spec.channels_last,
    )
    if session.plateau is not None:
        session.plateau.step(val["loss"])
    return val, excitation_snapshot(session.model, session.probe_batch)


def persist(session: Session, row: dict[str, Any], val: dict[str, Any], snapshot: dict) -> None:
    """Record a finished epoch: the checkpoint first, then the files derived from it."""
    session.history.append(row)
    session.excitation["epochs"].append(row["epoch"])
    for block, stats in snapshot.items():
        entry = session.excitation["blocks"].setdefault(
            block, {"channel_means": [], "histogram": []}
        )
        entry["channel_means"].append(stats["channel_means"])
        entry["histogram"].append(stats["histogram"])
    run = session.run
    checkpoints.save_checkpoint(
        run.checkpoint_path,
        {
            "config": session.run_config,
            "epoch": row["epoch"],
            "model_state": session.model.state_dict(),
            "optimizer_state": session.optimizer.state_dict(),
            "scheduler_state": session.plateau.state_dict() if session.plateau else {},
            "history": session.history,
            "excitation": session.excitation,
            "val_per_class": val["per_class"],
        },
    )
    run.write_metrics(session.history)
    run.write_excitation(session.excitation)


def _epoch_row(
    epoch: int,
    trained: dict[str, float],
    val: dict[str, Any],
    snapshot: dict,
    seconds: float,
    n: int,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "epoch": epoch,
        "train_loss": trained["train_loss"],
        "train_accuracy": trained["train_accuracy"],
        "val_loss": val["loss"],
        "val_accuracy": val["accuracy"],
        "lr": trained["lr"],
        "epoch_seconds": seconds,
        "images_per_second": n / seconds,
    }
    for block, stats in snapshot.items():
        row[f"{block}_weight_mean"] = stats["mean"]
        row[f"{block}_weight_std"] = stats["std"]
    return row


def _epoch_line(row: dict[str, Any], epochs: int) -> str:
    return (
        f"epoch {row['epoch']}/{epochs}: train loss {row['train_loss']:.4f} "
        f"acc {row['train_accuracy']:.4f}, val loss {row['val_loss']:.4f} "
        f"acc {row['val_accuracy']:.4f}, lr {row['lr']:g}, {row['epoch_seconds']:.1f} s, "
        f"{row['images_per_second']:.0f} images/s"
    )


def _refuse_early(spec: TrainSpec, run: Run, *, resume: bool) -> None:
    """Refuse what cannot work before anything is written or loaded: the run keeps its status,
    and the answer comes at once, not after minutes of decoding (prepare() checks the
    checkpoint's config too)."""
    if not resume and (run.checkpoint_path.exists() or run.read_config()):
        raise ValueError(
            f"{run.path} already holds a run; add --resume to continue it or choose another "
            "--run-dir"
        )
    if resume and (saved := run.read_config()):
        conflict = resume_conflict(saved, spec)
        if conflict:
            raise ValueError(f"{run.path / 'config.json'}: {conflict}")
    resolve_device(spec.device)


def _one_epoch(
    session: Session,
    epoch: int,
    *,
    should_stop: Callable[[], bool],
    report: Callable[..., None],
) -> dict[str, Any]:
    """Train, validate and persist one epoch; its metrics row."""
    started = time.perf_counter()
    trained = train_epoch(session, epoch, should_stop=should_stop, report=report)
    batches = session.batches
    report(phase=Phase.VALIDATING, epoch=epoch, batch=batches, batches=batches)
    val, snapshot = validate(session)
    seconds = time.perf_counter() - started
    row = _epoch_row(epoch, trained, val, snapshot, seconds, len(session.splits.train))
    persist(session, row, val, snapshot)
    session.run.log(_epoch_line(row, session.spec.epochs))
    return row


def earlier_sessions_seconds(run: Run) -> float:
    """The wall-clock seconds of the sessions ``run`` trained before this one, all of them
    ended: the one the trainer's status.json describes, and those it carries."""
    status = run.read_trainer_status()
    epoch_seconds = run.read_metrics().get("epoch_seconds")
    # A status from before sessions were summed: its earlier sessions by their epochs' times.
    resumed_at = int(run.read_config().get("created_from_resume_at_epoch") or 0)
    legacy = sum(epoch_seconds.tolist()[:resumed_at]) if epoch_seconds is not None else 0.0
    return seconds_trained(status, running=False, now=time.time(), earlier=legacy)


def describe_failure(
    error: BaseException, spec: TrainSpec, data_dir: Path | None
) -> dict[str, Any]:
    """status.json's fields that say what kind of failure ``error`` is (runfiles.failure_kind);
    for a data failure, also what the data check finds now, for the page to word."""
    if isinstance(error, datasets.DataError):
        check = datasets.check_data(spec.data, data_dir=data_dir)
        return {"failure": FailureKind.DATA, "data_check": check.to_record()}
    if isinstance(error, ValueError):
        return {"failure": FailureKind.SETTINGS}
    return {"failure": FailureKind.OTHER}


def train(
    spec: TrainSpec,
    run_dir: Path | str,
    *,
    resume: bool = False,
    data_dir: Path | None = None,
    stop_event: threading.Event | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Train into ``run_dir``; returns the final status. Raises on failure (status says why).

    A stop (``stop_event`` set, or stop.request in the run folder) ends the run at the next batch
    with state "stopped" and the last complete epoch's checkpoint intact.
    """
    run = Run(run_dir)
    _refuse_early(spec, run, resume=resume)
    run.path.mkdir(parents=True, exist_ok=True)
    run.clear_stop_request()
    threads = spec.threads or torch.get_num_threads()
    torch.set_num_threads(threads)

    previous = run.read_status()
    earlier = earlier_sessions_seconds(run) if resume else 0.0
    writer = StatusWriter(run)
    writer.update(
        state=RunState.RUNNING,
        pid=os.getpid(),
        host=socket.gethostname(),
        created=previous.get("created") or time.time(),
        started=time.time(),
        **{EARLIER_SECONDS: earlier},
        finished=None,
        error=None,
        failure=None,
        data_check=None,
        phase=Phase.LOADING_DATA,
        epoch=0,
        epochs=spec.epochs,
    )
    writer.start_heartbeat()
    run.log(
        f"{'resuming' if resume else 'starting'}: "
        f"{variant_label(spec.attention_kind, spec.reduction_ratio)}, "
        f"data {spec.data}, {spec.epochs} epochs, pid {os.getpid()}"
    )

    def report(**fields: Any) -> None:
        writer.update(force=False, **fields)
        if progress is not None:
            progress(fields)

    def should_stop() -> bool:
        return (stop_event is not None and stop_event.is_set()) or run.stop_requested()

    try:
        session = prepare(
            spec, run, resume=resume, threads=threads, data_dir=data_dir, report=report
        )
        started_total = time.perf_counter()
        for epoch in range(session.start_epoch, spec.epochs + 1):
            row = _one_epoch(session, epoch, should_stop=should_stop, report=report)
            writer.update(epoch=epoch, phase=Phase.EPOCH_DONE, last_epoch=row)
            if progress is not None:
                progress({"phase": Phase.EPOCH_DONE, "row": row})
        writer.update(
            state=RunState.COMPLETED,
            phase=Phase.COMPLETED,
            finished=time.time(),
            total_seconds=time.perf_counter() - started_total,
        )
        run.log("completed")
    except StopRequested:
        writer.update(state=RunState.STOPPED, phase=Phase.STOPPED, finished=time.time())
        run.log("stopped on request; the last complete epoch is kept")
    except BaseException as error:
        message = f"{type(error).__name__}: {error}"
        failure = describe_failure(error, spec, data_dir)
        writer.update(
            state=RunState.FAILED,
            phase=Phase.FAILED,
            error=message,
            finished=time.time(),
            **failure,
        )
        run.log(f"failed: {message}\n{traceback.format_exc()}")
        raise
    finally:
        writer.stop_heartbeat()
        run.clear_stop_request()
    return run.read_status()
