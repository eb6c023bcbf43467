"""What every attention module of the CNN hands out, and the squeeze and scale SE and ECA share.

Each module (seattn.model.se, .eca, .cbam) has one ``excite(x, adjust=None) -> Excitation``: the
channel descriptor it read, the channel weights it scaled by, the output and, for CBAM, the
spatial map. Explore, the live monitor, Compare and the atlas read every kind through it, and
an intervention replaces the channel weights through ``adjust`` inside the one forward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

# Replaces a batch's channel weights [B, C] by the ones to scale with: an intervention ("what
# if this block gave every picture the same weights?") passed into the one forward, not a hook.
WeightAdjustment = Callable[[torch.Tensor], torch.Tensor]


class Excitation(NamedTuple):
    """What one attention module computed for a batch; every tensor is its own, never a view of
    another's storage that a later in-place op could overwrite."""

    squeeze: torch.Tensor  # [B, C] the channel descriptor: each channel's mean over H x W
    weights: torch.Tensor  # [B, C] the weights the input was scaled by, one per channel
    output: torch.Tensor  # [B, C, H, W] the input after attention
    spatial: torch.Tensor | None = None  # [B, H, W] CBAM's spatial weights (None: channels only)


class ChannelAttention(nn.Module):
    """Squeeze (each channel's mean) -> ``channel_weights`` -> scale: SE and ECA differ only in
    how they turn the channel means into weights."""

    channels: int

    def channel_weights(self, squeezed: torch.Tensor) -> torch.Tensor:
        """[B, C] channel means -> [B, C] weights in (0, 1)."""
        raise NotImplementedError

    def excite(self, x: torch.Tensor, adjust: WeightAdjustment | None = None) -> Excitation:
        """Squeeze, weigh and scale ``x``; ``adjust`` (if given) replaces the weights it scales by.

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
            weights = self._weights(squeezed, adjust)
            # Out-of-place multiply: the input and the weights stay intact whatever follows.
            scaled = pixels * weights[:, None, :]
            output = scaled.view(batch, height, width, channels).permute(0, 3, 1, 2)
        else:
            squeezed = x.mean(dim=(-2, -1))
            weights = self._weights(squeezed, adjust)
            output = x * weights[:, :, None, None]
        return Excitation(squeezed, weights, output)

    def _weights(self, squeezed: torch.Tensor, adjust: WeightAdjustment | None) -> torch.Tensor:
        weights = self.channel_weights(squeezed)
        return weights if adjust is None else adjust(weights).to(weights.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.excite(x).output
