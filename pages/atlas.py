"""Atlas: what SE does across a whole evaluation set, for the model picked in the sidebar.

Thin on purpose: seattn.analysis.atlas measures (once, cached on disk, shared with ``python -m
seattn analyse``), seattn.figures.atlas draws, this page picks what to show. Only the chosen view
is drawn. A channel is linkable: ``?model=se-r16&block=block3&channel=17`` opens its page.
"""

from __future__ import annotations

import streamlit as st

from pages.ui import atlas as atlas_ui
from pages.ui import models
from pages.ui.atlas_words import (
    DEFINITIONS,
    block_sentence,
    block_title,
    intervention_name,
    measured_on,
    thumbnail_caption,
)
from pages.ui.routing import run_through_dashboard
from seattn.data.cifar10 import class_label
from seattn.figures import atlas as figures
from seattn.i18n import N_, _

run_through_dashboard()

PLOT_CONFIG = {"displaylogo": False}
VIEWS = ("Depth", "Classes", "Channel", "Interventions")  # identities: state and links use them
VIEW_NAMES = {  # shown through format_func=lambda view: _(VIEW_NAMES[view])
    "Depth": N_("Depth"),
    "Classes": N_("Classes"),
    "Channel": N_("Channel"),
    "Interventions": N_("Interventions"),
}
# The interventions table's columns (English in the data and its downloads), as the page heads
# them: renamed at the edge, just before st.dataframe.
TABLE_HEADERS = {
    "kind": N_("kind"),
    "what": N_("what"),
    "blocks": N_("blocks"),
    "k": N_("k (share of channels)"),
    "accuracy": N_("accuracy"),
    "change": N_("change"),
}
VIEW_KEY, BLOCK_KEY, CHANNEL_KEY = "atlas_view", "atlas_block", "atlas_channel"
_LINK_READ = "atlas_link_read"  # the URL's block and channel were applied in this session
_PENDING_CHANNEL = "atlas_pending_channel"  # (block, channel) a click chose, for the next run


def apply_link(block_names: list[str]) -> None:
    """Open the channel named by the URL (``?block=block3&channel=17``), once per session."""
    if st.session_state.get(_LINK_READ):
        return
    st.session_state[_LINK_READ] = True
    block = st.query_params.get("block")
    if block in block_names:
        st.session_state[BLOCK_KEY] = block
        st.session_state[VIEW_KEY] = "Channel"
        channel = st.query_params.get("channel")
        if channel is not None and channel.isdigit():
            st.session_state[CHANNEL_KEY] = int(channel)


def open_channel(block: str, channel: int) -> None:
    """Show a channel's page: on a rerun, since the widgets that choose it are drawn already."""
    st.session_state[_PENDING_CHANNEL] = (block, channel)
    st.rerun()


def apply_pending_channel() -> None:
    pending = st.session_state.pop(_PENDING_CHANNEL, None)
    if pending is not None:
        st.session_state[BLOCK_KEY], st.session_state[CHANNEL_KEY] = pending
        st.session_state[VIEW_KEY] = "Channel"


def clicked_channel(event) -> int | None:
    """The channel number a click on a class chart chose (its points carry it as customdata)."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for point in points:
        data = point.get("customdata")
        if isinstance(data, list | tuple):
            data = data[0] if data else None
        if isinstance(data, int | float):
            return int(data)
    return None


st.title(_("Atlas: what SE does across many pictures"))
st.caption(
    _(
        "Explore shows one picture. Here every picture of an evaluation set the model never "
        "trained on is measured at once, so what SE does *in general* shows: which channels it "
        "always damps, whether it depends on the class, and what the network loses without it."
    )
)

loaded = models.model_or_stop()

try:
    atlas = atlas_ui.cached_atlas(loaded.entry.path)
except atlas_ui.AtlasUnavailable as error:
    st.error(_("**No evaluation images for this model here.** {reason}").format(reason=error))
    st.stop()

if atlas is None:
    build = atlas_ui.build_of(loaded.entry.path)
    if build is not None and build.finished and build.error:
        first, _separator, detail = build.error.partition("\n\n")
        st.error(_("Measuring the model failed: {reason}").format(reason=first))
        if detail:
            with st.expander(_("Details")):
                st.code(detail)
        atlas_ui.forget_build(loaded.entry.path)
    elif build is not None and not build.finished:
        atlas_ui.build_progress(loaded.entry.path)
        st.stop()
    st.info(
        _(
            "**{model}** has not been measured yet. One pass over its evaluation images "
            "records every block's weights and runs some forty interventions: about a minute "
            "here, then it is kept on disk for every visitor (and for `python -m seattn analyse`)."
        ).format(model=loaded.label)
    )
    if st.button(_("Measure this model"), type="primary", icon=":material/play_arrow:"):
        atlas_ui.start_build(loaded.entry.path, loaded.entry.name)
        st.rerun()
    st.stop()

data = atlas.data
st.markdown(
    measured_on(loaded.label, atlas.images, data["name"], data["split"], atlas.clean_accuracy)
)
if not atlas.has_se:
    st.info(
        _(
            "This network has no SE blocks, so there are no weights to measure: its accuracy "
            "above is the baseline the SE models are compared with."
        )
    )
    st.stop()

block_names = [block.name for block in atlas.blocks]
apply_link(block_names)
apply_pending_channel()
st.session_state.setdefault(VIEW_KEY, "Depth")
view = (
    st.segmented_control(
        _("View"), VIEWS, format_func=lambda choice: _(VIEW_NAMES[choice]), key=VIEW_KEY
    )
    or "Depth"
)
summary = atlas.summary()

if view == "Depth":
    st.plotly_chart(figures.depth_figure(summary["blocks"]), config=PLOT_CONFIG, key="atlas_depth")
    for block in summary["blocks"]:
        st.markdown("- " + block_sentence(block, summary["interventions"]))
    with st.expander(_("What the measures mean")):
        st.markdown(_(DEFINITIONS))

elif view == "Classes":
    block_name = st.selectbox(_("Block"), block_names, format_func=block_title, key=BLOCK_KEY)
    block = atlas.block(block_name)
    st.caption(
        _(
            "Each row: how a class's mean weights differ from the mean over all pictures (red: "
            "weighted up for this class, blue: down). Channels sorted by their mean weight. "
            "Click a point on the lines below to open that channel's page."
        )
    )
    # Not selectable: plotly.js sends no click selection for heatmap cells.
    st.plotly_chart(
        figures.class_profile_heatmap(block.weights, atlas.labels, atlas.classes, block=block_name),
        config=PLOT_CONFIG,
        key="atlas_heatmap",
    )
    chosen = st.multiselect(
        _("Classes as lines"),
        atlas.classes,
        default=atlas.classes[:2],
        format_func=class_label,
        key="atlas_classes",
    )
    lines = st.plotly_chart(
        figures.class_lines_figure(
            block.weights, atlas.labels, atlas.classes, chosen, block=block_name
        ),
        config=PLOT_CONFIG,
        key="atlas_lines",
        on_select="rerun",
        selection_mode="points",
    )
    picked = clicked_channel(lines)
    if picked is not None:
        open_channel(block_name, picked)

elif view == "Channel":
    left, right = st.columns(2)
    block_name = left.selectbox(_("Block"), block_names, format_func=block_title, key=BLOCK_KEY)
    block = atlas.block(block_name)
    if st.session_state.get(CHANNEL_KEY, 0) >= block.channels:
        st.session_state[CHANNEL_KEY] = 0
    channel = right.number_input(
        _("Channel (0–{last})").format(last=block.channels - 1),
        0,
        block.channels - 1,
        key=CHANNEL_KEY,
    )
    st.query_params.update(model=loaded.entry.name, block=block_name, channel=str(channel))
    st.subheader(
        _("{block} · channel {channel}").format(block=block_title(block_name), channel=channel)
    )
    weights = block.weights[:, channel]
    st.plotly_chart(
        figures.channel_distribution_figure(
            weights, atlas.labels, atlas.classes, block=block_name, channel=channel
        ),
        config=PLOT_CONFIG,
        key="atlas_distribution",
    )
    headings = (
        N_("**The {count} pictures that give it the highest weight**"),
        N_("**The {count} pictures that give it the lowest weight**"),
    )
    for heading, indices in zip(headings, (block.top[channel], block.bottom[channel]), strict=True):
        rows = indices.tolist()
        st.markdown(_(heading).format(count=len(rows)))
        st.image(
            [atlas.thumbnail(i) for i in rows],
            caption=[
                thumbnail_caption(
                    atlas.classes,
                    int(atlas.labels[i]),
                    int(atlas.predictions[i]),
                    float(weights[i]),
                )
                for i in rows
            ],
            width=72,
        )
    st.plotly_chart(
        figures.mean_map_figure(block.mean_maps[channel], block=block_name, channel=channel),
        config=PLOT_CONFIG,
        key="atlas_mean_map",
    )

else:  # Interventions
    st.caption(
        _(
            "Accuracy when a block's weights are replaced inside the network (later blocks "
            "compute their own weights from what they then receive). The dashed line is the "
            "untouched model."
        )
    )
    st.plotly_chart(
        figures.interventions_figure(summary["interventions"]),
        config=PLOT_CONFIG,
        key="atlas_interventions",
    )
    table = figures.interventions_table(summary["interventions"])
    table.insert(1, "what", table["kind"].map(intervention_name))
    headers = {column: _(TABLE_HEADERS.get(column, column)) for column in table.columns}
    column_config = {
        "accuracy": st.column_config.NumberColumn(format="percent"),
        "change": st.column_config.NumberColumn(format="percent"),
        "k": st.column_config.NumberColumn(format="percent"),
    }
    st.dataframe(
        table.rename(columns=headers),
        hide_index=True,
        column_config={headers[c]: config for c, config in column_config.items()},
    )
