"""Tests for seattn.analysis.explore: the recorded numbers, channel choice, tiling and tables."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from seattn.analysis import explore
from seattn.analysis.statistics import STATISTICS
from seattn.data.images import open_image
from seattn.model.cnn import SECNN

CLASSES = ["circle", "square", "stripes"]


@pytest.fixture(scope="module")
def model() -> SECNN:
    torch.manual_seed(0)
    # r=4 keeps a hidden width of 8 even in block 1, so weights differ between channels.
    return SECNN(reduction_ratio=4, num_classes=len(CLASSES)).eval()


@pytest.fixture(scope="module")
def pictures() -> list[Image.Image]:
    rng = np.random.default_rng(1)
    sizes = [(32, 32), (50, 70), (90, 40)]
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in sizes]


@pytest.fixture(scope="module")
def analysis(model: SECNN, pictures: list[Image.Image]) -> explore.Analysis:
    return explore.analyse(model, CLASSES, pictures, ["a.png", "b.png", "a.png"])


# -- the recorded forward pass ----------------------------------------------------------------


def test_recorded_weights_equal_a_manual_recomputation(
    model: SECNN, analysis: explore.Analysis
) -> None:
    for (_, se), record in zip(model.attention_blocks(), analysis.blocks, strict=True):
        squeezed = record.before.mean(dim=(2, 3))
        first, _, second, _ = se.excitation
        manual = torch.sigmoid(torch.relu(squeezed @ first.weight.T) @ second.weight.T)
        torch.testing.assert_close(record.squeeze, squeezed)
        torch.testing.assert_close(record.weights, manual)


def test_after_is_before_times_the_weights(analysis: explore.Analysis) -> None:
    for record in analysis.blocks:
        torch.testing.assert_close(record.after, record.before * record.weights[:, :, None, None])


def test_analysis_has_one_row_per_image_and_the_blocks_in_order(
    analysis: explore.Analysis,
) -> None:
    assert analysis.names == ["#1 a.png", "#2 b.png", "#3 a.png"]
    assert [b.name for b in analysis.blocks] == ["block1", "block2", "block3"]
    assert [analysis.weights(i).shape for i in range(3)] == [(3, 32), (3, 64), (3, 128)]
    top = analysis.top_k()
    assert len(top) == 3 and all(len(row) == 3 for row in top)  # only 3 classes exist
    assert all(row[0][1] >= row[-1][1] for row in top)
    assert set(analysis.statistics(0, 0)) == set(STATISTICS)


def test_pictures_are_numbered_by_their_place_in_every_table(analysis: explore.Analysis) -> None:
    # Two uploads called a.png (from two folders) are #1 and #3, as the gallery numbers them.
    assert explore.numbered_names(["0000.jpg", "0000.jpg"]) == ["#1 0000.jpg", "#2 0000.jpg"]
    table = explore.weights_table(analysis)
    assert list(table["image"].unique()) == ["#1 a.png", "#2 b.png", "#3 a.png"]
    document = json.loads(explore.predictions_json(analysis, {"name": "tiny"}))
    assert [p["image"] for p in document["predictions"]] == ["#1 a.png", "#2 b.png", "#3 a.png"]


def test_a_model_without_se_still_predicts(pictures: list[Image.Image]) -> None:
    baseline = SECNN(reduction_ratio=None, num_classes=3).eval()
    result = explore.analyse(baseline, CLASSES, pictures[:1], ["x.png"])
    assert not result.has_se
    assert result.top_k()[0][0][0] in CLASSES
    assert explore.weights_table(result).empty
    assert list(explore.weights_table(result).columns) == ["image", "block", "channel", "weight"]


def test_choose_channels_top_bottom_all_with_stable_ties() -> None:
    weights = np.array([0.2, 0.9, 0.5, 0.9, 0.1])
    assert explore.choose_channels(weights, "top", 3).tolist() == [1, 3, 2]
    assert explore.choose_channels(weights, "bottom", 2).tolist() == [4, 0]
    assert explore.choose_channels(weights, "all", 2).tolist() == [0, 1, 2, 3, 4]
    assert explore.choose_channels(weights, "top", 99).tolist() == [1, 3, 2, 0, 4]
    assert explore.choose_channels(weights, "top", 0).tolist() == [1]
    with pytest.raises(ValueError, match="unknown channel choice"):
        explore.choose_channels(weights, "middle", 2)  # type: ignore[arg-type]


def test_tile_maps_places_each_map_with_a_blank_gutter() -> None:
    maps = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    channels = np.array([7, 3, 9, 1, 4])
    tiled, owner = explore.tile_maps(maps, channels, columns=3)
    assert tiled.shape == (2 * 3 - 1, 3 * 4 - 1) and tiled.dtype == np.float32
    np.testing.assert_array_equal(tiled[0:2, 4:7], maps[1])  # slot 1: row 0, column 1
    np.testing.assert_array_equal(tiled[3:5, 4:7], maps[4])  # slot 4: row 1, column 1
    assert np.isnan(tiled[2]).all() and np.isnan(tiled[:, 3]).all()  # gutters
    assert np.isnan(tiled[3:5, 8:11]).all()  # the unused sixth slot
    assert (owner[3:5, 4:7] == 4).all() and (owner[2] == -1).all()
    assert set(np.unique(owner)) == {-1, 7, 3, 9, 1, 4}


def test_feature_map_panels_share_one_scale_and_can_show_the_difference(
    analysis: explore.Analysis,
) -> None:
    record = analysis.blocks[0]
    channels = explore.choose_channels(analysis.weights(0)[0], "top", 4)
    panels = explore.feature_map_panels(
        record.before[0], record.after[0], channels, show_difference=True
    )
    assert len(panels.titles) == len(panels.tiles) == 3
    before, after, removed = panels.tiles
    np.testing.assert_allclose(np.nan_to_num(removed), np.nan_to_num(before - after), atol=1e-6)
    assert panels.zmax == pytest.approx(float(np.nanmax(before)))
    assert (np.nan_to_num(after) <= np.nan_to_num(before) + 1e-6).all()


def test_per_channel_scale_divides_by_each_channels_peak(analysis: explore.Analysis) -> None:
    record = analysis.blocks[2]
    weights = analysis.weights(2)[1]
    channels = explore.choose_channels(weights, "top", 5)
    panels = explore.feature_map_panels(
        record.before[1], record.after[1], channels, per_channel_scale=True
    )
    before, after = panels.tiles
    height = record.before.shape[2]
    first_before = before[:height, :height]
    first_after = after[:height, :height]
    if first_before.max() > 0:
        assert first_before.max() == pytest.approx(1.0)
        assert first_after.max() == pytest.approx(weights[channels[0]], rel=1e-5)
    assert "peak" in panels.value_label


# -- downloads --------------------------------------------------------------------------------


def test_weights_table_has_a_row_per_image_block_and_channel(analysis: explore.Analysis) -> None:
    table = explore.weights_table(analysis)
    assert list(table.columns) == ["image", "block", "channel", "weight"]
    assert len(table) == 3 * (32 + 64 + 128)
    row = table[(table.image == "#2 b.png") & (table.block == "block2") & (table.channel == 5)]
    assert row.weight.item() == pytest.approx(float(analysis.blocks[1].weights[1, 5]))
    parsed = pd.read_csv(io.BytesIO(explore.weights_csv(analysis)))
    assert parsed.shape == table.shape
    np.testing.assert_allclose(parsed.weight, table.weight, rtol=1e-5)


def test_predictions_json_names_the_model_and_each_images_top_classes(
    analysis: explore.Analysis,
) -> None:
    document = json.loads(explore.predictions_json(analysis, {"name": "tiny"}, k=2))
    assert document["model"] == {"name": "tiny"}
    assert [p["image"] for p in document["predictions"]] == analysis.names
    first = document["predictions"][0]
    assert first["true_class"] is None and len(first["top_k"]) == 2
    assert first["top_k"][0]["class"] == analysis.top_k(1)[0][0][0]


def test_prepare_keeps_a_small_preview_and_exactly_what_the_model_sees(
    model: SECNN,
) -> None:
    rng = np.random.default_rng(5)
    photo = Image.fromarray(rng.integers(0, 256, (900, 1600, 3), dtype=np.uint8))
    checked = open_image(encode_png(photo), "wide.png")
    ready = explore.prepare(checked, true_class="square")
    assert max(ready.preview.size) == explore.PREVIEW_SIDE
    assert ready.view.size == (32, 32) and ready.original_size == (1600, 900)
    assert ready.crop == checked.model_crop and ready.crop.box == (350, 0, 1250, 900)
    assert (ready.name, ready.format, ready.true_class) == ("wide.png", "PNG", "square")
    # Running the 32x32 view is running the full image: same input, same numbers.
    direct = explore.analyse(model, CLASSES, [checked.image], ["wide.png"])
    via_view = explore.analyse_prepared(model, CLASSES, [ready])
    torch.testing.assert_close(via_view.result.probabilities, direct.result.probabilities)
    assert via_view.true_classes == ["square"]
    assert explore.enlarged(ready.view, scale=4).size == (128, 128)


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_toy_se_example_is_squeeze_excite_scale_worked_through() -> None:
    toy = explore.toy_se_example()
    np.testing.assert_allclose(toy.squeeze, toy.before.mean(axis=(1, 2)), rtol=1e-6)
    np.testing.assert_allclose(toy.after, toy.before * toy.weights[:, None, None], rtol=1e-6)
    assert len(toy.names) == toy.before.shape[0] == 4
    assert ((toy.weights > 0) & (toy.weights < 1)).all()
