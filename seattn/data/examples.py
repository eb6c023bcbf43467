"""Example pictures: held-out images of a class-folder data set, listed but not decoded.

One rule for every page (``find_example_pool``): the held-out images of the first data set found
among the candidates (SEATTN_DATA, then the model's own training folder), else the sample
pictures shipped in seattn/data/samples/.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seattn.data.cifar10 import is_cifar10
from seattn.data.datasets import (
    DEFAULT_VAL_FRACTION,
    DataError,
    ImageSet,
    decode_files,
    list_folder,
    validation_files,
)
from seattn.data.samples import SAMPLES_DIR
from seattn.i18n import _


@dataclass(frozen=True)
class ExamplePool:
    """Held-out images of a class-folder dataset, listed but not decoded."""

    root: Path
    files: dict[str, list[Path]]  # class -> held-out image files
    held_out_folder: Path | None  # the test/ (or val/) folder they come from; None: seeded split
    val_fraction: float
    split_seed: int
    is_samples: bool = False  # the pictures shipped with the package, not a data set's

    @property
    def classes(self) -> list[str]:
        return list(self.files)


def sample_pool() -> ExamplePool:
    """The sample pictures shipped with the package (seattn.data.samples)."""
    samples, classes = list_folder(SAMPLES_DIR)
    files: dict[str, list[Path]] = {name: [] for name in classes}
    for path, label in samples:
        files[classes[label]].append(Path(path))
    return ExamplePool(SAMPLES_DIR, files, SAMPLES_DIR, DEFAULT_VAL_FRACTION, 0, is_samples=True)


def sample_image_set() -> ImageSet:
    """The shipped sample pictures decoded as the model sees them (a page's last resort)."""
    samples, classes = list_folder(SAMPLES_DIR)
    return decode_files(samples, classes, SAMPLES_DIR)


def find_example_pool(
    candidates: Iterable[str | Path | None],
    *,
    val_fraction: float = DEFAULT_VAL_FRACTION,
    split_seed: int = 0,
) -> ExamplePool:
    """The held-out images of the first candidate folder that has some, else the samples.

    Candidates that are not set, name CIFAR-10 (torchvision's copy has no files to show) or
    cannot be listed are passed over.
    """
    for folder in candidates:
        if not folder or is_cifar10(str(folder)):
            continue
        try:
            return example_pool(folder, val_fraction=val_fraction, split_seed=split_seed)
        except DataError:
            continue
    return sample_pool()


def example_pool(
    folder: str | Path | None,
    *,
    val_fraction: float = DEFAULT_VAL_FRACTION,
    split_seed: int = 0,
) -> ExamplePool:
    """List the validation images of a class-folder dataset; raise ``DataError`` saying why not.

    A folder with train/ and test/ (or val/) gives its held-out folder. A plain folder gives the
    images the trainer holds out with the same fraction and seed (``validation_files``), so
    with the defaults the examples are images the bundled models never trained on. Files are only
    listed, which takes a fraction of a second for 50,000 of them.
    """
    if not folder:
        raise DataError(
            _(
                "No example images: SEATTN_DATA is not set. Set it to a folder with one "
                "sub-folder of images per class (for example CIFAR-10's train folder)."
            )
        )
    root = Path(folder).expanduser()
    if not root.is_dir():
        message = _(
            "No example images: SEATTN_DATA={folder} is not a folder (expected one sub-folder of "
            "images per class)."
        )
        raise DataError(message.format(folder=folder))
    try:
        listing = validation_files(root, val_fraction=val_fraction, split_seed=split_seed)
    except OSError as error:  # a folder that cannot be read
        message = _("No example images in {folder}: {error}")
        raise DataError(message.format(folder=root, error=error)) from None
    except DataError as error:
        raise DataError(_("No example images: {reason}").format(reason=error)) from None
    files: dict[str, list[Path]] = {name: [] for name in listing.classes}
    for path, label in listing.samples:
        files[listing.classes[label]].append(Path(path))
    files = {name: paths for name, paths in files.items() if paths}
    if not files:
        message = _("No example images: no images found in the class folders of {folder}.")
        raise DataError(message.format(folder=root))
    return ExamplePool(root, files, listing.held_out_folder, val_fraction, split_seed)


def pick_examples(pool: ExamplePool, classes: Sequence[str], seed: int) -> list[tuple[str, Path]]:
    """One image per class in ``classes``: (class, file), drawn with a generator per (seed, class).

    Seeding per class keeps each class's pick independent of which other classes are chosen; a
    new ``seed`` ("another one") draws a new image for every class.
    """
    picks = []
    for name in classes:
        files = pool.files.get(name)
        if not files:
            continue
        class_number = pool.classes.index(name)
        rng = np.random.default_rng([seed, class_number])
        picks.append((name, files[int(rng.integers(len(files)))]))
    return picks
