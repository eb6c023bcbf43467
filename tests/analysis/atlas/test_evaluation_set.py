"""Which images an atlas measures: by default ones the model never trained on."""

from __future__ import annotations

import shutil

import pytest
import torch

from seattn.analysis.atlas.evaluation_set import (
    Split,
    load_evaluation_set,
    resolve_request,
)
from seattn.data.datasets import DataError, load_splits
from tests.helpers import write_image_folder


def config_for(folder, val_fraction=0.25, split_seed=0) -> dict:
    return {"data": str(folder), "val_fraction": val_fraction, "split_seed": split_seed}


def test_the_models_own_folder_gives_its_held_out_validation_images(image_folder):
    request = resolve_request(config_for(image_folder, 0.25, 3))
    assert request.split is Split.VAL
    assert (request.val_fraction, request.split_seed) == (0.25, 3)
    measured = load_evaluation_set(request)
    trained = load_splits(str(image_folder), val_fraction=0.25, split_seed=3)
    assert torch.equal(measured.images, trained.val.images)
    assert torch.equal(measured.labels, trained.val.labels)


def test_a_folder_with_a_test_split_gives_it_and_other_folders_give_all_images(tmp_path):
    split = tmp_path / "split"
    write_image_folder(split / "train", per_class=3)
    write_image_folder(split / "test", per_class=2, seed=1)
    request = resolve_request(config_for(tmp_path / "elsewhere"), data=str(split))
    assert request.split is Split.TEST
    assert len(load_evaluation_set(request)) == 6
    assert len(load_evaluation_set(resolve_request({}, data=str(split), split="all"))) == 15

    plain = write_image_folder(tmp_path / "plain", per_class=4)
    request = resolve_request(config_for(tmp_path / "elsewhere"), data=str(plain))
    assert request.split is Split.ALL
    assert len(load_evaluation_set(request)) == 12


def test_asking_for_a_test_split_that_is_not_there_says_what_to_use(image_folder):
    with pytest.raises(DataError, match="no test split.*'val'"):
        resolve_request(config_for(image_folder), split="test")


def test_a_limit_keeps_a_seeded_subset(image_folder):
    subset = load_evaluation_set(resolve_request({}, data=str(image_folder), split="all", limit=7))
    again = load_evaluation_set(resolve_request({}, data=str(image_folder), split="all", limit=7))
    assert len(subset) == 7 and torch.equal(subset.images, again.images)


def test_the_model_data_missing_here_falls_back_to_the_default_data(tmp_path, monkeypatch):
    folder = write_image_folder(tmp_path / "here", per_class=2)
    monkeypatch.setenv("SEATTN_DATA", str(folder))
    request = resolve_request(config_for("/nowhere/cifar10/train"))
    assert request.data == str(folder.resolve()) and request.split is Split.ALL
    shutil.rmtree(folder)
