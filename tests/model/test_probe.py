"""Tests for seattn.model.probe: one recorded forward pass, and its top classes."""

from __future__ import annotations

import pytest
import torch

from seattn.model.cnn import SECNN
from seattn.model.probe import probe

CLASSES = [f"c{i}" for i in range(10)]


def test_probe_gives_the_models_probabilities_and_every_blocks_record():
    torch.manual_seed(0)
    model = SECNN(16).eval()
    batch = torch.randn(3, 3, 32, 32)
    result = probe(model, batch)
    torch.testing.assert_close(result.probabilities, model(batch).softmax(dim=1))
    torch.testing.assert_close(result.probabilities.sum(dim=1), torch.ones(3))
    assert [block.name for block in result.blocks] == ["block1", "block2", "block3"]
    assert [block.weights.shape for block in result.blocks] == [(3, 32), (3, 64), (3, 128)]
    assert probe(SECNN(None).eval(), batch).blocks == []


def test_top_k_lists_the_most_probable_classes_first():
    model = SECNN(16).eval()
    result = probe(model, torch.randn(2, 3, 32, 32))
    top = result.top_k(CLASSES, k=3)
    assert len(top) == 2 and all(len(row) == 3 for row in top)
    for row, probabilities in zip(top, result.probabilities, strict=True):
        values = [p for _, p in row]
        assert values == sorted(values, reverse=True)
        assert row[0] == (
            CLASSES[int(probabilities.argmax())],
            pytest.approx(float(probabilities.max())),
        )
    assert len(result.top_k(CLASSES, k=50)[0]) == 10  # k is capped at the number of classes


def test_probe_refuses_a_model_in_training_mode_and_leaves_it_unchanged():
    model = SECNN(16)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="eval mode"):
        probe(model, torch.randn(1, 3, 32, 32))
    model.eval()
    probe(model, torch.randn(2, 3, 32, 32))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
