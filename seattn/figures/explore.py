"""Pure figure builders: data in, a plotly Figure out. Nothing here draws, reads files or knows a
page exists, so every figure is tested by looking at the Figure object and timed in bench/.

Three rules keep the Explore page fast and its payload small:
- a grid of feature maps is ONE heatmap of tiled maps (``seattn.analysis.explore.tile_maps``),
  with the channel index as ``customdata`` for hover: one subplot per channel means hundreds of
  axes;
- arrays go to plotly as float32 / small integers, which plotly serialises as compact base64
  typed arrays instead of long lists of decimal numbers;
- figures are assembled from plain dicts without plotly's per-property validation, which is most
  of a figure's build time (about 2-3 ms of 3 ms here); tests/figures/test_explore.py validates
  every builder's output in full instead, so a wrong property still fails, in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from seattn.analysis.explore import FeatureMapPanels, ToySE, tile_maps
from seattn.data.cifar10 import class_label
from seattn.figures.style import (
    ACTIVATIONS_COLORSCALE,
    MARGIN,
    TRANSPARENT,
    WEIGHTS_COLORSCALE,
    WEIGHTS_RANGE,
    level_line,
    panel_title,
)
from seattn.i18n import N_, _

HIGHLIGHT = "#e4572e"  # the channels or class the eye should go to
BASE = "#4c78a8"
MUTED = "#9db4cf"
REFERENCE = "#333333"  # what the bars are read against: a data set's weights, or the original's
MAPS_COLORSCALE = ACTIVATIONS_COLORSCALE  # the name seattn.figures.atlas imports
# Above this many bars, only every few get a channel number: 128 numbers side by side overlap.
MAX_CHANNEL_TICKS = 32
# The "none" template (seattn.figures.style) as a plain dict: figures here skip validation.
TEMPLATE = pio.templates["none"].to_plotly_json()
FONT = {"family": "sans-serif", "size": 13}
# The toy schematic's pattern names (seattn.analysis.explore.toy_se_example), written there in
# English: marked here so that se_schematic translates them where it draws them. Any other name
# (a model's own "channel 12", already worded) is drawn as it comes.
TOY_PATTERN_NAMES = (N_("stripes"), N_("blob"), N_("gradient"), N_("checks"))


def _figure(traces: list[dict], layout: dict) -> go.Figure:
    # plotly.io's own templates are built the same way (Template(..., _validate=False)).
    return go.Figure(data=traces, layout=layout, _validate=False)


def _base_layout(**overrides: object) -> dict:
    layout = {
        "template": TEMPLATE,
        "font": FONT,
        "margin": MARGIN,
        "paper_bgcolor": TRANSPARENT,
        "plot_bgcolor": TRANSPARENT,
    }
    layout.update(overrides)
    return layout


# -- prediction -------------------------------------------------------------------------------


def prediction_bars(top_k: Sequence[tuple[str, float]], true_class: str | None = None) -> go.Figure:
    """Horizontal bars of the top-k classes, most probable on top; the true class is named."""
    labels = [label for label, _probability in top_k]
    values = np.array([p for _label, p in top_k], dtype=np.float32)
    shown = [
        f"{class_label(label)} ✓" if label == true_class else class_label(label) for label in labels
    ]
    colours = [HIGHLIGHT if i == 0 else MUTED for i in range(len(labels))]
    return _figure(
        [
            {
                "type": "bar",
                "x": values,
                "y": shown,
                "orientation": "h",
                "marker": {"color": colours},
                "text": [f"{p:.1%}" for p in values],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": "%{y}: %{x:.2%}<extra></extra>",
            }
        ],
        _base_layout(
            title={"text": _("Prediction (top classes)"), "x": 0, "xanchor": "left"},
            xaxis={"range": [0, 1.15], "tickformat": ".0%", "showgrid": True, "dtick": 0.25},
            yaxis={"autorange": "reversed", "automargin": True},
            height=60 + 34 * max(len(labels), 1),
            showlegend=False,
            bargap=0.3,
        ),
    )


# -- channel weights --------------------------------------------------------------------------


def channel_weight_bars(
    weights: np.ndarray,
    *,
    order: Literal["weight", "channel"] = "weight",
    highlight: Sequence[int] | None = None,
    highlight_label: str | None = None,
    title: str | None = None,
    channel_means: np.ndarray | None = None,
    channel_stds: np.ndarray | None = None,
    reference_label: str | None = None,
    deviation: bool = False,
    deviation_label: str | None = None,
) -> go.Figure:
    """One bar per channel: its SE weight (0 = switched off, 1 = passed on unchanged).

    The ``highlight`` channels (default: the 8 strongest) are coloured and named in the legend;
    hover gives the channel index and the exact weight. ``order="weight"`` sorts the bars
    largest first, ``"channel"`` keeps channel order.

    ``channel_means`` (and optionally ``channel_stds``), one per channel, are what the bars are
    read against: a data set's mean weight and spread per channel, or the weights of another
    pass. They are drawn over the bars as ticks (with whiskers of ± one std). With ``deviation``
    the bars are ``weights - channel_means`` instead (``deviation_label`` names them) and the
    whiskers sit around zero, so the channels where this picture differs stand out.

    The labels left out are worded here, in the active language: "highlighted", "Channel
    weights", "dataset mean ± 1 std", "weight − dataset mean".
    """
    title = _("Channel weights") if title is None else title
    if reference_label is None:
        reference_label = _("dataset mean ± 1 std")
    if deviation_label is None:
        deviation_label = _("weight − dataset mean")
    weights = np.asarray(weights, dtype=np.float32)
    channels = np.arange(weights.shape[0])
    means = None if channel_means is None else np.asarray(channel_means, dtype=np.float32)
    stds = None if channel_stds is None else np.asarray(channel_stds, dtype=np.float32)
    for name, values in (("channel_means", means), ("channel_stds", stds)):
        if values is not None and values.shape != weights.shape:
            raise ValueError(f"{name} has shape {values.shape}; the weights {weights.shape}")
    if deviation and means is None:
        raise ValueError("deviation needs channel_means to deviate from")
    shown = weights - means if deviation else weights
    value_name = deviation_label if deviation else _("weight")
    value_format = "%{y:+.4f}" if deviation else "%{y:.4f}"
    if highlight is None:
        highlight = np.argsort(-shown, kind="stable")[:8]
        highlight_label = _("{count} strongest").format(count=len(highlight))
    elif highlight_label is None:
        highlight_label = _("highlighted")
    marked = set(np.asarray(highlight).tolist())
    ordered = np.argsort(-shown, kind="stable") if order == "weight" else channels
    categories = [str(c) for c in ordered]
    traces = []
    for name, chosen, colour in (
        (highlight_label, [c for c in ordered if c in marked], HIGHLIGHT),
        (_("other channels"), [c for c in ordered if c not in marked], BASE),
    ):
        if not chosen:
            continue
        chosen = np.array(chosen)
        traces.append(
            {
                "type": "bar",
                "x": [str(c) for c in chosen],
                "y": shown[chosen],
                "customdata": chosen.astype(np.int16),
                "name": name,
                "marker": {"color": colour},
                "hovertemplate": _("channel %{customdata}")
                + f"<br>{value_name} {value_format}<extra></extra>",
            }
        )
    if means is not None and not (deviation and stds is None):  # no spread: nothing at zero
        traces.append(
            _reference_trace(categories, ordered, means, stds, reference_label, deviation)
        )
    if deviation:
        reach = float(np.abs(shown).max(initial=0.0))
        if stds is not None:
            reach = max(reach, float(stds.max(initial=0.0)))
        reach = max(reach, 0.05) * 1.1
        value_range = [-reach, reach]
    else:
        value_range = [0, 1.02]
    mean = float(shown.mean()) if shown.size else 0.0
    if order != "weight":
        axis_title = _("channel")
    elif deviation:
        axis_title = _("channel (largest first)")
    else:
        axis_title = _("channel (strongest first)")
    return _figure(
        traces,
        _base_layout(
            title={"text": title, "x": 0, "xanchor": "left"},
            xaxis={
                "type": "category",
                "categoryorder": "array",
                "categoryarray": categories,
                "title": {"text": axis_title},
                **_channel_ticks(categories),
            },
            yaxis={
                "range": value_range,
                "title": {"text": value_name},
                "showgrid": True,
                "zeroline": deviation,
            },
            height=300,
            bargap=0.15,
            barmode="overlay",
            legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.12},
            # "or 0.0": a mean that rounds to -0.00 reads +0.00
            **level_line(
                mean,
                _("mean {mean:+.2f}").format(mean=round(mean, 2) or 0.0)
                if deviation
                else _("mean {mean:.2f}").format(mean=mean),
                "#555",
            ),
        ),
    )


def _channel_ticks(categories: list[str]) -> dict:
    """Channel numbers under the bars: every bar's, or every few bars' once there are many.

    Explicit ticks because a category axis left to itself labels every bar (unreadable at 128)
    or, told to hide them, none. Every step-th bar in the order drawn keeps the numbers evenly
    spaced whether the bars are sorted by weight or by channel.
    """
    step = max(1, -(-len(categories) // MAX_CHANNEL_TICKS))  # ceiling division
    shown = categories[::step]
    return {"tickmode": "array", "tickvals": shown, "ticktext": shown}


def _reference_trace(
    categories: list[str],
    ordered: np.ndarray,
    means: np.ndarray,
    stds: np.ndarray | None,
    label: str,
    deviation: bool,
) -> dict:
    """Ticks at each channel's reference value (at zero in the deviation view), whiskers ± std."""
    centre = np.zeros(len(ordered), dtype=np.float32) if deviation else means[ordered]
    spread = stds[ordered] if stds is not None else np.zeros(len(ordered), dtype=np.float32)
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": categories,
        "y": centre,
        "customdata": np.stack([ordered.astype(np.float32), means[ordered], spread], axis=1),
        "name": label,
        "marker": {"symbol": "line-ew-open", "size": 12, "color": REFERENCE, "line": {"width": 2}},
        "hovertemplate": _("channel %{customdata[0]:.0f}")
        + "<br>"
        + label
        + ": %{customdata[1]:.4f}"
        + (" ± %{customdata[2]:.4f}" if stds is not None else "")
        + "<extra></extra>",
    }
    if stds is not None:
        trace["error_y"] = {
            "type": "data",
            "array": spread,
            "visible": True,
            "color": REFERENCE,
            "thickness": 1.2,
            "width": 3,
        }
    return trace


def excitation_matrix(
    weights: np.ndarray, image_names: Sequence[str], title: str | None = None
) -> go.Figure:
    """Images x channels heatmap of SE weights: which channels respond to which picture."""
    title = _("Weights per image") if title is None else title
    weights = np.asarray(weights, dtype=np.float32)
    channels = np.arange(weights.shape[1], dtype=np.int16)
    return _figure(
        [
            {
                "type": "heatmap",
                "z": weights,
                "x": channels,
                "y": list(image_names),
                "zmin": WEIGHTS_RANGE[0],
                "zmax": WEIGHTS_RANGE[1],
                "colorscale": WEIGHTS_COLORSCALE,
                "colorbar": {"title": {"text": _("weight")}, "thickness": 12},
                "hovertemplate": _("%{y}<br>channel %{x}<br>weight %{z:.4f}") + "<extra></extra>",
            }
        ],
        _base_layout(
            title={"text": title, "x": 0, "xanchor": "left"},
            xaxis={"title": {"text": _("channel")}},
            yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
            height=130 + 26 * len(image_names),
        ),
    )


# -- feature maps -----------------------------------------------------------------------------


def _panel_axes(count: int, gap: float = 0.04) -> list[tuple[float, float]]:
    width = (1 - gap * (count - 1)) / count
    return [(i * (width + gap), i * (width + gap) + width) for i in range(count)]


def _image_axes(
    layout: dict, index: int, domain: tuple[float, float], shape: tuple[int, ...]
) -> None:
    """Axes for one image panel: hidden ticks, square pixels, first row at the top."""
    suffix = "" if index == 0 else str(index + 1)
    rows, columns = shape[:2]
    layout[f"xaxis{suffix}"] = {
        "domain": list(domain),
        "visible": False,
        "constrain": "domain",
        "range": [-0.5, columns - 0.5],
    }
    layout[f"yaxis{suffix}"] = {
        "visible": False,
        "scaleanchor": f"x{suffix}",
        "constrain": "domain",
        "range": [rows - 0.5, -0.5],  # reversed: row 0 at the top, as in an image
    }


def feature_map_grid(panels: FeatureMapPanels, *, height: int | None = None) -> go.Figure:
    """The chosen channels before and after SE (and what SE removed), side by side.

    Each panel is one heatmap of tiled maps; all panels share one colour scale, so the same colour
    means the same value everywhere. Hover names the channel and the value.
    """
    count = len(panels.tiles)
    customdata = panels.owner.astype(np.uint8 if panels.owner.max() < 255 else np.int16)
    layout = _base_layout(
        height=height or (400 if count == 2 else 320),
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        coloraxis={
            "colorscale": ACTIVATIONS_COLORSCALE,
            "cmin": 0,
            "cmax": panels.zmax,
            "colorbar": {"title": {"text": panels.value_label, "side": "right"}, "thickness": 12},
        },
        annotations=[],
    )
    traces = []
    for index, (title, tiled, domain) in enumerate(
        zip(panels.titles, panels.tiles, _panel_axes(count), strict=True)
    ):
        suffix = "" if index == 0 else str(index + 1)
        _image_axes(layout, index, domain, tiled.shape)
        traces.append(
            {
                "type": "heatmap",
                "z": tiled,
                "customdata": customdata,
                "coloraxis": "coloraxis",
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "hoverongaps": False,
                "name": title,
                "hovertemplate": _("channel %{customdata}")
                + f"<br>%{{z:.3f}}<extra>{title}</extra>",
            }
        )
        layout["annotations"].append(panel_title(title, domain, y=1.0))
    return _figure(traces, layout)


def channel_zoom(
    before: np.ndarray, after: np.ndarray, channel: int, weight: float, zmax: float | None = None
) -> go.Figure:
    """One channel's map before and after SE, large, on one colour scale."""
    before = np.asarray(before, dtype=np.float32)
    after = np.asarray(after, dtype=np.float32)
    peak = float(max(before.max(initial=0), after.max(initial=0)))
    panels = FeatureMapPanels(
        titles=[
            _("Channel {channel} before SE").format(channel=channel),
            _("after SE (× {weight:.3f})").format(weight=weight),
        ],
        tiles=[before, after],
        owner=np.full(before.shape, channel, dtype=np.int16),
        zmax=zmax if zmax is not None else (peak if peak > 0 else 1.0),
        value_label=_("activation"),
    )
    return feature_map_grid(panels, height=330)


# -- where the network looks: maps over the picture ------------------------------------------

HEAT_COLORSCALE = "Jet"  # Grad-CAM's customary scale: what reads as "hot" over a photograph


def maps_over_picture(
    picture: np.ndarray,
    maps: Sequence[np.ndarray],
    titles: Sequence[str],
    colour_title: str,
    *,
    show_picture: Sequence[bool] | None = None,
) -> go.Figure:
    """The picture ([H, W, 3] uint8, the network's 32x32 view) with each map (0..1, any size,
    drawn stretched over the whole picture) laid over it half transparent, side by side: Grad-CAM
    before and after attention, or CBAM's spatial weights. A panel whose ``show_picture`` is
    False shows its map alone, opaque."""
    count = len(maps)
    show_picture = [True] * count if show_picture is None else list(show_picture)
    layout = _base_layout(
        height=330,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        coloraxis={
            "colorscale": HEAT_COLORSCALE,
            "cmin": 0,
            "cmax": 1,
            "colorbar": {"title": {"text": colour_title, "side": "right"}, "thickness": 12},
        },
        annotations=[],
    )
    rows, columns = picture.shape[:2]
    traces = []
    for index, (heat, title, domain, under) in enumerate(
        zip(maps, titles, _panel_axes(count), show_picture, strict=True)
    ):
        suffix = "" if index == 0 else str(index + 1)
        _image_axes(layout, index, domain, picture.shape)
        heat = np.asarray(heat, dtype=np.float32)
        cell_rows, cell_columns = rows / heat.shape[0], columns / heat.shape[1]
        axes = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
        if under:
            traces.append({"type": "image", "z": picture, "hoverinfo": "skip", **axes})
        traces.append(
            {
                "type": "heatmap",
                "z": heat,
                # one cell of the map covers (rows / map rows) pixels of the picture
                "x0": (cell_columns - 1) / 2,
                "dx": cell_columns,
                "y0": (cell_rows - 1) / 2,
                "dy": cell_rows,
                "opacity": 0.5 if under else 1.0,
                "coloraxis": "coloraxis",
                "hovertemplate": "%{z:.2f}<extra></extra>",
                **axes,
            }
        )
        layout["annotations"].append(panel_title(title, domain, y=1.0))
    return _figure(traces, layout)


# -- the Home page's illustration -------------------------------------------------------------


def se_schematic(toy: ToySE) -> go.Figure:
    """Squeeze, excitation and scale worked through on four maps, left to right.

    Bars are drawn on the same vertical coordinates as the tiles, so each number sits beside the
    map it belongs to.
    """
    count, height, _width = toy.before.shape
    channels = np.arange(count)
    before_tiles, _owner = tile_maps(toy.before, channels, columns=1, gutter=2)
    after_tiles, _owner = tile_maps(toy.after, channels, columns=1, gutter=2)
    centres = channels * (height + 2) + (height - 1) / 2
    rows = before_tiles.shape[0]
    domains = [(0.0, 0.17), (0.29, 0.45), (0.57, 0.73), (0.83, 1.0)]
    titles = [
        _("Feature maps<br>(one per channel)"),
        _("1 · Squeeze:<br>one average per map"),
        _("2 · Excitation:<br>a weight from 0 to 1"),
        _("3 · Scale:<br>map × weight"),
    ]
    layout = _base_layout(
        height=430,
        margin={"l": 0, "r": 0, "t": 70, "b": 10},
        showlegend=False,
        coloraxis={
            "colorscale": ACTIVATIONS_COLORSCALE,
            "cmin": 0,
            "cmax": 1,
            "showscale": False,
        },
        annotations=[],
    )
    for index in (0, 3):
        _image_axes(layout, index, domains[index], before_tiles.shape)
    for index in (1, 2):
        suffix = str(index + 1)
        layout[f"xaxis{suffix}"] = {
            "domain": list(domains[index]),
            "range": [0, 1.35],
            "visible": False,
        }
        layout[f"yaxis{suffix}"] = {"range": [rows - 0.5, -0.5], "visible": False}
    bar_style = {
        "type": "bar",
        "orientation": "h",
        "width": height * 0.7,
        "textposition": "outside",
        "hoverinfo": "skip",
    }
    traces = [
        {"type": "heatmap", "z": before_tiles, "coloraxis": "coloraxis", "hoverinfo": "skip"},
        {
            **bar_style,
            "x": toy.squeeze,
            "y": centres,
            "xaxis": "x2",
            "yaxis": "y2",
            "marker": {"color": BASE},
            "text": [
                _("{name}: {value:.2f}").format(
                    name=_(name) if name in TOY_PATTERN_NAMES else name, value=v
                )
                for name, v in zip(toy.names, toy.squeeze, strict=True)
            ],
        },
        {
            **bar_style,
            "x": toy.weights,
            "y": centres,
            "xaxis": "x3",
            "yaxis": "y3",
            "marker": {"color": [HIGHLIGHT if w >= 0.5 else MUTED for w in toy.weights]},
            "text": [f"{w:.2f}" for w in toy.weights],
        },
        {
            "type": "heatmap",
            "z": after_tiles,
            "coloraxis": "coloraxis",
            "xaxis": "x4",
            "yaxis": "y4",
            "hoverinfo": "skip",
        },
    ]
    for domain, title in zip(domains, titles, strict=True):
        layout["annotations"].append(panel_title(title, domain))
    for left, right in zip(domains, domains[1:], strict=False):
        layout["annotations"].append(
            {
                "text": "➜",
                "xref": "paper",
                "yref": "paper",
                "x": (left[1] + right[0]) / 2,
                "y": 0.5,
                "showarrow": False,
                "font": {"size": 28, "color": "#888"},
            }
        )
    return _figure(traces, layout)


# -- measuring --------------------------------------------------------------------------------


def payload_bytes(figures: Iterable[go.Figure]) -> int:
    """Bytes of JSON the browser receives for ``figures``: what ``st.plotly_chart`` sends."""
    return sum(len(pio.to_json(figure, validate=False).encode()) for figure in figures)
