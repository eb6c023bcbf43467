"""Tests for seattn.model.se: the Squeeze-and-Excitation block."""

from __future__ import annotations

import pytest
import torch

from seattn.model.se import SEBlock


@pytest.mark.parametrize("bad", [0, -4, 2.5, True, "16"])
def test_bad_ratios_raise_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="reduction ratio"):
        SEBlock(32, bad)


def test_se_block_computes_squeeze_excitation_scale():
    torch.manual_seed(0)
    block = SEBlock(8, 2)
    x = torch.randn(3, 8, 5, 5)
    result = block.excite(x)
    first, _, second, _ = block.excitation
    expected_squeeze = x.mean(dim=(2, 3))
    expected_weights = torch.sigmoid(second(torch.relu(first(expected_squeeze))))
    torch.testing.assert_close(result.squeeze, expected_squeeze)
    torch.testing.assert_close(result.weights, expected_weights)
    torch.testing.assert_close(result.output, x * expected_weights[:, :, None, None])
    assert result.weights.min() > 0 and result.weights.max() < 1
    torch.testing.assert_close(block(x), result.output)


def test_channels_last_input_takes_the_fast_path_with_the_same_values_and_gradients():
    torch.manual_seed(0)
    block = SEBlock(16, 4)
    x = torch.randn(3, 16, 6, 5)
    x_last = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    x = x.requires_grad_()
    plain, fast = block.excite(x), block.excite(x_last)
    assert fast.output.is_contiguous(memory_format=torch.channels_last)
    assert fast.output.shape == x.shape
    for name in ("squeeze", "weights", "output"):
        torch.testing.assert_close(getattr(fast, name), getattr(plain, name))
    upstream = torch.randn(3, 16, 6, 5)
    plain_grads = torch.autograd.grad((plain.output * upstream).sum(), [x, *block.parameters()])
    fast_grads = torch.autograd.grad((fast.output * upstream).sum(), [x_last, *block.parameters()])
    for expected, actual in zip(plain_grads, fast_grads, strict=True):
        torch.testing.assert_close(actual, expected)


def test_handed_out_tensors_survive_in_place_ops_that_follow():
    torch.manual_seed(0)
    block = SEBlock(8, 2)
    x = torch.randn(2, 8, 4, 4)
    result = block.excite(x)
    squeeze, weights = result.squeeze.clone(), result.weights.clone()
    result.output.relu_().mul_(0)
    x.zero_()
    torch.testing.assert_close(result.squeeze, squeeze)
    torch.testing.assert_close(result.weights, weights)
