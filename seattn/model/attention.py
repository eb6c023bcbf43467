"""Which attention module a network uses, and how a model's config says it.

Plain Python (no torch), like seattn.model.ratios: the command line checks ``--attention`` and
the run folders are read without loading the deep-learning stack.

    se     Squeeze-and-Excitation (seattn.model.se), the course's; --ratio r
    eca    Efficient Channel Attention (seattn.model.eca); no ratio
    cbam   CBAM's channel then spatial attention (seattn.model.cbam); --ratio r for its MLP
    none   the same CNN without any attention module

Configs written before ECA and CBAM existed say only ``reduction_ratio``: a ratio means SE, none
means no attention. So every older run folder, checkpoint and bundled model reads as it did.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from seattn.model.ratios import DEFAULT_REDUCTION_RATIO, parse_ratio, ratio_label, ratio_text


class AttentionKind(StrEnum):
    SE = "se"
    ECA = "eca"
    CBAM = "cbam"
    NONE = "none"

    @property
    def uses_ratio(self) -> bool:
        return self in (AttentionKind.SE, AttentionKind.CBAM)

    @property
    def label(self) -> str:
        """The module's name as papers write it: "SE", "ECA", "CBAM", "no attention"."""
        return "no attention" if self is AttentionKind.NONE else self.value.upper()


# The order variants are listed in: the baseline, SE (the course's) by growing ratio, ECA, CBAM.
KIND_ORDER = (AttentionKind.NONE, AttentionKind.SE, AttentionKind.ECA, AttentionKind.CBAM)


def variant_order(kind: AttentionKind, reduction_ratio: int | None) -> tuple[int, int]:
    return KIND_ORDER.index(kind), reduction_ratio or 0


def parse_attention(text: str | AttentionKind) -> AttentionKind:
    try:
        return AttentionKind(str(text).strip().lower())
    except ValueError:
        choices = ", ".join(kind.value for kind in AttentionKind)
        raise ValueError(f"attention must be one of {choices}, got {text!r}") from None


def resolve(
    attention: str | AttentionKind | None, reduction_ratio: int | None
) -> tuple[AttentionKind, int | None]:
    """(kind, ratio) as a network is built: ``attention=None`` reads the ratio the old way (a
    ratio: SE, none: no attention); SE and CBAM need a ratio; ECA and no attention keep none,
    since they have nothing to reduce."""
    if attention is None:
        kind = AttentionKind.NONE if reduction_ratio is None else AttentionKind.SE
    else:
        kind = parse_attention(attention)
    if not kind.uses_ratio:
        return kind, None
    if reduction_ratio is None:
        raise ValueError(
            f"{kind.label} needs a reduction ratio (the default is {DEFAULT_REDUCTION_RATIO}); "
            "'none' is the network without attention"
        )
    return kind, reduction_ratio


def config_attention(config: dict[str, Any]) -> tuple[AttentionKind, int | None]:
    """(kind, ratio) of a model's config, old (ratio only) or new (with ``attention``)."""
    ratio = parse_ratio(config.get("reduction_ratio"))
    return resolve(config.get("attention"), ratio)


def variant_label(kind: AttentionKind, reduction_ratio: int | None) -> str:
    """The variant's notation, an English identity like ratio_label's: "no SE" and "r=16" for
    SE models as before, "ECA", "CBAM r=16"."""
    if kind in (AttentionKind.SE, AttentionKind.NONE):
        return ratio_label(reduction_ratio if kind is AttentionKind.SE else None)
    if kind.uses_ratio:
        return f"{kind.label} {ratio_label(reduction_ratio)}"
    return kind.label


def variant_text(kind: AttentionKind, reduction_ratio: int | None) -> str:
    """The variant as a person reads it, in the active language ("no SE" translated)."""
    if kind is AttentionKind.NONE:
        return ratio_text(None)
    return variant_label(kind, reduction_ratio)
