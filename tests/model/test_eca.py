"""Tests for seattn.model.eca: Efficient Channel Attention against its definition."""

from __future__ import annotations

import pytest
import torch

from seattn.model.eca import ECABlock, eca_kernel_size


@pytest.mark.parametrize(
    ("channels", "kernel"), [(32, 3), (64, 3), (128, 5), (256, 5), (512, 5), (1024, 5), (4, 1)]
)
def test_kernel_size_follows_the_papers_rule(channels, kernel):
    # |log2(C) / 2 + 1 / 2| rounded down, made odd: the paper's 3/3/5 for this network's blocks.
    assert eca_kernel_size(channels) == kernel


def direct_weights(block: ECABlock, x: torch.Tensor) -> torch.Tensor:
    """Each channel's weight from its k neighbours' means, zero beyond the ends, then sigmoid."""
    means = x.mean(dim=(2, 3))
    kernel = block.conv.weight[0, 0]
    half = block.kernel_size // 2
    batch, channels = means.shape
    out = torch.zeros(batch, channels)
    for c in range(channels):
        for j in range(block.kernel_size):
            neighbour = c + j - half
            if 0 <= neighbour < channels:
                out[:, c] += kernel[j] * means[:, neighbour]
    return torch.sigmoid(out)


@pytest.mark.parametrize("channels", [32, 128])
def test_eca_weights_are_a_convolution_across_the_channel_means(channels):
    torch.manual_seed(0)
    block = ECABlock(channels)
    assert block.conv.bias is None and sum(p.numel() for p in block.parameters()) == (
        block.kernel_size
    )
    x = torch.randn(2, channels, 5, 4)
    result = block.excite(x)
    torch.testing.assert_close(result.squeeze, x.mean(dim=(2, 3)))
    torch.testing.assert_close(result.weights, direct_weights(block, x))
    # The weights handed out are the ones used: output = input x weights, nothing spatial.
    torch.testing.assert_close(result.output, x * result.weights[:, :, None, None])
    assert result.spatial is None


def test_channels_last_input_gives_the_same_values_and_gradients():
    torch.manual_seed(0)
    block = ECABlock(64)
    x = torch.randn(2, 64, 6, 6).requires_grad_()
    x_last = x.detach().contiguous(memory_format=torch.channels_last).requires_grad_()
    plain, fast = block.excite(x), block.excite(x_last)
    torch.testing.assert_close(fast.output, plain.output)
    grads = torch.autograd.grad(plain.output.sum(), [x, block.conv.weight])
    fast_grads = torch.autograd.grad(fast.output.sum(), [x_last, block.conv.weight])
    for expected, actual in zip(grads, fast_grads, strict=True):
        torch.testing.assert_close(actual, expected)


def test_an_adjustment_replaces_the_weights_it_scales_by():
    block = ECABlock(32)
    x = torch.rand(1, 32, 4, 4)
    result = block.excite(x, adjust=torch.ones_like)
    torch.testing.assert_close(result.output, x)
    assert torch.equal(result.weights, torch.ones(1, 32))
