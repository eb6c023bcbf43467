"""One pass over a generated folder: what the atlas holds, its cache, and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from seattn.analysis.atlas import open_atlas, resolve_request
from seattn.analysis.atlas.build import cache_path, file_sha
from seattn.analysis.atlas.evaluation_set import EvaluationRequest, Split
from seattn.analysis.atlas.interventions import ALL_BLOCKS
from seattn.analysis.atlas.measures import MEASURES
from seattn.data.datasets import DataError
from seattn.data.images import normalize_uint8
from seattn.model.checkpoints import load_model
from tests.helpers import CLASSES, write_checkpoint, write_image_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("atlas-images"), per_class=12)


@pytest.fixture
def checkpoint(tmp_path, folder) -> Path:
    return write_checkpoint(tmp_path / "se-r4.pt", 4, data=folder)


def test_the_json_names_every_measure_and_intervention(checkpoint, folder):
    atlas = open_atlas(checkpoint, data=str(folder), split="all")
    summary = atlas.summary()
    assert {"model", "data", "images", "clean_accuracy", "blocks", "interventions"} <= set(summary)
    assert summary["images"] == 36
    assert [b["name"] for b in summary["blocks"]] == ["block1", "block2", "block3"]
    assert [b["channels"] for b in summary["blocks"]] == [32, 64, 128]
    assert all(set(MEASURES) <= set(b) for b in summary["blocks"])
    kinds = {(r["kind"], r["blocks"]) for r in summary["interventions"]}
    assert ("other_image", ALL_BLOCKS) in kinds and ("zero_random", "block2") in kinds
    assert all(set(r) == {"kind", "blocks", "k", "accuracy"} for r in summary["interventions"])


def test_weights_top_images_and_mean_maps_match_the_model_run_directly(checkpoint, folder):
    atlas = open_atlas(checkpoint, data=str(folder), split="all", precision="float32")
    model, _ = load_model(checkpoint)
    request = EvaluationRequest(str(folder.resolve()), Split.ALL)
    from seattn.analysis.atlas.evaluation_set import load_evaluation_set

    images = load_evaluation_set(request).images
    with torch.inference_mode():
        logits, records = model.forward_recorded(normalize_uint8(images))
    assert torch.equal(atlas.predictions, logits.argmax(dim=1))
    block = atlas.block("block2")
    assert torch.allclose(block.weights, records[1].weights, atol=1e-5)
    channel = 5
    top = block.top[channel]
    assert (
        block.weights[top, channel] >= block.weights[:, channel].sort().values[-16] - 1e-6
    ).all()
    expected_map = records[1].before[top, channel].mean(dim=0)
    assert torch.allclose(block.mean_maps[channel], expected_map, atol=1e-4)
    for index in top.tolist():
        assert (atlas.thumbnail(index) == images[index].permute(1, 2, 0).numpy()).all()


def test_the_cache_is_reused_and_a_truncated_or_foreign_one_is_recomputed(checkpoint, folder):
    first = open_atlas(checkpoint, data=str(folder), split="all")
    request = resolve_request(load_model(checkpoint)[1], data=str(folder), split="all")
    path = cache_path(file_sha(checkpoint), request)
    assert path.is_file()
    stamp = path.stat().st_mtime_ns
    again = open_atlas(checkpoint, data=str(folder), split="all", cached_only=True)
    assert again is not None and again.summary() == first.summary()
    assert path.stat().st_mtime_ns == stamp

    path.write_bytes(path.read_bytes()[:2000])  # truncated
    assert open_atlas(checkpoint, data=str(folder), split="all", cached_only=True) is None
    rebuilt = open_atlas(checkpoint, data=str(folder), split="all")
    assert rebuilt.summary() == first.summary()

    other = write_checkpoint(checkpoint.parent / "other.pt", 4, data=folder, seed=1)
    other_path = cache_path(file_sha(other), request)
    shutil.copy(path, other_path)  # another model's atlas under this model's name
    assert open_atlas(other, data=str(folder), split="all", cached_only=True) is None


def test_changed_images_make_a_cached_atlas_stale(checkpoint, tmp_path):
    folder = write_image_folder(tmp_path / "changing", per_class=4)
    open_atlas(checkpoint, data=str(folder), split="all")
    write_image_folder(folder, per_class=4, seed=9)  # the same files, other pictures
    assert open_atlas(checkpoint, data=str(folder), split="all", cached_only=True) is None


def test_a_model_without_se_has_nothing_to_measure_but_its_accuracy(tmp_path, folder):
    plain = write_checkpoint(tmp_path / "no-se.pt", None, data=folder)
    atlas = open_atlas(plain, data=str(folder), split="all")
    assert not atlas.has_se
    assert atlas.summary()["blocks"] == [] and atlas.summary()["interventions"] == []
    assert 0.0 <= atlas.clean_accuracy <= 1.0


def test_a_folder_without_images_is_a_clear_error(checkpoint, tmp_path):
    empty = tmp_path / "empty"
    (empty / "cat").mkdir(parents=True)
    with pytest.raises(DataError, match="no images"):
        open_atlas(checkpoint, data=str(empty), split="all")
    with pytest.raises(DataError, match="no such folder"):
        open_atlas(checkpoint, data=str(tmp_path / "missing"))


def test_classes_the_model_does_not_know_are_refused_and_a_subset_is_renumbered(
    checkpoint, tmp_path
):
    strangers = write_image_folder(tmp_path / "strangers", per_class=3)
    (strangers / "circle").rename(strangers / "zebra")
    with pytest.raises(DataError, match="zebra"):
        open_atlas(checkpoint, data=str(strangers), split="all")

    subset = write_image_folder(tmp_path / "subset", per_class=3)
    shutil.rmtree(subset / "circle")
    atlas = open_atlas(checkpoint, data=str(subset), split="all")
    assert atlas.classes == list(CLASSES)
    assert set(atlas.labels.tolist()) == {CLASSES.index("square"), CLASSES.index("stripes")}


def test_one_class_leaves_eta_squared_undefined_and_says_why(checkpoint, tmp_path):
    single = write_image_folder(tmp_path / "single", per_class=4)
    shutil.rmtree(single / "circle")
    shutil.rmtree(single / "square")
    block = open_atlas(checkpoint, data=str(single), split="all").summary()["blocks"][0]
    assert block["eta_squared"] is None
    assert "one class" in block["undefined"]["eta_squared"]


@pytest.mark.parametrize("attention", ["eca", "cbam"])
def test_eca_and_cbam_are_measured_through_the_same_interface(attention, tmp_path, folder):
    checkpoint = write_checkpoint(tmp_path / f"{attention}.pt", 4, data=folder, attention=attention)
    atlas = open_atlas(checkpoint, data=str(folder), split="all", precision="float32")
    model, _ = load_model(checkpoint)
    assert atlas.has_se and [b.name for b in atlas.blocks] == ["block1", "block2", "block3"]
    request = EvaluationRequest(str(folder.resolve()), Split.ALL)
    from seattn.analysis.atlas.evaluation_set import load_evaluation_set

    images = load_evaluation_set(request).images
    with torch.inference_mode():
        logits, records = model.forward_recorded(normalize_uint8(images))
        # bypass everywhere: the same network with every channel weight forced to 1
        forced, _ = model.forward_recorded(
            normalize_uint8(images), adjust={r.name: torch.ones_like for r in records}
        )
    assert torch.allclose(atlas.block("block3").weights, records[2].weights, atol=1e-5)
    bypass = next(
        r for r in atlas.summary()["interventions"]
        if r["kind"] == "bypass" and r["blocks"] == ALL_BLOCKS
    )  # fmt: skip
    labels = load_evaluation_set(request).labels
    expected = (forced.argmax(dim=1) == labels).float().mean().item()
    assert bypass["accuracy"] == pytest.approx(expected, abs=1e-6)
