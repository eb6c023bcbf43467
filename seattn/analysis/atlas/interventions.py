"""Interventions: what the network's accuracy becomes when SE's weights are replaced.

Each one replaces a block's weights inside the real forward pass (``SECNN.forward_from`` with a
weight adjustment), so later blocks compute their own weights from what they now receive:

    bypass        every weight 1 (the block passes its features through unscaled)
    mean_vector   the block's dataset-mean weight vector, the same for every image
    scalar        one number for every channel and image: the block's mean weight
    other_image   each image gets the weights another image had (a seeded permutation)
    zero_top      the k channels with the highest weight of this image zeroed after scaling
    zero_bottom   the k lowest
    zero_random   k random channels (the mean over RANDOM_REPEATS seeds)
    clean         nothing replaced, at the precision of the others: the line they are read against

k is 10% and 25% of the block's channels, rounded to the nearest whole channel. Each kind acts on
every block alone; the first four also on all blocks at once.

What is shared: one batch's features entering each block are computed once (the clean pass), and
every intervention on block b starts from block b's features, so the blocks before it are never
run again. The network runs as an ``inference_copy`` (batch norm folded, channels-last, bfloat16
where the CPU computes it natively).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import torch

from seattn.data.images import normalize_uint8
from seattn.model.cnn import SECNN
from seattn.model.excitation import WeightAdjustment
from seattn.model.inference import inference_copy, inference_input

ZERO_FRACTIONS = (0.1, 0.25)
RANDOM_REPEATS = 3
ALL_BLOCKS = "all"
BATCH_SIZE = 250  # fastest of 64..1000 on 2 cores (bench/atlas_speed.py)

ProgressFn = Callable[[int, int], None]


class Kind(StrEnum):
    CLEAN = "clean"
    BYPASS = "bypass"
    MEAN_VECTOR = "mean_vector"
    SCALAR = "scalar"
    OTHER_IMAGE = "other_image"
    ZERO_TOP = "zero_top"
    ZERO_BOTTOM = "zero_bottom"
    ZERO_RANDOM = "zero_random"


WHOLE_BLOCK_KINDS = (Kind.BYPASS, Kind.MEAN_VECTOR, Kind.SCALAR, Kind.OTHER_IMAGE)
ZEROING_KINDS = (Kind.ZERO_TOP, Kind.ZERO_BOTTOM, Kind.ZERO_RANDOM)


@dataclass(frozen=True)
class Intervention:
    kind: Kind
    blocks: str  # a block's name, or ALL_BLOCKS
    k: float | None = None  # the fraction of channels zeroed (zeroing kinds only)

    def as_record(self, accuracy: float) -> dict:
        return {"kind": str(self.kind), "blocks": self.blocks, "k": self.k, "accuracy": accuracy}


def plan(block_names: list[str]) -> list[Intervention]:
    """Every intervention, in the order the JSON and the page list them (clean first)."""
    if not block_names:
        return []
    planned = [Intervention(Kind.CLEAN, ALL_BLOCKS)]
    for name in block_names:
        planned += [Intervention(kind, name) for kind in WHOLE_BLOCK_KINDS]
        planned += [Intervention(kind, name, k) for kind in ZEROING_KINDS for k in ZERO_FRACTIONS]
    planned += [Intervention(kind, ALL_BLOCKS) for kind in WHOLE_BLOCK_KINDS]
    return planned


def zeroed_channels(channels: int, fraction: float) -> int:
    """k: ``fraction`` of ``channels`` rounded to the nearest whole channel (halves up)."""
    return math.floor(channels * fraction + 0.5)


@dataclass(frozen=True)
class CleanWeights:
    """The clean pass's weights of every block over the whole set, and what they give."""

    weights: dict[str, torch.Tensor]  # block -> [N, C] float32
    permutation: torch.Tensor  # [N] image i gets image permutation[i]'s weights (other_image)
    random_masks: dict[tuple[str, float, int], torch.Tensor]  # (block, k, repeat) -> [N, C] bool

    @classmethod
    def from_weights(cls, weights: dict[str, torch.Tensor], seed: int) -> CleanWeights:
        n = next(iter(weights.values())).shape[0]
        generator = torch.Generator().manual_seed(seed)
        permutation = _derangement(n, generator)
        masks = {}
        for name, block_weights in weights.items():
            channels = block_weights.shape[1]
            for fraction in ZERO_FRACTIONS:
                k = zeroed_channels(channels, fraction)
                for repeat in range(RANDOM_REPEATS):
                    scores = torch.rand(n, channels, generator=generator)
                    mask = torch.zeros(n, channels, dtype=torch.bool)
                    mask.scatter_(1, scores.topk(k, dim=1).indices, True)
                    masks[(name, fraction, repeat)] = mask
        return cls(weights, permutation, masks)


def _derangement(n: int, generator: torch.Generator) -> torch.Tensor:
    """A seeded permutation that sends no image to itself (for n > 1): one random cycle."""
    order = torch.randperm(n, generator=generator)
    permutation = torch.empty(n, dtype=torch.int64)
    permutation[order] = order.roll(-1)
    return permutation


def adjustment(
    kind: Kind, block: str, k: float | None, clean: CleanWeights, rows: slice, repeat: int = 0
) -> WeightAdjustment:
    """The replacement of block ``block``'s weights for the images ``rows`` of the set."""
    if kind is Kind.BYPASS:
        return torch.ones_like
    if kind is Kind.MEAN_VECTOR:
        mean = clean.weights[block].mean(dim=0)
        return lambda w: mean.to(w.dtype).expand_as(w)
    if kind is Kind.SCALAR:
        value = float(clean.weights[block].mean())
        return lambda w: torch.full_like(w, value)
    if kind is Kind.OTHER_IMAGE:
        other = clean.weights[block][clean.permutation[rows]]
        return lambda w: other.to(w.dtype)
    count = zeroed_channels(clean.weights[block].shape[1], k or 0.0)
    if count == 0:
        return lambda w: w
    if kind is Kind.ZERO_TOP or kind is Kind.ZERO_BOTTOM:
        largest = kind is Kind.ZERO_TOP
        return lambda w: w.scatter(1, w.topk(count, dim=1, largest=largest).indices, 0.0)
    if kind is Kind.ZERO_RANDOM:
        mask = clean.random_masks[(block, k, repeat)][rows]
        return lambda w: w.masked_fill(mask, 0.0)
    raise ValueError(f"no adjustment for {kind}")


def run_interventions(
    model: SECNN,
    images: torch.Tensor,
    labels: torch.Tensor,
    clean: CleanWeights,
    *,
    dtype: torch.dtype = torch.float32,
    batch_size: int = BATCH_SIZE,
    progress: ProgressFn | None = None,
) -> list[dict]:
    """Accuracy under every planned intervention over ``images`` (uint8) with true ``labels``."""
    names = [block.name for block in model.blocks if block.attention is not None]
    planned = plan(names)
    if not planned:
        return []
    fast = inference_copy(model, dtype)
    index = {block.name: i for i, block in enumerate(fast.blocks)}
    correct = dict.fromkeys(planned, 0)
    n = len(labels)
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            rows = slice(start, min(start + batch_size, n))
            truth = labels[rows]
            x = inference_input(normalize_uint8(images[rows]), dtype)
            features, logits = _clean_features(fast, x)
            for intervention in planned:
                correct[intervention] += _hits(
                    fast, intervention, features, logits, truth, clean, rows, index
                )
            if progress is not None:
                progress(rows.stop, n)
    return [
        i.as_record(correct[i] / (n * (RANDOM_REPEATS if i.kind is Kind.ZERO_RANDOM else 1)))
        for i in planned
    ]


def _clean_features(fast: SECNN, x: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """(block -> the features entering its SE block, clean logits) for one batch."""
    features = {}
    for block in fast.blocks:
        entering = block.features(x)
        features[block.name] = entering
        x, _ = block.attend(entering)
    return features, fast.classifier(x)


def _hits(
    fast: SECNN,
    intervention: Intervention,
    features: dict[str, torch.Tensor],
    clean_logits: torch.Tensor,
    truth: torch.Tensor,
    clean: CleanWeights,
    rows: slice,
    index: dict[str, int],
) -> int:
    kind, k = intervention.kind, intervention.k
    if kind is Kind.CLEAN:
        return int((clean_logits.argmax(dim=1) == truth).sum())
    if intervention.blocks == ALL_BLOCKS:
        adjust = {name: adjustment(kind, name, k, clean, rows) for name in clean.weights}
        logits, _ = fast.forward_from(0, features[fast.blocks[0].name], adjust)
        return int((logits.argmax(dim=1) == truth).sum())
    name = intervention.blocks
    repeats = RANDOM_REPEATS if kind is Kind.ZERO_RANDOM else 1
    hits = 0
    for repeat in range(repeats):
        adjust = {name: adjustment(kind, name, k, clean, rows, repeat)}
        logits, _ = fast.forward_from(index[name], features[name], adjust)
        hits += int((logits.argmax(dim=1) == truth).sum())
    return hits
