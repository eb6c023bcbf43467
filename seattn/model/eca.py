"""Efficient Channel Attention: the channel means, a 1-D convolution across channels, a sigmoid.

Wang et al., "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks" (CVPR
2020): global average pooling, then one convolution of kernel size k over the channel axis, so
each channel's weight depends on its k neighbours' means (no dimensionality reduction, no
bias), then a sigmoid; k follows the channel count: k = |log2(C) / gamma + b / gamma|, rounded
down and made odd, gamma = 2, b = 1 (3, 3, 5 for 32, 64, 128 channels).

timm's ``EcaModule`` computes k the same way but never below 3 (here fewer than 8 channels get
k = 1, the paper's value), and offers a small MLP in place of the convolution; here it is
always the paper's convolution.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from seattn.model.excitation import ChannelAttention

GAMMA = 2
B = 1


def eca_kernel_size(channels: int, gamma: int = GAMMA, b: int = B) -> int:
    """The paper's adaptive kernel size: |log2(C) / gamma + b / gamma|, made odd."""
    size = int(abs(math.log2(channels) / gamma + b / gamma))
    return size if size % 2 else size + 1


class ECABlock(ChannelAttention):
    """Squeeze (global average pool) -> Conv1d across channels (no bias) + sigmoid -> scale."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.kernel_size = eca_kernel_size(channels)
        self.conv = nn.Conv1d(1, 1, self.kernel_size, padding=self.kernel_size // 2, bias=False)

    def channel_weights(self, squeezed: torch.Tensor) -> torch.Tensor:
        # The channels as a length-C sequence of one feature: [B, C] -> [B, 1, C].
        return torch.sigmoid(self.conv(squeezed[:, None, :]))[:, 0, :]

    def extra_repr(self) -> str:
        return f"channels={self.channels}, kernel_size={self.kernel_size}"
