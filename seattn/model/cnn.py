"""The reference CIFAR-10 CNN that the attention modules are inserted into.

The network is the course's: three conv -> BN -> ReLU -> attention -> max-pool blocks of 32, 64
and 128 channels, then 2048 -> 512 -> ReLU -> Dropout(0.5) -> classes. The attention is SE (the
course's), ECA or CBAM, in the same place (seattn.model.attention); ``reduction_ratio=None``
without an ``attention`` builds the same network without any, the baseline every variant is
compared with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch
from torch import nn

from seattn.data.cifar10 import IMAGE_SIZE
from seattn.model.attention import AttentionKind, resolve
from seattn.model.cbam import CBAMBlock
from seattn.model.eca import ECABlock
from seattn.model.excitation import WeightAdjustment
from seattn.model.ratios import BLOCK_CHANNELS, DEFAULT_REDUCTION_RATIO, se_hidden_width
from seattn.model.se import SEBlock

AttentionModule = SEBlock | ECABlock | CBAMBlock


class BlockRecord(NamedTuple):
    """One attention module seen during a recorded forward pass."""

    name: str  # "block1" .. "block3"
    before: torch.Tensor  # [B, C, H, W] feature maps entering attention (after conv, BN, ReLU)
    squeeze: torch.Tensor  # [B, C] the channel means
    weights: torch.Tensor  # [B, C] the channel weights
    after: torch.Tensor  # [B, C, H, W] feature maps leaving attention (before max-pool)
    spatial: torch.Tensor | None = None  # [B, H, W] CBAM's spatial weights


def build_attention(
    kind: AttentionKind, channels: int, reduction_ratio: int | None
) -> AttentionModule | None:
    if kind is AttentionKind.SE:
        return SEBlock(channels, reduction_ratio)
    if kind is AttentionKind.ECA:
        return ECABlock(channels)
    if kind is AttentionKind.CBAM:
        return CBAMBlock(channels, reduction_ratio)
    return None


def _read_legacy_keys(module, state_dict, prefix, *_args) -> None:
    """Checkpoints saved before ECA and CBAM called the module ``se``: read them as they are."""
    legacy = f"{prefix}se."
    for key in [key for key in state_dict if key.startswith(legacy)]:
        state_dict[f"{prefix}attention.{key[len(legacy) :]}"] = state_dict.pop(key)


class ConvBlock(nn.Module):
    def __init__(
        self,
        name: str,
        in_channels: int,
        out_channels: int,
        reduction_ratio: int | None,
        attention: AttentionKind | str | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        kind, ratio = resolve(attention, reduction_ratio)
        self.attention = build_attention(kind, out_channels, ratio)
        self.pool = nn.MaxPool2d(2)
        self.register_load_state_dict_pre_hook(_read_legacy_keys)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """What enters the attention module: conv -> BN -> ReLU."""
        return self.relu(self.bn(self.conv(x)))

    def attend(
        self, features: torch.Tensor, adjust: WeightAdjustment | None = None
    ) -> tuple[torch.Tensor, BlockRecord | None]:
        """Attention (channel weights replaced by ``adjust`` when given) and max-pool, from
        ``features`` on."""
        if self.attention is None:
            return self.pool(features), None
        excitation = self.attention.excite(features, adjust)
        record = BlockRecord(self.name, features, *excitation[:3], excitation.spatial)
        return self.pool(excitation.output), record

    def forward_recorded(
        self, x: torch.Tensor, adjust: WeightAdjustment | None = None
    ) -> tuple[torch.Tensor, BlockRecord | None]:
        """The block's output, and what its attention saw and did (None without attention).

        The one forward of the block: ``forward`` drops the record, so a recorded pass computes
        exactly what training computes.
        """
        return self.attend(self.features(x), adjust)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_recorded(x)[0]


class SECNN(nn.Module):
    """The reference CNN with an attention module in every block.

    ``attention`` is "se", "eca", "cbam" or "none"; left out, ``reduction_ratio`` decides as it
    always did: a ratio builds SE blocks, ``None`` none. ECA and no attention use no ratio
    (``reduction_ratio`` is then None whatever was given).
    """

    def __init__(
        self,
        reduction_ratio: int | None = DEFAULT_REDUCTION_RATIO,
        num_classes: int = 10,
        attention: AttentionKind | str | None = None,
    ) -> None:
        super().__init__()
        self.attention_kind, reduction_ratio = resolve(attention, reduction_ratio)
        if reduction_ratio is not None:
            se_hidden_width(BLOCK_CHANNELS[0], reduction_ratio)  # validate early, with its message
        self.reduction_ratio = reduction_ratio
        self.num_classes = num_classes
        widths = (3, *BLOCK_CHANNELS)
        self.blocks = nn.ModuleList(
            ConvBlock(
                f"block{i + 1}", widths[i], widths[i + 1], reduction_ratio, self.attention_kind
            )
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
    def has_attention(self) -> bool:
        return self.attention_kind is not AttentionKind.NONE

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.classifier(x)

    def forward_recorded(
        self, x: torch.Tensor, adjust: Mapping[str, WeightAdjustment] | None = None
    ) -> tuple[torch.Tensor, list[BlockRecord]]:
        """Forward pass that also returns what every attention module saw and did.

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
        """``forward_recorded`` from block ``start``'s features (what enters its attention) on.

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

    def attention_blocks(self) -> list[tuple[str, AttentionModule]]:
        """(block name, attention module) of every block that has one."""
        return [(b.name, b.attention) for b in self.blocks if b.attention is not None]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_attention_parameters(model: SECNN) -> int:
    return sum(count_parameters(module) for _, module in model.attention_blocks())
