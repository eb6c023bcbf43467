"""Tests for seattn.analysis.walkthrough: the presentation walk's steps and the numbers it tells."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from PIL import Image

from seattn.analysis.explore import analyse
from seattn.analysis.walkthrough import (
    Step,
    StepKind,
    block_numbers,
    se_effect,
    walk_steps,
)
from seattn.data.images import to_model_input
from seattn.model.cnn import SECNN
from tests.helpers import CLASSES, make_class_image


@pytest.fixture
def model() -> SECNN:
    torch.manual_seed(0)
    return SECNN(reduction_ratio=4, num_classes=len(CLASSES)).eval()


@pytest.fixture
def picture() -> Image.Image:
    return make_class_image(1, np.random.default_rng(3))


def test_the_walk_tells_block_one_in_three_steps_and_each_later_block_in_one() -> None:
    kinds = [(step.kind, step.block) for step in walk_steps(3)]
    assert kinds == [
        (StepKind.PICTURE, None),
        (StepKind.PREDICTION, None),
        (StepKind.SQUEEZE, 0),
        (StepKind.EXCITATION, 0),
        (StepKind.SCALE, 0),
        (StepKind.BLOCK, 1),
        (StepKind.BLOCK, 2),
        (StepKind.CHANGED, None),
    ]
    # Without SE there is nothing to walk through but the picture and its prediction.
    assert walk_steps(0) == [Step(StepKind.PICTURE), Step(StepKind.PREDICTION)]


def test_block_numbers_are_the_recorded_pass_own(model: SECNN, picture: Image.Image) -> None:
    analysis = analyse(
        model, CLASSES, [picture, picture.transpose(Image.FLIP_LEFT_RIGHT)], ["a", "b"]
    )
    record = analysis.blocks[1]
    numbers = block_numbers(record, image=1)

    before, after = record.before[1].float(), record.after[1].float()
    assert numbers.channels == before.shape[0] and numbers.map_size == tuple(before.shape[1:])
    np.testing.assert_allclose(numbers.squeeze, before.mean(dim=(1, 2)).numpy(), rtol=1e-5)
    assert numbers.strongest_response == int(before.mean(dim=(1, 2)).argmax())
    assert numbers.most_kept == int(record.weights[1].argmax())
    assert numbers.most_damped == int(record.weights[1].argmin())
    # Scale multiplies each map by its weight, so what passes is a weighted share of the whole.
    weighted = (before * record.weights[1].float()[:, None, None]).sum()
    assert numbers.activity_kept == pytest.approx(float(weighted / before.sum()), rel=1e-4)
    assert numbers.activity_kept == pytest.approx(float(after.sum() / before.sum()), rel=1e-5)
    order = numbers.kept_order()
    assert np.all(np.diff(numbers.weights[order]) <= 0)


def test_se_effect_switches_every_block_off_in_the_real_forward_pass(
    model: SECNN, picture: Image.Image
) -> None:
    parameters_before = copy.deepcopy(model.state_dict())
    effect = se_effect(model, picture.resize((32, 32)), CLASSES, k=len(CLASSES))

    # Direct: the same network with every SE block replaced by the identity (weights all 1).
    without = copy.deepcopy(model)
    for block in without.blocks:
        block.attention = None
    with torch.inference_mode():
        batch = to_model_input([picture.resize((32, 32))])
        expected_off = without(batch).softmax(dim=1)[0]
        expected_on = model(batch).softmax(dim=1)[0]
    for guesses, expected in ((effect.with_se, expected_on), (effect.without_se, expected_off)):
        assert [c for c, _ in guesses] == [CLASSES[i] for i in expected.argsort(descending=True)]
        assert [p for _, p in guesses] == pytest.approx(sorted(expected.tolist(), reverse=True))
    assert effect.changes_its_mind == (effect.with_se[0][0] != effect.without_se[0][0])
    # The model it was given is untouched: same parameters, no hooks, still in eval mode.
    for name, value in model.state_dict().items():
        assert torch.equal(value, parameters_before[name])
    assert not model.training
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
