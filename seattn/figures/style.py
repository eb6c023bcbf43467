"""The look every figure shares: template, margins, colours, and the "nothing yet" figure."""

from __future__ import annotations

import plotly.graph_objects as go

# Plotly's default template is several kilobytes per figure and Streamlit restyles charts anyway;
# the empty "none" template keeps the page's payload to the data.
TEMPLATE = "none"
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
TRANSPARENT = "rgba(0,0,0,0)"
VIRIDIS = "Viridis"  # weights and activations, on every page
MESSAGE_FONT = {"size": 14, "color": "#666"}


def panel_title(title: str, domain: tuple[float, float] | list[float], y: float = 1.02) -> dict:
    """A bold title centred over one panel of a figure whose x domain is ``domain`` (a layout
    annotation: figures that place their own panels skip make_subplots' validation)."""
    return {
        "text": f"<b>{title}</b>",
        "xref": "paper",
        "yref": "paper",
        "x": (domain[0] + domain[1]) / 2,
        "y": y,
        "yanchor": "bottom",
        "showarrow": False,
    }


def empty_figure(message: str, height: int = 260) -> go.Figure:
    """A blank figure that says why there is nothing to draw yet."""
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, font=MESSAGE_FONT)
    figure.update_layout(
        template=TEMPLATE,
        height=height,
        margin=MARGIN,
        xaxis_visible=False,
        yaxis_visible=False,
        paper_bgcolor=TRANSPARENT,
        plot_bgcolor=TRANSPARENT,
    )
    return figure
