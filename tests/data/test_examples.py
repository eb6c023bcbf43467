"""Tests for seattn.data.examples: held-out example pictures, listed and picked."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from seattn import settings
from seattn.data.datasets import DataError, validation_split
from seattn.data.examples import example_pool, pick_examples


def test_example_pool_lists_exactly_the_trainers_validation_images(image_folder: Path) -> None:
    pool = example_pool(image_folder, val_fraction=0.25, split_seed=3)
    assert pool.classes == ["circle", "square", "stripes"]
    listed = sorted(str(p) for files in pool.files.values() for p in files)
    every = sorted(str(p) for p in image_folder.glob("*/*.png"))
    _, val_indices = validation_split(len(every), 0.25, 3)
    assert listed == sorted(every[i] for i in val_indices.tolist())
    assert pool.held_out_folder is None
    assert (pool.val_fraction, pool.split_seed) == (0.25, 3)


def test_example_pool_uses_a_held_out_folder_when_there_is_one(tmp_path: Path) -> None:
    for split, count in (("train", 3), ("test", 2)):
        for name in ("cat", "dog"):
            folder = tmp_path / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                Image.new("RGB", (8, 8)).save(folder / f"{i}.png")
    pool = example_pool(tmp_path)
    assert {name: len(files) for name, files in pool.files.items()} == {"cat": 2, "dog": 2}
    assert all("test" in str(p) for files in pool.files.values() for p in files)
    assert pool.held_out_folder == tmp_path / "test"


@pytest.mark.parametrize("spec", [None, "", "/no/such/folder", "cifar10"])
def test_example_pool_says_why_there_are_no_examples(spec: str | None) -> None:
    with pytest.raises(DataError, match="No example images"):
        example_pool(spec)


def test_the_example_folder_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEATTN_DATA", raising=False)
    assert settings.example_data_folder() is None
    monkeypatch.setenv("SEATTN_DATA", "/data/x")
    assert settings.example_data_folder() == "/data/x"


def test_pick_examples_draws_one_per_class_seeded_per_class(image_folder: Path) -> None:
    pool = example_pool(image_folder, val_fraction=0.5)
    picks = pick_examples(pool, pool.classes, seed=0)
    assert [name for name, _ in picks] == pool.classes
    assert all(path in pool.files[name] for name, path in picks)
    assert picks == pick_examples(pool, pool.classes, seed=0)
    # A class's pick does not depend on which other classes are chosen.
    assert pick_examples(pool, ["stripes"], seed=0) == [picks[2]]
    other_seeds = [pick_examples(pool, pool.classes, seed=s) for s in range(1, 6)]
    assert any(p != picks for p in other_seeds)
    assert pick_examples(pool, ["unknown"], seed=0) == []
