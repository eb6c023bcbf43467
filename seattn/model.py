"""The Squeeze-and-Excitation block and the reference CIFAR-10 CNN it is inserted into.

The network is the course's: three conv -> BN -> ReLU -> SE -> max-pool blocks of 32, 64 and 128
channels, then 2048 -> 512 -> ReLU -> Dropout(0.5) -> classes. ``reduction_ratio=None`` builds the
same network without SE, which is the baseline every ratio is compared with.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from seattn.ratios import (  # noqa: F401  (re-exported: the model's vocabulary)
    BLOCK_CHANNELS,
    DEFAULT_REDUCTION_RATIO,
    parse_ratio,
    ratio_label,
    se_hidden_width,
    se_hidden_widths,
)

IMAGE_SIZE = 32


class Excitation(NamedTuple):
    """What one SE block computed for a batch; every tensor is its own, never a view of another."""

    squeeze: torch.Tensor  # [B, C] channel means of the block's input
    weights: torch.Tensor  # [B, C] excitation weights in (0, 1), one per channel
    output: torch.Tensor  # [B, C, H, W] input scaled channel by channel


class SEBlock(nn.Module):
    """Squeeze (global average pool) -> excitation (bottleneck MLP + sigmoid) -> scale."""

    def __init__(self, channels: int, reduction_ratio: int = DEFAULT_REDUCTION_RATIO) -> None:
        super().__init__()
        self.channels = channels
        self.reduction_ratio = reduction_ratio
        self.hidden_width = se_hidden_width(channels, reduction_ratio)
        self.excitation = nn.Sequential(
            nn.Linear(channels, self.hidden_width, bias=False),
            nn.ReLU(),
            nn.Linear(self.hidden_width, channels, bias=False),
            nn.Sigmoid(),
        )

    def excite(self, x: torch.Tensor) -> Excitation:
        if (
            x.dim() == 4
            and x.is_contiguous(memory_format=torch.channels_last)
            and not x.is_contiguous()
        ):
            # A channels-last [B, C, H, W] is a plain [B, H*W, C] in memory. Pooling and scaling
            # that view runs two to three times faster, forward plus backward, than the same maths
            # on the 4-D tensor, whose reductions over H and W stride across memory
            # (bench/se_block_speed.py).
            batch, channels, height, width = x.shape
            pixels = x.permute(0, 2, 3, 1).reshape(batch, height * width, channels)  # a view
            # sum / n, not mean: for bfloat16, mean first copies the whole input to float32.
            squeezed = pixels.sum(dim=1) / (height * width)
            weights = self.excitation(squeezed)
            # Out-of-place multiply: the input and the weights stay intact whatever follows.
            scaled = pixels * weights[:, None, :]
            output = scaled.view(batch, height, width, channels).permute(0, 3, 1, 2)
        else:
            squeezed = x.mean(dim=(-2, -1))
            weights = self.excitation(squeezed)
            output = x * weights[:, :, None, None]
        return Excitation(squeezed, weights, output)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.excite(x).output

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction_ratio={self.reduction_ratio}"


class ConvBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, reduction_ratio: int | None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.se = SEBlock(out_channels, reduction_ratio) if reduction_ratio is not None else None
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn(self.conv(x)))
        if self.se is not None:
            x = self.se(x)
        return self.pool(x)


class BlockRecord(NamedTuple):
    """One SE block seen during a recorded forward pass."""

    name: str  # "block1" .. "block3"
    before: torch.Tensor  # [B, C, H, W] feature maps entering SE (after conv, BN, ReLU)
    squeeze: torch.Tensor  # [B, C]
    weights: torch.Tensor  # [B, C]
    after: torch.Tensor  # [B, C, H, W] feature maps leaving SE (before max-pool)


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
            ConvBlock(widths[i], widths[i + 1], reduction_ratio) for i in range(len(BLOCK_CHANNELS))
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

    def forward_recorded(self, x: torch.Tensor) -> tuple[torch.Tensor, list[BlockRecord]]:
        """Forward pass that also returns what every SE block saw and did.

        The blocks hand out their own tensors, so nothing is hooked and nothing is recomputed; the
        module keeps no state, so one cached model can serve many threads at once.
        """
        records: list[BlockRecord] = []
        for index, block in enumerate(self.blocks, start=1):
            before = block.relu(block.bn(block.conv(x)))
            if block.se is None:
                x = block.pool(before)
                continue
            excitation = block.se.excite(before)
            records.append(
                BlockRecord(
                    f"block{index}",
                    before,
                    excitation.squeeze,
                    excitation.weights,
                    excitation.output,
                )
            )
            x = block.pool(excitation.output)
        return self.classifier(x), records

    def se_blocks(self) -> list[tuple[str, SEBlock]]:
        return [(f"block{i}", b.se) for i, b in enumerate(self.blocks, start=1) if b.se is not None]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_se_parameters(model: SECNN) -> int:
    return sum(count_parameters(se) for _, se in model.se_blocks())
