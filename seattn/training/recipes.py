"""The named recipes a run can choose, and the recipe that makes two runs comparable.

Plain Python (no torch): pages, the queue and the CLI name recipes without the deep-learning stack.
Names only; what a recipe is, in words, is said by the pages and the CLI.

Two choices make a named recipe: how the training images are augmented (:class:`Augmentation`;
seattn.training.engine builds each one's batch augmentation) and how the network is optimised
(:class:`Optimizer`). ``course`` and ``adam-plateau`` are the course's own. Under the course's
augmentation the network cannot fit even its own training images much past 87%; under its
optimiser the rate halves only when the validation loss stalls and is soon too small to fit them
further. ``crop-flip`` and ``sgd-cosine`` are the usual CIFAR-10 recipe (README, "The bundled
models").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any


class Augmentation(StrEnum):
    COURSE = "course"  # crop (padding 4), flip, colour jitter, rotation (15°)
    CROP_FLIP = "crop-flip"  # crop (padding 4) and flip only
    NONE = "none"


class Optimizer(StrEnum):
    ADAM_PLATEAU = "adam-plateau"  # Adam; the rate halved when the validation loss stalls
    SGD_COSINE = "sgd-cosine"  # SGD with Nesterov momentum; the rate on a cosine to zero


SGD_MOMENTUM = 0.9
SGD_WEIGHT_DECAY = 5e-4
PLATEAU_PATIENCE = 3
PLATEAU_FACTOR = 0.5
# Each optimiser's own starting rate; a run that names no rate gets its optimiser's.
DEFAULT_LEARNING_RATES = {Optimizer.ADAM_PLATEAU: 1e-3, Optimizer.SGD_COSINE: 0.05}


def _named(kind: type[StrEnum], value: str, what: str) -> StrEnum:
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(kind)}") from None


def parse_augmentation(value: str | bool) -> Augmentation:
    """A recipe name, from a name or from the yes/no that runs saved before recipes had names."""
    if value is True:
        return Augmentation.COURSE
    if value is False:
        return Augmentation.NONE
    return _named(Augmentation, value, "augmentation")


def parse_optimizer(value: str | None) -> Optimizer:
    """An optimiser recipe's name; None (runs saved before there was a choice) is the course's."""
    if value is None:
        return Optimizer.ADAM_PLATEAU
    return _named(Optimizer, value, "optimizer")


def learning_rate_or_default(lr: float | None, optimizer: str) -> float:
    """The rate as given, or the optimiser's own when none is."""
    return DEFAULT_LEARNING_RATES[parse_optimizer(optimizer)] if lr is None else lr


def _recorded_optimizer(value: Any) -> Optimizer:
    # Records written before optimisers had names describe the class instead ("Adam",
    # "SGD(momentum 0.9, Nesterov, ...)"); before there was a choice they say "Adam".
    if value in tuple(Optimizer):
        return Optimizer(value)
    return Optimizer.SGD_COSINE if str(value or "").startswith("SGD") else Optimizer.ADAM_PLATEAU


@dataclass(frozen=True)
class Recipe:
    """What makes two trained models comparable, ratio and seed aside; a plain identity."""

    optimizer: Optimizer
    augment: Augmentation | None  # None: a record that does not say
    lr: float | None
    batch_size: int | None
    epochs: int | None  # as trained (see ``as_trained``)
    limit: int | None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Recipe:
        """A run config's or a bundled model's "recipe" record, whichever version wrote it."""
        augment = record.get("augment")
        return cls(
            optimizer=_recorded_optimizer(record.get("optimizer")),
            augment=None if augment is None else parse_augmentation(augment),
            lr=None if record.get("lr") is None else float(record["lr"]),
            batch_size=record.get("batch_size"),
            epochs=record.get("epochs"),
            limit=record.get("limit") or None,
        )

    def as_trained(self, epochs: int | None) -> Recipe:
        """The recipe with the epochs actually trained, when known.

        A run stopped before its planned end, or resumed with no epoch left, keeps the epochs it
        once planned in its config; it trained, and is compared with models of, as many as it
        holds.
        """
        return self if epochs is None else replace(self, epochs=epochs)

    def to_dict(self) -> dict[str, Any]:
        return {
            key: (str(value) if isinstance(value, StrEnum) else value)
            for key, value in asdict(self).items()
        }
