"""Tests for seattn.figures.atlas: each builder returns a valid Figure that shows its data."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from seattn.analysis.atlas.interventions import plan
from seattn.analysis.atlas.measures import block_measures
from seattn.figures import atlas as figures
from seattn.figures import explore

CLASSES = ["cat", "dog", "ship", "truck"]  # "truck" has no images below


def assert_valid(figure: go.Figure) -> None:
    """Rebuilding from the dict runs plotly's full validation of every property."""
    assert isinstance(figure, go.Figure)
    go.Figure(figure.to_dict())


@pytest.fixture
def data() -> tuple[torch.Tensor, torch.Tensor]:
    """60 images x 8 channels of weights, 3 classes of 20 images (class 3 absent)."""
    generator = torch.Generator().manual_seed(0)
    weights = torch.rand(60, 8, generator=generator)
    weights[:, 5] += 0.5  # a channel that clearly leads the order
    labels = torch.arange(60) % 3
    return weights.clamp(0, 1), labels


def summary_blocks(weights: torch.Tensor, labels: torch.Tensor) -> list[dict]:
    return [
        {"name": name, "channels": w.shape[1], **block_measures(w, labels, seed=0)}
        for name, w in (("block1", weights), ("block2", weights.flip(1) ** 2))
    ]


def records(clean: float = 0.8) -> list[dict]:
    out = []
    for number, intervention in enumerate(plan(["block1", "block2"])):
        accuracy = clean if intervention.kind == "clean" else 0.1 + 0.03 * number
        out.append(intervention.as_record(accuracy))
    return out


# -- depth ------------------------------------------------------------------------------------


def test_depth_figure_draws_each_measure_per_block(data) -> None:
    blocks = summary_blocks(*data)
    figure = figures.depth_figure(blocks)
    assert_valid(figure)
    by_name = {trace.name: trace for trace in figure.data}
    fixed = by_name["fixed per-channel gain"]
    adaptive = by_name["per-picture adaptation"]
    assert list(fixed.x) == ["block1", "block2"]
    assert list(fixed.customdata) == ["block1", "block2"]
    np.testing.assert_allclose(fixed.y, [b["fixed_share"] for b in blocks])
    np.testing.assert_allclose(np.add(fixed.y, adaptive.y), [1, 1])
    assert figure.layout.barmode == "stack"
    np.testing.assert_allclose(
        by_name["explained by the class (η²)"].y, [b["eta_squared"] for b in blocks]
    )
    floor = by_name["chance floor (labels shuffled)"]
    np.testing.assert_allclose(floor.y, [b["eta_squared_shuffled"] for b in blocks])
    assert floor.line.dash == "dash" and floor.yaxis == "y2"
    nearest = by_name["nearest class-mean accuracy"]
    assert nearest.yaxis == "y3" and list(nearest.customdata) == ["block1", "block2"]
    assert list(by_name["chance"].y) == pytest.approx([1 / 3, 1 / 3])
    for axis in ("yaxis", "yaxis2", "yaxis3"):
        assert tuple(figure.layout[axis].range) == (0, 1)


def test_depth_figure_leaves_an_undefined_measure_out(data) -> None:
    weights, _ = data
    one_class = torch.zeros(60, dtype=torch.int64)
    blocks = summary_blocks(weights, one_class)
    blocks[1]["fixed_share"] = None
    figure = figures.depth_figure(blocks)
    assert_valid(figure)
    by_name = {trace.name: trace for trace in figure.data}
    assert by_name["fixed per-channel gain"].y[1] is None
    assert by_name["per-picture adaptation"].y[1] is None
    assert by_name["fixed per-channel gain"].y[0] == pytest.approx(blocks[0]["fixed_share"])
    assert list(by_name["explained by the class (η²)"].y) == [None, None]
    assert list(by_name["nearest class-mean accuracy"].y) == [None, None]
    said = [(a.xref, a.x) for a in figure.layout.annotations if a.text == "not defined"]
    assert ("x", "block2") in said and ("x2", "block1") in said and ("x3", "block2") in said
    assert len(said) == 5


def test_depth_figure_without_blocks_says_so() -> None:
    figure = figures.depth_figure([])
    assert not figure.data and "no SE blocks" in figure.layout.annotations[0].text


def test_depth_comparison_one_line_per_model_and_grey_floors(data) -> None:
    first = summary_blocks(*data)
    second = summary_blocks(data[0] * 0.5, data[1])
    figure = figures.depth_comparison_figure({"r=4": first, "r=16": second, "no SE": []})
    assert_valid(figure)
    models = [t for t in figure.data if t.name in ("r=4", "r=16")]
    assert len(models) == 6  # two models x three panels
    assert [t.showlegend for t in models] == [True, True, False, False, False, False]
    eta = [t for t in models if t.yaxis == "y2"]
    np.testing.assert_allclose(eta[1].y, [b["eta_squared"] for b in second])
    floors = [t for t in figure.data if t.name == "chance floor (labels shuffled)"]
    assert len(floors) == 2 and all(t.yaxis == "y2" and t.line.dash == "dash" for t in floors)
    np.testing.assert_allclose(floors[0].y, [b["eta_squared_shuffled"] for b in first])
    chance = [t for t in figure.data if t.name == "chance"]
    assert [t.yaxis for t in chance] == ["y3", "y3"]
    assert sum(bool(t.showlegend) for t in floors + chance) == 2
    assert list(figure.layout.xaxis.categoryarray) == ["block1", "block2"]


def test_depth_comparison_with_nothing_says_so() -> None:
    for series in ({}, {"no SE": []}):
        figure = figures.depth_comparison_figure(series)
        assert not figure.data and figure.layout.annotations[0].text


# -- classes ----------------------------------------------------------------------------------


def test_channel_order_sorts_by_mean_weight_ties_by_index() -> None:
    weights = torch.tensor([[0.2, 0.9, 0.5, 0.9], [0.4, 0.7, 0.5, 0.7]])
    assert figures.channel_order(weights) == [1, 3, 2, 0]


def test_class_profile_heatmap_is_class_mean_minus_dataset_mean(data) -> None:
    weights, labels = data
    figure = figures.class_profile_heatmap(weights, labels, CLASSES, block="block1")
    assert_valid(figure)
    (heatmap,) = figure.data
    order = figures.channel_order(weights)
    assert order[0] == 5
    expected = np.stack(
        [weights[labels == c].double().mean(0) - weights.double().mean(0) for c in range(3)]
    )[:, order]
    np.testing.assert_allclose(heatmap.z, expected, atol=1e-6)
    assert list(heatmap.y) == ["cat", "dog", "ship"]  # the classes present
    assert heatmap.zmid == 0 and heatmap.zmin == -heatmap.zmax
    assert heatmap.zmax == pytest.approx(np.abs(expected).max(), rel=1e-6)
    assert (np.asarray(heatmap.customdata) == np.array(order)[None, :]).all()
    assert "%{customdata}" in heatmap.hovertemplate and "%{y}" in heatmap.hovertemplate
    assert list(figure.layout.xaxis.ticktext) == [str(c) for c in order]
    assert list(figure.layout.xaxis.tickvals) == list(range(8))


def test_class_lines_are_class_means_with_one_std_bands(data) -> None:
    weights, labels = data
    figure = figures.class_lines_figure(
        weights, labels, CLASSES, ["dog", "truck", "plane"], block="block2"
    )
    assert_valid(figure)
    order = figures.channel_order(weights)
    band, line, overall = figure.data  # "truck" has no images, "plane" is no class
    dog = weights[labels == 1].double()[:, order]
    np.testing.assert_allclose(line.y, dog.mean(0), atol=1e-6)
    assert list(line.customdata) == order and list(line.x) == list(range(8))
    spread = dog.std(0, unbiased=False).numpy()
    np.testing.assert_allclose(band.y[:8], dog.mean(0).numpy() + spread, atol=1e-6)
    np.testing.assert_allclose(band.y[8:], (dog.mean(0).numpy() - spread)[::-1], atol=1e-6)
    assert band.fill == "toself" and band.hoverinfo == "skip"
    np.testing.assert_allclose(overall.y, weights.double().mean(0)[order], atol=1e-6)
    assert overall.name.startswith("all images") and list(overall.customdata) == order
    assert list(figure.layout.xaxis.ticktext) == [str(c) for c in order]


def test_channel_order_axis_thins_many_ticks() -> None:
    weights = torch.rand(30, 128, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(30) % 2
    figure = figures.class_lines_figure(weights, labels, CLASSES, ["cat"], block="block3")
    axis = figure.layout.xaxis
    assert len(axis.tickvals) == figures.MAX_CHANNEL_TICKS
    order = figures.channel_order(weights)
    assert list(axis.ticktext) == [str(order[p]) for p in axis.tickvals]


def test_channel_distribution_boxes_hold_the_quartiles(data) -> None:
    weights, labels = data
    channel = weights[:, 2]
    figure = figures.channel_distribution_figure(
        channel, labels, CLASSES, block="block1", channel=2
    )
    assert_valid(figure)
    assert [t.name for t in figure.data] == ["cat", "dog", "ship"]
    for index, box in enumerate(figure.data):
        values = channel[labels == index].double().numpy()
        q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
        assert (box.q1[0], box.median[0], box.q3[0]) == pytest.approx((q1, median, q3))
        assert box.mean[0] == pytest.approx(values.mean())
        assert values.min() <= box.lowerfence[0] <= q1 <= q3 <= box.upperfence[0]
        assert box.upperfence[0] <= values.max()
        assert box.y is None and box.boxpoints is False  # no image's value is sent
    (line,) = figure.layout.shapes
    assert line.y0 == pytest.approx(float(channel.double().mean())) and line.line.dash == "dash"


def test_box_whiskers_stop_at_one_and_a_half_boxes() -> None:
    values = np.array([0.0, 0.40, 0.45, 0.5, 0.55, 0.6, 1.0])
    stats = figures._box_statistics(values)
    assert stats["lowerfence"] == [0.40] and stats["upperfence"] == [0.6]


def test_mean_map_is_a_square_heatmap_of_the_map() -> None:
    feature_map = torch.rand(16, 16)
    figure = figures.mean_map_figure(feature_map, block="block1", channel=7)
    assert_valid(figure)
    (heatmap,) = figure.data
    np.testing.assert_allclose(heatmap.z, feature_map.numpy())
    assert heatmap.colorscale == explore.MAPS_COLORSCALE  # the scale of Explore's maps
    assert figure.layout.yaxis.scaleanchor == "x"
    assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False
    assert "channel 7" in figure.layout.title.text


# -- interventions ----------------------------------------------------------------------------


def test_interventions_figure_groups_by_kind_and_marks_clean() -> None:
    interventions = records(clean=0.8)
    figure = figures.interventions_figure(interventions)
    assert_valid(figure)
    names = [t.name for t in figure.data]
    assert names[:5] == ["bypass", "mean_vector", "scalar", "other_image", "zero_top 10%"]
    assert "zero_random 25%" in names and "clean" not in names
    assert figure.layout.barmode == "group"
    assert list(figure.layout.xaxis.categoryarray) == ["block1", "block2", "all"]
    bypass = figure.data[0]
    assert list(bypass.x) == ["block1", "block2", "all"]
    expected = [r["accuracy"] for r in interventions if r["kind"] == "bypass"]
    assert list(bypass.y) == pytest.approx(expected)
    assert list(bypass.customdata) == pytest.approx([a - 0.8 for a in expected])
    zero_top = figure.data[names.index("zero_top 25%")]
    assert list(zero_top.x) == ["block1", "block2"]
    (clean,) = figure.layout.shapes
    assert clean.y0 == clean.y1 == pytest.approx(0.8) and clean.xref == "paper"
    assert "clean accuracy" in figure.layout.annotations[0].text
    assert tuple(figure.layout.yaxis.range) == (0, 1) and figure.layout.yaxis.tickformat == ".0%"


def test_interventions_figure_without_records_says_so() -> None:
    for interventions in ([], [{"kind": "clean", "blocks": "all", "k": None, "accuracy": 0.5}]):
        figure = figures.interventions_figure(interventions)
        assert not figure.data and figure.layout.annotations[0].text


def test_interventions_table_changes_against_clean() -> None:
    interventions = records(clean=0.8)
    table = figures.interventions_table(interventions)
    assert list(table.columns) == ["kind", "blocks", "k", "accuracy", "change"]
    assert len(table) == len(interventions) - 1 and "clean" not in set(table["kind"])
    np.testing.assert_allclose(table["change"], table["accuracy"] - 0.8)
    assert table["k"].iloc[0] is None  # bypass on block1
    zeroing = table[table["kind"] == "zero_top"]
    assert sorted(set(zeroing["k"])) == [0.1, 0.25]
    assert figures.interventions_table([]).empty


def test_every_figure_is_drawn_once_margins_set_and_no_label_measuring(data) -> None:
    """Margins that already hold the axis titles, colorbars and legends (plotly draws a chart
    again whenever its auto-margin grows them), and numeric axes and colorbars that skip plotly's
    per-label overflow check."""
    weights, labels = data
    summary = summary_blocks(weights, labels)
    built = [
        figures.depth_figure(summary),
        figures.depth_comparison_figure({"a": summary}),
        figures.class_profile_heatmap(weights, labels, CLASSES, block="block1"),
        figures.class_lines_figure(weights, labels, CLASSES, ["cat"], block="block1"),
        figures.channel_distribution_figure(
            weights[:, 0], labels, CLASSES, block="block1", channel=0
        ),
        figures.mean_map_figure(torch.rand(4, 4), block="block1", channel=0),
        figures.interventions_figure(records()),
    ]
    for figure in built:
        margin = figure.layout.margin
        assert margin.autoexpand is None  # still grows for what does not fit (long names)
        axes = [figure.layout[name] for name in figure.to_dict()["layout"] if "axis" in name]
        for axis in axes:
            if axis.type != "category" and axis.visible is not False:
                assert axis.ticklabeloverflow == "allow"
        for trace in figure.data:
            if trace.type == "heatmap":
                assert trace.colorbar.ticklabeloverflow == "allow"
        # the panels' y titles and tick labels, or a colorbar, or a legend below: not the default
        assert (margin.l, margin.r, margin.b) != (10, 10, 10)
