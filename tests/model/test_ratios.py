"""Tests for seattn.model.ratios: SE widths from a ratio, and how ratios are read and written."""

from __future__ import annotations

import pytest

from seattn.model.ratios import (
    STANDARD_RATIOS,
    parse_ratio,
    ratio_label,
    ratio_order,
    ratio_slug,
    se_hidden_width,
    se_hidden_widths,
)


def test_hidden_width_is_channels_over_ratio_floored_at_one():
    assert se_hidden_width(128, 16) == 8
    assert se_hidden_width(32, 16) == 2
    assert se_hidden_width(32, 32) == 1
    assert se_hidden_width(32, 64) == 1  # 32 // 64 == 0 would cut the block off
    assert se_hidden_widths(64) == [1, 1, 2]
    assert se_hidden_widths(None) == []


@pytest.mark.parametrize("bad", [0, -4, 2.5, True, "16"])
def test_bad_ratios_raise_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="reduction ratio"):
        se_hidden_width(32, bad)


def test_parse_ratio():
    assert parse_ratio("none") is None
    assert parse_ratio("None") is None
    assert parse_ratio(None) is None
    assert parse_ratio("16") == 16
    assert parse_ratio(8) == 8
    for bad in ("0", "abc", "1.5", "-2"):
        with pytest.raises(ValueError):
            parse_ratio(bad)


def test_labels_slugs_and_order_of_the_standard_ratios():
    assert [ratio_label(r) for r in STANDARD_RATIOS] == [
        "no SE", "r=2", "r=4", "r=8", "r=16", "r=32",
    ]  # fmt: skip
    assert [ratio_slug(r) for r in STANDARD_RATIOS] == [
        "no-SE", "r2", "r4", "r8", "r16", "r32",
    ]  # fmt: skip
    assert sorted([32, None, 4, 16], key=ratio_order) == [None, 4, 16, 32]
