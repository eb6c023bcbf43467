"""The named recipes: what each augmentation does to a batch; how older runs map onto them."""

import pytest
import torch

from seattn.data.augment import crop_and_flip
from seattn.training.builders import batch_augment
from seattn.training.recipes import (
    Augmentation,
    Optimizer,
    Recipe,
    learning_rate_or_default,
    parse_augmentation,
    parse_optimizer,
)

COURSE, CROP_FLIP, NO_AUGMENTATION = Augmentation.COURSE, Augmentation.CROP_FLIP, Augmentation.NONE


def test_names_stand_and_the_yes_no_of_older_runs_maps_onto_them():
    for name in ("course", "crop-flip", "none"):
        assert parse_augmentation(name) == name
    assert parse_augmentation(True) == COURSE
    assert parse_augmentation(False) == NO_AUGMENTATION
    with pytest.raises(ValueError, match="unknown augmentation 'heavy'.*crop-flip"):
        parse_augmentation("heavy")


def test_crop_flip_only_moves_pixels_where_the_course_recipe_also_changes_them():
    images = torch.randint(0, 256, (32, 3, 32, 32), dtype=torch.uint8)
    crop_flip, course = batch_augment(CROP_FLIP), batch_augment(COURSE)
    parameters = crop_flip.draw_parameters(32, torch.Generator().manual_seed(1))
    moved = crop_and_flip(images, 4, parameters.offsets, parameters.flips).float() / 255
    assert torch.equal(crop_flip.apply(images, parameters), moved)
    assert batch_augment(NO_AUGMENTATION) is None
    # Every recipe draws the same stream, so one seed crops and flips alike under each; the
    # course's recipe then also jitters the colours and rotates.
    drawn = course.draw_parameters(32, torch.Generator().manual_seed(1))
    assert torch.equal(drawn.offsets, parameters.offsets)
    assert torch.equal(drawn.flips, parameters.flips)
    assert not torch.allclose(course.apply(images, drawn), moved, atol=0.05)


def test_optimizer_names_and_their_own_rates():
    assert parse_optimizer("sgd-cosine") == Optimizer.SGD_COSINE
    assert parse_optimizer(None) == Optimizer.ADAM_PLATEAU  # runs from before the choice
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'.*sgd-cosine"):
        parse_optimizer("rmsprop")
    assert learning_rate_or_default(None, "sgd-cosine") == 0.05
    assert learning_rate_or_default(None, "adam-plateau") == 1e-3
    assert learning_rate_or_default(0.2, "sgd-cosine") == 0.2


def test_a_recipe_reads_the_same_from_old_prose_records_and_new_named_ones():
    old_sgd = {
        "optimizer": "SGD(momentum 0.9, Nesterov, weight decay 0.0005)",
        "scheduler": "cosine from lr to zero over the epochs, set once per epoch",
        "lr": 0.05,
        "batch_size": 128,
        "augment": "crop-flip",
        "epochs": 100,
        "limit": None,
    }
    new_sgd = {
        "optimizer": "sgd-cosine",
        "augment": "crop-flip",
        "lr": 0.05,
        "batch_size": 128,
        "epochs": 100,
        "limit": None,
    }
    assert Recipe.from_record(old_sgd) == Recipe.from_record(new_sgd)
    assert Recipe.from_record(new_sgd).optimizer == Optimizer.SGD_COSINE
    # Before optimisers had names the record says "Adam"; before augmentation had names, yes/no.
    old_adam = Recipe.from_record({"optimizer": "Adam", "augment": True, "lr": 0.001})
    assert (old_adam.optimizer, old_adam.augment) == (Optimizer.ADAM_PLATEAU, COURSE)
    assert Recipe.from_record({"augment": False}).augment == NO_AUGMENTATION
    assert Recipe.from_record({}).augment is None  # a record that does not say
    # Rewording nothing changes the identity: the dict form holds names only.
    assert Recipe.from_record(old_sgd).to_dict() == new_sgd


def test_a_recipe_as_trained_counts_the_epochs_it_holds():
    planned = Recipe.from_record({"optimizer": "adam-plateau", "epochs": 30})
    assert planned.as_trained(12).epochs == 12
    assert planned.as_trained(None) == planned
