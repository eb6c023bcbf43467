"""Figures of a training run: pure functions from seattn.analysis.monitor's views.

Each builder returns a Figure and draws nothing. Subplots are laid out by hand (axis domains and
title annotations) rather than with ``make_subplots``, which costs ~10x more per figure; the live
view rebuilds these every time an epoch lands and must stay well under 100 ms. Blocks share one
colour axis, so a colour means the same weight (or share) in every block, and each block is one
heatmap trace - never one subplot per channel.

:func:`live_figures` memoises the four figures of a run per version of its files and language:
between two epochs the page refreshes many times but the figures do not change. Their words are
in the language active when they are built (seattn.i18n).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from seattn.analysis import monitor
from seattn.analysis.monitor import ChannelView, HistogramView, RunSnapshot
from seattn.figures.style import MARGIN, WEIGHTS_COLORSCALE, WEIGHTS_RANGE, empty_figure
from seattn.i18n import N_, _, active_language, ngettext, pgettext

SPLIT_COLOURS = {"train": "#4C78A8", "validation": "#F58518", "schedule": "#54A24B"}
SHARE_SCALE = "Blues"
TITLE_FONT = dict(size=13)
# Each curve's hover text: one whole phrase per split and quantity (Chinese orders them its way).
CURVE_HOVERS = {
    ("train", "loss"): N_("epoch %{x}<br>train loss %{y:.4f}"),
    ("validation", "loss"): N_("epoch %{x}<br>validation loss %{y:.4f}"),
    ("train", "accuracy"): N_("epoch %{x}<br>train accuracy %{y:.4f}"),
    ("validation", "accuracy"): N_("epoch %{x}<br>validation accuracy %{y:.4f}"),
}


def _split_name(split: str) -> str:
    """A data split as the curves' legend names it."""
    if split == "train":
        return pgettext("data split", "train")
    if split == "validation":
        return pgettext("data split", "validation")
    return split


def _axis_name(index: int) -> str:
    return "" if index == 0 else str(index + 1)


def _title(text: str, x: float, y: float) -> dict[str, Any]:
    return dict(
        text=text,
        x=x,
        y=y,
        xref="paper",
        yref="paper",
        xanchor="center",
        yanchor="bottom",
        showarrow=False,
        font=TITLE_FONT,
    )


def _stacked_layout(titles: Sequence[str], gap: float = 0.2) -> dict[str, Any]:
    """Axes for one row per panel, all sharing the bottom x axis (the epochs); ``gap`` is the
    share of each row left free above its plot for its title."""
    rows = len(titles)
    step = 1.0 / rows
    layout: dict[str, Any] = {"annotations": []}
    for index, text in enumerate(titles):
        bottom = 1.0 - (index + 1) * step
        top = bottom + step - (gap * step if index else 0.0)
        name = _axis_name(index)
        layout[f"yaxis{name}"] = dict(domain=[bottom, top], anchor=f"x{name}")
        layout[f"xaxis{name}"] = dict(
            anchor=f"y{name}", matches="x" if index else None, showticklabels=index == rows - 1
        )
        layout["annotations"].append(_title(text, 0.5, top))
    return layout


def _epoch_tick(epochs: pd.Series | Sequence[int]) -> int | None:
    return 1 if len(set(epochs)) <= 12 else None


def curves_figure(curves: pd.DataFrame, *, height: int = 320) -> go.Figure:
    """Loss and accuracy per epoch, train and validation, side by side."""
    if curves.empty:
        return empty_figure(_("Curves appear when the first epoch is done"), height)
    traces = []
    epochs, values = curves["epoch"].to_numpy(), curves["value"].to_numpy()
    quantities, splits = curves["quantity"].to_numpy(), curves["split"].to_numpy()
    for index, quantity in enumerate(("loss", "accuracy")):
        for split in ("train", "validation"):
            rows = (quantities == quantity) & (splits == split)
            if not rows.any():
                continue
            traces.append(
                go.Scatter(
                    x=epochs[rows],
                    y=values[rows],
                    name=_split_name(split),
                    legendgroup=split,
                    showlegend=index == 0,
                    mode="lines+markers",
                    marker=dict(size=5),
                    line=dict(color=SPLIT_COLOURS[split]),
                    xaxis=f"x{_axis_name(index)}",
                    yaxis=f"y{_axis_name(index)}",
                    hovertemplate=_(CURVE_HOVERS[split, quantity]) + "<extra></extra>",
                )
            )
    tick = _epoch_tick(epochs)
    return go.Figure(
        data=traces,
        layout=dict(
            height=height,
            margin=MARGIN,
            hovermode="x unified",
            legend=dict(orientation="h", yanchor="bottom", y=1.08, x=1, xanchor="right"),
            xaxis=dict(domain=[0, 0.45], anchor="y", title=_("epoch"), dtick=tick),
            yaxis=dict(anchor="x"),
            xaxis2=dict(domain=[0.55, 1], anchor="y2", title=_("epoch"), dtick=tick),
            yaxis2=dict(anchor="x2", tickformat=".0%"),
            annotations=[_title(_("Loss"), 0.225, 1.0), _title(_("Accuracy"), 0.775, 1.0)],
        ),
    )


def learning_rate_figure(curves: pd.DataFrame, *, height: int = 220) -> go.Figure:
    """The learning rate per epoch (log scale: the scheduler halves it)."""
    part = curves[curves["quantity"] == "learning rate"] if not curves.empty else curves
    if part.empty:
        return empty_figure(_("The learning rate appears when the first epoch is done"), height)
    return go.Figure(
        data=[
            go.Scatter(
                x=part["epoch"].to_numpy(),
                y=part["value"].to_numpy(),
                mode="lines+markers",
                line=dict(color=SPLIT_COLOURS["schedule"], shape="hv"),
                marker=dict(size=5),
                hovertemplate=_("epoch %{x}<br>learning rate %{y:.2e}") + "<extra></extra>",
            )
        ],
        layout=dict(
            height=height,
            margin=MARGIN,
            title=dict(text=_("Learning rate"), font=TITLE_FONT),
            xaxis=dict(title=_("epoch"), dtick=_epoch_tick(part["epoch"])),
            yaxis=dict(type="log", exponentformat="power"),
        ),
    )


def _block_title(block: str) -> str:
    """ "block2" -> "Block 2" (in the session's language); another name as it is."""
    number = block.removeprefix("block")
    return _("Block {number}").format(number=number) if number.isdigit() else block


def _channels_title(block: str, channels: int) -> str:
    return ngettext("{block}: {n} channel", "{block}: {n} channels", channels).format(
        block=_block_title(block), n=channels
    )


def channel_heatmap(views: Sequence[ChannelView], *, height_per_block: int = 170) -> go.Figure:
    """Per SE block, the mean excitation weight of each channel (rows, sorted by the latest
    epoch's weight, highest on top) after each epoch (columns)."""
    views = [v for v in views if v.weights.size]
    if not views:
        return empty_figure(_("Excitation weights appear when the first epoch is done"))
    layout = _stacked_layout([_channels_title(v.block, v.weights.shape[1]) for v in views])
    traces = []
    for index, view in enumerate(views):
        channels = np.broadcast_to(np.asarray(view.channels)[:, None], view.weights.T.shape)
        name = _axis_name(index)
        traces.append(
            go.Heatmap(
                z=view.weights.T,
                x=view.epochs,
                y=np.arange(1, view.weights.shape[1] + 1),
                customdata=channels,
                coloraxis="coloraxis",
                xaxis=f"x{name}",
                yaxis=f"y{name}",
                hovertemplate=_(
                    "epoch %{x}<br>channel %{customdata} (rank %{y})<br>mean weight %{z:.3f}"
                )
                + "<extra></extra>",
            )
        )
        layout[f"yaxis{name}"].update(autorange="reversed", title=_("rank"))
    layout[f"xaxis{_axis_name(len(views) - 1)}"]["title"] = _("epoch")
    layout.update(
        height=60 + height_per_block * len(views),
        margin=MARGIN,
        # The fixed 0..1 range of every weight figure: a block whose weights all sit near 0.5
        # looks like it, instead of being stretched over the whole scale.
        coloraxis=dict(
            colorscale=WEIGHTS_COLORSCALE,
            cmin=WEIGHTS_RANGE[0],
            cmax=WEIGHTS_RANGE[1],
            colorbar=dict(title=_("mean<br>weight"), thickness=12),
        ),
    )
    return go.Figure(data=traces, layout=layout)


def histogram_heatmap(views: Sequence[HistogramView], *, height_per_block: int = 150) -> go.Figure:
    """Per SE block, how its excitation weights spread over 0..1 (rows) after each epoch
    (columns): the share of all weights of the probe images that fall in each bin."""
    views = [v for v in views if v.shares.size]
    if not views:
        return empty_figure(_("Weight distributions appear when the first epoch is done"))
    layout = _stacked_layout([_block_title(v.block) for v in views])
    traces = []
    for index, view in enumerate(views):
        name = _axis_name(index)
        traces.append(
            go.Heatmap(
                z=view.shares.T,
                x=view.epochs,
                y=(view.bin_edges[:-1] + view.bin_edges[1:]) / 2,
                coloraxis="coloraxis",
                xaxis=f"x{name}",
                yaxis=f"y{name}",
                hovertemplate=_("epoch %{x}<br>weight ≈ %{y:.2f}<br>%{z:.1%} of weights")
                + "<extra></extra>",
            )
        )
        layout[f"yaxis{name}"].update(range=[0, 1], dtick=0.5, title=_("weight"))
    layout[f"xaxis{_axis_name(len(views) - 1)}"]["title"] = _("epoch")
    layout.update(
        height=60 + height_per_block * len(views),
        margin=MARGIN,
        coloraxis=dict(
            colorscale=SHARE_SCALE,
            cmin=0,
            colorbar=dict(title=_("share of<br>weights"), tickformat=".0%", thickness=12),
        ),
    )
    return go.Figure(data=traces, layout=layout)


# -- the four figures of the live view, memoised per version of the run's files and language --


@dataclass(frozen=True)
class LiveFigures:
    curves: go.Figure
    learning_rate: go.Figure
    channels: go.Figure | None  # None for a run without SE blocks
    histograms: go.Figure | None


_CACHE_SIZE = 16
_cache: OrderedDict[tuple, LiveFigures] = OrderedDict()
_cache_lock = threading.Lock()


def build_live_figures(snapshot: RunSnapshot) -> LiveFigures:
    curves = monitor.curves_frame(snapshot.metrics)
    blocks = monitor.se_blocks(snapshot.excitation)
    excitation = snapshot.excitation
    return LiveFigures(
        curves=curves_figure(curves),
        learning_rate=learning_rate_figure(curves),
        channels=channel_heatmap([monitor.channel_view(excitation, b) for b in blocks])
        if blocks
        else None,
        histograms=histogram_heatmap([monitor.histogram_view(excitation, b) for b in blocks])
        if blocks
        else None,
    )


def live_figures(snapshot: RunSnapshot) -> LiveFigures:
    """The live view's figures in the active language; rebuilt only when metrics.csv or
    excitation.json changed (or for a language not built yet).

    The figures returned may be shared between sessions: draw them, never modify them
    (st.plotly_chart copies a figure before encoding it).
    """
    key = (str(snapshot.path), snapshot.versions, active_language())
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    figures = build_live_figures(snapshot)
    with _cache_lock:
        _cache[key] = figures
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return figures
