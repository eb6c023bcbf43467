"""Time per training step of each variant, measured here: what an attention module costs to train.

The runs' own speeds (images per second in their metrics) were measured wherever and whenever
each trained, beside whatever else ran there; a step timed now, one variant after another on this
machine, compares the modules with each other. One step is what the engine does per batch: the
forward pass, the cross-entropy loss, the backward pass and the recipe's optimiser update, on one
batch of the recipe's batch size (random pixels: the arithmetic does not depend on them), fp32 and
channels-last as the engine trains on a CPU. The median of a few steps after a warm-up one.

Each (variant, classes, batch size, optimiser, threads) is measured once per process (an LRU
cache): a page that shows it again does not measure again. The network is built inside a forked
random state, so measuring draws nothing from anyone's generator.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable

import pandas as pd
import torch
from torch import nn

from seattn.analysis.compare.grouping import ComparisonGroup
from seattn.analysis.compare.sources import Variant
from seattn.data.cifar10 import IMAGE_SIZE
from seattn.model.attention import AttentionKind
from seattn.model.cnn import SECNN
from seattn.training.builders import build_optimizer
from seattn.training.recipes import Optimizer
from seattn.training.spec import TrainSpec

STEPS = 3  # timed steps per variant, after one warm-up step: a few seconds each on 2 cores
DEFAULT_BATCH_SIZE = 128  # a recipe that does not record its batch size trained with the default


@functools.lru_cache(maxsize=64)
def training_step_seconds(
    attention: AttentionKind,
    reduction_ratio: int | None,
    *,
    num_classes: int = 10,
    batch_size: int = DEFAULT_BATCH_SIZE,
    optimizer: Optimizer = Optimizer.ADAM_PLATEAU,
    threads: int | None = None,
    steps: int = STEPS,
) -> float:
    """Median seconds of one training step of this variant on this machine's CPU.

    ``threads`` is part of the cache key only (the caller passes ``torch.get_num_threads()``):
    a step with fewer threads is another measurement.
    """
    del threads
    spec = TrainSpec(optimizer=optimizer, batch_size=batch_size)  # its lr: the optimiser's own
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = SECNN(reduction_ratio, num_classes=num_classes, attention=attention)
        model = model.to(memory_format=torch.channels_last).train()
        images = torch.randn(batch_size, 3, IMAGE_SIZE, IMAGE_SIZE).contiguous(
            memory_format=torch.channels_last
        )
        labels = torch.randint(0, num_classes, (batch_size,))
        optimiser = build_optimizer(model, spec)
        durations = []
        for step in range(steps + 1):
            started = time.perf_counter()
            loss = nn.functional.cross_entropy(model(images), labels)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if step:  # the first step allocates the optimiser's state and warms the kernels
                durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def step_times(
    group: ComparisonGroup,
    *,
    steps: int = STEPS,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """One row per variant of ``group``: its training step timed here, with the group's recipe.

    Columns: variant, attention, reduction ratio, batch size, threads, ms per step, images per
    second (the batch size over the median step). ``progress(done, total)`` is called before
    each variant and at the end.
    """
    batch_size = group.recipe.batch_size or DEFAULT_BATCH_SIZE
    threads = torch.get_num_threads()
    rows = []
    for done, variant in enumerate(group.variants):
        if progress is not None:
            progress(done, len(group.variants))
        seconds = training_step_seconds(
            variant.attention,
            variant.reduction_ratio,
            num_classes=len(group.classes) or 10,
            batch_size=batch_size,
            optimizer=group.recipe.optimizer,
            threads=threads,
            steps=steps,
        )
        rows.append(_row(variant, batch_size, threads, seconds))
    if progress is not None:
        progress(len(group.variants), len(group.variants))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["reduction ratio"] = frame["reduction ratio"].astype("Int64")
    return frame


COLUMNS = [
    "variant",
    "attention",
    "reduction ratio",
    "batch size",
    "threads",
    "ms per step",
    "images per second",
]


def _row(variant: Variant, batch_size: int, threads: int, seconds: float) -> dict:
    return {
        "variant": variant.label,
        "attention": str(variant.attention),
        "reduction ratio": variant.reduction_ratio,
        "batch size": batch_size,
        "threads": threads,
        "ms per step": seconds * 1000,
        "images per second": batch_size / seconds,
    }
