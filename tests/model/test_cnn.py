import pytest
import torch

from seattn.model.cnn import SECNN, count_parameters, count_se_parameters
from seattn.model.ratios import parse_ratio, se_hidden_width, se_hidden_widths
from seattn.model.se import SEBlock

REFERENCE_PARAMETER_COUNTS = {
    None: 1_147_914,
    2: 1_169_418,
    4: 1_158_666,
    8: 1_153_290,
    16: 1_150_602,
    32: 1_149_258,
}


@pytest.mark.parametrize(("ratio", "expected"), REFERENCE_PARAMETER_COUNTS.items())
def test_parameter_counts_match_the_reference(ratio, expected):
    assert count_parameters(SECNN(ratio)) == expected


def test_se_parameters_are_the_difference_to_the_plain_network():
    plain = count_parameters(SECNN(None))
    for ratio in (2, 4, 8, 16, 32):
        model = SECNN(ratio)
        assert count_se_parameters(model) == count_parameters(model) - plain


def test_hidden_width_is_channels_over_ratio_floored_at_one():
    assert se_hidden_width(128, 16) == 8
    assert se_hidden_width(32, 16) == 2
    assert se_hidden_width(32, 32) == 1
    assert se_hidden_width(32, 64) == 1  # 32 // 64 == 0 would cut the block off
    assert se_hidden_widths(64) == [1, 1, 2]
    assert se_hidden_widths(None) == []
    model = SECNN(64)
    assert [se.hidden_width for _, se in model.se_blocks()] == [1, 1, 2]
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("bad", [0, -4, 2.5, True, "16"])
def test_bad_ratios_raise_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="reduction ratio"):
        SEBlock(32, bad)


def test_parse_ratio():
    assert parse_ratio("none") is None
    assert parse_ratio("None") is None
    assert parse_ratio(None) is None
    assert parse_ratio("16") == 16
    assert parse_ratio(8) == 8
    for bad in ("0", "abc", "1.5", "-2"):
        with pytest.raises(ValueError):
            parse_ratio(bad)


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


def test_recorded_forward_equals_plain_forward_and_records_every_block():
    torch.manual_seed(0)
    model = SECNN(16).eval()
    x = torch.randn(4, 3, 32, 32)
    logits, records = model.forward_recorded(x)
    torch.testing.assert_close(logits, model(x))
    assert [r.name for r in records] == ["block1", "block2", "block3"]
    assert [r.before.shape[1] for r in records] == [32, 64, 128]
    assert [r.before.shape[-1] for r in records] == [32, 16, 8]
    for record in records:
        torch.testing.assert_close(record.after, record.before * record.weights[:, :, None, None])


def test_network_without_se_records_nothing_and_has_no_se_modules():
    model = SECNN(None).eval()
    logits, records = model.forward_recorded(torch.randn(1, 3, 32, 32))
    assert logits.shape == (1, 10) and records == []
    assert model.se_blocks() == [] and not model.has_se


def test_recorded_forward_leaves_the_model_unchanged():
    model = SECNN(16).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.inference_mode():
        model.forward_recorded(torch.randn(2, 3, 32, 32))
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(m._forward_hooks for m in model.modules())
