"""Tests for seattn.analysis.whatif: changed SE weights act inside the real forward pass, and the
model is never touched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from seattn.analysis.atlas import open_atlas
from seattn.analysis.whatif import (
    MOST_MOVED,
    BlockMode,
    DatasetContext,
    WhatIf,
    first_changed,
    run_what_if,
    run_what_if_on_image,
    weight_changes,
)
from seattn.model.checkpoints import save_checkpoint
from seattn.model.cnn import SECNN
from seattn.model.probe import ProbeResult, probe
from tests.helpers import CLASSES, write_image_folder


@pytest.fixture
def model() -> SECNN:
    torch.manual_seed(0)
    return SECNN(reduction_ratio=4, num_classes=3).eval()


@pytest.fixture
def batch() -> torch.Tensor:
    return torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def assert_same(a: ProbeResult, b: ProbeResult) -> None:
    assert torch.equal(a.probabilities, b.probabilities)
    for x, y in zip(a.blocks, b.blocks, strict=True):
        assert x.name == y.name
        for field in ("before", "squeeze", "weights", "after"):
            assert torch.equal(getattr(x, field), getattr(y, field)), (x.name, field)


def by_hand_with_block1_off(model: SECNN, batch: torch.Tensor) -> torch.Tensor:
    """Logits with block1's SE output forced to ones, the blocks run piece by piece."""
    with torch.inference_mode():
        first = model.blocks[0]
        x = first.pool(first.features(batch) * torch.ones(1, first.attention.channels, 1, 1))
        for block in model.blocks[1:]:
            features = block.features(x)
            x = block.pool(block.attention(features))
        return model.classifier(x)


def test_se_off_equals_the_network_with_that_blocks_weights_forced_to_one(model, batch) -> None:
    original, changed = run_what_if(model, batch, WhatIf(se_off={"block1"}))
    expected = by_hand_with_block1_off(model, batch).softmax(dim=1)
    torch.testing.assert_close(changed.probabilities, expected, rtol=1e-5, atol=1e-6)
    assert torch.equal(changed.blocks[0].weights, torch.ones_like(changed.blocks[0].weights))
    assert torch.equal(changed.blocks[0].after, changed.blocks[0].before)
    assert_same(original, probe(model, batch))


def test_muting_and_boosting_set_those_weights_and_leave_the_others(model, batch) -> None:
    what_if = WhatIf(muted={"block2": {3, 7}}, boosted={"block2": [0]})
    original, changed = run_what_if(model, batch, what_if)
    weights, trained = changed.blocks[1].weights, original.blocks[1].weights
    assert torch.equal(weights[:, [3, 7]], torch.zeros(4, 2))
    assert torch.equal(weights[:, 0], torch.ones(4))
    others = [c for c in range(weights.shape[1]) if c not in (0, 3, 7)]
    assert torch.equal(weights[:, others], trained[:, others])
    assert torch.equal(
        changed.blocks[1].after[:, 3], torch.zeros_like(changed.blocks[1].after[:, 3])
    )
    assert_same(  # the block before is not affected
        ProbeResult(original.probabilities, original.blocks[:1]),
        ProbeResult(original.probabilities, changed.blocks[:1]),
    )


def test_a_change_in_block1_changes_block2s_weights_and_nothing_changes_nothing(
    model, batch
) -> None:
    original, changed = run_what_if(model, batch, WhatIf(muted={"block1": range(16)}))
    assert not torch.equal(changed.blocks[1].weights, original.blocks[1].weights)
    assert not torch.equal(changed.probabilities, original.probabilities)
    original, unchanged = run_what_if(model, batch, WhatIf())
    assert_same(original, unchanged)


def test_frozen_blocks_get_the_mean_vector_for_every_picture(model, batch) -> None:
    mean = np.linspace(0.1, 0.9, 64, dtype=np.float32)
    _, changed = run_what_if(
        model, batch, WhatIf(frozen={"block2"}, muted={"block2": {5}}), {"block2": mean}
    )
    expected = torch.from_numpy(mean).expand(4, -1).clone()
    expected[:, 5] = 0
    assert torch.equal(changed.blocks[1].weights, expected)
    with pytest.raises(ValueError, match="no dataset-mean weights"):
        run_what_if(model, batch, WhatIf(frozen={"block2"}))
    with pytest.raises(ValueError, match="64 channels"):
        run_what_if(model, batch, WhatIf(frozen={"block2"}), {"block2": mean[:10]})


def test_impossible_changes_are_refused_before_anything_runs(model, batch) -> None:
    with pytest.raises(ValueError, match="both switched off and frozen"):
        WhatIf(se_off={"block1"}, frozen={"block1"})
    with pytest.raises(ValueError, match=r"\[2\] both muted and boosted"):
        WhatIf(muted={"block1": {1, 2}}, boosted={"block1": {2}})
    with pytest.raises(ValueError, match="no SE blocks named"):
        run_what_if(model, batch, WhatIf(se_off={"block9"}))
    with pytest.raises(ValueError, match=r"32 channels; muted \[32\]"):
        run_what_if(model, batch, WhatIf(muted={"block1": {32}}))
    without_se = SECNN(reduction_ratio=None, num_classes=3).eval()
    with pytest.raises(ValueError, match="no SE blocks named"):
        run_what_if(without_se, batch, WhatIf(se_off={"block1"}))


def test_the_model_is_left_exactly_as_it_was(model, batch) -> None:
    state = {name: value.clone() for name, value in model.state_dict().items()}
    requires_grad = [p.requires_grad for p in model.parameters()]
    what_if = WhatIf(se_off={"block1"}, frozen={"block3"}, muted={"block2": {1}})
    means = {"block3": np.full(128, 0.5, dtype=np.float32)}
    run_what_if(model, batch, what_if, means)
    assert model.training is False
    assert all(torch.equal(state[name], value) for name, value in model.state_dict().items())
    assert [p.requires_grad for p in model.parameters()] == requires_grad
    assert all(p.grad is None for p in model.parameters())
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks
        assert not module._backward_hooks
    model.train()
    with pytest.raises(ValueError, match="eval mode"):
        run_what_if(model, batch, what_if, means)
    assert model.training is True


def test_from_modes_and_equal_changes_compare_equal() -> None:
    what_if = WhatIf.from_modes(
        {"block1": "off", "block2": BlockMode.FROZEN, "block3": "trained"},
        muted={"block3": [4], "block1": []},
    )
    assert what_if == WhatIf(se_off={"block1"}, frozen={"block2"}, muted={"block3": {4}})
    assert what_if.blocks == {"block1", "block2", "block3"}
    assert [what_if.mode(b) for b in ("block1", "block2", "block3")] == [
        BlockMode.OFF,
        BlockMode.FROZEN,
        BlockMode.TRAINED,
    ]
    assert WhatIf(muted={"block1": set()}).is_empty


def test_weight_changes_say_which_block_was_set_and_how_far_each_moved(model, batch) -> None:
    what_if = WhatIf(muted={"block2": {3}})
    result = run_what_if(model, batch, what_if)
    changes = weight_changes(result, what_if, image=1)
    assert [c.name for c in changes] == ["block1", "block2", "block3"]
    assert [c.set_here for c in changes] == [False, True, False]
    assert first_changed(changes) == 1
    first, second, third = changes
    assert first.mean_abs == first.max_abs == 0 and first.moved == 0
    assert second.muted == 1 and second.largest == 3
    assert second.max_abs == pytest.approx(float(result.original.blocks[1].weights[1, 3]))
    assert third.mean_abs > 0 and len(third.most_moved) == MOST_MOVED
    original, changed = result.weights(2, image=1)
    assert changed.dtype == np.float32 and changed.shape == (128,)
    np.testing.assert_array_equal(original, result.original.blocks[2].weights[1].numpy())
    nothing = weight_changes(run_what_if(model, batch, WhatIf()), WhatIf())
    assert first_changed(nothing) is None and all(c.max_abs == 0 for c in nothing)


def test_one_picture_runs_as_the_network_sees_it(model) -> None:
    view = Image.new("RGB", (32, 32), "teal")
    original, changed = run_what_if_on_image(model, view, WhatIf(se_off={"block3"}))
    assert original.probabilities.shape == changed.probabilities.shape == (1, 3)


def test_dataset_context_holds_each_channels_mean_and_spread(tmp_path: Path) -> None:
    folder = write_image_folder(tmp_path / "images", per_class=4)
    torch.manual_seed(0)
    model = SECNN(reduction_ratio=4, num_classes=len(CLASSES))
    checkpoint = tmp_path / "model.pt"
    save_checkpoint(
        checkpoint,
        {
            "config": {"reduction_ratio": 4, "classes": list(CLASSES), "data": str(folder)},
            "model_state": model.state_dict(),
        },
    )
    atlas = open_atlas(checkpoint, model_name="tiny", data=str(folder), split="all")
    context = DatasetContext.from_atlas(atlas)
    assert context.images == 12 and context.split == "all"
    assert list(context.blocks) == ["block1", "block2", "block3"]
    weights = atlas.block("block2").weights.double()
    block = context.blocks["block2"]
    assert block.mean.dtype == np.float32 and block.mean.shape == (64,)
    np.testing.assert_allclose(block.mean, weights.mean(dim=0).numpy(), rtol=1e-6)
    np.testing.assert_allclose(block.std, weights.std(dim=0, unbiased=False).numpy(), rtol=1e-5)
    means = context.mean_vectors()
    _, changed = run_what_if(
        model.eval(), torch.zeros(2, 3, 32, 32), WhatIf(frozen={"block1"}), means
    )
    assert torch.equal(changed.blocks[0].weights[1], torch.from_numpy(means["block1"]))
