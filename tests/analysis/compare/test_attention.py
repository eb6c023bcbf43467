"""Tests for seattn.analysis.compare.attention: excitation over validation images; CKA."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from seattn.analysis.compare import attention
from seattn.analysis.statistics import weight_statistics
from seattn.data.datasets import DataError, load_splits
from seattn.model.checkpoints import load_model
from seattn.model.probe import probe
from seattn.model.ratios import BLOCK_CHANNELS, BLOCK_NAMES
from seattn.training.runfiles import Run
from seattn.training.sweep import sweep_run_name
from tests.helpers_compare import main_group


def test_validation_images_are_the_runs_validation_split(store, groups, image_folder):
    group = main_group(groups)
    images = attention.validation_images(group, data_dir=store["data"])
    expected = load_splits(str(image_folder), data_dir=store["data"], val_fraction=0.25).val
    assert torch.equal(images.images, expected.images)


def test_validation_images_refuse_other_data(groups, tmp_path, monkeypatch):
    group = main_group(groups)
    changed = dataclasses.replace(group, data={**group.data, "fingerprint": "0000"})
    monkeypatch.delenv("SEATTN_DATA", raising=False)
    with pytest.raises(DataError, match="not available here"):
        attention.validation_images(changed, data_dir=tmp_path)


def test_excitation_statistics_are_weight_statistics_over_the_images(store, groups):
    group = main_group(groups)
    images = attention.validation_images(group, data_dir=store["data"])
    result = attention.measure_excitation(group, images, max_images=20)
    stats = result.statistics
    # Models with weights and SE: r=4 seeds 0 and 1, r=8 seed 0; three blocks each.
    assert len(stats) == 9 and result.images == 20
    r8 = Run(store["runs"] / sweep_run_name(8, 0, 1))
    model, _ = load_model(r8.checkpoint_path)
    from seattn.data.images import normalize_uint8

    record = probe(model, normalize_uint8(images.images[:20])).blocks[1]
    expected = weight_statistics(record.weights)
    row = stats[(stats["variant"] == "r=8") & (stats["block"] == "block2")].iloc[0]
    assert row["mean"] == pytest.approx(expected["mean"], abs=1e-6)
    assert row["entropy"] == pytest.approx(expected["entropy"], abs=1e-6)
    summary = result.summary.set_index(["variant", "block"])
    assert summary.loc[("r=4", "block1"), "seeds"] == 2
    cka = result.similarity["block3"]
    assert cka.labels == ["r=4", "r=8"] and np.allclose(np.diag(cka.values), 1.0)


def test_one_image_through_every_ratio(store, groups):
    group = main_group(groups)
    images = attention.validation_images(group, data_dir=store["data"])
    seen = attention.image_excitation(group, images.images[0])
    assert seen.predictions["variant"].tolist() == ["no SE", "r=4", "r=8"]
    assert seen.predictions["seed"].tolist() == [0, 0, 0]  # the lowest seed represents a ratio
    for block, channels in zip(BLOCK_NAMES, BLOCK_CHANNELS, strict=True):
        vectors = seen.vectors[block]
        assert vectors.labels == ["r=4", "r=8"] and vectors.values.shape == (2, channels)
        correlation = seen.correlation[block].values
        assert np.allclose(np.diag(correlation), 1.0)
        expected = np.corrcoef(vectors.values[0], vectors.values[1])[0, 1]
        assert correlation[0, 1] == pytest.approx(expected)


def test_cka_ignores_channel_order_and_scale():
    generator = torch.Generator().manual_seed(0)
    weights = torch.rand(50, 16, generator=generator)
    shuffled = weights[:, torch.randperm(16, generator=generator)] * 3
    assert attention.linear_cka(weights, shuffled) == pytest.approx(1.0)
    unrelated = torch.rand(50, 16, generator=generator)
    assert attention.linear_cka(weights, unrelated) < 0.6
    assert math.isnan(attention.linear_cka(torch.ones(5, 4), weights[:5, :4]))


def test_eca_and_cbam_are_measured_beside_the_se_ratios(kinds_store, kinds_groups):
    group = kinds_groups[0]
    images = attention.validation_images(group, data_dir=kinds_store["data"])
    result = attention.measure_excitation(group, images, max_images=12)
    # Every model with weights and attention: r=4 (two seeds), r=8, ECA, CBAM r=4.
    assert result.statistics["model"].nunique() == 5
    summary = result.summary
    assert list(dict.fromkeys(summary["variant"])) == ["r=4", "r=8", "ECA", "CBAM r=4"]
    eca = summary[summary["variant"] == "ECA"]
    assert eca["attention"].unique().tolist() == ["eca"] and eca["reduction ratio"].isna().all()
    assert eca["block"].tolist() == list(BLOCK_NAMES) and (eca["seeds"] == 1).all()
    # The ECA row holds the weights the ECA network used, as its probe hands them out.
    run = Run(kinds_store["runs"] / sweep_run_name(None, 0, 1, attention="eca"))
    model, _ = load_model(run.checkpoint_path)
    from seattn.data.images import normalize_uint8

    record = probe(model, normalize_uint8(images.images[:12])).blocks[2]
    expected = weight_statistics(record.weights)
    assert eca.iloc[2]["mean"] == pytest.approx(expected["mean"], rel=1e-5)
    assert result.similarity["block1"].labels == ["r=4", "r=8", "ECA", "CBAM r=4"]
    seen = attention.image_excitation(group, images.images[0])
    assert seen.predictions["variant"].tolist() == ["no SE", "r=4", "r=8", "ECA", "CBAM r=4"]
    assert seen.vectors["block3"].values.shape == (4, BLOCK_CHANNELS[2])
