"""Tests for seattn.figures.training: the colour convention of Train's attention heatmap."""

from __future__ import annotations

import numpy as np

from seattn.analysis.monitor import ChannelView
from seattn.figures import style, training


def channel_view(block: str, channels: int, low: float, high: float) -> ChannelView:
    """Mean weights that all sit between ``low`` and ``high``, as a real run's often do."""
    weights = np.linspace(low, high, 3 * channels, dtype=np.float32).reshape(3, channels)
    return ChannelView(
        block=block, epochs=[1, 2, 3], channels=list(range(channels)), weights=weights
    )


def test_the_attention_heatmap_colours_weights_on_the_fixed_weight_scale() -> None:
    # Weights from 0.3 to 0.65: drawn on 0..1, not stretched so 0.3 looks like "switched off".
    views = [channel_view("block1", 4, 0.3, 0.5), channel_view("block2", 8, 0.4, 0.65)]
    figure = training.channel_heatmap(views)
    axis = figure.layout.coloraxis
    assert axis.colorscale == style.WEIGHTS_COLORSCALE
    assert (axis.cmin, axis.cmax) == style.WEIGHTS_RANGE == (0.0, 1.0)
    assert {trace.coloraxis for trace in figure.data} == {"coloraxis"}
    np.testing.assert_allclose(figure.data[1].z, views[1].weights.T)


def test_the_weight_scale_is_not_the_activation_scale() -> None:
    figure = training.channel_heatmap([channel_view("block1", 4, 0.2, 0.9)])
    assert figure.layout.coloraxis.colorscale != style.ACTIVATIONS_COLORSCALE
