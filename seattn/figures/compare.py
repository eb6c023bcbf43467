"""Figures of the comparison: pure functions from seattn.analysis.compare tables to plotly.

Each builder returns a Figure and draws nothing. Variants are categories on the x axis in the
order the tables give them (no SE, then r growing, then ECA, then CBAM by ratio), not numbers: the
SE paper's ablation reads the same way, and "no SE" has no place on a numeric axis. A variant
keeps its colour in every chart. A group of SE ratios alone is titled as before, by the reduction
ratio; one that holds ECA or CBAM by its attention variants.

The words are in the active language (seattn.i18n); the tables keep their English column names
and variant ids ("no SE", "r=16"), translated here only where they are drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from seattn.analysis.compare.attention import SimilarityMatrix
from seattn.figures.style import (
    TEMPLATE,
    TRANSPARENT,
    VIRIDIS,
    block_label,
    empty_figure,
    fill_hover,
)
from seattn.i18n import N_, _

MARGIN = {"l": 10, "r": 10, "t": 50, "b": 10}
PALETTE = qualitative.D3
BASELINE_COLOUR = "#7f7f7f"  # the network without SE: grey, the thing every ratio is measured by
BLOCK_COLOURS = {"block1": "#4C78A8", "block2": "#F58518", "block3": "#54A24B"}
WEIGHT_SCALE = VIRIDIS
SIMILARITY_SCALE = "RdBu"
LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.06, "x": 1, "xanchor": "right"}
NO_SE = "no SE"  # the variant id of the network without SE (seattn.model.ratios.ratio_label)
NOTHING_TO_COMPARE = N_("No completed models to compare yet")
NO_SE_MODEL = N_("No SE model with weights in this group")


def variant_label(variant: str) -> str:
    """A variant as a chart shows it: "no SE" in the active language, "r=16" as it is."""
    return _("no SE") if variant == NO_SE else variant


def variant_colours(variants: Sequence[str]) -> dict[str, str]:
    """A stable colour per variant: grey for no SE, the palette in order for the ratios."""
    colours, index = {}, 0
    for variant in variants:
        if variant == NO_SE:
            colours[variant] = BASELINE_COLOUR
        else:
            colours[variant] = PALETTE[index % len(PALETTE)]
            index += 1
    return colours


def _layout(figure: go.Figure, *, height: int, title: str | None = None) -> go.Figure:
    figure.update_layout(
        template=TEMPLATE,
        height=height,
        margin=MARGIN,
        title={"text": title, "x": 0, "xanchor": "left"} if title else None,
        paper_bgcolor=TRANSPARENT,
        plot_bgcolor=TRANSPARENT,
        legend=LEGEND,
    )
    return figure


def _error_bars(std: pd.Series) -> dict:
    # One seed has no spread: no bar rather than a bar of 0, which would claim certainty.
    return {"type": "data", "array": std.to_numpy(dtype=float), "visible": bool(std.notna().any())}


def _category_axis(variants: Sequence[str]) -> dict:
    return {"type": "category", "categoryorder": "array", "categoryarray": list(variants)}


def _ratios_only(table: pd.DataFrame) -> bool:
    """Whether the table's variants are SE ratios and the baseline alone (no ECA, no CBAM)."""
    if "attention" not in table:
        return True
    return bool(table["attention"].isin(["se", "none"]).all())


def accuracy_vs_ratio(table: pd.DataFrame, *, height: int = 360) -> go.Figure:
    """Best and final validation accuracy per ratio, with error bars of one std over seeds.

    A dotted line marks the network without SE, when the table has it.
    """
    if table.empty:
        return empty_figure(_(NOTHING_TO_COMPARE), height)
    variants = [variant_label(v) for v in table["variant"]]
    figure = go.Figure()
    for column, colour, symbol in (
        # The table's column names, N_: marked for translation where they are shown.
        (N_("best val accuracy"), "#4C78A8", "circle"),
        (N_("final val accuracy"), "#F58518", "diamond"),
    ):
        figure.add_trace(
            go.Scatter(
                x=variants,
                y=table[column],
                error_y=_error_bars(table[f"{column} std"]),
                customdata=np.stack(
                    [table[f"{column} std"].fillna(0), table["seeds"]], axis=1
                ).astype(float),
                name=_(column),
                mode="lines+markers",
                marker={"size": 9, "symbol": symbol, "color": colour},
                line={"color": colour, "width": 1.5},
                hovertemplate=fill_hover(
                    _(
                        "%{x}<br>{quantity} %{y:.2%} ± %{customdata[0]:.2%}"
                        "<br>%{customdata[1]} seed(s)"
                    ),
                    quantity=_(column),
                )
                + "<extra></extra>",
            )
        )
    baseline = table.loc[table["variant"] == NO_SE, "best val accuracy"]
    if not baseline.empty and pd.notna(baseline.iloc[0]):
        figure.add_hline(
            y=float(baseline.iloc[0]),
            line={"dash": "dot", "color": BASELINE_COLOUR, "width": 1},
            annotation_text=_("no SE (best)"),
            annotation_position="bottom right",
        )
    ratios_only = _ratios_only(table)
    figure.update_xaxes(
        _category_axis(variants),
        title_text=_("SE reduction ratio") if ratios_only else _("attention module and ratio"),
    )
    figure.update_yaxes(tickformat=".1%", title_text=_("validation accuracy"), showgrid=True)
    title = (
        _("Accuracy against reduction ratio") if ratios_only else _("Accuracy per attention module")
    )
    return _layout(figure, height=height, title=title)


def parameters_vs_ratio(table: pd.DataFrame, *, height: int = 340) -> go.Figure:
    """The attention's own parameters, total parameters and FLOPs per image, per variant."""
    if table.empty:
        return empty_figure(_(NOTHING_TO_COMPARE), height)
    colours = [variant_colours(table["variant"].tolist())[v] for v in table["variant"]]
    variants = [variant_label(v) for v in table["variant"]]
    own = _("SE parameters") if _ratios_only(table) else _("Attention parameters")
    figure = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=(own, _("All parameters"), _("FLOPs per image")),
        horizontal_spacing=0.09,
    )
    panels = (
        (N_("attention parameters"), "bar"),
        (N_("parameters"), "line"),
        (N_("FLOPs per image"), "line"),
    )
    for col, (column, kind) in enumerate(panels, start=1):
        values = table[column].astype(float)
        hover = (
            fill_hover(_("%{x}<br>{quantity} %{y:,.0f}"), quantity=_(column)) + "<extra></extra>"
        )
        if kind == "bar":
            trace: go.BaseTraceType = go.Bar(
                x=variants,
                y=values,
                marker_color=colours,
                text=[f"{v:,.0f}" for v in values],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=hover,
                showlegend=False,
            )
        else:
            trace = go.Scatter(
                x=variants,
                y=values,
                mode="lines+markers",
                marker={"size": 8, "color": colours},
                line={"color": "#999", "width": 1},
                hovertemplate=hover,
                showlegend=False,
            )
        figure.add_trace(trace, row=1, col=col)
        figure.update_xaxes(_category_axis(variants), row=1, col=col)
    # Totals differ by a few thousand in a million: the axis must not start at zero to show it.
    figure.update_yaxes(showgrid=True, tickformat=",.0f")
    figure.update_yaxes(rangemode="tozero", row=1, col=1)
    return _layout(figure, height=height)


def learning_curves_figure(curves: pd.DataFrame, *, height: int = 380) -> go.Figure:
    """Validation accuracy and loss per epoch, one line per variant (mean over seeds, ± 1 std)."""
    if curves.empty:
        return empty_figure(_("Learning curves appear when models have a training history"), height)
    panels = (N_("validation accuracy"), N_("validation loss"))  # the curves' metric names
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=[_(p) for p in panels], horizontal_spacing=0.08
    )
    variants = list(dict.fromkeys(curves["variant"]))
    colours = variant_colours(variants)
    for col, metric in enumerate(panels, start=1):
        for variant in variants:
            part = curves[(curves["variant"] == variant) & (curves["metric"] == metric)]
            if part.empty:
                continue
            colour = colours[variant]
            spread = part["std"].fillna(0.0)
            if part["std"].notna().any():
                # The band: upper edge, then the lower edge filled back up to it.
                figure.add_trace(
                    go.Scatter(
                        x=pd.concat([part["epoch"], part["epoch"][::-1]]),
                        y=pd.concat([part["mean"] + spread, (part["mean"] - spread)[::-1]]),
                        fill="toself",
                        fillcolor=colour,
                        opacity=0.15,
                        line={"width": 0},
                        hoverinfo="skip",
                        showlegend=False,
                        legendgroup=variant,
                    ),
                    row=1,
                    col=col,
                )
            if metric.endswith("accuracy"):
                hover = _(
                    "{variant}, epoch %{x}<br>{metric} %{y:.2%} ± %{customdata[0]:.2%} "
                    "(%{customdata[1]} seed(s))"
                )
            else:
                hover = _(
                    "{variant}, epoch %{x}<br>{metric} %{y:.4f} ± %{customdata[0]:.4f} "
                    "(%{customdata[1]} seed(s))"
                )
            figure.add_trace(
                go.Scatter(
                    x=part["epoch"],
                    y=part["mean"],
                    customdata=np.stack([spread, part["seeds"]], axis=1).astype(float),
                    name=variant_label(variant),
                    legendgroup=variant,
                    showlegend=col == 1,
                    mode="lines+markers" if len(part) < 40 else "lines",
                    marker={"size": 5},
                    line={"color": colour, "width": 2},
                    hovertemplate=fill_hover(
                        hover, variant=variant_label(variant), metric=_(metric)
                    )
                    + "<extra></extra>",
                ),
                row=1,
                col=col,
            )
    figure.update_xaxes(title_text=_("epoch"), showgrid=True)
    figure.update_yaxes(showgrid=True)
    figure.update_yaxes(tickformat=".0%", row=1, col=1)
    return _layout(figure, height=height)


def step_time_figure(times: pd.DataFrame, *, height: int = 320) -> go.Figure:
    """Milliseconds per training step per variant (seattn.analysis.compare.speed), as bars."""
    if times.empty:
        return empty_figure(_(NOTHING_TO_COMPARE), height)
    colours = variant_colours(times["variant"].tolist())
    variants = [variant_label(v) for v in times["variant"]]
    figure = go.Figure(
        go.Bar(
            x=variants,
            y=times["ms per step"],
            marker_color=[colours[v] for v in times["variant"]],
            text=[f"{v:,.0f}" for v in times["ms per step"]],
            textposition="outside",
            cliponaxis=False,
            customdata=times[["images per second"]].to_numpy(dtype=float),
            hovertemplate=_("%{x}<br>%{y:,.1f} ms per step<br>%{customdata[0]:,.0f} images/s")
            + "<extra></extra>",
            showlegend=False,
        )
    )
    figure.update_xaxes(_category_axis(variants))
    figure.update_yaxes(rangemode="tozero", showgrid=True, title_text=_("ms per training step"))
    return _layout(figure, height=height, title=_("Time per training step, measured here"))


STATISTIC_TITLES = {  # shown through _()
    "mean": N_("Mean weight"),
    "std": N_("Spread of the weights (std)"),
    "entropy": N_("Evenness (normalised entropy)"),
}
# The statistics' names as the hover text says them, shown through _().
STATISTIC_NAMES = {"mean": N_("mean"), "std": N_("std"), "entropy": N_("entropy")}


def excitation_statistics_figure(summary: pd.DataFrame, *, height: int = 340) -> go.Figure:
    """Per block, mean / std / entropy of the excitation weights against the ratio."""
    if summary.empty:
        return empty_figure(_(NO_SE_MODEL), height)
    variants = [variant_label(v) for v in dict.fromkeys(summary["variant"])]
    figure = make_subplots(
        rows=1,
        cols=len(STATISTIC_TITLES),
        subplot_titles=[_(title) for title in STATISTIC_TITLES.values()],
        horizontal_spacing=0.08,
    )
    for col, statistic in enumerate(STATISTIC_TITLES, start=1):
        for block in sorted(summary["block"].unique()):
            part = summary[summary["block"] == block]
            figure.add_trace(
                go.Scatter(
                    x=[variant_label(v) for v in part["variant"]],
                    y=part[statistic],
                    error_y=_error_bars(part[f"{statistic} std"]),
                    name=block_label(block),
                    legendgroup=block,
                    showlegend=col == 1,
                    mode="lines+markers",
                    marker={"size": 8},
                    line={"color": BLOCK_COLOURS.get(block), "width": 1.5},
                    hovertemplate=fill_hover(
                        _("{block}, %{x}<br>{statistic} %{y:.4f}"),
                        block=block_label(block),
                        statistic=_(STATISTIC_NAMES[statistic]),
                    )
                    + "<extra></extra>",
                ),
                row=1,
                col=col,
            )
        figure.update_xaxes(_category_axis(variants), row=1, col=col)
    figure.update_yaxes(showgrid=True)
    return _layout(figure, height=height)


def image_excitation_figure(
    vectors: Mapping[str, SimilarityMatrix], *, height: int | None = None
) -> go.Figure:
    """Per block, one row of channel weights per ratio: the same image's attention side by side."""
    if not vectors:
        return empty_figure(_(NO_SE_MODEL))
    blocks = list(vectors)
    figure = make_subplots(
        rows=1,
        cols=len(blocks),
        subplot_titles=[
            _("{block} ({channels} channels)").format(
                block=block_label(b), channels=vectors[b].values.shape[1]
            )
            for b in blocks
        ],
        horizontal_spacing=0.06,
    )
    for col, block in enumerate(blocks, start=1):
        matrix = vectors[block]
        figure.add_trace(
            go.Heatmap(
                z=matrix.values.astype(np.float32),
                x=np.arange(matrix.values.shape[1], dtype=np.int16),
                y=[variant_label(label) for label in matrix.labels],
                coloraxis="coloraxis",
                hovertemplate=_("%{y}<br>channel %{x}<br>weight %{z:.3f}") + "<extra></extra>",
            ),
            row=1,
            col=col,
        )
        figure.update_yaxes(
            type="category", autorange="reversed", showticklabels=col == 1, row=1, col=col
        )
    figure.update_xaxes(title_text=_("channel"))
    figure.update_layout(
        coloraxis={
            "colorscale": WEIGHT_SCALE,
            "cmin": 0,
            "cmax": 1,
            "colorbar": {"title": {"text": _("weight")}, "thickness": 12},
        }
    )
    rows = max(len(m.labels) for m in vectors.values())
    return _layout(figure, height=height or 190 + 36 * rows)


def similarity_figure(
    matrices: Mapping[str, SimilarityMatrix],
    *,
    value_name: str = N_("correlation"),
    zmin: float = -1.0,
    height: int | None = None,
) -> go.Figure:
    """Per block, a ratio x ratio heatmap of how alike the ratios' attention is, values written.

    ``zmin`` is -1 for a correlation and 0 for CKA (which is never negative). ``value_name`` is
    shown through _(): a name marked for translation, or one that stays as it is ("CKA").
    """
    if not matrices:
        return empty_figure(_("At least one SE model with weights is needed"))
    value_name = _(value_name)
    blocks = list(matrices)
    figure = make_subplots(
        rows=1,
        cols=len(blocks),
        subplot_titles=[block_label(b) for b in blocks],
        horizontal_spacing=0.06,
    )
    for col, block in enumerate(blocks, start=1):
        matrix = matrices[block]
        values = matrix.values.astype(np.float32)
        labels = [variant_label(label) for label in matrix.labels]
        figure.add_trace(
            go.Heatmap(
                z=values,
                x=labels,
                y=labels,
                text=[["–" if np.isnan(v) else f"{v:.2f}" for v in row] for row in values],
                texttemplate="%{text}",
                coloraxis="coloraxis",
                hovertemplate=fill_hover(
                    _("%{y} vs %{x}<br>{measure} %{z:.3f}"), measure=value_name
                )
                + "<extra></extra>",
            ),
            row=1,
            col=col,
        )
        figure.update_xaxes(type="category", row=1, col=col)
        figure.update_yaxes(
            type="category", autorange="reversed", showticklabels=col == 1, row=1, col=col
        )
    figure.update_layout(
        coloraxis={
            "colorscale": SIMILARITY_SCALE,
            "cmin": zmin,
            "cmax": 1,
            "colorbar": {"title": {"text": value_name}, "thickness": 12},
        }
    )
    rows = max(len(m.labels) for m in matrices.values())
    return _layout(figure, height=height or 160 + 40 * rows)
