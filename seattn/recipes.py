"""The named augmentation recipes a run can choose, importable without torch (pages, jobs).

The course trains with its full set; the network then levels off near 82% validation accuracy
on CIFAR-10 because it cannot fit the colour-jittered, rotated images much past 87% even on its
own training set. Crop and flip alone, the usual CIFAR-10 recipe, leaves it the capacity to
fit the images it is asked about. seattn.augment builds the batch augmentation of each name.
"""

from __future__ import annotations

COURSE = "course"
CROP_FLIP = "crop-flip"
NO_AUGMENTATION = "none"
AUGMENTATIONS = {
    COURSE: "the course's: crop (padding 4), flip, colour jitter, rotation (15°)",
    CROP_FLIP: "crop (padding 4) and flip only, the usual CIFAR-10 recipe",
    NO_AUGMENTATION: "none: every epoch sees the images as they are",
}


def parse_augmentation(value: str | bool) -> str:
    """A recipe name, from a name or from the yes/no that runs saved before recipes had names."""
    if value is True:
        return COURSE
    if value is False:
        return NO_AUGMENTATION
    if value not in AUGMENTATIONS:
        raise ValueError(
            f"unknown augmentation {value!r}; choose one of {', '.join(AUGMENTATIONS)}"
        )
    return value
