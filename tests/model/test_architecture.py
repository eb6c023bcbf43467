"""Tests for seattn.model.architecture: parameter and FLOP counts per ratio."""

from __future__ import annotations

import pytest
import torch

from seattn.model.architecture import architecture
from seattn.model.cnn import SECNN, count_attention_parameters, count_parameters
from seattn.model.ratios import BLOCK_CHANNELS, se_hidden_width


@pytest.mark.parametrize("ratio", [None, 1, 4, 16, 64])
def test_architecture_counts_match_the_model_and_flops_come_from_se(ratio):
    state = torch.random.get_rng_state()
    shape = architecture(ratio, 10)
    assert torch.equal(state, torch.random.get_rng_state())  # built on meta: no draws
    model = SECNN(ratio, num_classes=10)
    assert shape.parameters == count_parameters(model)
    assert shape.attention_parameters == count_attention_parameters(model)
    baseline = architecture(None, 10)
    # Two bias-free C x h linear layers per block, 2 FLOPs per multiply-add, one image.
    widths = [se_hidden_width(c, ratio) for c in BLOCK_CHANNELS] if ratio else []
    se_flops = sum(2 * 2 * c * h for c, h in zip(BLOCK_CHANNELS, widths, strict=False))
    assert shape.attention_flops == se_flops
    assert shape.flops - baseline.flops == se_flops
    assert shape.flops > 20_000_000  # the convolutions dominate
