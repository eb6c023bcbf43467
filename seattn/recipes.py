"""The named augmentation recipes a run can choose, importable without torch (pages, jobs).

``course`` is the course's full set. Under it the network cannot fit even its own training
images much past 87%, and on CIFAR-10 it levels off near 82% validation accuracy. ``crop-flip``,
the usual CIFAR-10 recipe, keeps only the geometric pair; with the same seed and schedule it is
about two points ahead at 40 epochs (README, "The bundled models"). seattn.augment builds each
recipe's batch augmentation.
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


def augmentation_text(value: str | bool) -> str:
    """How a model's label says its augmentation: "crop-flip augmentation", "no augmentation"."""
    name = parse_augmentation(value)
    return "no augmentation" if name == NO_AUGMENTATION else f"{name} augmentation"
