"""The Squeeze-and-Excitation block: squeeze (channel means) -> excitation (weights) -> scale.

Hu, Shen and Sun, "Squeeze-and-Excitation Networks" (CVPR 2018), as the course writes it:
global average pooling, Linear(C, C/r, no bias) -> ReLU -> Linear(C/r, C, no bias) -> sigmoid,
and every channel multiplied by its weight. timm's ``SEModule`` is the same with 1x1
convolutions, biases, and its hidden width rounded to a divisor of 8; here the width is
``C // r`` floored at 1 (seattn.model.ratios).
"""

from __future__ import annotations

import torch
from torch import nn

from seattn.model.excitation import ChannelAttention, Excitation, WeightAdjustment
from seattn.model.ratios import DEFAULT_REDUCTION_RATIO, se_hidden_width

__all__ = ["Excitation", "SEBlock", "WeightAdjustment"]


class SEBlock(ChannelAttention):
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

    def channel_weights(self, squeezed: torch.Tensor) -> torch.Tensor:
        return self.excitation(squeezed)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction_ratio={self.reduction_ratio}"
