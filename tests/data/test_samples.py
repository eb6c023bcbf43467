"""The sample pictures shipped with the package, and the one rule that picks the examples."""

from __future__ import annotations

import json
from pathlib import Path

from seattn.data.cifar10 import CIFAR10_CLASSES
from seattn.data.datasets import validation_files
from seattn.data.examples import find_example_pool, sample_pool
from seattn.data.samples import MANIFEST, SAMPLES_DIR
from tests.helpers import write_image_folder

MAX_PER_CLASS = 3
MAX_BYTES = 300_000


def shipped() -> list[Path]:
    return sorted(p for p in SAMPLES_DIR.rglob("*") if p.suffix.lower() in (".jpg", ".png"))


def test_at_most_three_per_class_of_every_class_and_300_kb_in_all():
    files = shipped()
    per_class = {name: [f for f in files if f.parent.name == name] for name in CIFAR10_CLASSES}
    assert all(1 <= len(found) <= MAX_PER_CLASS for found in per_class.values()), per_class
    assert len(files) == sum(len(found) for found in per_class.values())
    assert sum(f.stat().st_size for f in files) <= MAX_BYTES


def test_the_manifest_names_every_shipped_file_and_its_source():
    manifest = json.loads((SAMPLES_DIR / MANIFEST).read_text())
    listed = sorted(entry["file"] for entries in manifest["classes"].values() for entry in entries)
    assert listed == [str(f.relative_to(SAMPLES_DIR)) for f in shipped()]


def test_each_sample_is_a_held_out_image_copied_byte_for_byte(real_data):
    manifest = json.loads((SAMPLES_DIR / MANIFEST).read_text())
    held_out = {Path(path).resolve() for path, _ in validation_files(real_data).samples}
    for entries in manifest["classes"].values():
        for entry in entries:
            source = real_data.resolve().parent.parent / entry["source"]
            assert source.resolve() in held_out, entry
            assert source.read_bytes() == (SAMPLES_DIR / entry["file"]).read_bytes()


def test_examples_come_from_the_first_data_set_found_else_from_the_samples(tmp_path):
    folder = write_image_folder(tmp_path / "images", per_class=10)
    found = find_example_pool([None, "cifar10", tmp_path / "missing", folder])
    assert not found.is_samples and found.root == folder
    assert sum(len(files) for files in found.files.values()) == 3  # the 10% held out of 30
    fallback = find_example_pool([None, "cifar10", tmp_path / "missing"])
    assert fallback.is_samples
    assert fallback.classes == list(CIFAR10_CLASSES)
    assert fallback.files == sample_pool().files
