"""The presentation mode's guided walk through one picture: its steps, and each step's numbers.

The walk: the picture and what the network sees -> its prediction -> block 1: squeeze (the
channel means) -> excitation (the weights) -> scale (the maps before and after) -> each later
block in one step -> what SE changed. Numbers only; the page words and draws them
(pages/ui/presentation.py), so the same walk reads in any language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from PIL import Image

from seattn.analysis.whatif import WhatIf, run_what_if_on_image
from seattn.model.cnn import SECNN, BlockRecord


class StepKind(StrEnum):
    PICTURE = "picture"
    PREDICTION = "prediction"
    SQUEEZE = "squeeze"
    EXCITATION = "excitation"
    SCALE = "scale"
    BLOCK = "block"  # a later block: squeeze, excitation and scale at once
    CHANGED = "changed"  # what SE changed: the prediction with SE switched off


@dataclass(frozen=True)
class Step:
    kind: StepKind
    block: int | None = None  # the SE block's index (0-based) for block steps


def walk_steps(block_count: int) -> list[Step]:
    """The steps of the walk for a network with ``block_count`` SE blocks (none: two steps)."""
    steps = [Step(StepKind.PICTURE), Step(StepKind.PREDICTION)]
    if block_count == 0:
        return steps
    steps += [Step(kind, 0) for kind in (StepKind.SQUEEZE, StepKind.EXCITATION, StepKind.SCALE)]
    steps += [Step(StepKind.BLOCK, block) for block in range(1, block_count)]
    return [*steps, Step(StepKind.CHANGED)]


@dataclass(frozen=True)
class BlockNumbers:
    """One SE block for one picture, as the walk tells it."""

    name: str
    channels: int
    map_size: tuple[int, int]  # (height, width) of its feature maps
    squeeze: np.ndarray  # [C] each channel's mean response (the squeeze)
    weights: np.ndarray  # [C] the excitation weights
    activity_kept: float  # sum of the maps after SE / before: how much of the response passes

    @property
    def strongest_response(self) -> int:
        return int(np.argmax(self.squeeze))

    @property
    def weakest_response(self) -> int:
        return int(np.argmin(self.squeeze))

    @property
    def most_kept(self) -> int:
        return int(np.argmax(self.weights))

    @property
    def most_damped(self) -> int:
        return int(np.argmin(self.weights))

    def kept_order(self) -> np.ndarray:
        """Channels from the most kept to the most damped (ties: the lower channel first)."""
        return np.argsort(-self.weights, kind="stable")


def block_numbers(record: BlockRecord, image: int = 0) -> BlockNumbers:
    before = record.before[image].float()
    after = record.after[image].float()
    total_before = float(before.sum())
    return BlockNumbers(
        name=record.name,
        channels=int(before.shape[0]),
        map_size=(int(before.shape[1]), int(before.shape[2])),
        squeeze=record.squeeze[image].float().numpy(),
        weights=record.weights[image].float().numpy(),
        # A block whose maps are all zero passes all of nothing: say it kept everything.
        activity_kept=float(after.sum()) / total_before if total_before > 0 else 1.0,
    )


@dataclass(frozen=True)
class SEEffect:
    """The same picture as trained and with every SE block switched off (every weight 1)."""

    with_se: list[tuple[str, float]]  # top classes with probabilities, most likely first
    without_se: list[tuple[str, float]]

    @property
    def changes_its_mind(self) -> bool:
        return self.with_se[0][0] != self.without_se[0][0]


def se_effect(model: SECNN, view: Image.Image, classes: list[str], k: int = 5) -> SEEffect:
    """Run ``view`` (32x32 RGB) as trained and with SE off in every block, in the real forward
    pass (seattn.analysis.whatif: no hooks, the shared model untouched)."""
    what_if = WhatIf(se_off=frozenset(name for name, _ in model.attention_blocks()))
    result = run_what_if_on_image(model, view, what_if)
    return SEEffect(result.original.top_k(classes, k)[0], result.changed.top_k(classes, k)[0])
