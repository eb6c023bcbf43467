"""The named augmentation recipes: what each does to a batch; how older runs map onto them."""

import pytest
import torch

from seattn.augment import batch_augment, crop_and_flip
from seattn.recipes import AUGMENTATIONS, COURSE, CROP_FLIP, NO_AUGMENTATION, parse_augmentation


def test_names_stand_and_the_yes_no_of_older_runs_maps_onto_them():
    for name in AUGMENTATIONS:
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
