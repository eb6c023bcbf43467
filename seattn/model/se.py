"""The Squeeze-and-Excitation block: squeeze (channel means) -> excitation (weights) -> scale."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

from seattn.model.ratios import DEFAULT_REDUCTION_RATIO, se_hidden_width

# Replaces a batch's excitation weights [B, C] by the ones to scale with: an intervention ("what
# if this block gave every picture the same weights?") passed into the one forward, not a hook.
WeightAdjustment = Callable[[torch.Tensor], torch.Tensor]


class Excitation(NamedTuple):
    """What one SE block computed for a batch; every tensor is its own, never a view of another."""

    squeeze: torch.Tensor  # [B, C] channel means of the block's input
    weights: torch.Tensor  # [B, C] the weights the input was scaled by, one per channel
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

    def excite(self, x: torch.Tensor, adjust: WeightAdjustment | None = None) -> Excitation:
        """Squeeze, excite and scale ``x``; ``adjust`` (if given) replaces the weights it scales by.

        The returned weights are those used, so an adjusted pass reports what it really did.
        """
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
            weights = self._excite(squeezed, adjust)
            # Out-of-place multiply: the input and the weights stay intact whatever follows.
            scaled = pixels * weights[:, None, :]
            output = scaled.view(batch, height, width, channels).permute(0, 3, 1, 2)
        else:
            squeezed = x.mean(dim=(-2, -1))
            weights = self._excite(squeezed, adjust)
            output = x * weights[:, :, None, None]
        return Excitation(squeezed, weights, output)

    def _excite(self, squeezed: torch.Tensor, adjust: WeightAdjustment | None) -> torch.Tensor:
        weights = self.excitation(squeezed)
        return weights if adjust is None else adjust(weights).to(weights.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.excite(x).output

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction_ratio={self.reduction_ratio}"
