"""Figures of the atlas (seattn.analysis.atlas): what SE does over a whole evaluation set.

Pure builders, as in seattn.figures.explore: data in, a plotly Figure out, assembled from plain
dicts without plotly's per-property validation (tests/figures/test_atlas.py validates every
builder's output in full). Arrays go out as float32 / int16 so plotly sends compact typed arrays;
per-class statistics are computed here, so the browser never receives one value per image.

Channels in the class views are shown in ``channel_order`` (dataset-mean weight, highest first):
in channel-index order a class profile is noise, sorted it reads as the SE paper's figure does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.colors import diverging, hex_to_rgb, qualitative

from seattn.analysis.atlas.interventions import ALL_BLOCKS, Kind
from seattn.analysis.atlas.measures import class_mean_weights
from seattn.data.cifar10 import class_label
from seattn.figures.explore import BASE, FONT, HIGHLIGHT, MAPS_COLORSCALE, TEMPLATE
from seattn.figures.style import (
    MARGIN,
    TRANSPARENT,
    block_label,
    empty_figure,
    fill_hover,
    level_line,
    panel_title,
)
from seattn.i18n import N_, _, ngettext

FIXED_COLOUR = BASE
ADAPTIVE_COLOUR = HIGHLIGHT
ETA_COLOUR = "#f58518"
NEAREST_COLOUR = "#54a24b"
FLOOR_COLOUR = "#7f7f7f"  # chance and the shuffled-label floor, in every panel
MEAN_COLOUR = "#222222"  # the all-images mean
# Classes keep a colour across views (their index in the model's classes); the grey is the floors'.
PALETTE = [c for c in qualitative.D3 if c != "#7F7F7F"]
# Below the mean blue, above it red, white at 0 (explicit: plotly.js and plotly.py name "RdBu"
# with opposite ends, and these figures skip the validation that would resolve the name).
DEVIATION_SCALE = [[i / 10, c] for i, c in enumerate(reversed(diverging.RdBu))]
MAX_CHANNEL_TICKS = 32
# Each figure's margins as plotly's auto-margin would grow them (axis titles and tick labels,
# colorbars, legends below; in Streamlit's theme, at a container about 1000 px wide), plus a few
# pixels: margins that already hold what they must are kept, so the chart is drawn once. Left at
# MARGIN, each pusher grows them after the first draw and plotly draws the whole chart again,
# which roughly doubled the time of every chart here. They still grow when something does not
# fit (long class names, a legend wrapped onto more rows).
SUBPLOT_MARGIN = {**MARGIN, "l": 86, "t": 70, "b": 102}
HEATMAP_MARGIN = {**MARGIN, "l": 90, "r": 146, "b": 76}
LINES_MARGIN = {**MARGIN, "l": 74, "b": 94}
DISTRIBUTION_MARGIN = {**MARGIN, "l": 74, "b": 40}
MEAN_MAP_MARGIN = {**MARGIN, "r": 120}
INTERVENTIONS_MARGIN = {**MARGIN, "l": 90, "b": 112}
# plotly.js measures every tick label of a numeric axis or colorbar after drawing it, to hide
# those that stick out of the chart ("hide past div", its default); these never do.
NO_OVERFLOW_CHECK = {"ticklabeloverflow": "allow"}
LEGEND_BELOW = {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.18, "yanchor": "top"}
DASHED = {"dash": "dash", "color": FLOOR_COLOUR, "width": 1.5}

# The three depth measures: key, panel title, y axis title (the words shown through _()).
DEPTH_PANELS = (
    (
        "fixed_share",
        N_("Fixed gain or adaptation?"),
        N_("share of weight variance that is a fixed per-channel gain"),
    ),
    (
        "eta_squared",
        N_("How much the class explains (η²)"),
        N_("share of a channel's variation explained by the class"),
    ),
    (
        "nearest_class_mean_accuracy",
        N_("Class guessed from the weights alone"),
        N_("accuracy of the nearest class-mean guess"),
    ),
)


def _depth_panels() -> tuple[list[str], list[str]]:
    """The depth panels' titles and y axis titles, in the active language."""
    return [_(p[1]) for p in DEPTH_PANELS], [_(p[2]) for p in DEPTH_PANELS]


def _figure(traces: list[dict], layout: dict) -> go.Figure:
    return go.Figure(data=traces, layout=layout, _validate=False)


def _layout(title: str | None = None, **overrides: object) -> dict:
    layout: dict[str, Any] = {
        "template": TEMPLATE,
        "font": FONT,
        "margin": MARGIN,
        "paper_bgcolor": TRANSPARENT,
        "plot_bgcolor": TRANSPARENT,
    }
    if title:
        layout["title"] = {"text": title, "x": 0, "xanchor": "left"}
    layout.update(overrides)
    return layout


def _suffix(index: int) -> str:
    return "" if index == 0 else str(index + 1)


def _row_of_panels(titles: Sequence[str], y_titles: Sequence[str], categories: list[str]) -> dict:
    """Layout for a row of panels over the same categories, y from 0 to 1 as percentages.

    Built by hand: make_subplots alone costs more than the rest of such a figure.
    """
    count, gap = len(titles), 0.08
    width = (1 - gap * (count - 1)) / count
    layout = _layout(margin=SUBPLOT_MARGIN, height=380, legend=LEGEND_BELOW, annotations=[])
    for index, (title, y_title) in enumerate(zip(titles, y_titles, strict=True)):
        s = _suffix(index)
        domain = [index * (width + gap), index * (width + gap) + width]
        layout[f"xaxis{s}"] = {
            "domain": domain,
            "anchor": f"y{s}",
            "type": "category",
            "categoryorder": "array",
            "categoryarray": categories,
            "tickmode": "array",
            "tickvals": categories,
            "ticktext": [block_label(c) for c in categories],
        }
        layout[f"yaxis{s}"] = {
            "anchor": f"x{s}",
            "range": [0, 1],
            "tickformat": ".0%",
            "showgrid": True,
            "title": {"text": y_title, "font": {"size": 11}},
            **NO_OVERFLOW_CHECK,
        }
        layout["annotations"].append(panel_title(title, domain))
    return layout


def _value(block: dict, key: str) -> float | None:
    value = block.get(key)
    return None if value is None else float(value)


def _on(index: int) -> dict:
    s = _suffix(index)
    return {"xaxis": f"x{s}", "yaxis": f"y{s}"}


def _floor_line(x: list[str], y: list[float | None], name: str, index: int) -> dict:
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "name": name,
        "mode": "lines+markers",
        "line": DASHED,
        "marker": {"symbol": "line-ew-open", "size": 22, "line": {"width": 2}},
        "hovertemplate": fill_hover(_("%{x}<br>{measure}: %{y:.1%}"), measure=name)
        + "<extra></extra>",
        **_on(index),
    }


# -- depth: the measures block by block -------------------------------------------------------


def depth_figure(blocks: list[dict]) -> go.Figure:
    """The atlas's three questions, block by block (``Atlas.summary()["blocks"]``).

    A measure the data cannot define (None) leaves its bar out and says "not defined" there.
    """
    if not blocks:
        return empty_figure(_("This model has no SE blocks: there is nothing to measure"), 380)
    names = [str(b["name"]) for b in blocks]
    fixed = [_value(b, "fixed_share") for b in blocks]
    adaptive = [None if f is None else 1.0 - f for f in fixed]
    eta = [_value(b, "eta_squared") for b in blocks]
    shuffled = [_value(b, "eta_squared_shuffled") for b in blocks]
    nearest = [_value(b, "nearest_class_mean_accuracy") for b in blocks]
    chance = [_value(b, "chance") for b in blocks]

    def bars(y: list[float | None], name: str, colour: str, index: int) -> dict:
        return {
            "type": "bar",
            "x": names,
            "y": y,
            "customdata": names,
            "name": name,
            "marker": {"color": colour},
            "hovertemplate": fill_hover(_("%{customdata}<br>{measure}: %{y:.1%}"), measure=name)
            + "<extra></extra>",
            **_on(index),
        }

    traces = [
        bars(fixed, _("fixed per-channel gain"), FIXED_COLOUR, 0),
        bars(adaptive, _("per-picture adaptation"), ADAPTIVE_COLOUR, 0),
        bars(eta, _("explained by the class (η²)"), ETA_COLOUR, 1),
        _floor_line(names, shuffled, _("chance floor (labels shuffled)"), 1),
        bars(nearest, _("nearest class-mean accuracy"), NEAREST_COLOUR, 2),
        _floor_line(names, chance, _("chance"), 2),
    ]
    layout = _row_of_panels(*_depth_panels(), names) | {
        "barmode": "stack",
        "bargap": 0.35,
    }
    for index, values in enumerate((fixed, eta, nearest)):
        s = _suffix(index)
        for name, value in zip(names, values, strict=True):
            if value is None:
                layout["annotations"].append(
                    {
                        "text": _("not defined"),
                        "xref": f"x{s}",
                        "yref": f"y{s}",
                        "x": name,
                        "y": 0,
                        "yanchor": "bottom",
                        "showarrow": False,
                        "font": {"size": 11, "color": FLOOR_COLOUR},
                    }
                )
    return _figure(traces, layout)


def depth_comparison_figure(series: dict[str, list[dict]]) -> go.Figure:
    """The depth measures of several models on shared axes: one line per model, chance in grey."""
    if not series:
        return empty_figure(_("Choose models to compare their atlases"), 380)
    names = list(dict.fromkeys(str(b["name"]) for blocks in series.values() for b in blocks))
    if not names:
        return empty_figure(
            _("None of these models has SE blocks: there is nothing to compare"), 380
        )
    traces: list[dict] = []
    floors = (None, "eta_squared_shuffled", "chance")
    floor_names = (None, _("chance floor (labels shuffled)"), _("chance"))
    for index, (key, _title, _y_title) in enumerate(DEPTH_PANELS):
        for number, (label, blocks) in enumerate(series.items()):
            if not blocks:
                continue
            x = [str(b["name"]) for b in blocks]
            colour = PALETTE[number % len(PALETTE)]
            traces.append(
                {
                    "type": "scatter",
                    "x": x,
                    "y": [_value(b, key) for b in blocks],
                    "customdata": x,
                    "name": label,
                    "legendgroup": label,
                    "showlegend": index == 0,
                    "mode": "lines+markers",
                    "marker": {"size": 8, "color": colour},
                    "line": {"color": colour, "width": 2},
                    "hovertemplate": f"{label}<br>%{{customdata}}: %{{y:.1%}}<extra></extra>",
                    **_on(index),
                }
            )
            floor = floors[index]
            if floor is not None:
                first = not any(t.get("legendgroup") == floor for t in traces)
                traces.append(
                    {
                        "type": "scatter",
                        "x": x,
                        "y": [_value(b, floor) for b in blocks],
                        "name": floor_names[index],
                        "legendgroup": floor,
                        "showlegend": first,
                        "mode": "lines",
                        "line": DASHED,
                        "hovertemplate": fill_hover(
                            _("{model}<br>%{x}: {floor} %{y:.1%}"),
                            model=label,
                            floor=floor_names[index],
                        )
                        + "<extra></extra>",
                        **_on(index),
                    }
                )
    layout = _row_of_panels(*_depth_panels(), names)
    return _figure(traces, layout)


# -- classes: which channels each class turns up or down --------------------------------------


def channel_order(block_weights: torch.Tensor) -> list[int]:
    """Channels by their dataset-mean weight, highest first (ties by index): the class views'
    x axis, so that a class's departures from the common pattern stand out."""
    means = block_weights.double().mean(dim=0).numpy()
    return np.argsort(-means, kind="stable").tolist()


def _channel_axis(order: list[int], title: str) -> dict:
    """A positions axis labelled with the real channel numbers (thinned when there are many)."""
    count = len(order)
    step = max(1, math.ceil(count / MAX_CHANNEL_TICKS))
    positions = list(range(0, count, step))
    return {
        "title": {"text": title},
        "tickmode": "array",
        "tickvals": positions,
        "ticktext": [str(order[p]) for p in positions],
        "range": [-0.5, count - 0.5],
        "showgrid": False,
        "zeroline": False,
        **NO_OVERFLOW_CHECK,
    }


def _class_colour(classes: list[str], name: str) -> str:
    return PALETTE[classes.index(name) % len(PALETTE)]


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = hex_to_rgb(colour)
    return f"rgba({red},{green},{blue},{alpha})"


def class_profile_heatmap(
    block_weights: torch.Tensor, labels: torch.Tensor, classes: list[str], *, block: str
) -> go.Figure:
    """Class x channel: how much higher or lower each class's mean weight is than the mean over
    all images. Rows are the classes present; blue below the mean, red above, white on it."""
    if len(labels) == 0:
        return empty_figure(_("No images to measure"), 360)
    order = channel_order(block_weights)
    weights = block_weights.double()
    means, _counts = class_mean_weights(weights, labels)
    deviation = (means - weights.mean(dim=0))[:, order].numpy().astype(np.float32)
    present = labels.unique().tolist()
    rows = [class_label(classes[c]) for c in present]
    peak = float(np.abs(deviation).max(initial=0.0)) or 1e-6
    channels = np.array(order, dtype=np.int16)
    return _figure(
        [
            {
                "type": "heatmap",
                "z": deviation,
                "x": np.arange(len(order), dtype=np.int16),
                "y": rows,
                "customdata": np.broadcast_to(channels, deviation.shape).copy(),
                "colorscale": DEVIATION_SCALE,
                "zmin": -peak,
                "zmax": peak,
                "zmid": 0,
                "colorbar": {
                    "title": {"text": _("class mean −<br>overall mean")},
                    "thickness": 12,
                    **NO_OVERFLOW_CHECK,
                },
                "hovertemplate": _(
                    "%{y}, channel %{customdata}<br>class mean − overall mean: %{z:+.3f}"
                )
                + "<extra></extra>",
            }
        ],
        _layout(
            _("{block}: how each class's weights differ from the average").format(
                block=block_label(block)
            ),
            xaxis=_channel_axis(order, _("channel (highest mean weight first)")),
            yaxis={"type": "category", "autorange": "reversed", "automargin": True},
            height=130 + 28 * len(rows),
            margin=HEATMAP_MARGIN,
        ),
    )


def class_lines_figure(
    block_weights: torch.Tensor,
    labels: torch.Tensor,
    classes: list[str],
    chosen: list[str],
    *,
    block: str,
) -> go.Figure:
    """As in the SE paper: the chosen classes' mean weight per channel, ± one standard deviation
    over the class's images, against the mean over all images. Where the lines part, SE treats
    the classes differently."""
    if len(labels) == 0:
        return empty_figure(_("No images to measure"), 380)
    order = channel_order(block_weights)
    weights = block_weights.double()
    # One pass for every class: std from the class means of w and of w² (float64, w in [0, 1]).
    means, counts = class_mean_weights(weights, labels)
    squares, _counts = class_mean_weights(weights * weights, labels)
    spreads = (squares - means * means).clamp_min(0).sqrt()
    means = means[:, order].numpy().astype(np.float32)
    spreads = spreads[:, order].numpy().astype(np.float32)
    row = {index: number for number, index in enumerate(labels.unique().tolist())}
    positions = np.arange(len(order), dtype=np.int16)
    channels = np.array(order, dtype=np.int16)
    band_x = np.concatenate([positions, positions[::-1]])
    traces: list[dict] = []
    for name in chosen:
        number = row.get(classes.index(name)) if name in classes else None
        if number is None:
            continue
        mean, spread, images = means[number], spreads[number], int(counts[number])
        colour = _class_colour(classes, name)
        shown = class_label(name)
        traces.append(
            {
                "type": "scatter",
                "x": band_x,
                "y": np.concatenate([mean + spread, (mean - spread)[::-1]]),
                "fill": "toself",
                "fillcolor": _rgba(colour, 0.18),
                "line": {"width": 0},
                "mode": "lines",
                "hoverinfo": "skip",
                "showlegend": False,
                "legendgroup": name,
                "name": _("{name} ± 1 std").format(name=shown),
            }
        )
        traces.append(
            {
                "type": "scatter",
                "x": positions,
                "y": mean,
                "customdata": channels,
                "text": [f"{s:.3f}" for s in spread.tolist()],
                "name": ngettext(
                    "{name} ({count} image)", "{name} ({count} images)", images
                ).format(name=shown, count=images),
                "legendgroup": name,
                # markers: plotly selects points by click only on traces that draw them
                "mode": "lines+markers",
                "marker": {"size": 5, "color": colour},
                "line": {"color": colour, "width": 1.8},
                "hovertemplate": fill_hover(
                    _("{name}, channel %{customdata}<br>mean weight %{y:.3f} ± %{text}"),
                    name=shown,
                )
                + "<extra></extra>",
            }
        )
    overall = weights.mean(dim=0)[order].numpy().astype(np.float32)
    traces.append(
        {
            "type": "scatter",
            "x": positions,
            "y": overall,
            "customdata": channels,
            "name": _("all images ({count})").format(count=len(labels)),
            "mode": "lines+markers",
            "marker": {"size": 6, "color": MEAN_COLOUR},
            "line": {"color": MEAN_COLOUR, "width": 2.5},
            "hovertemplate": _("all images, channel %{customdata}<br>mean weight %{y:.3f}")
            + "<extra></extra>",
        }
    )
    return _figure(
        traces,
        _layout(
            _("{block}: mean weight per channel, by class (band: ± 1 std over its images)").format(
                block=block_label(block)
            ),
            xaxis=_channel_axis(order, _("channel (highest mean weight over all images first)")),
            yaxis={
                "range": [0, 1],
                "title": {"text": _("SE weight")},
                "showgrid": True,
                **NO_OVERFLOW_CHECK,
            },
            height=400,
            margin=LINES_MARGIN,
            hovermode="closest",
            legend=LEGEND_BELOW,
        ),
    )


def _box_statistics(values: np.ndarray) -> dict[str, list[float]]:
    """Quartiles, mean, and Tukey whiskers (the furthest image within 1.5 IQR of the box)."""
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    reach = 1.5 * (q3 - q1)
    lower = values[values >= q1 - reach].min()
    upper = values[values <= q3 + reach].max()
    return {
        "q1": [float(q1)],
        "median": [float(median)],
        "q3": [float(q3)],
        "lowerfence": [float(lower)],
        "upperfence": [float(upper)],
        "mean": [float(values.mean())],
    }


def channel_distribution_figure(
    weights: torch.Tensor,
    labels: torch.Tensor,
    classes: list[str],
    *,
    block: str,
    channel: int,
) -> go.Figure:
    """One channel's weight over the images, a box per class: does this channel listen to the
    class? Boxes come from quartiles computed here (whiskers at 1.5 IQR, no single points)."""
    if len(labels) == 0:
        return empty_figure(_("No images to measure"), 360)
    values = weights.double().numpy()
    label_values = labels.numpy()
    traces = []
    for index in np.unique(label_values).tolist():
        name = classes[index]
        mine = values[label_values == index]
        colour = _class_colour(classes, name)
        traces.append(
            {
                "type": "box",
                "x": [class_label(name)],
                "name": class_label(name),
                **_box_statistics(mine),
                "orientation": "v",
                "boxpoints": False,
                "boxmean": True,
                "marker": {"color": colour},
                "line": {"color": colour},
                "fillcolor": _rgba(colour, 0.35),
                "showlegend": False,
            }
        )
    mean = float(values.mean())
    return _figure(
        traces,
        _layout(
            _("{block}, channel {channel}: its weight, class by class").format(
                block=block_label(block), channel=channel
            ),
            xaxis={
                "type": "category",
                "categoryorder": "array",
                "categoryarray": [class_label(name) for name in classes],
            },
            yaxis={
                "range": [0, 1.02],
                "title": {"text": _("SE weight")},
                "showgrid": True,
                **NO_OVERFLOW_CHECK,
            },
            height=360,
            margin=DISTRIBUTION_MARGIN,
            **level_line(
                mean,
                _("mean over all images {mean:.2f}").format(mean=mean),
                FLOOR_COLOUR,
                dash="dash",
                width=1.5,
            ),
        ),
    )


def mean_map_figure(feature_map: torch.Tensor, *, block: str, channel: int) -> go.Figure:
    """The channel's feature map (entering SE) averaged over the images it weights highest: what
    it tends to respond to, and where in the picture."""
    z = feature_map.float().numpy()
    rows, columns = z.shape
    peak = float(z.max(initial=0.0))
    return _figure(
        [
            {
                "type": "heatmap",
                "z": z,
                "colorscale": MAPS_COLORSCALE,
                "zmin": 0,
                "zmax": peak if peak > 0 else 1.0,
                "colorbar": {
                    "title": {"text": _("activation")},
                    "thickness": 12,
                    **NO_OVERFLOW_CHECK,
                },
                "hovertemplate": _("row %{y}, column %{x}<br>activation %{z:.3f}")
                + "<extra></extra>",
            }
        ],
        _layout(
            _("{block}, channel {channel}: mean map over its top images").format(
                block=block_label(block), channel=channel
            ),
            xaxis={"visible": False, "constrain": "domain", "range": [-0.5, columns - 0.5]},
            yaxis={
                "visible": False,
                "scaleanchor": "x",
                "constrain": "domain",
                "range": [rows - 0.5, -0.5],  # row 0 at the top, as in an image
            },
            height=320,
            margin=MEAN_MAP_MARGIN,
        ),
    )


# -- interventions ----------------------------------------------------------------------------


def _clean_accuracy(interventions: list[dict]) -> float | None:
    for record in interventions:
        if record["kind"] == Kind.CLEAN:
            return float(record["accuracy"])
    return None


def _label(record: dict) -> str:
    """A bar group's name: "zero_top 10%" for a zeroing record, the kind alone otherwise."""
    k = record.get("k")
    return str(record["kind"]) if k is None else f"{record['kind']} {k:.0%}"


def interventions_figure(interventions: list[dict]) -> go.Figure:
    """Accuracy when SE's weights are replaced, per block and for all blocks at once, read
    against the clean accuracy: a drop says the network needed what was taken away."""
    records = [r for r in interventions if r["kind"] != Kind.CLEAN]
    if not records:
        return empty_figure(_("No interventions: this model has no SE blocks"), 420)
    clean = _clean_accuracy(interventions)
    blocks = list(dict.fromkeys(r["blocks"] for r in records if r["blocks"] != ALL_BLOCKS))
    where = blocks + ([ALL_BLOCKS] if any(r["blocks"] == ALL_BLOCKS for r in records) else [])
    groups: dict[str, list[dict]] = {}
    for record in records:
        groups.setdefault(_label(record), []).append(record)
    traces = []
    for number, (label, members) in enumerate(groups.items()):
        accuracy = [float(r["accuracy"]) for r in members]
        trace = {
            "type": "bar",
            "x": [r["blocks"] for r in members],
            "y": accuracy,
            # Each bar's place in words, for the hover only (%{x} is the block's id).
            "text": [block_label(r["blocks"]) for r in members],
            "textposition": "none",
            "name": label,
            "marker": {"color": qualitative.D3[number % len(qualitative.D3)]},
            "hovertemplate": fill_hover(
                _("{intervention} on %{text}<br>accuracy %{y:.1%}"), intervention=label
            )
            + "<extra></extra>",
        }
        if clean is not None:
            trace["customdata"] = [a - clean for a in accuracy]
            trace["hovertemplate"] = (
                fill_hover(
                    _(
                        "{intervention} on %{text}<br>accuracy %{y:.1%} "
                        "(%{customdata:+.1%} against clean)"
                    ),
                    intervention=label,
                )
                + "<extra></extra>"
            )
        traces.append(trace)
    layout = _layout(
        _("Accuracy when SE's weights are replaced"),
        xaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": where,
            "tickmode": "array",
            "tickvals": where,
            "ticktext": [block_label(w) for w in where],
            "title": {"text": _("where (one block, or all blocks at once)")},
        },
        yaxis={
            "range": [0, 1],
            "tickformat": ".0%",
            "title": {"text": _("accuracy")},
            **NO_OVERFLOW_CHECK,
        },
        barmode="group",
        bargap=0.2,
        height=420,
        margin=INTERVENTIONS_MARGIN,
        legend=LEGEND_BELOW,
    )
    if clean is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": clean,
                "y1": clean,
                "line": {"dash": "dash", "color": MEAN_COLOUR, "width": 1.5},
            }
        ]
        layout["annotations"] = [
            {
                "xref": "paper",
                "x": 1,
                "y": clean,
                "xanchor": "right",
                "yanchor": "bottom",
                "text": _("clean accuracy {accuracy:.1%}").format(accuracy=clean),
                "showarrow": False,
                "font": {"size": 11, "color": MEAN_COLOUR},
            }
        ]
    return _figure(traces, layout)


def interventions_table(interventions: list[dict]) -> pd.DataFrame:
    """The interventions as rows, with each one's change against the clean accuracy."""
    clean = _clean_accuracy(interventions)
    rows = [r for r in interventions if r["kind"] != Kind.CLEAN]
    return pd.DataFrame(
        {
            "kind": pd.Series([str(r["kind"]) for r in rows], dtype=object),
            "blocks": pd.Series([r["blocks"] for r in rows], dtype=object),
            "k": pd.Series([r.get("k") for r in rows], dtype=object),
            "accuracy": pd.Series([float(r["accuracy"]) for r in rows], dtype=float),
            "change": pd.Series(
                [None if clean is None else float(r["accuracy"]) - clean for r in rows],
                dtype=float,
            ),
        }
    )
