"""Reduction ratios: how SE widths follow from them, how they are written and read.

Plain Python on purpose (no torch): the CLI checks its arguments and answers --help without
loading the deep-learning stack.
"""

from __future__ import annotations

from seattn.i18n import _

BLOCK_CHANNELS = (32, 64, 128)
BLOCK_NAMES = tuple(f"block{i}" for i in range(1, len(BLOCK_CHANNELS) + 1))
DEFAULT_REDUCTION_RATIO = 16
# The ratios the dashboard offers and a sweep trains by default: no SE, then shrinking SE blocks.
STANDARD_RATIOS: tuple[int | None, ...] = (None, 2, 4, 8, 16, 32)


def se_hidden_width(channels: int, reduction_ratio: int) -> int:
    """Width of the SE bottleneck: ``channels // reduction_ratio``, but never below 1.

    A ratio larger than the channel count would give a zero-width layer that cuts the block off
    from its input, so the width is floored at 1 (one shared "gate" neuron) rather than refused:
    every ratio a user can type builds a working network. Ratios below 1 or non-integers are
    refused.
    """
    if isinstance(reduction_ratio, bool) or not isinstance(reduction_ratio, int):
        raise ValueError(f"reduction ratio must be a whole number >= 1, got {reduction_ratio!r}")
    if reduction_ratio < 1:
        raise ValueError(f"reduction ratio must be >= 1, got {reduction_ratio}")
    return max(1, channels // reduction_ratio)


def se_hidden_widths(reduction_ratio: int | None) -> list[int]:
    """Hidden width of each block's SE bottleneck (empty for the network without SE)."""
    if reduction_ratio is None:
        return []
    return [se_hidden_width(c, reduction_ratio) for c in BLOCK_CHANNELS]


def parse_ratio(text: str | int | None) -> int | None:
    """'none' / '' / None -> None (no SE); '16' -> 16; anything else -> ValueError."""
    if text is None or isinstance(text, int):
        if isinstance(text, int):
            se_hidden_width(BLOCK_CHANNELS[0], text)
        return text
    cleaned = str(text).strip().lower()
    if cleaned in ("", "none", "no", "off"):
        return None
    try:
        ratio = int(cleaned)
    except ValueError:
        raise ValueError(
            f"reduction ratio must be a whole number or 'none', got {text!r}"
        ) from None
    se_hidden_width(BLOCK_CHANNELS[0], ratio)
    return ratio


def ratio_label(reduction_ratio: int | None) -> str:
    """The variant's notation, as tables, legends and comparisons key it: "no SE", "r=16".

    An identity, always English (downloads, JSON, run folders, the command line): a sentence
    shown to a person says the variant with :func:`ratio_text`.
    """
    return "no SE" if reduction_ratio is None else f"r={reduction_ratio}"


def ratio_text(reduction_ratio: int | None) -> str:
    """The variant as a person reads it: "no SE" in the active language, "r=16" as it is."""
    return _("no SE") if reduction_ratio is None else ratio_label(reduction_ratio)


def ratio_slug(reduction_ratio: int | None) -> str:
    """The variant in a file or run name: "no-SE", "r16"."""
    return "no-SE" if reduction_ratio is None else f"r{reduction_ratio}"


def ratio_order(reduction_ratio: int | None) -> int:
    """Sort key: no SE first, then growing ratio (shrinking SE)."""
    return 0 if reduction_ratio is None else reduction_ratio
