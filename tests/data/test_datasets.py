from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from seattn.data.datasets import (
    DataError,
    decode_folder,
    load_eval_set,
    load_splits,
    validation_files,
    validation_split,
)
from tests.helpers import CLASSES, write_image_folder


def test_validation_split_is_seeded_disjoint_and_complete():
    train_a, val_a = validation_split(1000, 0.1, seed=3)
    train_b, val_b = validation_split(1000, 0.1, seed=3)
    _, val_c = validation_split(1000, 0.1, seed=4)
    assert torch.equal(val_a, val_b) and torch.equal(train_a, train_b)
    assert not torch.equal(val_a, val_c)
    assert len(val_a) == 100 and len(train_a) == 900
    assert sorted(torch.cat([train_a, val_a]).tolist()) == list(range(1000))


def test_bad_fractions_are_refused():
    with pytest.raises(DataError):
        validation_split(100, 0.0, 0)
    with pytest.raises(DataError, match="too few"):
        validation_split(1, 0.5, 0)


def test_decode_folder_reads_classes_labels_and_pixels(image_folder, tmp_path):
    image_set = decode_folder(image_folder)
    assert image_set.classes == list(CLASSES)
    assert image_set.images.shape == (120, 3, 32, 32) and image_set.images.dtype == torch.uint8
    assert torch.bincount(image_set.labels).tolist() == [40, 40, 40]
    first = Image.open(image_folder / image_set.files[0]).convert("RGB")
    expected = torch.from_numpy(np.array(first)).permute(2, 0, 1)
    assert torch.equal(image_set.images[0], expected)


def test_cache_is_used_and_keyed_by_content(tmp_path):
    root = write_image_folder(tmp_path / "imgs", per_class=4)
    cache = tmp_path / "cache"
    first = decode_folder(root, cache_dir=cache)
    assert len(list(cache.glob("*.pt"))) == 1
    again = decode_folder(root, cache_dir=cache)
    assert torch.equal(first.images, again.images)
    assert len(list(cache.glob("*.pt"))) == 1
    # Changing one image's bytes changes the key: a new cache entry, with the new pixels.
    Image.new("RGB", (32, 32), (255, 0, 0)).save(root / CLASSES[0] / "0000.png")
    changed = decode_folder(root, cache_dir=cache)
    assert len(list(cache.glob("*.pt"))) == 2
    assert changed.images[0, 0].eq(255).all()


def test_larger_images_are_centre_cropped_and_resized(tmp_path):
    root = tmp_path / "big"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir(parents=True)
    wide = Image.new("RGB", (96, 64), (0, 0, 255))
    wide.paste((255, 255, 255), (0, 0, 16, 64))  # left band, outside the centre square
    wide.save(root / "a" / "x.png")
    Image.new("RGB", (50, 50), (0, 255, 0)).save(root / "b" / "y.jpg")
    image_set = decode_folder(root)
    assert image_set.images.shape == (2, 3, 32, 32)
    assert image_set.images[0, 2].min() > 200 and image_set.images[0, 0].max() < 30


def test_limit_picks_a_seeded_subset(image_folder):
    a = decode_folder(image_folder, limit=30, limit_seed=1)
    b = decode_folder(image_folder, limit=30, limit_seed=1)
    assert len(a) == 30 and a.files == b.files


def test_splits_from_a_plain_folder(image_folder, tmp_path):
    splits = load_splits(str(image_folder), data_dir=tmp_path, val_fraction=0.25, split_seed=0)
    assert len(splits.train) == 90 and len(splits.val) == 30
    assert splits.description["kind"] == "folder"
    assert splits.description["classes"] == list(CLASSES)
    again = load_splits(str(image_folder), data_dir=tmp_path, val_fraction=0.25, split_seed=0)
    assert torch.equal(splits.val.images, again.val.images)
    assert splits.description["fingerprint"] == again.description["fingerprint"]
    other = load_splits(str(image_folder), data_dir=tmp_path, val_fraction=0.25, split_seed=1)
    assert other.description["fingerprint"] != splits.description["fingerprint"]


def test_train_and_test_subfolders_are_used_when_present(tmp_path):
    root = tmp_path / "split"
    write_image_folder(root / "train", per_class=6, seed=1)
    write_image_folder(root / "test", per_class=2, seed=2)
    splits = load_splits(str(root), data_dir=tmp_path)
    assert len(splits.train) == 18 and len(splits.val) == 6
    assert "train/ and test/" in splits.description["split"]
    assert len(load_eval_set(str(root), data_dir=tmp_path)) == 6


def test_validation_files_are_the_images_load_splits_validates_on(image_folder, tmp_path):
    listing = validation_files(image_folder, val_fraction=0.25, split_seed=2)
    splits = load_splits(str(image_folder), data_dir=tmp_path, val_fraction=0.25, split_seed=2)
    assert listing.held_out_folder is None and listing.classes == list(CLASSES)
    listed = [str(Path(path).relative_to(image_folder)) for path, _ in listing.samples]
    assert listed == splits.val.files
    assert [label for _, label in listing.samples] == splits.val.labels.tolist()


def test_validation_files_of_a_split_folder_are_its_held_out_folder(tmp_path):
    root = tmp_path / "split"
    write_image_folder(root / "train", per_class=3, seed=1)
    write_image_folder(root / "val", per_class=2, seed=2)
    listing = validation_files(root)
    assert listing.held_out_folder == root / "val" and len(listing.samples) == 6
    with pytest.raises(DataError, match="no such folder"):
        validation_files(tmp_path / "absent")


def test_missing_folder_and_empty_folder_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        load_splits(str(tmp_path / "absent"), data_dir=tmp_path)
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match="no images"):
        decode_folder(tmp_path / "empty")


def test_cifar10_offline_names_the_folder_to_fill(tmp_path):
    with pytest.raises(DataError, match=r"cifar-10-batches-py.*--data PATH"):
        load_splits("cifar10", data_dir=tmp_path / "nowhere", download=False)


def test_unreadable_image_names_the_file(tmp_path):
    root = tmp_path / "bad"
    (root / "a").mkdir(parents=True)
    (root / "a" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png"):
        decode_folder(root)


def test_real_cifar_folder_has_ten_classes_in_cifar_order(real_data):
    from seattn.data.cifar10 import CIFAR10_CLASSES

    image_set = decode_folder(real_data, limit=50)
    assert image_set.classes == list(CIFAR10_CLASSES)
    assert image_set.images.shape == (50, 3, 32, 32)
