"""The Convolutional Block Attention Module: channel attention, then spatial attention.

Woo et al., "CBAM: Convolutional Block Attention Module" (ECCV 2018):
1. channel attention: the average- and the max-pooled channel descriptors each go through one
   shared MLP, C -> C/r -> ReLU -> C; the two results are summed, a sigmoid gives the channel
   weights, and the input is scaled by them;
2. spatial attention, on that channel-refined input: its mean and its max over the channels,
   stacked into two maps, a 7x7 convolution to one map, a sigmoid: one weight per position,
   and the refined input is scaled by it.

Differences from timm's ``CbamModule``: the MLP is two Linear layers (timm: 1x1 convolutions,
the same maths) with the hidden width ``C // r`` floored at 1 like SE's (timm rounds C/r); the
spatial convolution has a bias and no batch norm (timm, like the paper's own code, follows it
with a BatchNorm; the bias stands in for its shift, and keeps the module a function of its input
alone, in training and in evaluation alike).
"""

from __future__ import annotations

import torch
from torch import nn

from seattn.model.excitation import Excitation, WeightAdjustment
from seattn.model.ratios import DEFAULT_REDUCTION_RATIO, se_hidden_width

SPATIAL_KERNEL_SIZE = 7


class CBAMBlock(nn.Module):
    """Channel attention (shared MLP on average and max pools) -> spatial attention (7x7)."""

    def __init__(self, channels: int, reduction_ratio: int = DEFAULT_REDUCTION_RATIO) -> None:
        super().__init__()
        self.channels = channels
        self.reduction_ratio = reduction_ratio
        self.hidden_width = se_hidden_width(channels, reduction_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(channels, self.hidden_width, bias=False),
            nn.ReLU(),
            nn.Linear(self.hidden_width, channels, bias=False),
        )
        self.spatial = nn.Conv2d(
            2, 1, SPATIAL_KERNEL_SIZE, padding=SPATIAL_KERNEL_SIZE // 2, bias=True
        )

    def excite(self, x: torch.Tensor, adjust: WeightAdjustment | None = None) -> Excitation:
        """Both attentions on ``x``; ``adjust`` (if given) replaces the channel weights, and the
        spatial attention then sees the input scaled by the replaced weights.

        ``squeeze`` is the average-pooled descriptor (the max-pooled one enters the MLP too).
        """
        average = x.mean(dim=(-2, -1))
        # max-pooling and max(dim).values rather than amax: the same values, but amax's backward
        # builds a tie mask of the whole input; a CBAM training step took 13% longer with it on
        # CPU (float32, channels-last: python -m bench.cbam_step)
        peak = nn.functional.adaptive_max_pool2d(x, 1).flatten(1)
        weights = torch.sigmoid(self.mlp(average) + self.mlp(peak))
        if adjust is not None:
            weights = adjust(weights).to(weights.dtype)
        refined = x * weights[:, :, None, None]
        descriptors = torch.stack((refined.mean(dim=1), refined.max(dim=1).values), dim=1)
        spatial = torch.sigmoid(self.spatial(descriptors))[:, 0]
        return Excitation(average, weights, refined * spatial[:, None], spatial)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.excite(x).output

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction_ratio={self.reduction_ratio}"
