"""Parameter and FLOP counts of the reference network for a reduction ratio."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from seattn.data.cifar10 import IMAGE_SIZE
from seattn.model.cnn import SECNN, count_parameters, count_se_parameters
from seattn.model.ratios import se_hidden_widths


@dataclass(frozen=True)
class Architecture:
    parameters: int
    se_parameters: int
    se_hidden_widths: tuple[int, ...]
    flops: int  # per 1x3x32x32 image, as torch.utils.flop_counter counts them
    se_flops: int


@functools.lru_cache(maxsize=64)
def architecture(reduction_ratio: int | None, num_classes: int = 10) -> Architecture:
    """Parameter and FLOP counts of the reference network with this ratio.

    Built on the meta device: shapes only, so it is instant and draws no random numbers from
    anyone's generator. torch.utils.flop_counter counts convolutions and matrix multiplies
    (2 FLOPs per multiply-add); batch norm, ReLU, pooling, the sigmoid and SE's channel scaling
    are not counted. The scaling is C x H x W multiplies per block whatever the ratio, so the
    ratios' differences are exactly the counted SE matrix multiplies.
    """
    with torch.device("meta"):
        model = SECNN(reduction_ratio, num_classes=num_classes).eval()
        image = torch.empty(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    with FlopCounterMode(display=False) as counter:
        model(image)
    per_module = counter.get_flop_counts()
    # The counted part of an SE block is its excitation MLP; the block's pooling and scaling are
    # not matrix multiplies. Keyed by the MLP, which is called as a module however the block is.
    se_flops = sum(
        sum(per_module.get(f"SECNN.blocks.{i}.se.excitation", {}).values())
        for i in range(len(model.blocks))
    )
    return Architecture(
        parameters=count_parameters(model),
        se_parameters=count_se_parameters(model),
        se_hidden_widths=tuple(se_hidden_widths(reduction_ratio)),
        flops=int(counter.get_total_flops()),
        se_flops=int(se_flops),
    )
