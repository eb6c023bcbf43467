"""The training engine: the reference recipe, fast on a CPU, resumable, observable from files.

Recipe: CrossEntropyLoss, a named optimiser recipe and a named augmentation recipe
(seattn.recipes), the course's of each by default. The course's optimiser is Adam(lr) with
ReduceLROnPlateau(min, patience 3, factor 0.5) stepped on the validation loss once per epoch;
``sgd-cosine`` is SGD with Nesterov momentum and weight decay, its rate set at the start of each
epoch on a cosine from lr to zero over the run's epochs.

Speed comes from where the time went in the per-image pipeline, not from changing the recipe:
images are decoded once into a uint8 tensor (seattn.data), augmented a whole batch at a time
(seattn.augment), and the network runs channels-last with bfloat16 autocast where the CPU has
native bfloat16 (see bench/train_throughput.py for the measurements behind each default). On a CUDA
GPU (``device="auto"`` picks one when there is one) the data set sits on the GPU whole and the
batches are augmented there; the random choices are still drawn on the CPU, so a seed gives the
same crops, flips and order on either device.

Reproducibility: every epoch reseeds its own random streams from (seed, epoch), so a run that
stopped and resumed at an epoch boundary takes exactly the same steps as one that never stopped.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torchvision
from torch import nn

from seattn import checkpoints
from seattn import data as datasets
from seattn.augment import AugmentParameters, BatchAugment, batch_augment
from seattn.images import CIFAR_MEAN, CIFAR_STD, normalize_uint8
from seattn.model import SECNN, count_parameters, parse_ratio, ratio_label, se_hidden_widths
from seattn.probe import excitation_snapshot
from seattn.recipes import (
    ADAM_PLATEAU,
    COURSE,
    SGD_COSINE,
    SGD_MOMENTUM,
    SGD_WEIGHT_DECAY,
    learning_rate_or_default,
    parse_augmentation,
    parse_optimizer,
)
from seattn.runs import COMPLETED, FAILED, RUNNING, STOPPED, Run, StatusWriter

PROBE_IMAGES = 256
# On a GPU, progress is reported at most this often: reading the running loss waits for the
# device. On the CPU that read is free, and every batch is reported.
REPORT_SECONDS = 0.2
EVAL_BATCH_SIZE = 500
SCHEDULER_PATIENCE = 3
SCHEDULER_FACTOR = 0.5


def resolve_device(name: str) -> torch.device:
    """The device to train on: for "auto" the CUDA GPU when there is one, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use 'auto', 'cpu' or 'cuda'") from None
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r} is not supported; use 'auto', 'cpu' or 'cuda'")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but this machine has no usable CUDA GPU")
    return device


def native_bf16(device: torch.device) -> bool:
    """Whether bfloat16 autocast is the fast choice on ``device``."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return cpu_has_native_bf16()


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"the CPU ({_cpu_name()})"


def cpu_has_native_bf16() -> bool:
    """True on CPUs with AVX512-BF16 or AMX, where bfloat16 convolutions beat float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


@dataclass
class TrainConfig:
    """Everything that decides what a run computes; stored in config.json and checkpoints."""

    data: str = datasets.CIFAR10
    reduction_ratio: int | None = 16
    epochs: int = 30
    batch_size: int = 128
    lr: float | None = None  # None: the optimiser's own (seattn.recipes.DEFAULT_LEARNING_RATES)
    seed: int = 0
    split_seed: int = 0
    val_fraction: float = datasets.DEFAULT_VAL_FRACTION
    augment: str = COURSE  # a name in seattn.recipes.AUGMENTATIONS
    optimizer: str = ADAM_PLATEAU  # a name in seattn.recipes.OPTIMIZERS
    limit: int | None = None
    channels_last: bool = True
    bf16: bool | None = None  # None: where the device has native bfloat16
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...

    def __post_init__(self) -> None:
        self.reduction_ratio = parse_ratio(self.reduction_ratio)
        self.augment = parse_augmentation(self.augment)
        self.optimizer = parse_optimizer(self.optimizer)
        self.lr = learning_rate_or_default(self.lr, self.optimizer)
        resolve_device(self.device)  # an unusable device is refused before anything is written
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"learning rate must be positive, got {self.lr}")
        if self.limit is not None and self.limit < 2:
            raise ValueError(f"limit must be at least 2 images, got {self.limit}")

    # Fields that may differ between an interrupted run and its resume: how long, and where and how
    # fast the same recipe runs (a run started on a GPU may finish on a CPU).
    RESUMABLE_CHANGES = ("epochs", "device", "bf16", "channels_last")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class StopRequested(Exception):
    """Raised inside the loop when a stop was asked for; the last complete epoch is kept."""


ProgressCallback = Callable[[dict[str, Any]], None]


def software_versions(device: torch.device | None = None) -> dict[str, str]:
    versions = {
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "torchvision": str(torchvision.__version__),
        "platform": platform.platform(),
        "processor": _cpu_name(),
        "cpu_count": str(os.cpu_count()),
    }
    if device is not None and device.type == "cuda":
        versions["gpu"] = torch.cuda.get_device_name(device)
        versions["cuda"] = str(torch.version.cuda)
    return versions


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def recipe_of(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a run's config that make two runs comparable (ratio and seed aside)."""
    if parse_optimizer(config.get("optimizer")) == SGD_COSINE:
        optimizer = f"SGD(momentum {SGD_MOMENTUM}, Nesterov, weight decay {SGD_WEIGHT_DECAY})"
        scheduler = "cosine from lr to zero over the epochs, set once per epoch"
    else:  # worded as before there was a choice, so older runs compare with newer ones
        optimizer = "Adam"
        scheduler = (
            f"ReduceLROnPlateau(min, patience {SCHEDULER_PATIENCE}, factor {SCHEDULER_FACTOR})"
        )
    return {
        "optimizer": optimizer,
        "lr": config.get("lr"),
        "batch_size": config.get("batch_size"),
        "scheduler": scheduler,
        "augment": config.get("augment"),  # named by zoo.recipe_as_trained where it is read
        "epochs": config.get("epochs"),
        "limit": config.get("limit"),
    }


def evaluate(
    model: SECNN,
    image_set: datasets.ImageSet,
    *,
    batch_size: int = EVAL_BATCH_SIZE,
    bf16: bool = False,
    channels_last: bool = False,
) -> dict[str, Any]:
    """Loss, accuracy and per-class accuracy of ``model`` over every image of ``image_set``.

    Training validates with its own ``bf16`` and ``channels_last`` settings (about twice as fast);
    ``python -m seattn eval`` keeps float32, so its figures may differ from the run's last
    validation in the last digit.
    """
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    n_classes = len(image_set.classes)
    # Sums stay on the device until the end: one synchronisation per evaluation, not per batch.
    total_loss = torch.zeros((), device=device)
    per_class_correct = torch.zeros(n_classes, dtype=torch.int64, device=device)
    per_class_total = torch.bincount(image_set.labels, minlength=n_classes)
    try:
        with torch.inference_mode():
            for start in range(0, len(image_set), batch_size):
                images = image_set.images[start : start + batch_size].to(device)
                labels = image_set.labels[start : start + batch_size].to(device)
                images = normalize_uint8(images).contiguous(memory_format=memory_format)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    logits = model(images).float()
                total_loss += nn.functional.cross_entropy(logits, labels, reduction="sum")
                hits = logits.argmax(dim=1) == labels
                per_class_correct += torch.bincount(labels[hits], minlength=n_classes)
    finally:
        model.train(was_training)
    n = len(image_set)
    per_class_correct = per_class_correct.cpu()
    return {
        "loss": float(total_loss) / n,
        "accuracy": int(per_class_correct.sum()) / n,
        "n": n,
        "per_class": {
            name: (int(c) / int(t) if int(t) else None)
            for name, c, t in zip(
                image_set.classes, per_class_correct, per_class_total, strict=True
            )
        },
    }


_MEAN = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1)
_STD = torch.tensor(CIFAR_STD).view(1, 3, 1, 1)


def _training_batch(
    raw: torch.Tensor, augment: BatchAugment | None, generator: torch.Generator
) -> torch.Tensor:
    if augment is None:
        floats = raw.float().div_(255)
    else:
        # The random choices come from the CPU generator on any device, so a seed replays the
        # same crops and flips on a GPU as on a CPU; only the pixel work runs where the batch is.
        parameters = augment.draw_parameters(raw.shape[0], generator)
        floats = augment.apply(raw, AugmentParameters(*(p.to(raw.device) for p in parameters)))
    return (floats - _MEAN.to(raw.device)) / _STD.to(raw.device)


class CosineSchedule:
    """The rate of epoch e (1-based) of n: lr * (1 + cos(pi * (e - 1) / n)) / 2, set per epoch.

    Worked out from the epoch alone, so a resumed run takes exactly the steps of one that never
    stopped. A run given more epochs continues on the cosine of its new total, so the rate rises
    again before it falls to zero at the new end. ``step`` and the state dicts mirror
    ReduceLROnPlateau's, which the loop also drives.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, lr: float, epochs: int) -> None:
        self.optimizer, self.lr, self.epochs = optimizer, lr, epochs

    def start_epoch(self, epoch: int) -> None:
        rate = self.lr * (1 + math.cos(math.pi * (epoch - 1) / self.epochs)) / 2
        for group in self.optimizer.param_groups:
            group["lr"] = rate

    def step(self, _validation_loss: float) -> None:
        pass  # the rate depends on the epoch only

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, _state: dict[str, Any]) -> None:
        pass


class _PlateauSchedule(torch.optim.lr_scheduler.ReduceLROnPlateau):
    def start_epoch(self, epoch: int) -> None:
        pass  # the rate changes only when the validation loss stalls


def _optimizer_and_schedule(
    model: nn.Module, config: TrainConfig
) -> tuple[torch.optim.Optimizer, CosineSchedule | _PlateauSchedule]:
    if config.optimizer == SGD_COSINE:
        optimizer = torch.optim.SGD(
            model.parameters(),
            lr=config.lr,
            momentum=SGD_MOMENTUM,
            nesterov=True,
            weight_decay=SGD_WEIGHT_DECAY,
            fused=True,
        )
        return optimizer, CosineSchedule(optimizer, config.lr, config.epochs)
    # The fused kernels: the same update as the default per-parameter loop, several times faster
    # on CPU for this model; state dicts of either kind load into them, so older runs resume.
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
    schedule = _PlateauSchedule(
        optimizer, mode="min", patience=SCHEDULER_PATIENCE, factor=SCHEDULER_FACTOR
    )
    return optimizer, schedule


def _epoch_seed(seed: int, epoch: int) -> int:
    return seed * 1_000_003 + epoch


def build_run_config(
    config: TrainConfig, splits: datasets.DataSplits, threads: int
) -> dict[str, Any]:
    model = SECNN(config.reduction_ratio, num_classes=len(splits.train.classes))
    return {
        **config.to_dict(),
        "classes": splits.train.classes,
        "data_description": splits.description,
        "model": {
            "name": "SECNN",
            "label": ratio_label(config.reduction_ratio),
            "parameters": count_parameters(model),
            "se_hidden_widths": se_hidden_widths(config.reduction_ratio),
        },
        "recipe": recipe_of(config.to_dict()),
        "threads": threads,
        "versions": software_versions(torch.device(config.device)),
    }


def _saved_folder(saved: dict[str, Any]) -> str | None:
    """The absolute path of the folder a saved run trained on; None for CIFAR-10."""
    description = saved.get("data_description") or {}
    return description.get("source") if description.get("kind") == "folder" else None


def resume_data_spec(saved: dict[str, Any]) -> str:
    """The data a saved run resumes on: its folder's absolute path when it trained on a folder
    (the spec it was given may be relative to another working directory), else its spec."""
    return _saved_folder(saved) or str(saved["data"])


def _same_data(saved: dict[str, Any], spec: str) -> bool:
    folder = _saved_folder(saved)
    return saved.get("data") == spec or (
        folder is not None and Path(spec).expanduser().resolve() == Path(folder).resolve()
    )


def _check_resumable(saved: dict[str, Any], config: TrainConfig, path: Path) -> None:
    # Runs saved before there were named recipes hold no optimizer (they used the course's) and
    # say yes or no for augment.
    saved = {**saved, "optimizer": parse_optimizer(saved.get("optimizer"))}
    if "augment" in saved:
        saved["augment"] = parse_augmentation(saved["augment"])
    for key, value in config.to_dict().items():
        if key in TrainConfig.RESUMABLE_CHANGES or key not in saved:
            continue
        if key == "data" and _same_data(saved, value):
            continue  # the same folder, named from another working directory
        if saved[key] != value:
            raise ValueError(
                f"{path}: cannot resume with {key}={value!r}; the run was started with "
                f"{key}={saved[key]!r}. Resume with the same arguments, or use another --run-dir."
            )


def train(
    config: TrainConfig,
    run_dir: Path | str,
    *,
    resume: bool = False,
    threads: int | None = None,
    data_dir: Path | None = None,
    stop_event: threading.Event | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Train into ``run_dir``; returns the final status. Raises on failure (status says why).

    A stop (``stop_event`` set, or stop.request in the run folder) ends the run at the next batch
    with state "stopped" and the last complete epoch's checkpoint intact.
    """
    run = Run(run_dir)
    if not resume and (run.checkpoint_path.exists() or run.read_config()):
        raise ValueError(
            f"{run.path} already holds a run; add --resume to continue it or choose another "
            "--run-dir"
        )
    if resume and (saved := run.read_config()):
        # Refused before anything is written or loaded: the run keeps its status, and the answer
        # comes at once, not after minutes of decoding. The loop checks the checkpoint's config.
        _check_resumable(saved, config, run.path / "config.json")
    run.path.mkdir(parents=True, exist_ok=True)
    run.clear_stop_request()
    threads = threads or torch.get_num_threads()
    torch.set_num_threads(threads)

    previous = run.read_status()
    writer = StatusWriter(run)
    writer.update(
        state=RUNNING,
        pid=os.getpid(),
        host=socket.gethostname(),
        created=previous.get("created", time.time()),
        started=time.time(),
        error=None,
        phase="loading data",
        epoch=0,
        epochs=config.epochs,
    )
    writer.start_heartbeat()
    run.log(
        f"{'resuming' if resume else 'starting'}: {ratio_label(config.reduction_ratio)}, "
        f"data {config.data}, {config.epochs} epochs, pid {os.getpid()}"
    )
    try:
        result = _train_loop(config, run, writer, resume, threads, data_dir, stop_event, progress)
    except StopRequested:
        writer.update(state=STOPPED, phase="stopped", finished=time.time())
        run.log("stopped on request; the last complete epoch is kept")
        return run.read_status()
    except BaseException as error:
        message = f"{type(error).__name__}: {error}"
        writer.update(state=FAILED, phase="failed", error=message, finished=time.time())
        run.log(f"failed: {message}\n{traceback.format_exc()}")
        raise
    finally:
        writer.stop_heartbeat()
        run.clear_stop_request()
    return result


def _train_loop(
    config: TrainConfig,
    run: Run,
    writer: StatusWriter,
    resume: bool,
    threads: int,
    data_dir: Path | None,
    stop_event: threading.Event | None,
    progress: ProgressCallback | None,
) -> dict[str, Any]:
    def should_stop() -> bool:
        return (stop_event is not None and stop_event.is_set()) or run.stop_requested()

    def report(**fields: Any) -> None:
        writer.update(force=False, **fields)
        if progress is not None:
            progress(fields)

    splits = datasets.load_splits(
        config.data,
        data_dir=data_dir,
        val_fraction=config.val_fraction,
        split_seed=config.split_seed,
        limit=config.limit,
        progress=lambda done, total: report(phase="decoding images", done=done, total=total),
    )
    device = resolve_device(config.device)
    bf16 = native_bf16(device) if config.bf16 is None else config.bf16
    config = dataclasses.replace(config, device=str(device), bf16=bf16)
    run_config = build_run_config(config, splits, threads)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format

    torch.manual_seed(config.seed)
    model = SECNN(config.reduction_ratio, num_classes=len(splits.train.classes))
    payload = None
    if resume and run.checkpoint_path.exists():
        payload = checkpoints.read_checkpoint(run.checkpoint_path)
        _check_resumable(payload["config"], config, run.checkpoint_path)
        model = checkpoints.model_from_checkpoint(payload, run.checkpoint_path).train()
    # On the device before the optimizer exists: its state lives where the parameters do.
    model = model.to(device=device, memory_format=memory_format)
    optimizer, scheduler = _optimizer_and_schedule(model, config)
    history: list[dict[str, Any]] = []
    excitation: dict[str, Any] = {"epochs": [], "blocks": {}}
    start_epoch = 1
    if payload is not None:
        optimizer.load_state_dict(payload["optimizer_state"])
        scheduler.load_state_dict(payload["scheduler_state"])
        history = list(payload.get("history", []))
        excitation = payload.get("excitation", excitation)
        start_epoch = int(payload["epoch"]) + 1
        run_config["created_from_resume_at_epoch"] = start_epoch - 1
        run.log(f"resumed from the checkpoint of epoch {start_epoch - 1}")
        # Progress counts from the checkpoint, also when no epoch is left to train.
        writer.update(epoch=start_epoch - 1, batch=0, last_epoch=history[-1] if history else None)
    elif resume:
        run.log("no checkpoint yet: starting from the first epoch")
    # Rewrite the derived files from the checkpoint: rows of an epoch that never got its
    # checkpoint (a kill between the two writes) disappear here.
    run.write_config(run_config)
    run.write_metrics(history)
    run.write_excitation(excitation)

    run.log(f"training on {_device_name(device)}, bf16 autocast {'on' if bf16 else 'off'}")
    augment = batch_augment(config.augment)
    # The whole training set moves to the device once (150 MB for CIFAR-10); batches are cut there.
    train_images = splits.train.images.to(device)
    train_labels = splits.train.labels.to(device)
    probe_batch = normalize_uint8(splits.val.images[:PROBE_IMAGES]).to(device)
    n_train = len(splits.train)
    sync_free = device.type == "cpu"
    batches = (n_train + config.batch_size - 1) // config.batch_size
    started_total = time.perf_counter()

    for epoch in range(start_epoch, config.epochs + 1):
        epoch_started = time.perf_counter()
        generator = torch.Generator().manual_seed(_epoch_seed(config.seed, epoch))
        torch.manual_seed(_epoch_seed(config.seed, epoch))  # dropout draws from the global stream
        order = torch.randperm(n_train, generator=generator).to(device)
        scheduler.start_epoch(epoch)
        model.train()
        # Running sums stay on the device; reading them waits for it, so only a report does.
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        seen, last_report = 0, 0.0
        for batch_index in range(batches):
            if should_stop():
                raise StopRequested
            indices = order[batch_index * config.batch_size : (batch_index + 1) * config.batch_size]
            labels = train_labels[indices]
            images = _training_batch(train_images[indices], augment, generator).contiguous(
                memory_format=memory_format
            )
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                logits = model(images)
                loss = nn.functional.cross_entropy(logits.float(), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(labels)
            correct += (logits.argmax(dim=1) == labels).sum()
            seen += len(labels)
            now = time.perf_counter()
            if sync_free or now - last_report >= REPORT_SECONDS or batch_index + 1 == batches:
                last_report = now
                elapsed = now - epoch_started
                report(
                    phase="training",
                    epoch=epoch,
                    epochs=config.epochs,
                    batch=batch_index + 1,
                    batches=batches,
                    images_per_second=seen / elapsed if elapsed > 0 else None,
                    train_loss=float(loss_sum) / seen,
                )
        report(phase="validating", epoch=epoch, batch=batches, batches=batches)
        val = evaluate(model, splits.val, bf16=bf16, channels_last=config.channels_last)
        snapshot = excitation_snapshot(model, probe_batch)
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step(val["loss"])
        epoch_seconds = time.perf_counter() - epoch_started
        row: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": float(loss_sum) / seen,
            "train_accuracy": int(correct) / seen,
            "val_loss": val["loss"],
            "val_accuracy": val["accuracy"],
            "lr": lr,
            "epoch_seconds": epoch_seconds,
            "images_per_second": n_train / epoch_seconds,
        }
        for block, stats in snapshot.items():
            row[f"{block}_weight_mean"] = stats["mean"]
            row[f"{block}_weight_std"] = stats["std"]
        history.append(row)
        excitation["epochs"].append(epoch)
        for block, stats in snapshot.items():
            entry = excitation["blocks"].setdefault(block, {"channel_means": [], "histogram": []})
            entry["channel_means"].append(stats["channel_means"])
            entry["histogram"].append(stats["histogram"])
        checkpoints.save_checkpoint(
            run.checkpoint_path,
            {
                "config": run_config,
                "epoch": epoch,
                "model_state": model.state_dict(),
                "optimizer_state": optimizer.state_dict(),
                "scheduler_state": scheduler.state_dict(),
                "history": history,
                "excitation": excitation,
                "val_per_class": val["per_class"],
            },
        )
        run.write_metrics(history)
        run.write_excitation(excitation)
        run.log(
            f"epoch {epoch}/{config.epochs}: train loss {row['train_loss']:.4f} "
            f"acc {row['train_accuracy']:.4f}, val loss {row['val_loss']:.4f} "
            f"acc {row['val_accuracy']:.4f}, lr {lr:g}, {epoch_seconds:.1f} s, "
            f"{row['images_per_second']:.0f} images/s"
        )
        writer.update(epoch=epoch, phase="epoch done", last_epoch=row)
        if progress is not None:
            progress({"phase": "epoch done", "row": row})

    writer.update(
        state=COMPLETED,
        phase="completed",
        finished=time.time(),
        total_seconds=time.perf_counter() - started_total,
    )
    run.log("completed")
    return run.read_status()


def python_command() -> list[str]:
    """The command that runs this package's CLI with the current interpreter."""
    return [sys.executable, "-m", "seattn"]
