"""The named recipes a run can choose, importable without torch (pages, jobs).

Two choices make a recipe: how the training images are augmented, and how the network is optimised.

``course`` is the course's full set. Under it the network cannot fit even its own training
images much past 87%, and on CIFAR-10 it levels off near 82% validation accuracy. ``crop-flip``,
the usual CIFAR-10 recipe, keeps only the geometric pair; with the same seed and schedule it is
about two points ahead at 40 epochs (README, "The bundled models"). seattn.augment builds each
recipe's batch augmentation.

``adam-plateau`` is the course's optimiser and schedule. Under it the learning rate halves only when
the validation loss stalls, and by epoch 60 it is too small to fit the training images further.
``sgd-cosine`` (SGD with Nesterov momentum and weight decay, the rate following a cosine from its
start to zero over the run's epochs) is the usual CIFAR-10 schedule; seattn.train builds each.
"""

from __future__ import annotations

from typing import Any

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


ADAM_PLATEAU = "adam-plateau"
SGD_COSINE = "sgd-cosine"
SGD_MOMENTUM = 0.9
SGD_WEIGHT_DECAY = 5e-4
OPTIMIZERS = {
    ADAM_PLATEAU: "the course's: Adam, the rate halved when the validation loss stalls",
    SGD_COSINE: f"SGD (Nesterov momentum {SGD_MOMENTUM}, weight decay {SGD_WEIGHT_DECAY:g}), "
    "the rate on a cosine to zero",
}
OPTIMIZER_LABELS = {ADAM_PLATEAU: "Adam + plateau", SGD_COSINE: "SGD + cosine"}
# Each optimiser's own starting rate; a run that names no rate gets its optimiser's.
DEFAULT_LEARNING_RATES = {ADAM_PLATEAU: 1e-3, SGD_COSINE: 0.05}


def parse_optimizer(value: str | None) -> str:
    """An optimiser recipe's name; None (runs saved before there was a choice) is the course's."""
    if value is None:
        return ADAM_PLATEAU
    if value not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {value!r}; choose one of {', '.join(OPTIMIZERS)}")
    return value


def optimizer_of(recipe: dict[str, Any]) -> str:
    """The optimiser recipe's name in a recipe as seattn.train.recipe_of describes it."""
    # The description names the optimiser class first; recipes from before the choice say "Adam".
    return SGD_COSINE if str(recipe.get("optimizer") or "").startswith("SGD") else ADAM_PLATEAU


def learning_rate_or_default(lr: float | None, optimizer: str) -> float:
    """The rate as given, or the optimiser's own when none is."""
    return DEFAULT_LEARNING_RATES[parse_optimizer(optimizer)] if lr is None else lr
