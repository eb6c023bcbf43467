"""Parameter and FLOP counts of the reference network for an attention module and ratio."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from seattn.data.cifar10 import IMAGE_SIZE
from seattn.model.attention import AttentionKind, resolve
from seattn.model.cnn import SECNN, count_attention_parameters, count_parameters
from seattn.model.ratios import se_hidden_widths


@dataclass(frozen=True)
class Architecture:
    parameters: int
    attention_parameters: int
    hidden_widths: tuple[int, ...]  # the channel MLP's hidden width per block (SE, CBAM)
    flops: int  # per 1x3x32x32 image, as torch.utils.flop_counter counts them
    attention_flops: int


def _count_flops(model: SECNN) -> int:
    with torch.device("meta"):
        image = torch.empty(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    with FlopCounterMode(display=False) as counter:
        model(image)
    return int(counter.get_total_flops())


@functools.lru_cache(maxsize=64)
def architecture(
    reduction_ratio: int | None,
    num_classes: int = 10,
    attention: AttentionKind | str | None = None,
) -> Architecture:
    """Parameter and FLOP counts of the reference network with this attention and ratio
    (``attention=None``: SE for a ratio, none without, as SECNN reads it).

    Built on the meta device: shapes only, so it is instant and draws no random numbers from
    anyone's generator. torch.utils.flop_counter counts convolutions and matrix multiplies
    (2 FLOPs per multiply-add); batch norm, ReLU, pooling, the sigmoid and the scaling are not
    counted. The attention's FLOPs are the network's minus those of the same network without
    it: SE's and CBAM's channel MLPs, ECA's 1-D convolution, CBAM's 7x7 spatial convolution.
    """
    kind, ratio = resolve(attention, reduction_ratio)
    with torch.device("meta"):
        model = SECNN(ratio, num_classes=num_classes, attention=kind).eval()
        plain = SECNN(None, num_classes=num_classes, attention=AttentionKind.NONE).eval()
    flops = _count_flops(model)
    return Architecture(
        parameters=count_parameters(model),
        attention_parameters=count_attention_parameters(model),
        hidden_widths=tuple(se_hidden_widths(ratio if kind.uses_ratio else None)),
        flops=flops,
        attention_flops=flops - _count_flops(plain),
    )
