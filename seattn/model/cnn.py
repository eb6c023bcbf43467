"""The reference CIFAR-10 CNN that the SE blocks are inserted into.

The network is the course's: three conv -> BN -> ReLU -> SE -> max-pool blocks of 32, 64 and 128
channels, then 2048 -> 512 -> ReLU -> Dropout(0.5) -> classes. ``reduction_ratio=None`` builds the
same network without SE, which is the baseline every ratio is compared with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch
from torch import nn

from seattn.data.cifar10 import IMAGE_SIZE
from seattn.model.ratios import BLOCK_CHANNELS, DEFAULT_REDUCTION_RATIO, se_hidden_width
from seattn.model.se import SEBlock, WeightAdjustment


class BlockRecord(NamedTuple):
    """One SE block seen during a recorded forward pass."""

    name: str  # "block1" .. "block3"
    before: torch.Tensor  # [B, C, H, W] feature maps entering SE (after conv, BN, ReLU)
    squeeze: torch.Tensor  # [B, C]
    weights: torch.Tensor  # [B, C]
    after: torch.Tensor  # [B, C, H, W] feature maps leaving SE (before max-pool)


class ConvBlock(nn.Module):
    def __init__(
        self, name: str, in_channels: int, out_channels: int, reduction_ratio: int | None
    ) -> None:
        super().__init__()
        self.name = name
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.se = SEBlock(out_channels, reduction_ratio) if reduction_ratio is not None else None
        self.pool = nn.MaxPool2d(2)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """What enters the SE block: conv -> BN -> ReLU."""
        return self.relu(self.bn(self.conv(x)))

    def attend(
        self, features: torch.Tensor, adjust: WeightAdjustment | None = None
    ) -> tuple[torch.Tensor, BlockRecord | None]:
        """SE (weights replaced by ``adjust`` when given) and max-pool, from ``features`` on."""
        if self.se is None:
            return self.pool(features), None
        excitation = self.se.excite(features, adjust)
        record = BlockRecord(
            self.name, features, excitation.squeeze, excitation.weights, excitation.output
        )
        return self.pool(excitation.output), record

    def forward_recorded(
        self, x: torch.Tensor, adjust: WeightAdjustment | None = None
    ) -> tuple[torch.Tensor, BlockRecord | None]:
        """The block's output, and what its SE block saw and did (None without SE).

        The one forward of the block: ``forward`` drops the record, so a recorded pass computes
        exactly what training computes.
        """
        return self.attend(self.features(x), adjust)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_recorded(x)[0]


class SECNN(nn.Module):
    """The reference CNN; ``reduction_ratio=None`` leaves the SE blocks out."""

    def __init__(
        self,
        reduction_ratio: int | None = DEFAULT_REDUCTION_RATIO,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        if reduction_ratio is not None:
            se_hidden_width(BLOCK_CHANNELS[0], reduction_ratio)  # validate early, with its message
        self.reduction_ratio = reduction_ratio
        self.num_classes = num_classes
        widths = (3, *BLOCK_CHANNELS)
        self.blocks = nn.ModuleList(
            ConvBlock(f"block{i + 1}", widths[i], widths[i + 1], reduction_ratio)
            for i in range(len(BLOCK_CHANNELS))
        )
        final_side = IMAGE_SIZE // 2 ** len(BLOCK_CHANNELS)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(BLOCK_CHANNELS[-1] * final_side * final_side, 512),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(512, num_classes),
        )

    @property
    def has_se(self) -> bool:
        return self.reduction_ratio is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.classifier(x)

    def forward_recorded(
        self, x: torch.Tensor, adjust: Mapping[str, WeightAdjustment] | None = None
    ) -> tuple[torch.Tensor, list[BlockRecord]]:
        """Forward pass that also returns what every SE block saw and did.

        ``adjust`` maps block names to replacements of their weights: an intervention acts on the
        real forward pass, so later blocks compute their own weights from what they receive. The
        blocks hand out their own tensors, so nothing is hooked and nothing is recomputed; the
        module keeps no state, so one cached model can serve many threads at once.
        """
        return self.forward_from(0, self.blocks[0].features(x), adjust)

    def forward_from(
        self,
        start: int,
        features: torch.Tensor,
        adjust: Mapping[str, WeightAdjustment] | None = None,
    ) -> tuple[torch.Tensor, list[BlockRecord]]:
        """``forward_recorded`` from block ``start``'s features (what enters its SE block) on.

        Many interventions on one block share everything before it: they start here from the
        features recorded once.
        """
        adjust = adjust or {}
        records: list[BlockRecord] = []
        x, record = self.blocks[start].attend(features, adjust.get(self.blocks[start].name))
        if record is not None:
            records.append(record)
        for block in self.blocks[start + 1 :]:
            x, record = block.forward_recorded(x, adjust.get(block.name))
            if record is not None:
                records.append(record)
        return self.classifier(x), records

    def se_blocks(self) -> list[tuple[str, SEBlock]]:
        return [(b.name, b.se) for b in self.blocks if b.se is not None]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_se_parameters(model: SECNN) -> int:
    return sum(count_parameters(se) for _, se in model.se_blocks())
