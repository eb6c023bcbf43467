"""The look every figure shares: template, margins, colours, and the "nothing yet" figure."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.colors import get_colorscale, hex_to_rgb

from seattn.i18n import _, pgettext

# Plotly's default template is several kilobytes per figure and Streamlit restyles charts anyway;
# the empty "none" template keeps the page's payload to the data.
TEMPLATE = "none"
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
TRANSPARENT = "rgba(0,0,0,0)"
VIRIDIS = "Viridis"


def _stops(name: str) -> tuple[tuple[float, str], ...]:
    """A named plotly colour scale as explicit (position, "rgb(r, g, b)") stops.

    Stops, because figures built without validation send a name to the browser as it is, and
    plotly.js knows only some of plotly's names: an unknown one silently falls back to the page
    theme's scale. rgb() rather than hex, because Streamlit's chart theme swaps the hex colours
    #000001 to #000040 for its own (they are its placeholders), and Inferno starts at #000004.
    """
    return tuple(
        (float(position), colour if colour.startswith("rgb") else f"rgb{hex_to_rgb(colour)}")
        for position, colour in get_colorscale(name)
    )


# One convention on every page, so a colour reads the same wherever it appears: SE weights (0..1)
# on WEIGHTS_COLORSCALE over the fixed range WEIGHTS_RANGE, never stretched to the values at hand
# (a weight of 0.5 is always the same colour); feature maps (activations, 0 up to each figure's
# peak) on ACTIVATIONS_COLORSCALE, dark where a channel does not respond and bright where it does.
WEIGHTS_COLORSCALE = _stops(VIRIDIS)
WEIGHTS_RANGE = (0.0, 1.0)
ACTIVATIONS_COLORSCALE = _stops("Inferno")
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


def level_line(y: float, label: str, colour: str, dash: str = "dot", width: float = 1.0) -> dict:
    """Layout parts of a horizontal line across the plot at ``y``, labelled at its right end
    (a mean, a chance level): ``{"shapes": [...], "annotations": [...]}`` to merge into a layout."""
    return {
        "shapes": [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": y,
                "y1": y,
                "line": {"dash": dash, "color": colour, "width": width},
            }
        ],
        "annotations": [
            {
                "xref": "paper",
                "x": 1,
                "y": y,
                "xanchor": "right",
                "yanchor": "bottom",
                "text": label,
                "showarrow": False,
                "font": {"size": 11, "color": colour},
            }
        ],
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


def block_label(block: str) -> str:
    """ "block1" as a chart shows it, in the active language ("all" for every block at once, as
    the atlas's interventions name it)."""
    if block == "all":
        return pgettext("blocks", "all")
    number = block.removeprefix("block")
    return _("block{number}").format(number=number) if number.isdigit() else block


def fill_hover(template: str, **values: str) -> str:
    """A translated hovertemplate with its {named} placeholders filled in; plotly's own %{...}
    fields are left for plotly (str.format would take them for its own)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template
