"""Tests for seattn.figures.compare: the comparison's figures draw its tables."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from seattn.analysis.compare import attention, tables
from seattn.figures import compare as compare_figures
from tests.helpers_compare import main_group


def test_figures_draw_the_tables(store, groups):
    group = main_group(groups)
    table = tables.variants_table(group)
    accuracy = compare_figures.accuracy_vs_ratio(table)
    assert [t.name for t in accuracy.data] == ["best val accuracy", "final val accuracy"]
    assert list(accuracy.data[0].x) == ["no SE", "r=4", "r=8"]
    assert list(accuracy.data[0].y) == pytest.approx(table["best val accuracy"].tolist())
    assert accuracy.data[0].error_y.array[1] == pytest.approx(table["best val accuracy std"][1])
    parameters = compare_figures.parameters_vs_ratio(table)
    assert list(parameters.data[0].y) == table["attention parameters"].tolist()
    # A group of SE ratios alone is still titled by the ratio.
    assert accuracy.layout.title.text == "Accuracy against reduction ratio"
    assert parameters.layout.annotations[0].text == "SE parameters"
    curves = compare_figures.learning_curves_figure(tables.learning_curves(group))
    assert {t.name for t in curves.data if t.showlegend} == {"no SE", "r=4", "r=8"}

    images = attention.validation_images(group, data_dir=store["data"])
    measured = attention.measure_excitation(group, images, max_images=10)
    stats = compare_figures.excitation_statistics_figure(measured.summary)
    assert len(stats.data) == 3 * 3  # three statistics x three blocks
    seen = attention.image_excitation(group, images.images[0])
    vectors = compare_figures.image_excitation_figure(seen.vectors)
    assert [t.z.shape for t in vectors.data] == [(2, 32), (2, 64), (2, 128)]
    heatmap = compare_figures.similarity_figure(seen.correlation)
    assert heatmap.layout.coloraxis.cmin == -1 and len(heatmap.data) == 3


def test_figures_say_when_there_is_nothing_to_draw():
    empty = pd.DataFrame()
    for figure in (
        compare_figures.accuracy_vs_ratio(empty),
        compare_figures.parameters_vs_ratio(empty),
        compare_figures.learning_curves_figure(empty),
        compare_figures.excitation_statistics_figure(empty),
        compare_figures.image_excitation_figure({}),
        compare_figures.similarity_figure({}),
        compare_figures.step_time_figure(empty),
    ):
        assert isinstance(figure, go.Figure) and not figure.data
        assert figure.layout.annotations


def test_attention_modules_are_drawn_as_variants_beside_the_ratios(kinds_groups):
    table = tables.variants_table(kinds_groups[0])
    accuracy = compare_figures.accuracy_vs_ratio(table)
    assert list(accuracy.data[0].x) == ["no SE", "r=4", "r=8", "ECA", "CBAM r=4"]
    assert accuracy.layout.title.text == "Accuracy per attention module"
    assert accuracy.layout.xaxis.title.text == "attention module and ratio"
    parameters = compare_figures.parameters_vs_ratio(table)
    assert parameters.layout.annotations[0].text == "Attention parameters"
    assert list(parameters.data[0].y) == table["attention parameters"].tolist()
    colours = list(parameters.data[0].marker.color)
    assert colours[0] == compare_figures.BASELINE_COLOUR and len(set(colours)) == 5


def test_step_time_figure_draws_the_measured_steps():
    times = pd.DataFrame(
        {
            "variant": ["no SE", "ECA", "CBAM r=16"],
            "attention": ["none", "eca", "cbam"],
            "reduction ratio": pd.array([None, None, 16], dtype="Int64"),
            "batch size": [128] * 3,
            "threads": [2] * 3,
            "ms per step": [100.0, 110.0, 150.0],
            "images per second": [1280.0, 1163.6, 853.3],
        }
    )
    figure = compare_figures.step_time_figure(times)
    (bars,) = figure.data
    assert list(bars.x) == ["no SE", "ECA", "CBAM r=16"]
    assert list(bars.y) == [100.0, 110.0, 150.0]
    assert bars.customdata[2][0] == pytest.approx(853.3)
    assert bars.marker.color[0] == compare_figures.BASELINE_COLOUR
    assert "measured here" in figure.layout.title.text
