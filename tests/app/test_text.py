"""Tests for pages/ui/text.py: how the dashboard words the library's names and numbers."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from PIL import Image

from pages.ui import text
from seattn.analysis import explore
from seattn.analysis.catalog import ModelEntry, ModelSource
from seattn.analysis.statistics import STATISTICS
from seattn.data.examples import ExamplePool
from seattn.model.cnn import SECNN
from seattn.training.recipes import Augmentation, Optimizer, Recipe


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(None, "—"), (float("nan"), "—"), (4.4, "4 s"), (65, "1 min 05 s"), (7322, "2 h 02 min")],
)
def test_format_duration(seconds, words):
    assert text.format_duration(seconds) == words


def test_block_title_names_channels_and_map_size():
    torch.manual_seed(0)
    image = Image.new("RGB", (32, 32), "red")
    analysis = explore.analyse(SECNN(4, num_classes=3).eval(), ["a", "b", "c"], [image], ["x"])
    titles = [text.block_title(record) for record in analysis.blocks]
    assert titles == [
        "Block 1 · 32 channels, 32×32 maps",
        "Block 2 · 64 channels, 16×16 maps",
        "Block 3 · 128 channels, 8×8 maps",
    ]


def test_every_statistic_and_every_recipe_has_its_words():
    assert set(text.STATISTIC_LABELS) == set(STATISTICS)
    assert set(text.AUGMENTATION_DESCRIPTIONS) == set(Augmentation)
    assert set(text.OPTIMIZER_DESCRIPTIONS) == set(Optimizer) == set(text.OPTIMIZER_LABELS)


def test_recipes_are_named_and_the_courses_goes_unsaid():
    assert text.recipe_label(Optimizer.SGD_COSINE, Augmentation.CROP_FLIP) == (
        "SGD + cosine, crop-flip augmentation"
    )
    assert text.augmentation_text(Augmentation.NONE) == "no augmentation"
    recipe = Recipe(Optimizer.ADAM_PLATEAU, Augmentation.COURSE, 0.001, 128, 1, None)
    assert text.recipe_text(recipe) == "1 epoch, batch 128, lr 0.001, course augmentation"
    assert text.unusual_recipe(recipe) == []
    sgd = Recipe(Optimizer.SGD_COSINE, Augmentation.CROP_FLIP, 0.05, 128, 100, 500)
    assert text.recipe_text(sgd).endswith("crop-flip augmentation, SGD + cosine, 500 images")


def test_a_run_model_says_its_state_unless_completed(tmp_path):
    entry = ModelEntry(
        key="run:r",
        name="r",
        source=ModelSource.RUN,
        path=tmp_path / "checkpoint.pt",
        reduction_ratio=None,
        ratio_known=True,
        epochs=3,
        val_accuracy=0.5,
        data_name="shapes",
        state="stopped",
    )
    assert text.model_label(entry) == "r (run, no SE) [stopped] · val 50.0%"
    assert text.model_details(entry) == (
        "no SE, 3 epochs, trained on shapes, validation accuracy 50.0%"
    )


def test_the_runs_table_is_worded_for_people():
    table = pd.DataFrame(
        [
            {
                "model": "r=4",
                "optimizer": "sgd-cosine",
                "augment": "crop-flip",
                "epochs done": 2,
                "epochs": 5,
                "training seconds": 65.0,
            },
            {
                "model": None,
                "optimizer": None,
                "augment": None,
                "epochs done": 0,
                "epochs": None,
                "training seconds": None,
            },
        ]
    )
    shown = text.runs_for_display(table)
    assert shown["recipe"].tolist() == ["SGD + cosine, crop-flip augmentation", "?"]
    assert shown["epochs"].tolist() == ["2/5", "0"]
    assert shown["duration"].tolist() == ["1 min 05 s", "—"]
    assert shown["model"].tolist() == ["r=4", "?"]


def test_the_examples_caption_says_which_images_they_are(tmp_path):
    split = ExamplePool(tmp_path, {"a": []}, None, 0.1, 3)
    assert "the 10% validation split (seed 3)" in text.examples_caption(split)
    folder = ExamplePool(tmp_path, {"a": []}, tmp_path / "test", 0.1, 0)
    assert "held-out images from test/" in text.examples_caption(folder)
