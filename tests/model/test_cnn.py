"""Tests for seattn.model.cnn: the reference CNN with and without SE, and its recorded forward."""

from __future__ import annotations

import pytest
import torch

from seattn.model.cnn import SECNN, ConvBlock, count_attention_parameters, count_parameters

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
        assert count_attention_parameters(model) == count_parameters(model) - plain


def test_se_blocks_use_the_floored_hidden_width():
    model = SECNN(64)
    assert [se.hidden_width for _, se in model.attention_blocks()] == [1, 1, 2]
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_a_conv_block_records_under_its_name_and_only_with_se():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8)
    plain = ConvBlock("first", 3, 8, None).eval()
    out, record = plain.forward_recorded(x)
    assert record is None and out.shape == (2, 8, 4, 4)
    torch.testing.assert_close(out, plain(x))
    block = ConvBlock("first", 3, 8, 2).eval()
    out, record = block.forward_recorded(x)
    torch.testing.assert_close(out, block(x))
    assert record.name == "first" and record.weights.shape == (2, 8)
    torch.testing.assert_close(out, torch.nn.functional.max_pool2d(record.after, 2))


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
    assert model.attention_blocks() == [] and not model.has_attention


def test_recorded_forward_leaves_the_model_unchanged():
    model = SECNN(16).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.inference_mode():
        model.forward_recorded(torch.randn(2, 3, 32, 32))
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(m._forward_hooks for m in model.modules())


def test_every_attention_kind_sits_in_the_same_place_and_records_what_it_used():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    plain = count_parameters(SECNN(None))
    for kind, extra in (("eca", 3 + 3 + 5), ("cbam", None), ("se", None)):
        model = SECNN(16, attention=kind).eval()
        assert model.attention_kind == kind and model.has_attention
        assert [name for name, _ in model.attention_blocks()] == ["block1", "block2", "block3"]
        if extra is not None:  # ECA: one kernel per block, nothing else
            assert count_parameters(model) - plain == extra
        assert count_attention_parameters(model) == count_parameters(model) - plain
        logits, records = model.forward_recorded(x)
        torch.testing.assert_close(logits, model(x))
        for record in records:
            scale = record.weights[:, :, None, None]
            if record.spatial is not None:
                scale = scale * record.spatial[:, None]
            torch.testing.assert_close(record.after, record.before * scale)
        assert all((r.spatial is not None) == (kind == "cbam") for r in records)
    # ECA has nothing to reduce: the ratio is not kept; no attention is the plain network.
    assert SECNN(16, attention="eca").reduction_ratio is None
    assert count_parameters(SECNN(16, attention="none")) == plain


def test_checkpoints_of_se_blocks_named_se_still_load():
    torch.manual_seed(0)
    model = SECNN(16).eval()
    legacy = {k.replace(".attention.", ".se."): v for k, v in model.state_dict().items()}
    assert any(".se.excitation." in k for k in legacy)
    loaded = SECNN(16).eval()
    loaded.load_state_dict(legacy, strict=True)
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(loaded(x), model(x))
