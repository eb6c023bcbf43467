"""Tests for seattn.figures.explore: each builder returns a valid Figure showing its data."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from seattn.analysis import explore
from seattn.figures import explore as figures
from seattn.figures import style


def assert_valid(figure: go.Figure) -> None:
    """Rebuilding from the dict runs plotly's full validation of every property."""
    assert isinstance(figure, go.Figure)
    go.Figure(figure.to_dict())


def test_prediction_bars_most_probable_first_with_the_true_class_marked() -> None:
    top = [("cat", 0.7), ("dog", 0.2), ("car", 0.1)]
    figure = figures.prediction_bars(top, true_class="dog")
    assert_valid(figure)
    (bars,) = figure.data
    assert list(bars.y) == ["cat", "dog ✓", "car"]
    np.testing.assert_allclose(bars.x, [0.7, 0.2, 0.1], rtol=1e-6)
    assert list(bars.text) == ["70.0%", "20.0%", "10.0%"]
    assert bars.marker.color[0] == figures.HIGHLIGHT
    assert figure.layout.yaxis.autorange == "reversed"


def test_channel_weight_bars_sorted_by_weight_with_highlight_and_hover() -> None:
    weights = np.array([0.1, 0.8, 0.5, 0.95, 0.3], dtype=np.float32)
    figure = figures.channel_weight_bars(weights, highlight=[3, 1], highlight_label="2 strongest")
    assert_valid(figure)
    marked, others = figure.data
    assert marked.name == "2 strongest" and list(marked.x) == ["3", "1"]
    assert list(others.x) == ["2", "4", "0"]
    assert list(figure.layout.xaxis.categoryarray) == ["3", "1", "2", "4", "0"]
    assert list(marked.customdata) == [3, 1]
    assert "channel %{customdata}" in marked.hovertemplate and "%{y:.4f}" in marked.hovertemplate
    assert figure.layout.shapes[0].y0 == pytest.approx(weights.mean())


def test_channel_weight_bars_in_channel_order_default_highlight() -> None:
    weights = np.linspace(0, 1, 12, dtype=np.float32)
    figure = figures.channel_weight_bars(weights, order="channel")
    assert list(figure.layout.xaxis.categoryarray) == [str(i) for i in range(12)]
    assert sorted(int(c) for c in figure.data[0].x) == list(range(4, 12))  # the 8 strongest


@pytest.mark.parametrize(("channels", "step"), [(32, 1), (64, 2), (128, 4)])
def test_channel_weight_bars_number_every_block_thinned_to_a_readable_count(
    channels: int, step: int
) -> None:
    weights = np.random.default_rng(channels).random(channels, dtype=np.float32)
    figure = figures.channel_weight_bars(weights, order="weight")
    assert_valid(figure)
    axis = figure.layout.xaxis
    assert axis.showticklabels is not False and axis.tickmode == "array"
    # Every step-th bar as drawn (sorted by weight) carries its channel number.
    assert list(axis.tickvals) == list(axis.categoryarray)[::step] == list(axis.ticktext)
    assert len(axis.tickvals) == min(channels, figures.MAX_CHANNEL_TICKS)


def test_channel_weight_bars_against_the_data_set_draw_ticks_with_whiskers() -> None:
    weights = np.array([0.2, 0.9, 0.5], dtype=np.float32)
    means = np.array([0.3, 0.4, 0.5], dtype=np.float32)
    stds = np.array([0.05, 0.1, 0.2], dtype=np.float32)
    figure = figures.channel_weight_bars(
        weights, highlight=[1], channel_means=means, channel_stds=stds, reference_label="data"
    )
    assert_valid(figure)
    assert [trace.type for trace in figure.data] == ["bar", "bar", "scatter"]
    reference = figure.data[-1]
    assert reference.name == "data" and list(reference.x) == ["1", "2", "0"]  # the bars' order
    np.testing.assert_allclose(reference.y, [0.4, 0.5, 0.3])
    np.testing.assert_allclose(reference.error_y.array, [0.1, 0.2, 0.05])
    assert "channel %{customdata[0]:.0f}" in reference.hovertemplate
    assert tuple(figure.layout.yaxis.range) == (0, 1.02)


def test_channel_weight_bars_deviation_from_the_mean_sorted_largest_first() -> None:
    weights = np.array([0.2, 0.9, 0.5], dtype=np.float32)
    means = np.array([0.3, 0.4, 0.5], dtype=np.float32)
    stds = np.array([0.05, 0.1, 0.2], dtype=np.float32)
    figure = figures.channel_weight_bars(
        weights, highlight=[1], channel_means=means, channel_stds=stds, deviation=True
    )
    assert_valid(figure)
    marked, others, reference = figure.data
    assert list(figure.layout.xaxis.categoryarray) == ["1", "2", "0"]
    np.testing.assert_allclose(marked.y, [0.5])
    np.testing.assert_allclose(others.y, [0.0, -0.1], atol=1e-7)
    np.testing.assert_allclose(reference.y, [0, 0, 0])  # whiskers around zero
    low, high = figure.layout.yaxis.range
    assert low == -high and high >= 0.5
    assert figure.layout.yaxis.title.text == "weight − dataset mean"
    assert "%{y:+.4f}" in marked.hovertemplate


def test_channel_weight_bars_against_another_pass_without_spread() -> None:
    weights = np.array([0.2, 0.9], dtype=np.float32)
    original = np.array([0.25, 0.5], dtype=np.float32)
    figure = figures.channel_weight_bars(weights, channel_means=original, reference_label="was")
    assert_valid(figure)
    assert figure.data[-1].name == "was" and figure.data[-1].error_y.array is None
    deviation = figures.channel_weight_bars(weights, channel_means=original, deviation=True)
    assert [trace.type for trace in deviation.data] == ["bar"]  # no ticks at zero
    np.testing.assert_allclose(deviation.data[0].y, [0.4, -0.05], rtol=1e-6)


def test_channel_weight_bars_refuse_a_deviation_without_means_or_a_wrong_shape() -> None:
    weights = np.full(4, 0.5, dtype=np.float32)
    with pytest.raises(ValueError, match="channel_means"):
        figures.channel_weight_bars(weights, deviation=True)
    with pytest.raises(ValueError, match="channel_stds has shape"):
        figures.channel_weight_bars(weights, channel_means=weights, channel_stds=weights[:2])


def grid(count: int, difference: bool = False) -> explore.FeatureMapPanels:
    rng = np.random.default_rng(0)
    before = rng.random((count, 8, 8), dtype=np.float32)
    weights = rng.random(count, dtype=np.float32)
    channels = explore.choose_channels(weights, "all", 0)
    return explore.feature_map_panels(
        before, before * weights[:, None, None], channels, show_difference=difference
    )


@pytest.mark.parametrize("difference", [False, True])
def test_feature_map_grid_is_one_heatmap_per_panel_on_one_colour_scale(difference: bool) -> None:
    panels = grid(128, difference)
    figure = figures.feature_map_grid(panels)
    assert_valid(figure)
    assert len(figure.data) == len(panels.tiles) == (3 if difference else 2)
    assert all(trace.type == "heatmap" for trace in figure.data)
    assert {trace.coloraxis for trace in figure.data} == {"coloraxis"}
    assert figure.layout.coloraxis.cmax == pytest.approx(panels.zmax)
    assert [trace.xaxis for trace in figure.data] == ["x", "x2", "x3"][: len(figure.data)]
    first = figure.data[0]
    np.testing.assert_array_equal(first.customdata, panels.owner.astype(np.uint8))
    assert first.hoverongaps is False and "channel %{customdata}" in first.hovertemplate
    assert [a.text for a in figure.layout.annotations] == [f"<b>{t}</b>" for t in panels.titles]


def test_feature_map_grid_sends_compact_typed_arrays() -> None:
    figure = figures.feature_map_grid(grid(128))
    spec = json.loads(pio.to_json(figure, validate=False))
    assert spec["data"][0]["z"]["dtype"] == "f4"  # base64 float32, not decimal text
    assert spec["data"][0]["customdata"]["dtype"] == "u1"
    # 2 panels of ~10,500 cells at 4 + 1 bytes, base64 with plotly's escaped "/": ~190 kB.
    # The same values as decimal text would be several times larger.
    as_text = go.Figure(figure)
    as_text.data[0].z = figure.data[0].z.astype(float).tolist()
    assert figures.payload_bytes([figure]) < 250_000
    assert figures.payload_bytes([figure]) < figures.payload_bytes([as_text]) * 0.75


def test_channel_zoom_shows_one_channel_before_and_after() -> None:
    before = np.arange(16, dtype=np.float32).reshape(4, 4)
    figure = figures.channel_zoom(before, before * 0.25, channel=7, weight=0.25)
    assert_valid(figure)
    assert len(figure.data) == 2
    np.testing.assert_array_equal(figure.data[1].z, before * 0.25)
    assert figure.layout.coloraxis.cmax == pytest.approx(15.0)
    assert "Channel 7" in figure.layout.annotations[0].text
    assert "0.250" in figure.layout.annotations[1].text


def test_excitation_matrix_is_images_by_channels() -> None:
    weights = np.random.default_rng(0).random((3, 64), dtype=np.float32)
    figure = figures.excitation_matrix(weights, ["a", "b", "c"])
    assert_valid(figure)
    (heatmap,) = figure.data
    assert heatmap.z.shape == (3, 64) and list(heatmap.y) == ["a", "b", "c"]
    assert (heatmap.zmin, heatmap.zmax) == style.WEIGHTS_RANGE == (0, 1)
    assert heatmap.colorscale == style.WEIGHTS_COLORSCALE


def test_weights_and_activations_have_their_own_colour_scales() -> None:
    assert style.WEIGHTS_COLORSCALE != style.ACTIVATIONS_COLORSCALE
    assert figures.MAPS_COLORSCALE == style.ACTIVATIONS_COLORSCALE  # the name atlas imports
    maps = figures.feature_map_grid(grid(8))
    zoom = figures.channel_zoom(np.ones((4, 4), np.float32), np.ones((4, 4), np.float32), 0, 1.0)
    schematic = figures.se_schematic(explore.toy_se_example())
    for figure in (maps, zoom, schematic):
        assert figure.layout.coloraxis.colorscale == style.ACTIVATIONS_COLORSCALE
    # Sent as stops, never as a name: plotly.js does not know "Inferno" and would fall back to
    # the page theme's scale without a word. And never as #000001..#000040, the hex colours
    # Streamlit's chart theme replaces by its own (Inferno's darkest is #000004).
    spec = json.loads(pio.to_json(maps, validate=False))
    stops = spec["layout"]["coloraxis"]["colorscale"]
    assert stops[0] == [0.0, "rgb(0, 0, 4)"] and stops[-1][0] == 1.0
    for scale in (style.WEIGHTS_COLORSCALE, style.ACTIVATIONS_COLORSCALE):
        assert all(colour.startswith("rgb(") for _, colour in scale)


def test_se_schematic_draws_maps_squeeze_weights_and_scaled_maps() -> None:
    toy = explore.toy_se_example()
    figure = figures.se_schematic(toy)
    assert_valid(figure)
    types = [trace.type for trace in figure.data]
    assert types == ["heatmap", "bar", "bar", "heatmap"]
    np.testing.assert_allclose(figure.data[2].x, toy.weights)
    # The bars sit beside their maps: bar centres are the tile centres.
    height = toy.before.shape[1]
    centres = figure.data[1].y
    assert centres[1] - centres[0] == height + 2


def test_payload_bytes_counts_json() -> None:
    empty = go.Figure()
    assert figures.payload_bytes([empty, empty]) == 2 * len(empty.to_json().encode())


def test_assert_valid_catches_what_the_builders_skip_checking() -> None:
    # The builders assemble figures without plotly's validation (for speed); this is the check.
    with pytest.raises(ValueError, match="colour"):
        assert_valid(go.Figure(data=[{"type": "bar", "colour": "red"}], _validate=False))
