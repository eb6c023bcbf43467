"""What if one picture went through the network with some SE weights changed?

Explore's what-if panel. Per SE block the weights are as trained, switched off (every weight 1:
the block passes its features on unscaled) or frozen to the block's dataset-mean weight vector
(from an atlas: the same weights whatever the picture); on top of that, chosen channels are muted
(weight 0) or boosted (weight 1, the most a sigmoid gives). The change acts inside the real
forward pass (``SECNN.forward_recorded(x, adjust=...)``), so the blocks after a changed one
compute their own weights from what they now receive. Nothing is hooked and the model is never
changed, so the shared cached model is safe to use.

Also the dataset context Explore reads one picture's weights against: each channel's mean weight
and its spread over an atlas's evaluation set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch
from PIL import Image

from seattn.data.images import to_model_input
from seattn.model.cnn import SECNN
from seattn.model.excitation import WeightAdjustment
from seattn.model.probe import ProbeResult, probe

if TYPE_CHECKING:
    from seattn.analysis.atlas.build import Atlas

# A channel whose weight moved by more than this counts as moved in ``BlockChange.moved``.
MOVED_BY = 0.05
MOST_MOVED = 8  # channels named in ``BlockChange.most_moved``

MeanVectors = Mapping[str, torch.Tensor | np.ndarray]  # block name -> [C] dataset-mean weights


class BlockMode(StrEnum):
    """What a block's SE weights are, before any channel is muted or boosted."""

    TRAINED = "trained"  # what the block computes for this picture
    OFF = "off"  # every weight 1
    FROZEN = "frozen"  # the block's dataset-mean weight vector


def _channel_sets(channels: Mapping[str, Iterable[int]]) -> dict[str, frozenset[int]]:
    sets = {block: frozenset(int(c) for c in chosen) for block, chosen in channels.items()}
    return {block: chosen for block, chosen in sets.items() if chosen}


@dataclass(frozen=True)
class WhatIf:
    """The changes to make, per block; the empty WhatIf changes nothing.

    Any iterables may be passed; they are kept as frozensets, and blocks with no channels chosen
    are dropped, so two WhatIfs that change the same things are equal.
    """

    se_off: frozenset[str] = frozenset()  # blocks whose weights are all 1
    frozen: frozenset[str] = frozenset()  # blocks whose weights are the dataset-mean vector
    muted: Mapping[str, frozenset[int]] = field(default_factory=dict)  # channels set to 0
    boosted: Mapping[str, frozenset[int]] = field(default_factory=dict)  # channels set to 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "se_off", frozenset(self.se_off))
        object.__setattr__(self, "frozen", frozenset(self.frozen))
        object.__setattr__(self, "muted", _channel_sets(self.muted))
        object.__setattr__(self, "boosted", _channel_sets(self.boosted))
        both = self.se_off & self.frozen
        if both:
            raise ValueError(f"blocks {sorted(both)} cannot be both switched off and frozen")
        for block in self.muted.keys() & self.boosted.keys():
            overlap = self.muted[block] & self.boosted[block]
            if overlap:
                raise ValueError(f"{block}: channels {sorted(overlap)} both muted and boosted")

    @classmethod
    def from_modes(
        cls,
        modes: Mapping[str, BlockMode | str],
        muted: Mapping[str, Iterable[int]] | None = None,
        boosted: Mapping[str, Iterable[int]] | None = None,
    ) -> WhatIf:
        """The WhatIf of a per-block mode (as a form gives it) and the channels chosen."""
        modes = {block: BlockMode(mode) for block, mode in modes.items()}
        return cls(
            se_off=frozenset(b for b, mode in modes.items() if mode is BlockMode.OFF),
            frozen=frozenset(b for b, mode in modes.items() if mode is BlockMode.FROZEN),
            muted=muted or {},
            boosted=boosted or {},
        )

    @property
    def blocks(self) -> frozenset[str]:
        """The blocks whose weights this WhatIf sets."""
        return self.se_off | self.frozen | self.muted.keys() | self.boosted.keys()

    @property
    def is_empty(self) -> bool:
        return not self.blocks

    def mode(self, block: str) -> BlockMode:
        if block in self.se_off:
            return BlockMode.OFF
        if block in self.frozen:
            return BlockMode.FROZEN
        return BlockMode.TRAINED

    def adjustments(
        self, model: SECNN, mean_vectors: MeanVectors | None = None
    ) -> dict[str, WeightAdjustment]:
        """Block name -> the weight replacement ``forward_recorded`` takes, checked against
        ``model``: ValueError for an unknown block, a channel out of range, or a frozen block
        without its mean vector."""
        widths = {name: module.channels for name, module in model.attention_blocks()}
        unknown = self.blocks - widths.keys()
        if unknown:
            raise ValueError(f"no SE blocks named {sorted(unknown)} (blocks: {sorted(widths)})")
        adjust = {}
        for block in sorted(self.blocks):
            channels = widths[block]
            for kind, chosen in (("muted", self.muted), ("boosted", self.boosted)):
                outside = [c for c in chosen.get(block, ()) if not 0 <= c < channels]
                if outside:
                    raise ValueError(f"{block} has {channels} channels; {kind} {outside}")
            base = None
            if block in self.frozen:
                if mean_vectors is None or block not in mean_vectors:
                    raise ValueError(f"{block} is frozen but no dataset-mean weights were given")
                base = torch.as_tensor(mean_vectors[block], dtype=torch.float32).reshape(-1)
                if base.shape[0] != channels:
                    raise ValueError(f"{block}: {base.shape[0]} mean weights, {channels} channels")
            adjust[block] = _replacement(
                off=block in self.se_off,
                base=base,
                muted=self.muted.get(block, frozenset()),
                boosted=self.boosted.get(block, frozenset()),
            )
        return adjust


def _replacement(
    *, off: bool, base: torch.Tensor | None, muted: frozenset[int], boosted: frozenset[int]
) -> WeightAdjustment:
    muted_index = torch.tensor(sorted(muted), dtype=torch.int64)
    boosted_index = torch.tensor(sorted(boosted), dtype=torch.int64)

    def adjust(weights: torch.Tensor) -> torch.Tensor:
        if off:
            changed = torch.ones_like(weights)
        elif base is not None:
            changed = base.to(weights.dtype).expand_as(weights).clone()
        else:
            changed = weights.clone()
        changed[:, muted_index] = 0
        changed[:, boosted_index] = 1
        return changed

    return adjust


class WhatIfResult(NamedTuple):
    """The same batch as trained and with the WhatIf's changes; unpacks as (original, changed)."""

    original: ProbeResult
    changed: ProbeResult

    def weights(self, block: int, image: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(original, changed) [C] float32 weights of SE block number ``block`` for ``image``."""
        return tuple(
            result.blocks[block].weights[image].float().numpy()
            for result in (self.original, self.changed)
        )


def run_what_if(
    model: SECNN,
    image_batch: torch.Tensor,
    what_if: WhatIf,
    mean_vectors: MeanVectors | None = None,
) -> WhatIfResult:
    """Run a normalised [B, 3, 32, 32] batch as trained and with ``what_if``'s changes.

    Both passes run under inference mode through ``forward_recorded``: no hooks, no gradients,
    the model's parameters, buffers and mode untouched. ``mean_vectors`` (block -> [C]) are
    needed for frozen blocks (``DatasetContext.mean_vectors``).
    """
    if model.training:
        raise ValueError("run_what_if() needs a model in eval mode; call model.eval() on a copy")
    adjust = what_if.adjustments(model, mean_vectors)  # checks before anything runs
    original = probe(model, image_batch)
    with torch.inference_mode():
        logits, blocks = model.forward_recorded(image_batch, adjust=adjust)
        changed = ProbeResult(logits.float().softmax(dim=1), blocks)
    return WhatIfResult(original, changed)


def run_what_if_on_image(
    model: SECNN,
    view: Image.Image,
    what_if: WhatIf,
    mean_vectors: MeanVectors | None = None,
) -> WhatIfResult:
    """``run_what_if`` for one picture as the network sees it (a 32x32 RGB view)."""
    return run_what_if(model, to_model_input([view]), what_if, mean_vectors)


@dataclass(frozen=True)
class BlockChange:
    """How far one block's weights moved for one picture."""

    name: str
    mode: BlockMode  # what the WhatIf made of this block's weights
    muted: int  # channels the WhatIf muted here
    boosted: int  # channels the WhatIf boosted here
    mean_abs: float  # mean over channels of |changed - original|
    max_abs: float  # the largest |changed - original|
    most_moved: tuple[int, ...]  # up to MOST_MOVED channels that moved most, most first
    moved: int  # channels that moved by more than MOVED_BY

    @property
    def largest(self) -> int:
        """The channel that moved most (the lowest index among ties)."""
        return self.most_moved[0]

    @property
    def set_here(self) -> bool:
        """Whether the WhatIf set this block's weights (rather than the block responding)."""
        return self.mode is not BlockMode.TRAINED or bool(self.muted or self.boosted)


def weight_changes(result: WhatIfResult, what_if: WhatIf, image: int = 0) -> list[BlockChange]:
    """Per SE block in network order, how far picture ``image``'s weights moved."""
    changes = []
    for before, after in zip(result.original.blocks, result.changed.blocks, strict=True):
        difference = (after.weights[image].float() - before.weights[image].float()).abs()
        # A stable sort, so ties go to the lowest channel and the choice never flickers.
        order = torch.sort(difference, descending=True, stable=True).indices
        changes.append(
            BlockChange(
                name=before.name,
                mode=what_if.mode(before.name),
                muted=len(what_if.muted.get(before.name, ())),
                boosted=len(what_if.boosted.get(before.name, ())),
                mean_abs=float(difference.mean()),
                max_abs=float(difference.max()),
                most_moved=tuple(order[:MOST_MOVED].tolist()),
                moved=int((difference > MOVED_BY).sum()),
            )
        )
    return changes


def first_changed(changes: list[BlockChange]) -> int | None:
    """The index of the first block the WhatIf sets; the blocks before it are unchanged."""
    return next((i for i, change in enumerate(changes) if change.set_here), None)


# -- the dataset context ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelDistribution:
    """One block's weights over a data set, per channel."""

    mean: np.ndarray  # [C] float32
    std: np.ndarray  # [C] float32, population standard deviation over the images


@dataclass(frozen=True)
class DatasetContext:
    """What an atlas tells Explore: each block's per-channel weight distribution, and where the
    images came from. Small (a few hundred numbers), so a page can keep it cached."""

    images: int
    data_name: str
    split: str
    blocks: dict[str, ChannelDistribution]

    @classmethod
    def from_atlas(cls, atlas: Atlas) -> DatasetContext:
        blocks = {}
        for block in atlas.blocks:
            weights = block.weights.double()
            blocks[block.name] = ChannelDistribution(
                mean=weights.mean(dim=0).float().numpy(),
                std=weights.std(dim=0, unbiased=False).float().numpy(),
            )
        return cls(
            images=atlas.images,
            data_name=str(atlas.data.get("name", "")),
            split=str(atlas.data.get("split", "")),
            blocks=blocks,
        )

    def mean_vectors(self) -> dict[str, np.ndarray]:
        """Block -> [C] dataset-mean weights, what ``run_what_if`` freezes a block to."""
        return {name: distribution.mean for name, distribution in self.blocks.items()}
