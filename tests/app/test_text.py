"""Tests for pages/ui/text.py: how the dashboard words the library's names and numbers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
import torch
from PIL import Image

from pages.ui import text
from seattn import zoo
from seattn.analysis import explore
from seattn.analysis.catalog import ModelEntry, ModelSource
from seattn.analysis.compare import grouping
from seattn.analysis.monitor import Progress
from seattn.analysis.statistics import STATISTICS
from seattn.data.examples import ExamplePool
from seattn.model.cnn import SECNN
from seattn.training import overview
from seattn.training.recipes import Augmentation, Optimizer, Recipe
from seattn.training.runfiles import Run, RunState
from seattn.training.spec import TrainSpec
from tests.helpers import write_queue_job, write_trainer_status
from tests.helpers_compare import synthetic


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
    assert text.model_label(entry) == "r (run, no SE) [stopped] · 50.0% right"
    assert text.model_details(entry) == (
        "no SE, 3 epochs, trained on shapes, right on 50.0% of the pictures held out from training"
    )


def test_a_run_whose_best_epoch_was_not_its_last_says_both(tmp_path):
    entry = ModelEntry(
        key="run:r",
        name="r",
        source=ModelSource.RUN,
        path=tmp_path / "checkpoint.pt",
        val_accuracy=0.5,
        best_val_accuracy=0.55,
    )
    assert text.model_label(entry).endswith("· 50.0% right")  # what the picker opens
    assert "last epoch's; its best epoch reached 55.0%" in text.model_details(entry)


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


# -- the model picker (entries as seattn.analysis.catalog makes them) ---------------------------


def entry(name: str, source: ModelSource, **facts) -> ModelEntry:
    return ModelEntry(key=f"{source}:{name}", name=name, source=source, path=Path(name), **facts)


def test_a_bundled_model_names_itself_and_its_accuracy():
    default = entry(
        zoo.DEFAULT_MODEL,
        ModelSource.BUNDLED,
        reduction_ratio=16,
        ratio_known=True,
        epochs=30,
        val_accuracy=0.8612,
    )
    assert text.model_label(default) == f"{zoo.DEFAULT_MODEL} (bundled) · 86.1% right"
    assert text.model_details(default) == (
        "SE r=16, 30 epochs, right on 86.1% of the pictures held out from training"
    )
    # unreadable metadata: the weights still count
    assert text.model_label(entry("se-r4", ModelSource.BUNDLED)) == "se-r4 (bundled)"


@pytest.mark.parametrize(
    ("recipe", "details"),
    [
        ({"augment": True, "optimizer": "Adam"}, "SE r=16, 80 epochs"),
        ({"augment": "crop-flip"}, "SE r=16, 80 epochs, crop-flip augmentation"),
        ({"augment": "none"}, "SE r=16, 80 epochs, no augmentation"),
        (
            {"augment": "crop-flip", "optimizer": "sgd-cosine"},
            "SE r=16, 80 epochs, crop-flip augmentation, SGD + cosine",
        ),
        # metadata written before optimisers had names describes the optimiser instead
        (
            {"augment": "crop-flip", "optimizer": "SGD(momentum 0.9, Nesterov)"},
            "SE r=16, 80 epochs, crop-flip augmentation, SGD + cosine",
        ),
    ],
    ids=["course", "light", "plain", "sgd", "sgd-old"],
)
def test_a_model_trained_with_another_recipe_says_so(recipe, details):
    bundled = entry(
        "m",
        ModelSource.BUNDLED,
        reduction_ratio=16,
        ratio_known=True,
        epochs=80,
        recipe=Recipe.from_record(recipe),
    )
    assert text.model_details(bundled) == details


def test_a_completed_run_names_its_ratio_epochs_and_data():
    facts = {"reduction_ratio": 4, "ratio_known": True, "epochs": 1, "data_name": "shapes"}
    done = entry("done", ModelSource.RUN, val_accuracy=0.4, state=RunState.COMPLETED, **facts)
    assert text.model_label(done).startswith("done (run, SE r=4) · ")
    assert text.model_label(done).endswith("% right")
    assert "[" not in text.model_label(done)
    details = text.model_details(done)
    assert "1 epoch," in details and "trained on" in details
    stopped = dataclasses.replace(done, state=RunState.STOPPED)
    assert "[stopped]" in text.model_label(stopped)


def test_an_upload_names_the_users_file_and_its_ratio():
    upload = entry("mine.pt", ModelSource.UPLOAD, reduction_ratio=8, ratio_known=True, classes=3)
    assert text.model_label(upload) == "mine.pt (uploaded, SE r=8)"
    run_checkpoint = entry("checkpoint.pt", ModelSource.UPLOAD, reduction_ratio=4, ratio_known=True)
    assert "SE r=4" in text.model_label(run_checkpoint)


# -- training progress --------------------------------------------------------------------------


def progress(**changes) -> Progress:
    values = {
        "state": RunState.RUNNING,
        "phase": "training",
        "epoch": 3,
        "epochs": 10,
        "epochs_done": 2,
        "batch": 25,
        "batches": 100,
        "epoch_fraction": 0.25,
        "overall_fraction": 0.225,
        "images_per_second": 1000.0,
        "seconds_left": 77.5,
    }
    return Progress(**{**values, **changes})


def test_progress_lines_say_the_batch_and_the_time_left():
    within, overall = text.progress_lines(progress())
    assert within == "epoch 3: batch 25 of 100"
    assert overall == "2 of 10 epochs done, about 1 min 18 s left"


def test_a_queued_run_waits_for_a_core():
    queued = progress(
        state=RunState.QUEUED, phase="queued", epoch=0, epochs=4, epochs_done=0, seconds_left=None
    )
    assert text.progress_lines(queued)[0] == "waiting for a free core"


# -- comparison groups (as seattn.analysis.compare.grouping makes them) -------------------------


def labels_by_model(groups) -> dict[str, str]:
    words = text.group_labels(groups)
    return {m.name: words[g.key] for g in groups for m in g.models}


def test_a_group_label_counts_one_epoch_in_the_singular():
    one_epoch = synthetic("a", 4, 0, 0.8)
    one_epoch = dataclasses.replace(one_epoch, recipe=one_epoch.recipe.as_trained(1))
    label = labels_by_model(grouping.group_models([one_epoch]))["a"]
    assert "1 epoch," in label and "1 epochs" not in label


def test_a_left_out_model_names_the_model_it_repeats():
    kept = synthetic("a", 4, 0, 0.8, source=ModelSource.BUNDLED)
    repeat = synthetic("b", 4, 0, 0.6)
    (group,) = grouping.group_models([kept, repeat])
    assert "repeats a" in text.left_out_reason(*group.left_out[0])


def test_group_labels_name_the_augmentation():
    recipe = synthetic("base", 4, 0, 0.8).recipe

    def as_saved(augment):
        return Recipe.from_record({**recipe.to_dict(), "augment": augment}).as_trained(2)

    new = synthetic("new", 8, 0, 0.8, recipe=as_saved("course"))
    crop_flip = synthetic("crop", 16, 0, 0.8, recipe=as_saved("crop-flip"))
    labels = labels_by_model(grouping.group_models([new, crop_flip]))
    assert "course augmentation" in labels["new"] and "crop-flip augmentation" in labels["crop"]


def test_groups_of_one_data_name_are_told_apart_by_numbered_image_sets():
    base = synthetic("a", 4, 0, 0.8)
    other_lr = synthetic("b", 4, 1, 0.8, recipe=dataclasses.replace(base.recipe, lr=0.01))
    other_data = synthetic("c", 4, 2, 0.8, data={**base.data, "fingerprint": "f2"})
    labels = list(text.group_labels(grouping.group_models([base, other_lr, other_data])).values())
    assert len(set(labels)) == 3  # same data name, other images: numbered, never a hash
    assert any("image set 2" in label for label in labels)
    assert not any("f2" in label for label in labels)


def test_an_sgd_cosine_group_says_so_and_the_course_optimizer_goes_unsaid():
    def recipe(optimizer):
        config = {"optimizer": optimizer, "lr": 0.05, "batch_size": 16, "augment": "crop-flip"}
        return TrainSpec.from_dict(config).recipe().as_trained(2)

    adam = synthetic("adam", 4, 0, 0.8, recipe=recipe(None))  # saved before the choice
    sgd = synthetic("sgd", 8, 0, 0.8, recipe=recipe("sgd-cosine"))
    labels = labels_by_model(grouping.group_models([adam, sgd]))
    assert "SGD + cosine" in labels["sgd"]
    assert "SGD" not in labels["adam"] and "Adam" not in labels["adam"]


def test_the_runs_table_of_real_run_folders_is_worded_for_people(tmp_path, image_folder):
    # A completed run as the trainer leaves it: config.json, two epochs of metrics, its status.
    done = Run(tmp_path / "done")
    spec = TrainSpec(data=str(image_folder), reduction_ratio=4, epochs=2, batch_size=16)
    done.write_config({**spec.to_dict(), "classes": ["a", "b", "c"]})
    done.write_metrics(
        [
            {"epoch": 1, "val_accuracy": 0.5, "epoch_seconds": 14.0},
            {"epoch": 2, "val_accuracy": 0.75, "epoch_seconds": 15.0},
        ]
    )
    write_trainer_status(
        done,
        {"state": RunState.COMPLETED, "created": 50.0, "started": 100.0, "finished": 130.0},
    )
    # A run the queue holds: only its job.json, with the spec it was given at Start.
    waiting = Run(tmp_path / "waiting")
    sgd = spec.replace(reduction_ratio=None, epochs=5, optimizer="sgd-cosine", augment="crop-flip")
    write_queue_job(waiting, {"state": "queued", "created": 200.0, "spec": sgd.to_dict()})

    table = overview.runs_table(tmp_path)
    shown = text.runs_for_display(table).set_index("run")
    assert shown.loc["done", "recipe"] == "Adam + plateau, course augmentation"
    assert shown.loc["done", "epochs"] == "2/2"
    assert shown.loc["done", "duration"] == "30 s"
    assert shown.loc["done", "model"] == "r=4"
    assert shown.loc["waiting", "recipe"] == "SGD + cosine, crop-flip augmentation"
    assert shown.loc["waiting", "epochs"] == "0/5"
    assert shown.loc["waiting", "duration"] == "—"
    assert shown.loc["waiting", "model"] == "no SE"
    # The structured columns the words are made from are left as they were.
    assert table.set_index("run").loc["done", "training seconds"] == 30.0
