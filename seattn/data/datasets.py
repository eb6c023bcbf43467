"""Datasets as decoded uint8 tensors: torchvision's CIFAR-10, or any folder of class sub-folders.

Whether data is there at all is a cheap question of its own (:func:`check_data`): asked before a
run is queued, it answers in a second or two, where loading would fail only after the trainer
started (or, for CIFAR-10 offline, after a download attempt).

Training reads every image many times, so images are decoded once into a [N, 3, 32, 32] uint8
tensor (the evaluation view: centre-cropped to a square, resized to 32x32 when needed) and that
tensor is cached on disk, keyed by a hash of the files' bytes: a changed, added or removed image
gives a new key, an untouched folder is never decoded twice.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torchvision.datasets import CIFAR10 as TorchvisionCIFAR10
from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes, make_dataset

from seattn import settings
from seattn.atomic import atomic_path
from seattn.data.cifar10 import is_cifar10
from seattn.data.images import to_model_view
from seattn.i18n import _, ngettext

DEFAULT_VAL_FRACTION = 0.1
TRAIN_SPLIT_NAMES = ("train",)
HELD_OUT_SPLIT_NAMES = ("test", "val", "valid", "validation")

ProgressFn = Callable[[int, int], None]  # (done, total)


class DataError(ValueError):
    """Data that cannot be used; the message names the folder or option to fix.

    Messages a page can show are in the language of the code that raised them (seattn.i18n);
    the trainer's process and the command line speak English.
    """


@dataclass
class ImageSet:
    images: torch.Tensor  # [N, 3, 32, 32] uint8
    labels: torch.Tensor  # [N] int64
    classes: list[str]
    files: list[str] = field(default_factory=list)  # relative paths, when read from a folder

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, indices: torch.Tensor) -> ImageSet:
        files = [self.files[i] for i in indices.tolist()] if self.files else []
        return ImageSet(self.images[indices], self.labels[indices], self.classes, files)


@dataclass
class DataSplits:
    train: ImageSet
    val: ImageSet
    description: dict[str, Any]  # what the data was, for config.json and for grouping runs


def validation_split(n: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train indices, validation indices): a seeded permutation, the same for the same seed."""
    if not 0.0 < fraction < 1.0:
        message = _("validation fraction must be between 0 and 1, got {fraction}")
        raise DataError(message.format(fraction=fraction))
    n_val = max(1, round(n * fraction))
    if n_val >= n:
        message = ngettext(
            "{n} image is too few to hold out {fraction:.0%} for validation",
            "{n} images are too few to hold out {fraction:.0%} for validation",
            n,
        )
        raise DataError(message.format(n=n, fraction=fraction))
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[n_val:].sort().values, order[:n_val].sort().values


# -- CIFAR-10 through torchvision -------------------------------------------------------------


def load_cifar10(data_dir: Path, *, train: bool, download: bool = True) -> ImageSet:
    data_dir = Path(data_dir)
    try:
        dataset = TorchvisionCIFAR10(str(data_dir), train=train, download=False)
    except RuntimeError:
        if not download:
            raise DataError(_cifar_missing_message(data_dir, _("downloading is off"))) from None
        try:
            dataset = TorchvisionCIFAR10(str(data_dir), train=train, download=True)
        except (OSError, RuntimeError) as error:  # URLError is an OSError: offline
            reason = _("download failed: {error}").format(error=error)
            raise DataError(_cifar_missing_message(data_dir, reason)) from None
    images = torch.from_numpy(np.ascontiguousarray(dataset.data)).permute(0, 3, 1, 2).contiguous()
    labels = torch.tensor(dataset.targets, dtype=torch.int64)
    return ImageSet(images, labels, list(dataset.classes))


def _cifar_missing_message(data_dir: Path, reason: str) -> str:
    return _(
        "CIFAR-10 is not in {folder} ({reason}). "
        "Connect to the internet once, or copy torchvision's 'cifar-10-batches-py' folder there "
        "(set SEATTN_DATA_DIR to use another folder), or train on a folder of class sub-folders "
        "with --data PATH."
    ).format(folder=data_dir.resolve() / "cifar-10-batches-py", reason=reason)


# -- folders of class sub-folders -------------------------------------------------------------


def list_folder(root: Path) -> tuple[list[tuple[str, int]], list[str]]:
    try:
        classes, class_to_idx = find_classes(str(root))
        samples = make_dataset(str(root), class_to_idx, extensions=IMG_EXTENSIONS)
    except FileNotFoundError as error:
        message = _("{folder}: no images found in its class sub-folders ({error})")
        raise DataError(message.format(folder=root, error=error)) from None
    return samples, classes


def _decode_file(path: str) -> np.ndarray:
    try:
        with Image.open(path) as image:
            view = to_model_view(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        message = _("{path}: cannot be read as an image ({error})")
        raise DataError(message.format(path=path, error=error)) from None
    return np.asarray(view, dtype=np.uint8)


def _content_key(files: Sequence[str], labels: Sequence[int], classes: Sequence[str]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update("\0".join(classes).encode())
    for path, label in zip(files, labels, strict=True):
        digest.update(f"\0{label}\0".encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def decode_folder(
    root: Path | str,
    *,
    cache_dir: Path | None = None,
    limit: int | None = None,
    limit_seed: int = 0,
    progress: ProgressFn | None = None,
) -> ImageSet:
    """Every image under ``root``/<class>/ as one uint8 tensor, from the cache when it is there.

    ``limit`` keeps a seeded random subset of that many images (before decoding, so a smoke run on
    a big folder stays quick).
    """
    root = Path(root)
    if not root.is_dir():
        message = _("{folder}: no such folder (expected a folder with one sub-folder per class)")
        raise DataError(message.format(folder=root))
    samples, classes = list_folder(root)
    if not samples:
        message = _("{folder}: no images found in its class sub-folders")
        raise DataError(message.format(folder=root))
    if limit is not None and limit < len(samples):
        keep = torch.randperm(len(samples), generator=torch.Generator().manual_seed(limit_seed))
        samples = [samples[i] for i in sorted(keep[:limit].tolist())]
    return decode_files(samples, classes, root, cache_dir=cache_dir, progress=progress)


def decode_files(
    samples: Sequence[tuple[str, int]],
    classes: Sequence[str],
    root: Path | str,
    *,
    cache_dir: Path | None = None,
    progress: ProgressFn | None = None,
) -> ImageSet:
    """The listed (file, class index) images as one uint8 tensor, from the cache when it is there.

    ``files`` of the result are relative to ``root``.
    """
    classes = list(classes)
    paths = [path for path, _ in samples]
    labels = [label for _, label in samples]
    relative = [os.path.relpath(path, root) for path in paths]

    cache_file = None
    if cache_dir is not None:
        key = _content_key(paths, labels, classes)
        cache_file = Path(cache_dir) / f"images-{key}.pt"
        if cache_file.exists():
            try:
                cached = torch.load(cache_file, weights_only=True)
                return ImageSet(cached["images"], cached["labels"], classes, relative)
            except Exception:  # a damaged cache is only a cache: decode again below
                pass

    images = np.empty((len(paths), 32, 32, 3), dtype=np.uint8)
    # PIL releases the GIL while decoding, so threads use both cores without a process pool.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for index, array in enumerate(pool.map(_decode_file, paths, chunksize=256)):
            images[index] = array
            if progress is not None and (index % 1000 == 0 or index == len(paths) - 1):
                progress(index + 1, len(paths))
    image_set = ImageSet(
        torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
        torch.tensor(labels, dtype=torch.int64),
        classes,
        relative,
    )
    if cache_file is not None:
        with atomic_path(cache_file) as tmp:
            torch.save({"images": image_set.images, "labels": image_set.labels}, tmp)
    return image_set


def split_folders(root: Path) -> tuple[Path, Path] | None:
    """(train, held-out) sub-folders when ``root`` is split already, else None."""
    train = next((root / n for n in TRAIN_SPLIT_NAMES if (root / n).is_dir()), None)
    held_out = next((root / n for n in HELD_OUT_SPLIT_NAMES if (root / n).is_dir()), None)
    return (train, held_out) if train and held_out else None


# -- is the data there? ------------------------------------------------------------------------

# Where torchvision downloads CIFAR-10 from; a module attribute so that a test can point the
# reachability check at an address that refuses connections.
CIFAR10_URL = TorchvisionCIFAR10.url
# The whole check must answer within a couple of seconds: a page waits for it.
DOWNLOAD_PROBE_SECONDS = 2.0
# A machine's network changes rarely; probing once per couple of minutes is enough.
REACHABILITY_CACHE_SECONDS = 120.0

_reachability: dict[str, tuple[float, bool]] = {}  # url -> (monotonic time probed, reachable)
_reachability_lock = threading.Lock()


class DataAvailability(StrEnum):
    """Whether a data spec can be trained on here: what :func:`check_data` finds."""

    PRESENT = "present"  # CIFAR-10's batches are in the data folder, or the folder has images
    DOWNLOADABLE = "downloadable"  # CIFAR-10 is not here, and its download host answers
    OFFLINE = "offline"  # CIFAR-10 is not here, and its download host does not answer
    NO_SUCH_FOLDER = "no such folder"
    NO_CLASS_IMAGES = "no class images"  # a folder, but no sub-folder of it holds an image


USABLE_AVAILABILITIES = (DataAvailability.PRESENT, DataAvailability.DOWNLOADABLE)


@dataclass(frozen=True)
class DataCheck:
    """The answer of :func:`check_data`: what was asked, what was found, and where it looked."""

    data: str
    availability: DataAvailability
    location: Path  # the CIFAR-10 batches folder, or the image folder

    @property
    def usable(self) -> bool:
        return self.availability in USABLE_AVAILABILITIES

    def to_record(self) -> dict[str, str]:
        """Plain JSON types, as a failed run's status.json holds the check made when it failed."""
        return {
            "data": self.data,
            "availability": self.availability,
            "location": str(self.location),
        }

    @classmethod
    def from_record(cls, record: Any) -> DataCheck | None:
        """The check :meth:`to_record` wrote; None for anything else."""
        try:
            return cls(
                str(record["data"]),
                DataAvailability(record["availability"]),
                Path(record["location"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def cifar10_folder(data_dir: Path | None = None) -> Path:
    """The folder torchvision reads CIFAR-10 from (and downloads it into)."""
    data_dir = Path(data_dir) if data_dir is not None else settings.data_dir()
    return data_dir / TorchvisionCIFAR10.base_folder


def cifar10_present(data_dir: Path | None = None) -> bool:
    """Whether every file torchvision's CIFAR-10 reads is there (their checksums are checked
    when they are loaded: reading 180 MB is not a cheap check)."""
    folder = cifar10_folder(data_dir)
    names = [name for name, _ in TorchvisionCIFAR10.train_list + TorchvisionCIFAR10.test_list]
    names.append(TorchvisionCIFAR10.meta["filename"])
    return all((folder / name).is_file() for name in names)


def _answers(url: str) -> bool:
    # urllib, as torchvision's download does, so a proxy the download would use is used here too.
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_PROBE_SECONDS) as response:
            return response.status < 400
    except (OSError, ValueError):  # URLError and HTTPError are OSErrors
        return False


def download_reachable(url: str | None = None) -> bool:
    """Whether ``url`` (CIFAR-10's download by default) answers, within DOWNLOAD_PROBE_SECONDS.

    The answer is remembered for REACHABILITY_CACHE_SECONDS. The probe runs in a thread of its
    own because a name lookup ignores socket timeouts: a machine whose resolver hangs gets
    "unreachable" after DOWNLOAD_PROBE_SECONDS, and the lookup ends in the background.
    """
    url = url or CIFAR10_URL
    with _reachability_lock:
        probed = _reachability.get(url)
    if probed is not None and time.monotonic() - probed[0] < REACHABILITY_CACHE_SECONDS:
        return probed[1]
    answer: list[bool] = []
    probe = threading.Thread(target=lambda: answer.append(_answers(url)), daemon=True)
    probe.start()
    probe.join(DOWNLOAD_PROBE_SECONDS)
    reachable = bool(answer and answer[0])
    with _reachability_lock:
        _reachability[url] = (time.monotonic(), reachable)
    return reachable


def _has_image(folder: Path) -> bool:
    """Whether ``folder`` or any folder below it holds a file with an image extension."""
    for _root, _folders, files in os.walk(folder, followlinks=True):
        if any(name.lower().endswith(IMG_EXTENSIONS) for name in files):
            return True
    return False


def holds_class_images(root: Path) -> bool:
    """Whether some sub-folder of ``root`` holds an image: the least an image-folder data set
    needs. Stops at the first image, so a folder of 50,000 answers at once."""
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return False
    return any(entry.is_dir() and _has_image(Path(entry.path)) for entry in entries)


def check_data(spec: str, *, data_dir: Path | None = None) -> DataCheck:
    """Whether ``spec`` ("cifar10" or a folder) can be trained on here, without loading it.

    CIFAR-10 is present when its batches are in the data folder, else downloadable when its
    download host answers (see :func:`download_reachable`); a folder is present when some
    class sub-folder (of it, or of its train/ and held-out splits) holds an image.
    """
    if is_cifar10(spec):
        folder = cifar10_folder(data_dir)
        if cifar10_present(data_dir):
            found = DataAvailability.PRESENT
        elif download_reachable():
            found = DataAvailability.DOWNLOADABLE
        else:
            found = DataAvailability.OFFLINE
        return DataCheck(spec, found, folder)
    root = Path(spec).expanduser()
    if not root.is_dir():
        return DataCheck(spec, DataAvailability.NO_SUCH_FOLDER, root)
    pre_split = split_folders(root)
    roots = pre_split if pre_split is not None else (root,)
    if all(holds_class_images(folder) for folder in roots):
        return DataCheck(spec, DataAvailability.PRESENT, root)
    return DataCheck(spec, DataAvailability.NO_CLASS_IMAGES, root)


# -- the splits the trainer uses --------------------------------------------------------------


def load_splits(
    spec: str,
    *,
    data_dir: Path | None = None,
    val_fraction: float = DEFAULT_VAL_FRACTION,
    split_seed: int = 0,
    limit: int | None = None,
    download: bool = True,
    progress: ProgressFn | None = None,
) -> DataSplits:
    """Training and validation images for ``spec`` ("cifar10" or a folder path)."""
    data_dir = Path(data_dir) if data_dir is not None else settings.data_dir()
    cache_dir = data_dir / "cache"
    description: dict[str, Any] = {"spec": spec}
    if is_cifar10(spec):
        full = load_cifar10(data_dir, train=True, download=download)
        if limit is not None and limit < len(full):
            full = full.subset(seeded_subset(len(full), limit, split_seed))
        train_idx, val_idx = validation_split(len(full), val_fraction, split_seed)
        train, val = full.subset(train_idx), full.subset(val_idx)
        description.update(kind="cifar10", source="torchvision CIFAR10 (train split)")
        description.update(split=f"seeded {val_fraction:g} validation split, seed {split_seed}")
    else:
        root = Path(spec).expanduser()
        if not root.is_dir():
            message = _(
                "{folder}: no such folder. Use --data cifar10, or a folder with one sub-folder "
                "per class (optionally train/ and test/ inside)"
            )
            raise DataError(message.format(folder=root))
        pre_split = split_folders(root)
        if pre_split is not None:
            train_root, held_root = pre_split
            train = decode_folder(train_root, cache_dir=cache_dir, limit=limit, progress=progress)
            val_limit = None if limit is None else max(1, round(limit * val_fraction))
            val = decode_folder(held_root, cache_dir=cache_dir, limit=val_limit, progress=progress)
            if train.classes != val.classes:
                message = _("{folder}: train/ and {held_out}/ have different classes")
                raise DataError(message.format(folder=root, held_out=held_root.name))
            description.update(split=f"folders train/ and {held_root.name}/")
        else:
            full = decode_folder(
                root, cache_dir=cache_dir, limit=limit, limit_seed=split_seed, progress=progress
            )
            train_idx, val_idx = validation_split(len(full), val_fraction, split_seed)
            train, val = full.subset(train_idx), full.subset(val_idx)
            description.update(split=f"seeded {val_fraction:g} validation split, seed {split_seed}")
        description.update(kind="folder", source=str(root.resolve()))
    description.update(
        name=data_name(spec),
        classes=train.classes,
        train_images=len(train),
        val_images=len(val),
        fingerprint=_fingerprint(train, val),
    )
    return DataSplits(train, val, description)


@dataclass(frozen=True)
class ValidationFiles:
    """The images a folder's validation set is made of, listed but not decoded."""

    samples: list[tuple[str, int]]  # (file path, class index), in the trainer's order
    classes: list[str]
    held_out_folder: Path | None  # the test/ (or val/) sub-folder they are; None: a seeded split


def validation_files(
    root: Path | str, *, val_fraction: float = DEFAULT_VAL_FRACTION, split_seed: int = 0
) -> ValidationFiles:
    """The files ``load_splits`` (without ``limit``) validates on for ``root``, none decoded.

    A folder split already gives its held-out sub-folder's files; a plain one the images of the
    same listing and ``validation_split`` the trainer uses, so the same fraction and seed name
    the same images. Listing 50,000 files takes a fraction of a second.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        message = _("{folder}: no such folder (expected a folder with one sub-folder per class)")
        raise DataError(message.format(folder=root))
    pre_split = split_folders(root)
    if pre_split is not None:
        held_root = pre_split[1]
        samples, classes = list_folder(held_root)
        return ValidationFiles(samples, classes, held_root)
    samples, classes = list_folder(root)
    if not samples:
        message = _("{folder}: no images found in its class sub-folders")
        raise DataError(message.format(folder=root))
    val_indices = validation_split(len(samples), val_fraction, split_seed)[1]
    return ValidationFiles([samples[i] for i in val_indices.tolist()], classes, None)


def load_eval_set(
    spec: str,
    *,
    data_dir: Path | None = None,
    download: bool = True,
    progress: ProgressFn | None = None,
) -> ImageSet:
    """Images to evaluate on: CIFAR-10's test split, a folder's test/ split, or all of a folder."""
    data_dir = Path(data_dir) if data_dir is not None else settings.data_dir()
    if is_cifar10(spec):
        return load_cifar10(data_dir, train=False, download=download)
    root = Path(spec).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    pre_split = split_folders(root)
    target = pre_split[1] if pre_split is not None else root
    return decode_folder(target, cache_dir=data_dir / "cache", progress=progress)


def seeded_subset(n: int, limit: int, seed: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:limit].sort().values


def data_name(spec: str) -> str:
    if is_cifar10(spec):
        return "CIFAR-10"
    path = Path(spec).expanduser().resolve()
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _fingerprint(train: ImageSet, val: ImageSet) -> str:
    """A short hash of the exact images and labels, so runs on different data never mix."""
    digest = hashlib.blake2b(digest_size=8)
    for part in (train.images, train.labels, val.images, val.labels):
        digest.update(part.contiguous().numpy().tobytes())
    return digest.hexdigest()
