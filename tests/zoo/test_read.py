"""Tests for seattn.zoo: the bundled models that ship with the package and their metadata."""

import pytest
import torch

from seattn.data.datasets import load_splits
from seattn.model.checkpoints import load_model, read_checkpoint
from seattn.model.cnn import count_parameters
from seattn.model.ratios import parse_ratio
from seattn.settings import PACKAGE_ZOO_DIR
from seattn.training.evaluation import evaluate
from seattn.zoo import DEFAULT_MODEL, bundled_models, default_model_path, metadata

SHIPPED = bundled_models(PACKAGE_ZOO_DIR)


def test_the_default_r16_model_ships_with_the_package():
    assert DEFAULT_MODEL in SHIPPED
    assert default_model_path() == PACKAGE_ZOO_DIR / f"{DEFAULT_MODEL}.pt"


def test_the_default_model_is_r16_at_85_percent_or_more_on_its_held_out_images():
    meta = metadata(DEFAULT_MODEL, PACKAGE_ZOO_DIR)
    assert meta["reduction_ratio"] == 16 and meta["val_accuracy"] >= 0.85
    assert meta["data"]["val_images"] == 5000 and meta["data"]["train_images"] == 45000


@pytest.mark.slow
def test_the_default_model_scores_what_its_metadata_says(real_data, tmp_path):
    """The shipped float16 weights, evaluated in float32 on the seeded 5,000 held-out images."""
    meta = metadata(DEFAULT_MODEL, PACKAGE_ZOO_DIR)
    splits = load_splits(str(real_data), data_dir=tmp_path, split_seed=0)
    model, _ = load_model(default_model_path())
    result = evaluate(model, splits.val)
    assert result["n"] == 5000 and result["accuracy"] >= 0.85
    # The run validated with bfloat16 autocast: the last digit may differ, not more.
    assert result["accuracy"] == pytest.approx(meta["val_accuracy"], abs=0.005)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_bundled_model_runs_and_matches_its_metadata(name):
    model, config = load_model(SHIPPED[name])
    meta = metadata(name, PACKAGE_ZOO_DIR)
    ratio = parse_ratio(meta["reduction_ratio"])
    assert model.reduction_ratio == ratio == config["reduction_ratio"]
    assert count_parameters(model) == meta["parameters"]
    assert meta["classes"] == config["classes"] and len(meta["classes"]) == 10
    assert len(meta["history"]) == meta["epochs"]
    assert meta["val_accuracy"] == pytest.approx(meta["history"][-1]["val_accuracy"])
    for key in ("recipe", "data", "per_class", "training_seconds", "hardware", "versions", "seed"):
        assert meta[key] is not None, key
    stored = read_checkpoint(SHIPPED[name])["model_state"]
    assert all(v.dtype == torch.float16 for v in stored.values() if v.is_floating_point())
    probabilities = model(torch.randn(2, 3, 32, 32)).softmax(dim=1)
    assert probabilities.shape == (2, 10) and torch.isfinite(probabilities).all()


def test_bundled_weights_are_small():
    total = sum(path.stat().st_size for path in SHIPPED.values())
    assert total <= 25 * 1024 * 1024
