"""Tests for seattn.analysis.compare.speed: a training step per variant, timed here, once."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from seattn.analysis.compare import grouping, speed
from seattn.model.attention import AttentionKind
from tests.helpers_compare import synthetic


def test_a_step_is_timed_once_per_process_and_draws_no_random_numbers():
    speed.training_step_seconds.cache_clear()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    seconds = speed.training_step_seconds(AttentionKind.ECA, None, batch_size=8, steps=2)
    assert torch.equal(torch.rand(3), expected)  # the global generator is where it was
    assert 0 < seconds < 30
    again = speed.training_step_seconds(AttentionKind.ECA, None, batch_size=8, steps=2)
    assert again == seconds and speed.training_step_seconds.cache_info().hits == 1


def test_the_step_trains_the_network_it_times(monkeypatch):
    """A step is forward, loss, backward and the optimiser's update: the weights move."""
    steps = []
    original = torch.optim.Adam.step

    def counted(self, *args, **kwargs):
        steps.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", counted)
    speed.training_step_seconds.cache_clear()
    speed.training_step_seconds(AttentionKind.CBAM, 16, batch_size=4, steps=3)
    assert len(steps) == 4  # a warm-up step, then three timed


def test_step_times_give_one_row_per_variant_with_the_groups_batch_size(monkeypatch):
    timed = []

    def fake(attention, ratio, **options):
        timed.append((attention, ratio, options["batch_size"], options["num_classes"]))
        return {AttentionKind.NONE: 0.1, AttentionKind.SE: 0.2, AttentionKind.ECA: 0.15}[attention]

    monkeypatch.setattr(speed, "training_step_seconds", fake)
    base = synthetic("n", None, 0, 0.5)
    models = [
        base,
        synthetic("se", 16, 0, 0.6),
        synthetic("eca", None, 0, 0.7, attention="eca"),
    ]
    (group,) = grouping.group_models(
        [
            dataclasses.replace(m, recipe=dataclasses.replace(base.recipe, batch_size=64))
            for m in models
        ]
    )
    seen = []
    times = speed.step_times(group, progress=lambda done, total: seen.append((done, total)))
    assert timed == [
        (AttentionKind.NONE, None, 64, 3),
        (AttentionKind.SE, 16, 64, 3),
        (AttentionKind.ECA, None, 64, 3),
    ]
    assert times.columns.tolist() == speed.COLUMNS
    assert times["variant"].tolist() == ["no SE", "r=16", "ECA"]
    assert times["ms per step"].tolist() == pytest.approx([100, 200, 150])
    assert times["images per second"].tolist() == pytest.approx([640, 320, 64 / 0.15])
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
