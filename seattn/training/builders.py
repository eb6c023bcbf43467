"""What each named recipe builds: the batch augmentation, the optimiser and its rate schedule.

``adam-plateau``: Adam(lr), ReduceLROnPlateau(min, patience 3, factor 0.5) on the validation
loss once per epoch. ``sgd-cosine``: SGD with Nesterov momentum and weight decay, its rate set at
the start of each epoch by :func:`cosine_rate`. ``course`` augmentation is the course's full set,
``crop-flip`` crop and flip only (seattn.data.augment does the work).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from seattn.data.augment import BatchAugment
from seattn.training.recipes import (
    PLATEAU_FACTOR,
    PLATEAU_PATIENCE,
    SGD_MOMENTUM,
    SGD_WEIGHT_DECAY,
    Augmentation,
    Optimizer,
    parse_augmentation,
)
from seattn.training.spec import TrainSpec


def batch_augment(name: str | bool) -> BatchAugment | None:
    """The ``BatchAugment`` of a named augmentation recipe; None for no augmentation."""
    name = parse_augmentation(name)
    if name == Augmentation.NONE:
        return None
    if name == Augmentation.CROP_FLIP:
        return BatchAugment(brightness=0, contrast=0, saturation=0, hue=0, rotation_degrees=0)
    return BatchAugment()


def cosine_rate(lr: float, epoch: int, epochs: int) -> float:
    """The rate of epoch ``epoch`` (1-based) of ``epochs`` on ``sgd-cosine``.

    A function of the epoch alone, so a resumed run takes exactly the steps of one that never
    stopped. A run given more epochs continues on the cosine of its new total, so the rate rises
    again before it falls to zero at the new end.
    """
    return lr * (1 + math.cos(math.pi * (epoch - 1) / epochs)) / 2


def build_optimizer(model: nn.Module, spec: TrainSpec) -> torch.optim.Optimizer:
    # The fused kernels: the same update as the default per-parameter loop, several times faster
    # on CPU for this model; state dicts of either kind load into them, so older runs resume.
    if spec.optimizer == Optimizer.SGD_COSINE:
        return torch.optim.SGD(
            model.parameters(),
            lr=spec.lr,
            momentum=SGD_MOMENTUM,
            nesterov=True,
            weight_decay=SGD_WEIGHT_DECAY,
            fused=True,
        )
    return torch.optim.Adam(model.parameters(), lr=spec.lr, fused=True)


def build_plateau(
    optimizer: torch.optim.Optimizer, spec: TrainSpec
) -> torch.optim.lr_scheduler.ReduceLROnPlateau | None:
    if spec.optimizer != Optimizer.ADAM_PLATEAU:
        return None
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", patience=PLATEAU_PATIENCE, factor=PLATEAU_FACTOR
    )


def epoch_seed(seed: int, epoch: int) -> int:
    return seed * 1_000_003 + epoch
