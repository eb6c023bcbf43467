"""Tests for seattn.model.cbam: CBAM's channel then spatial attention against its definition."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from seattn.model.cbam import CBAMBlock


def channel_weights(block: CBAMBlock, x: torch.Tensor) -> torch.Tensor:
    """sigmoid(MLP(avg pool) + MLP(max pool)), the one MLP written out with its own weights."""
    first, _, second = block.mlp

    def mlp(v):
        return torch.relu(v @ first.weight.T) @ second.weight.T

    return torch.sigmoid(mlp(x.mean(dim=(2, 3))) + mlp(x.amax(dim=(2, 3))))


def spatial_map(block: CBAMBlock, refined: torch.Tensor) -> torch.Tensor:
    """sigmoid(7x7 conv of [mean over channels; max over channels])."""
    stacked = torch.cat(
        [refined.mean(dim=1, keepdim=True), refined.amax(dim=1, keepdim=True)], dim=1
    )
    conv = block.spatial
    return torch.sigmoid(F.conv2d(stacked, conv.weight, conv.bias, padding=3))[:, 0]


def test_cbam_is_channel_attention_then_spatial_attention():
    torch.manual_seed(0)
    block = CBAMBlock(32, 4)
    assert block.hidden_width == 8 and block.spatial.kernel_size == (7, 7)
    x = torch.randn(2, 32, 9, 7)
    result = block.excite(x)

    weights = channel_weights(block, x)
    refined = x * weights[:, :, None, None]
    spatial = spatial_map(block, refined)
    torch.testing.assert_close(result.squeeze, x.mean(dim=(2, 3)))
    torch.testing.assert_close(result.weights, weights)
    torch.testing.assert_close(result.spatial, spatial)
    # The interface hands out what was used: output = input x channel weights x spatial map.
    torch.testing.assert_close(
        result.output, x * result.weights[:, :, None, None] * result.spatial[:, None]
    )
    # The order matters: the spatial map is computed from the channel-refined input, and differs
    # from the map of the raw input.
    assert not torch.allclose(spatial_map(block, x), result.spatial)


def test_an_adjustment_replaces_the_channel_weights_before_the_spatial_attention():
    torch.manual_seed(0)
    block = CBAMBlock(16, 2)
    x = torch.rand(1, 16, 5, 5)
    result = block.excite(x, adjust=torch.ones_like)
    assert torch.equal(result.weights, torch.ones(1, 16))
    torch.testing.assert_close(result.spatial, spatial_map(block, x))
    torch.testing.assert_close(result.output, x * result.spatial[:, None])


def test_the_hidden_width_is_floored_at_one_like_se():
    assert CBAMBlock(32, 64).hidden_width == 1
