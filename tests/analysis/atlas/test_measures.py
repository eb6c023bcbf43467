"""The per-block measures against direct computations on small generated weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seattn.analysis.atlas.measures import (
    MEASURES,
    block_measures,
    eta_squared,
    fixed_share,
    nearest_class_mean_accuracy,
)


def generated(n: int = 90, channels: int = 6, classes: int = 3, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % classes
    class_shift = torch.rand(classes, channels, generator=generator) * 0.3
    channel_gain = torch.rand(channels, generator=generator) * 0.5
    noise = torch.rand(n, channels, generator=generator) * 0.2
    return (channel_gain + class_shift[labels] + noise).clamp(0, 1), labels


def test_fixed_share_is_the_variance_between_channel_means_over_the_total():
    weights, _ = generated()
    w = weights.double().numpy()
    expected = w.mean(axis=0).var() / w.var()
    assert fixed_share(weights) == pytest.approx(expected, rel=1e-9)


def test_fixed_share_is_one_when_every_picture_gets_the_same_weights_and_zero_without_gains():
    same_for_all = torch.tensor([0.2, 0.5, 0.9]).repeat(40, 1)
    assert fixed_share(same_for_all) == pytest.approx(1.0)
    per_picture_only = torch.rand(40, 1).repeat(1, 3)  # every channel alike within a picture
    assert fixed_share(per_picture_only) == pytest.approx(0.0, abs=1e-9)
    assert fixed_share(torch.full((10, 3), 0.5)) is None


def test_eta_squared_is_between_class_over_total_variance_averaged_over_channels():
    weights, labels = generated(n=100, classes=4)  # unequal class sizes: 25 each... make uneven
    labels = torch.cat([torch.zeros(10), torch.ones(30), torch.full((60,), 2)]).long()
    w, y = weights.double().numpy(), labels.numpy()
    per_channel = []
    for c in range(w.shape[1]):
        column = w[:, c]
        between = sum(
            (y == k).mean() * (column[y == k].mean() - column.mean()) ** 2 for k in np.unique(y)
        )
        per_channel.append(between / column.var())
    assert eta_squared(weights, labels) == pytest.approx(np.mean(per_channel), rel=1e-9)


def test_eta_squared_is_one_when_the_class_decides_the_weight():
    labels = torch.arange(30) % 3
    weights = torch.stack([labels * 0.3, 1 - labels * 0.2], dim=1).float()
    assert eta_squared(weights, labels) == pytest.approx(1.0)


def test_shuffled_labels_give_the_chance_floor_far_below_the_real_eta():
    weights, labels = generated(n=600)
    measures = block_measures(weights, labels, seed=0)
    assert measures["eta_squared"] > 0.3
    assert measures["eta_squared_shuffled"] < 0.05
    assert measures["chance"] == pytest.approx(1 / 3)


def test_nearest_class_mean_finds_separated_classes_and_not_identical_ones():
    labels = torch.arange(60) % 3
    separated = torch.nn.functional.one_hot(labels, 3).float() + torch.rand(60, 3) * 0.1
    assert nearest_class_mean_accuracy(separated, labels, seed=0) == 1.0
    identical = torch.full((60, 3), 0.5)
    # every distance ties: the classifier says the first class known, right a third of the time
    assert nearest_class_mean_accuracy(identical, labels, seed=0) == pytest.approx(1 / 3)


def test_one_class_leaves_class_measures_undefined_with_a_reason_never_nan():
    weights = torch.rand(20, 4)
    measures = block_measures(weights, torch.zeros(20, dtype=torch.long), seed=0)
    for name in ("eta_squared", "eta_squared_shuffled", "nearest_class_mean_accuracy"):
        assert measures[name] is None
        assert "one class" in measures["undefined"][name]
    assert measures["fixed_share"] is not None
    assert set(MEASURES) <= set(measures)


def test_plain_measures_match_the_weights():
    weights = torch.tensor([[0.95, 0.05], [0.5, 0.92]])
    measures = block_measures(weights, torch.tensor([0, 1]), seed=0)
    assert measures["mean"] == pytest.approx(weights.double().mean().item())
    assert measures["std"] == pytest.approx(weights.double().std(unbiased=False).item())
    assert measures["share_above_0_9"] == 0.5
    assert measures["share_below_0_1"] == 0.25
