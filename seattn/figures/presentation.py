"""Figures of the presentation mode's walk that Explore has no figure for: the squeeze step.

Large type, few marks: they are read from the back of a room.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from seattn.figures.style import MARGIN, TEMPLATE, TRANSPARENT
from seattn.i18n import _

BAR = "#4c78a8"
HIGHLIGHT = "#e4572e"
ROOM_FONT = {"size": 18}


def squeeze_bars(channel_means: np.ndarray, highlight: list[int]) -> go.Figure:
    """One bar per channel, in channel order: its feature map's mean (the squeeze); the
    ``highlight`` channels coloured."""
    means = np.asarray(channel_means, dtype=np.float32)
    marked = set(highlight)
    colours = [HIGHLIGHT if channel in marked else BAR for channel in range(len(means))]
    figure = go.Figure(
        go.Bar(
            x=np.arange(len(means)),
            y=means,
            marker_color=colours,
            hovertemplate=_("channel %{x}: mean %{y:.3f}") + "<extra></extra>",
        )
    )
    figure.update_layout(
        template=TEMPLATE,
        margin={**MARGIN, "l": 60, "b": 60},
        paper_bgcolor=TRANSPARENT,
        plot_bgcolor=TRANSPARENT,
        font=ROOM_FONT,
        height=360,
        bargap=0.15,
        xaxis={"title": {"text": _("channel")}},
        yaxis={"title": {"text": _("mean response (squeeze)")}, "showgrid": True},
    )
    return figure
