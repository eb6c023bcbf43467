"""The training spec: everything that decides what a run computes, and where and how fast it runs.

One type for every way a run is asked for. The Train and Compare forms build a ``TrainSpec``;
the queue stores it in the run folder's job.json and its launcher hands it to the engine as it is;
``python -m seattn train`` builds it from its options (their defaults are this class's); the
engine records it, with what it learnt about the data, in config.json. The defaults live here
only. Plain Python (no torch), so the forms and the queue check a spec without loading torch.

Two specs ask for the same training when their :meth:`TrainSpec.identity` is equal: the
execution fields (device, bf16, channels_last, threads) change how fast a run goes, not what it
computes, and may differ between a stopped run and its resume (``epochs`` too, to train further).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seattn.data.cifar10 import CIFAR10, is_cifar10
from seattn.i18n import _
from seattn.model.attention import AttentionKind, resolve
from seattn.model.ratios import DEFAULT_REDUCTION_RATIO, parse_ratio
from seattn.training.recipes import (
    Augmentation,
    Optimizer,
    Recipe,
    learning_rate_or_default,
    parse_augmentation,
    parse_optimizer,
)

DEFAULT_VAL_FRACTION = 0.1
EXECUTION_FIELDS = ("device", "bf16", "channels_last", "threads")
RESUMABLE_CHANGES = ("epochs", *EXECUTION_FIELDS)
_DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


@dataclass(frozen=True)
class TrainSpec:
    data: str = CIFAR10  # "cifar10" or a folder of class sub-folders
    reduction_ratio: int | None = DEFAULT_REDUCTION_RATIO  # SE's and CBAM's; None for ECA, none
    # ECA or CBAM; None: the ratio decides, SE for a ratio and no attention without one, as in
    # specs written before ECA and CBAM ("se" and "none" are read that way too, so that
    # ``replace(reduction_ratio=None)`` still makes the network without attention).
    attention: AttentionKind | None = None
    epochs: int = 30
    batch_size: int = 128
    lr: float | None = None  # None: the optimiser's own (recipes.DEFAULT_LEARNING_RATES)
    seed: int = 0
    split_seed: int = 0
    val_fraction: float = DEFAULT_VAL_FRACTION
    augment: Augmentation = Augmentation.COURSE
    optimizer: Optimizer = Optimizer.ADAM_PLATEAU
    limit: int | None = None  # use only this many images
    # Execution: where and how fast, never what.
    device: str = "auto"  # "auto" (a CUDA GPU when there is one), "cpu", "cuda", "cuda:1"
    bf16: bool | None = None  # None: where the device has native bfloat16
    channels_last: bool = True
    threads: int | None = None  # None: torch's default (every core)

    def __post_init__(self) -> None:
        # Settled here, so that two specs of one recipe are equal however they were given.
        set_field = object.__setattr__
        attention, ratio = resolve(self.attention, parse_ratio(self.reduction_ratio))
        decided_by_ratio = attention in (AttentionKind.SE, AttentionKind.NONE)
        set_field(self, "attention", None if decided_by_ratio else attention)
        set_field(self, "reduction_ratio", ratio)
        set_field(self, "augment", parse_augmentation(self.augment))
        set_field(self, "optimizer", parse_optimizer(self.optimizer))
        set_field(self, "lr", float(learning_rate_or_default(self.lr, self.optimizer)))
        # The messages are in the active language: the Train and Compare forms show them.
        if self.epochs < 1:
            message = _("epochs must be at least 1, got {epochs}")
            raise ValueError(message.format(epochs=self.epochs))
        if self.batch_size < 1:
            message = _("batch_size must be at least 1, got {batch_size}")
            raise ValueError(message.format(batch_size=self.batch_size))
        if not self.lr > 0:
            raise ValueError(_("learning rate must be positive, got {lr}").format(lr=self.lr))
        if self.limit is not None and self.limit < 2:
            message = _("limit must be at least 2 images, got {limit}")
            raise ValueError(message.format(limit=self.limit))
        if not 0.0 < self.val_fraction < 1.0:
            message = _("validation fraction must be between 0 and 1, got {fraction}")
            raise ValueError(message.format(fraction=self.val_fraction))
        if self.threads is not None and self.threads < 1:
            message = _("threads must be at least 1, got {threads}")
            raise ValueError(message.format(threads=self.threads))
        if not _DEVICE_PATTERN.match(str(self.device)):
            message = _("unknown device {device}; use 'auto', 'cpu' or 'cuda'")
            raise ValueError(message.format(device=repr(self.device)))

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> TrainSpec:
        """The spec in a job.json, config.json or checkpoint config, whichever version wrote it.

        Keys that are not fields (what the engine learnt: classes, versions...) are ignored; runs
        saved before recipes had names say yes or no for augment and nothing of the optimiser.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        known = {key: value for key, value in record.items() if key in names}
        if "augment" in known and isinstance(known["augment"], bool):
            known["augment"] = parse_augmentation(known["augment"])
        if known.get("optimizer") is None:
            known.pop("optimizer", None)
        if not known.get("threads"):
            known.pop("threads", None)
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, as job.json and config.json hold them."""
        return {
            **dataclasses.asdict(self),
            "attention": str(self.attention_kind),
            "augment": str(self.augment),
            "optimizer": str(self.optimizer),
        }

    @property
    def attention_kind(self) -> AttentionKind:
        """The attention module the run trains: "se", "eca", "cbam" or "none"."""
        return resolve(self.attention, self.reduction_ratio)[0]

    def identity(self) -> dict[str, Any]:
        """What the run computes: equal for two specs that ask for the same training."""
        return {k: v for k, v in self.to_dict().items() if k not in EXECUTION_FIELDS}

    def recipe(self) -> Recipe:
        return Recipe(
            self.optimizer, self.augment, self.lr, self.batch_size, self.epochs, self.limit
        )

    def with_absolute_data(self) -> TrainSpec:
        """A folder is resolved now: a job must not depend on its caller's working directory."""
        if is_cifar10(self.data):
            return dataclasses.replace(self, data=CIFAR10)
        return dataclasses.replace(self, data=str(Path(self.data).expanduser().resolve()))

    def replace(self, **changes: Any) -> TrainSpec:
        return dataclasses.replace(self, **changes)


# -- resuming ---------------------------------------------------------------------------------


def _saved_folder(saved: dict[str, Any]) -> str | None:
    """The absolute path of the folder a saved run trained on; None for CIFAR-10."""
    description = saved.get("data_description") or {}
    return description.get("source") if description.get("kind") == "folder" else None


def resume_data(saved: dict[str, Any]) -> str:
    """The data a saved run resumes on: its folder's absolute path when it trained on a folder
    (the spec it was given may be relative to another working directory), else its spec."""
    return _saved_folder(saved) or str(saved["data"])


def spec_to_resume(saved: dict[str, Any], **given: Any) -> TrainSpec:
    """The spec that continues a saved run: the options ``given``, else the run's own."""
    known = {f.name for f in dataclasses.fields(TrainSpec)}
    own = {key: value for key, value in saved.items() if key in known}
    own = {key: value for key, value in own.items() if key not in EXECUTION_FIELDS}
    if "data" in saved:
        own["data"] = resume_data(saved)
    return TrainSpec.from_dict({**own, **given})


def _same_data(saved: dict[str, Any], data: str) -> bool:
    folder = _saved_folder(saved)
    return saved.get("data") == data or (
        folder is not None and Path(data).expanduser().resolve() == Path(folder).resolve()
    )


def resume_conflict(saved: dict[str, Any], spec: TrainSpec) -> str | None:
    """Why ``spec`` cannot continue the run ``saved`` describes; None when it can."""
    saved_spec = TrainSpec.from_dict(saved).to_dict()
    for key, value in spec.to_dict().items():
        # A record from before the optimiser choice trained with the course's, and says nothing.
        if key in RESUMABLE_CHANGES or (key not in saved and key != "optimizer"):
            continue
        if key == "data" and _same_data(saved, value):
            continue  # the same folder, named from another working directory
        if saved_spec[key] != value:
            return (
                f"cannot resume with {key}={value!r}; the run was started with "
                f"{key}={saved_spec[key]!r}. Resume with the same arguments, or use another "
                "--run-dir."
            )
    return None
