"""Explore: give the network pictures and see what each SE block does to them.

Thin on purpose: it reads widgets, calls seattn.analysis.explore for the numbers and
seattn.figures.explore for the charts, and draws them. Decoded uploads are kept per session by
upload id, so changing a display option does not decode a large photo again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from pages.ui import examples, models, text
from pages.ui.routing import run_through_dashboard
from seattn.analysis import explore
from seattn.analysis.statistics import STATISTICS
from seattn.data.examples import pick_examples
from seattn.data.images import MAX_PIXELS, UPLOAD_TYPES, ImageError, open_image
from seattn.figures import explore as figures

run_through_dashboard()

EXAMPLES_KEY = "explore_examples"
SEED_KEY = "explore_example_seed"
DECODED_KEY = "explore_prepared"  # upload id / example path -> PreparedImage | error message
CHANNEL_CHOICES = {"top": "Strongest k", "bottom": "Weakest k", "all": "All"}
GALLERY_COLUMNS = 5
PLOT_CONFIG = {"displaylogo": False}

st.title("Explore")
st.markdown(
    "Give the network a picture and look inside: what it predicts, how strongly each **SE block** "
    "keeps every channel (a weight from 0 to 1), and what the block's feature maps look like "
    "before and after that weighting. New here? The **Home** page explains it in plain words."
)

loaded = models.current_model()
if loaded is None:
    models.explain_no_model()
    st.stop()


# -- input ------------------------------------------------------------------------------------


def prepared(
    key: str, name: str, read: Callable[[], bytes], true_class: str | None = None
) -> explore.PreparedImage | str:
    """The prepared image (or the error message) for an upload or example, made once a session."""
    cache: dict[str, explore.PreparedImage | str] = st.session_state.setdefault(DECODED_KEY, {})
    if key not in cache:
        try:
            cache[key] = explore.prepare(open_image(read(), name), true_class)
        except ImageError as error:
            cache[key] = str(error)
        except OSError as error:  # an example file that vanished or cannot be read
            cache[key] = f"{name} could not be read ({error.strerror or error})."
    return cache[key]


if st.session_state.pop(examples.EXAMPLES_REQUESTED, False):
    st.session_state[EXAMPLES_KEY] = True  # the Home page's "Try it"

images: list[explore.PreparedImage] = []
current_keys: set[str] = set()


def add(key: str, outcome: explore.PreparedImage | str) -> None:
    current_keys.add(key)
    if isinstance(outcome, str):
        st.error(outcome)  # one message for this file; the others are still shown
    else:
        images.append(outcome)


files = st.file_uploader(
    "Upload one or several pictures",
    type=list(UPLOAD_TYPES),
    accept_multiple_files=True,
    key="explore_uploads",
)
st.caption(
    f"PNG, JPEG, WebP, BMP, GIF or TIFF; up to {models.upload_limit_mb()} MB per file and "
    f"{MAX_PIXELS / 1e6:.0f} megapixels. Any size works: the centre square is resized to "
    "32×32 pixels, the size the network was trained on."
)
for file in files or []:
    key = f"upload:{file.file_id}"
    add(key, prepared(key, file.name, file.getvalue))

if st.toggle("Add example pictures from the dataset", key=EXAMPLES_KEY):
    pool = examples.example_pool(loaded.config)
    if isinstance(pool, str):
        st.info(f"{pool} Uploading your own pictures still works.")
    else:
        seed = st.session_state.setdefault(SEED_KEY, 0)
        pick_column, button_column = st.columns([4, 1], vertical_alignment="bottom")
        chosen = pick_column.multiselect(
            "Classes (one random picture each)",
            pool.classes,
            default=pool.classes,
            key="explore_example_classes",
        )
        if button_column.button("Another one", key="explore_another", width="stretch"):
            seed = st.session_state[SEED_KEY] = seed + 1
        st.caption(text.examples_caption(pool))
        for class_name, path in pick_examples(pool, chosen, seed):
            key = f"example:{path}"
            label = f"{class_name} · {path.name}"
            add(key, prepared(key, label, Path(path).read_bytes, class_name))

# Forget images no longer on the page, so a long session does not collect them.
cache = st.session_state.get(DECODED_KEY, {})
for stale in set(cache) - current_keys:
    del cache[stale]

if not images:
    st.info("Add a picture above to see what the network does with it.")
    st.stop()

# -- the forward pass -------------------------------------------------------------------------

analysis = explore.analyse_prepared(loaded.model, loaded.classes, images)
top = analysis.top_k()

if len(images) > 1:
    st.subheader("Your pictures, as the network sees them")
    for start in range(0, len(images), GALLERY_COLUMNS):
        row = range(start, min(start + GALLERY_COLUMNS, len(images)))
        for column, index in zip(st.columns(GALLERY_COLUMNS), row, strict=False):
            label, probability = top[index][0]
            # Enlarged past the column width with hard edges, so the browser only shrinks it.
            column.image(
                explore.enlarged(images[index].view),
                caption=f"{analysis.names[index]} → {label} ({probability:.0%})",
                width="stretch",
            )

chosen_index = 0
if len(images) > 1:
    chosen_index = st.selectbox(
        "Picture to look at closely",
        range(len(images)),
        format_func=lambda i: analysis.names[i],
        key="explore_image",
    )
    chosen_index = min(chosen_index or 0, len(images) - 1)
image = images[chosen_index]
name = analysis.names[chosen_index]
best_label, best_probability = top[chosen_index][0]

st.subheader(f"{name}: the network says **{best_label}** ({best_probability:.0%})")
truth = image.true_class
if truth is not None:
    verdict = "right" if truth == best_label else "wrong"
    st.caption(f"The dataset says **{truth}**: the network is {verdict} on this one.")
original_column, view_column, prediction_column = st.columns([1, 1, 2])
width, height = image.original_size
original_column.image(
    image.preview,
    caption=f"Original, {width}×{height} {image.format}",
    width="stretch",
)
view_column.image(
    explore.enlarged(image.view),
    caption="What the network sees: 32×32 pixels",
    width="stretch",
)
prediction_column.plotly_chart(
    figures.prediction_bars(top[chosen_index], analysis.true_classes[chosen_index]),
    key="explore_prediction",
    config=PLOT_CONFIG,
)
if image.notes:
    st.info("About this file: " + "; ".join(image.notes) + ".")

# -- SE blocks --------------------------------------------------------------------------------

st.subheader("Inside the SE blocks")
if not analysis.has_se:
    st.info(
        f"**{loaded.label}** has no SE blocks: it is the baseline network without channel "
        "attention, so there are no channel weights to show. The prediction above is still its "
        "own. Pick a model with SE (r=…) in the sidebar to see channel attention at work."
    )
else:
    st.markdown(
        "Each SE block looks at all its channels at once (**squeeze**: one average per channel), "
        "decides how much each one matters for *this* picture (**excitation**: a weight from 0 "
        "to 1) and multiplies every feature map by its weight (**scale**). Tall bars are channels "
        "the block keeps; short bars are channels it turns down."
    )
    order_column, choice_column, k_column, option_column = st.columns([1, 1.5, 1.1, 1.5])
    order = order_column.segmented_control(
        "Sort bars by",
        ["weight", "channel"],
        default="weight",
        required=True,
        key="explore_order",
        format_func=str.capitalize,
    )
    which = choice_column.segmented_control(
        "Maps to show",
        list(CHANNEL_CHOICES),
        default="top",
        required=True,
        key="explore_channels",
        format_func=CHANNEL_CHOICES.get,
    )
    k = k_column.slider("k (channels)", 1, 64, 16, key="explore_k")
    per_channel = option_column.toggle(
        "Scale each map on its own",
        key="explore_per_map",
        help="Off: one colour scale for every map, so a channel SE turned down visibly fades. "
        "On: each channel is divided by its own peak before SE, so faint maps show their "
        "pattern (and 'after' still shows how far SE turned them down).",
    )
    difference = option_column.toggle(
        "Show what SE removed",
        key="explore_difference",
        help="A third grid: before minus after, the part of each map that SE took away.",
    )

    tabs = st.tabs([text.block_title(record) for record in analysis.blocks])
    for number, (tab, record) in enumerate(zip(tabs, analysis.blocks, strict=True)):
        with tab:
            weights = analysis.weights(number)[chosen_index]
            channels = explore.choose_channels(weights, which, k)
            statistics = analysis.statistics(number, chosen_index)
            for column, stat in zip(st.columns(len(STATISTICS)), STATISTICS, strict=True):
                label, help_text = text.STATISTIC_LABELS[stat]
                value = statistics[stat]
                shown = f"{value:.0%}" if stat.startswith("share") else f"{value:.3f}"
                column.metric(label, shown, help=help_text)

            highlighted = explore.choose_channels(weights, "top", k) if which == "all" else channels
            highlight_name = {"top": "strongest", "bottom": "weakest", "all": "strongest"}[which]
            st.plotly_chart(
                figures.channel_weight_bars(
                    weights,
                    order=order,
                    highlight=highlighted,
                    highlight_label=f"{len(highlighted)} {highlight_name}",
                    title=f"Channel weights for {name}",
                ),
                key=f"explore_bars_{record.name}",
                config=PLOT_CONFIG,
            )

            shown_what = {
                "top": f"the {len(channels)} channels SE kept most",
                "bottom": f"the {len(channels)} channels SE turned down most",
                "all": f"all {len(channels)} channels",
            }[which]
            st.markdown(f"**Feature maps before and after SE**: {shown_what}")
            order_words = {
                "top": "strongest first",
                "bottom": "weakest first",
                "all": "in channel order",
            }[which]
            st.caption(
                "Each small square is one channel's map of the picture (bright = strong "
                f"response), {order_words}, reading left to right and top to bottom. Hover a "
                "square to see its channel."
            )
            panels = explore.feature_map_panels(
                record.before[chosen_index],
                record.after[chosen_index],
                channels,
                per_channel_scale=per_channel,
                show_difference=difference,
            )
            st.plotly_chart(
                figures.feature_map_grid(panels),
                key=f"explore_maps_{record.name}",
                config=PLOT_CONFIG,
            )

            zoom_key = f"explore_zoom_{record.name}"
            zoom_options = [None, *channels.tolist()]
            if st.session_state.get(zoom_key) not in zoom_options:
                st.session_state.pop(zoom_key, None)  # k or the choice changed under it
            zoom = st.selectbox(
                "Zoom into one channel",
                zoom_options,
                format_func=lambda c, w=weights: (
                    "—" if c is None else f"channel {c} (weight {w[c]:.3f})"
                ),
                key=zoom_key,
            )
            if zoom is not None:
                st.plotly_chart(
                    figures.channel_zoom(
                        record.before[chosen_index, zoom].numpy(),
                        record.after[chosen_index, zoom].numpy(),
                        zoom,
                        float(weights[zoom]),
                        zmax=None if per_channel else panels.zmax,
                    ),
                    key=f"explore_zoom_chart_{record.name}",
                    config=PLOT_CONFIG,
                )

            if len(images) > 1:
                st.markdown("**All your images together**: which channels respond to which picture")
                st.plotly_chart(
                    figures.excitation_matrix(
                        analysis.weights(number),
                        analysis.names,
                        title=f"Block {number + 1}: SE weights per image",
                    ),
                    key=f"explore_matrix_{record.name}",
                    config=PLOT_CONFIG,
                )

# -- downloads --------------------------------------------------------------------------------

st.subheader("Download")
csv_column, json_column = st.columns(2)
csv_column.download_button(
    "Channel weights (CSV)",
    explore.weights_csv(analysis),
    file_name="se_weights.csv",
    mime="text/csv",
    icon=":material/download:",
    disabled=not analysis.has_se,
    help="One row per image, block and channel: image, block, channel, weight.",
)
json_column.download_button(
    "Predictions (JSON)",
    explore.predictions_json(analysis, loaded.describe()),
    file_name="predictions.json",
    mime="application/json",
    icon=":material/download:",
    help="Top-5 classes with probabilities for every image, and which model made them.",
)
