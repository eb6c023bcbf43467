"""Which images an atlas is measured on, and loading them.

The default is images the model never trained on: CIFAR-10's test split when the data has one (or
a folder's test/ sub-folder), else the model's own held-out validation split (the fraction and
seed of its config), else every image of the folder named.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import torch

from seattn import settings
from seattn.data.cifar10 import CIFAR10, is_cifar10
from seattn.data.datasets import (
    DEFAULT_VAL_FRACTION,
    DataError,
    ImageSet,
    ProgressFn,
    data_name,
    decode_files,
    list_folder,
    load_cifar10,
    load_splits,
    seeded_subset,
    split_folders,
    validation_files,
)
from seattn.i18n import N_, _


class Split(StrEnum):
    TEST = "test"  # CIFAR-10's test split, or a folder's test/ (val/) sub-folder
    VAL = "val"  # the model's held-out validation split
    ALL = "all"  # every image


# What load_evaluation_set says when a split has no image: one whole sentence per split.
_NO_IMAGES_IN = {
    Split.TEST: N_("{data}: no images in the test split"),
    Split.VAL: N_("{data}: no images in the val split"),
    Split.ALL: N_("{data}: no images in the all split"),
}


@dataclass(frozen=True)
class EvaluationRequest:
    """Everything that decides which images are measured (the cache key's data half)."""

    data: str  # "cifar10" or an absolute folder path
    split: Split
    limit: int | None = None  # a seeded subset of this many images
    seed: int = 0  # seeds the subset, shuffled labels, halves, permutation and random channels
    val_fraction: float = DEFAULT_VAL_FRACTION  # of the model's validation split (Split.VAL)
    split_seed: int = 0

    @property
    def name(self) -> str:
        return data_name(self.data)

    def key(self) -> str:
        record = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.blake2b(record.encode(), digest_size=8).hexdigest()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **asdict(self), "split": str(self.split)}


def has_test_split(data: str) -> bool:
    return is_cifar10(data) or split_folders(Path(data)) is not None


def resolve_request(
    config: dict[str, Any],
    *,
    data: str | None = None,
    split: Split | str | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> EvaluationRequest:
    """The evaluation set for a model with checkpoint ``config``, completing what is not given."""
    trained_on = str(config.get("data") or "")
    if data is None:
        data = trained_on if _available(trained_on) else settings.default_data_spec()
    data = CIFAR10 if is_cifar10(data) else str(Path(data).expanduser().resolve())
    if not is_cifar10(data) and not Path(data).is_dir():
        message = _("{data}: no such folder (expected 'cifar10' or a folder of class folders)")
        raise DataError(message.format(data=data))
    own_data = _same_data(data, trained_on)
    if split is None:
        split = Split.TEST if has_test_split(data) else Split.VAL if own_data else Split.ALL
    split = Split(split)
    if split is Split.TEST and not has_test_split(data):
        message = _(
            "{data}: it has no test split (no test/ or val/ sub-folder); use the split 'val' "
            "(the model's held-out images) or 'all'"
        )
        raise DataError(message.format(data=data))
    fraction, split_seed = DEFAULT_VAL_FRACTION, 0
    if own_data:  # the model's own held-out images
        fraction = float(config.get("val_fraction", DEFAULT_VAL_FRACTION))
        split_seed = int(config.get("split_seed", 0))
    return EvaluationRequest(data, split, limit, seed, fraction, split_seed)


def _available(data: str) -> bool:
    return bool(data) and (is_cifar10(data) or Path(data).expanduser().is_dir())


def _same_data(data: str, trained_on: str) -> bool:
    if not trained_on:
        return False
    if is_cifar10(data) or is_cifar10(trained_on):
        return is_cifar10(data) and is_cifar10(trained_on)
    return Path(trained_on).expanduser().resolve() == Path(data)


def load_evaluation_set(
    request: EvaluationRequest,
    *,
    data_dir: Path | None = None,
    download: bool = True,
    progress: ProgressFn | None = None,
) -> ImageSet:
    """The request's images (decoded once and cached on disk, like training's); DataError if not."""
    data_dir = Path(data_dir) if data_dir is not None else settings.data_dir()
    if is_cifar10(request.data):
        image_set = _cifar10_set(request, data_dir, download)
    else:
        image_set = _folder_set(request, data_dir / "cache", progress)
    if len(image_set) == 0:
        raise DataError(_(_NO_IMAGES_IN[request.split]).format(data=request.data))
    if request.limit is not None and request.limit < len(image_set):
        image_set = image_set.subset(seeded_subset(len(image_set), request.limit, request.seed))
    return image_set


def _cifar10_set(request: EvaluationRequest, data_dir: Path, download: bool) -> ImageSet:
    if request.split is Split.TEST:
        return load_cifar10(data_dir, train=False, download=download)
    if request.split is Split.VAL:
        splits = load_splits(
            CIFAR10,
            data_dir=data_dir,
            val_fraction=request.val_fraction,
            split_seed=request.split_seed,
            download=download,
        )
        return splits.val
    train = load_cifar10(data_dir, train=True, download=download)
    test = load_cifar10(data_dir, train=False, download=download)
    return ImageSet(
        torch.cat([train.images, test.images]),
        torch.cat([train.labels, test.labels]),
        train.classes,
    )


def _folder_set(
    request: EvaluationRequest, cache_dir: Path, progress: ProgressFn | None
) -> ImageSet:
    root = Path(request.data)
    try:
        if request.split is Split.ALL:
            pre_split = split_folders(root)
            parts = pre_split if pre_split is not None else (root,)
            samples, classes = [], None
            for part in parts:
                part_samples, part_classes = list_folder(part)
                if classes is not None and part_classes != classes:
                    message = _("{folder}: its sub-folders have different classes")
                    raise DataError(message.format(folder=root))
                classes = part_classes
                samples += part_samples
        else:
            held_out = split_folders(root)
            if request.split is Split.TEST and held_out is not None:
                samples, classes = list_folder(held_out[1])
            else:
                listing = validation_files(
                    root, val_fraction=request.val_fraction, split_seed=request.split_seed
                )
                samples, classes = listing.samples, listing.classes
    except OSError as error:
        raise DataError(
            _("{folder}: cannot be read ({error})").format(folder=root, error=error)
        ) from None
    if not samples:
        message = _("{folder}: no images found in its class sub-folders")
        raise DataError(message.format(folder=root))
    return decode_files(samples, classes, root, cache_dir=cache_dir, progress=progress)


def fingerprint(image_set: ImageSet) -> str:
    """A hash of the exact images, labels and class names: a changed image gives a new atlas."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update("\0".join(image_set.classes).encode())
    for part in (image_set.images, image_set.labels):
        digest.update(part.contiguous().numpy().tobytes())
    return digest.hexdigest()
