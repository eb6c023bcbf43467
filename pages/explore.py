"""Explore: give the network pictures and see what each SE block does to them.

Thin on purpose: it reads widgets, calls seattn.analysis.explore for the numbers and
seattn.figures.explore for the charts, and draws them. Decoded uploads are kept per session by
upload id (and language: a file's notes and errors are worded), so changing a display option does
not decode a large photo again. A camera picture goes through the same checks as an upload.

In presentation mode (pages/ui/presentation.py) the page keeps its picture choice and shows the
guided walk through the chosen picture instead of the controls and charts below it.

When the picked model has an atlas (its weights measured over a whole evaluation set), each
channel's usual weight is drawn behind the picture's; the page only looks for the atlas's cache
file, and reads it once per model and atlas version. Without one, it measures the model (in the
background, pages/ui/atlas.py) only when asked. The what-if panel runs the chosen picture again
with some SE weights changed (seattn.analysis.whatif), only once something is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

from pages.ui import atlas as atlas_ui
from pages.ui import examples, models, presentation, text
from pages.ui.routing import run_through_dashboard
from seattn.analysis import explore, gradcam, whatif
from seattn.analysis.statistics import STATISTICS
from seattn.analysis.whatif import BlockMode, DatasetContext, WhatIf
from seattn.data.cifar10 import class_label
from seattn.data.examples import pick_examples
from seattn.data.images import MAX_PIXELS, UPLOAD_TYPES, ImageError, open_image
from seattn.figures import explore as figures
from seattn.i18n import N_, _, active_language, ngettext
from seattn.model.attention import AttentionKind

run_through_dashboard()

EXAMPLES_KEY = "explore_examples"
CAMERA_KEY = "explore_use_camera"
SEED_KEY = "explore_example_seed"
# language -> upload id / example path -> PreparedImage | error message
DECODED_KEY = "explore_prepared"
CHANNEL_CHOICES = {"top": N_("Strongest k"), "bottom": N_("Weakest k"), "all": N_("All")}
ORDER_CHOICES = {"weight": N_("Weight"), "channel": N_("Channel")}
BLOCK_KEY = "explore_block"  # the SE block whose charts are drawn
K_KEY = "explore_k"
WHAT_IF_BLOCK_KEY = "explore_whatif_block"
DEFAULT_K = 16
GALLERY_COLUMNS = 5
PLOT_CONFIG = {"displaylogo": False}


# -- the data set behind the bars (an atlas) --------------------------------------------------


def dataset_context(loaded: models.LoadedModel) -> tuple[DatasetContext | None, bool]:
    """(the picked model's data-set context or None, whether the model can be measured at all).

    A model never measured costs one look for a file: nothing is read or computed.
    """
    try:
        atlas = atlas_ui.cached_atlas(loaded.entry.path)
    except (atlas_ui.AtlasUnavailable, OSError):
        return None, False
    return (None if atlas is None else DatasetContext.from_atlas(atlas)), True


def offer_measuring(loaded: models.LoadedModel) -> DatasetContext | None:
    """Say there is no atlas and offer to build one (in the background, with a progress bar)."""
    build = atlas_ui.build_of(loaded.entry.path)
    if build is not None and not build.finished:
        atlas_ui.build_progress(loaded.entry.path)
        return None
    if build is not None and build.error:
        st.error(
            _("The model could not be measured: {error}").format(
                error=build.error.partition(chr(10))[0]
            )
        )
        atlas_ui.forget_build(loaded.entry.path)
    note_column, button_column = st.columns([3, 2], vertical_alignment="center")
    note_column.caption(_(text.NO_ATLAS_NOTE))
    if button_column.button(
        _(text.MEASURE_BUTTON),
        key="explore_measure",
        help=_(text.MEASURE_HELP),
        icon=":material/straighten:",
    ):
        atlas_ui.start_build(loaded.entry.path, loaded.entry.name)
        st.rerun()
    return None


# -- what if ----------------------------------------------------------------------------------


def what_if_keys(block: str) -> tuple[str, str, str]:
    """The session keys of one block's what-if widgets: mode, muted and boosted channels."""
    return (
        f"explore_whatif_mode_{block}",
        f"explore_whatif_mute_{block}",
        f"explore_whatif_boost_{block}",
    )


def reset_what_if(blocks: list[str]) -> None:
    for block in blocks:
        mode_key, mute_key, boost_key = what_if_keys(block)
        st.session_state[mode_key] = BlockMode.TRAINED.value
        st.session_state[mute_key] = []
        st.session_state[boost_key] = []


def what_if_form(widths: dict[str, int], can_freeze: bool) -> WhatIf:
    """The what-if form (one column per SE block) and the WhatIf it last applied."""
    modes = [mode.value for mode in BlockMode if mode is not BlockMode.FROZEN or can_freeze]
    for block in widths:
        mode_key = what_if_keys(block)[0]
        if st.session_state.get(mode_key, modes[0]) not in modes:  # frozen, and now no atlas
            st.session_state[mode_key] = BlockMode.TRAINED.value
    chosen_modes, muted, boosted = {}, {}, {}
    with st.form("explore_what_if"):
        for column, (block, channels) in zip(st.columns(len(widths)), widths.items(), strict=True):
            mode_key, mute_key, boost_key = what_if_keys(block)
            number = block.removeprefix("block")
            chosen_modes[block] = column.selectbox(
                _("Block {number}").format(number=number),
                modes,
                format_func=text.what_if_mode_label,
                key=mode_key,
            )
            muted[block] = column.multiselect(
                _("Mute channels (weight 0)"),
                range(channels),
                key=mute_key,
                placeholder=_("none"),
            )
            boosted[block] = column.multiselect(
                _("Boost channels (weight 1)"),
                range(channels),
                key=boost_key,
                placeholder=_("none"),
            )
        apply_column, reset_column, _spacer = st.columns([1.3, 1, 3])
        apply_column.form_submit_button(_("Show what changes"), type="primary", width="stretch")
        reset_column.form_submit_button(
            _("Reset"), on_click=reset_what_if, args=(list(widths),), width="stretch"
        )
    for block in widths:
        both = set(muted[block]) & set(boosted[block])
        if both:
            st.warning(
                _(
                    "Block {number}: channels {channels} are both muted and boosted, so they are "
                    "left as they are."
                ).format(number=block.removeprefix("block"), channels=sorted(both))
            )
            muted[block] = [c for c in muted[block] if c not in both]
            boosted[block] = [c for c in boosted[block] if c not in both]
    return WhatIf.from_modes(chosen_modes, muted, boosted)


def what_if_panel(
    loaded: models.LoadedModel,
    image: explore.PreparedImage,
    name: str,
    widths: dict[str, int],
    context: DatasetContext | None,
    order: str,
) -> None:
    st.subheader(_("What if…?"))
    st.markdown(
        _(
            "Change what SE does and run **{name}** through the network again. Per block: switch "
            "SE **off** (every channel passes unscaled), **freeze** it to the weights it gives on "
            "average over the data set (the same whatever the picture), or **mute** (weight 0) "
            "and **boost** (weight 1) single channels. The blocks after a changed one compute "
            "their own weights from what they now receive."
        ).format(name=name)
    )
    if loaded.model.attention_kind is AttentionKind.CBAM:
        st.caption(
            _(
                "In a CBAM block these change its channel weights; its spatial attention still "
                "runs, on the channels as they are then weighted."
            )
        )
    if context is None:
        st.caption(_("Freezing a block to its data-set mean needs the model measured first."))
    what_if = what_if_form(widths, can_freeze=context is not None)
    if what_if.is_empty:
        st.info(_("Nothing is changed yet: pick a change above and press **Show what changes**."))
        return
    means = context.mean_vectors() if context is not None else None
    result = whatif.run_what_if_on_image(loaded.model, image.view, what_if, means)
    changes = whatif.weight_changes(result, what_if)
    before_top = result.original.top_k(loaded.classes)[0]
    after_top = result.changed.top_k(loaded.classes)[0]
    st.markdown(text.what_if_verdict(before_top[0], after_top[0]))
    for column, label, top, key in zip(
        st.columns(2),
        (_("**As trained**"), _("**Changed**")),
        (before_top, after_top),
        ("original", "changed"),
        strict=True,
    ):
        column.markdown(label)
        column.plotly_chart(
            figures.prediction_bars(top, image.true_class),
            key=f"explore_whatif_prediction_{key}",
            config=PLOT_CONFIG,
        )

    st.markdown(_("**How far each block's weights moved** (|changed − as trained|, from 0 to 1)"))
    st.dataframe(
        text.what_if_changes_table(changes, whatif.MOVED_BY),
        hide_index=True,
        key="explore_whatif_changes",
        column_config={  # the table's columns are named in the session's language
            _("mean change"): st.column_config.NumberColumn(format="%.3f"),
            _("largest change"): st.column_config.NumberColumn(format="%.3f"),
        },
    )
    view = st.segmented_control(
        _("Bars show"),
        list(text.WHAT_IF_VIEWS),
        default="weight",
        required=True,
        key="explore_whatif_view",
        format_func=lambda view: _(text.WHAT_IF_VIEWS[view]),
    )
    st.caption(
        _(
            "Bars: the weights with your change; black ticks: the weights as trained. The first "
            "block offered is the first one you changed; the ones after show how later blocks "
            "responded."
        )
    )
    start = whatif.first_changed(changes) or 0
    shown = {change.name: (number, change) for number, change in list(enumerate(changes))[start:]}
    if st.session_state.get(WHAT_IF_BLOCK_KEY) not in shown:  # a new change starts elsewhere
        st.session_state[WHAT_IF_BLOCK_KEY] = next(iter(shown))
    block_name = st.segmented_control(
        _("Block"),
        list(shown),
        required=True,
        key=WHAT_IF_BLOCK_KEY,
        format_func=lambda block: (
            _("Block {number} · changed here")
            if shown[block][1].set_here
            else _("Block {number} · responds")
        ).format(number=block.removeprefix("block")),
    ) or next(iter(shown))
    number, change = shown[block_name]
    original, changed = result.weights(number)
    chosen = sorted(what_if.muted.get(change.name, set()) | what_if.boosted.get(change.name, set()))
    highlight_label = _("{count} muted or boosted").format(count=len(chosen))
    if not chosen:
        chosen = list(change.most_moved)
        highlight_label = _("{count} moved most").format(count=len(chosen))
    st.plotly_chart(
        figures.channel_weight_bars(
            changed,
            order=order,
            highlight=chosen,
            highlight_label=highlight_label,
            title=_("Block {number}: weights for {name}").format(
                number=change.name.removeprefix("block"), name=name
            ),
            channel_means=original,
            reference_label=_("as trained"),
            deviation=view == "deviation",
            deviation_label=_("changed − as trained"),
        ),
        key=f"explore_whatif_bars_{change.name}",
        config=PLOT_CONFIG,
    )


def grad_cam_panel(
    loaded: models.LoadedModel,
    image: explore.PreparedImage,
    view_pixels: np.ndarray,
    number: int,
    predicted: str,
) -> None:
    """Grad-CAM of the chosen picture at the chosen block, before and after its attention."""
    st.markdown(
        _(
            "**Where the network looks** (Grad-CAM): how much each place of the picture, as the "
            "block's maps hold it, counts for a class, before and after the block's attention."
        )
    )
    classes = loaded.classes
    target = st.selectbox(
        _("Grad-CAM for the class"),
        [None, *range(len(classes))],
        format_func=lambda c: (
            _("the predicted one ({label})").format(label=class_label(predicted))
            if c is None
            else class_label(classes[c])
        ),
        key="explore_cam_class",
    )
    maps = gradcam.grad_cam(loaded.model, image.view, target)
    st.plotly_chart(
        figures.maps_over_picture(
            view_pixels,
            [maps.before[number], maps.after[number]],
            [_("Before attention"), _("After attention")],
            _("Grad-CAM"),
        ),
        key=f"explore_gradcam_{maps.block_names[number]}",
        config=PLOT_CONFIG,
    )
    st.caption(
        _(
            "Red: places that raise the score of {label}, blue: places that do not. The "
            "attention moved the map by {shift:.2f} on average (0: not at all, 1: everywhere "
            "from one end of the scale to the other)."
        ).format(label=class_label(classes[maps.class_index]), shift=maps.shift(number))
    )


st.title(_("Explore"))
st.markdown(
    _(
        "Give the network a picture and look inside: what it predicts, how strongly each **SE "
        "block** keeps every channel (a weight from 0 to 1), and what the block's feature maps "
        "look like before and after that weighting. New here? The **Home** page explains it in "
        "plain words."
    )
)

loaded = models.model_or_stop()


# -- input ------------------------------------------------------------------------------------


def prepared(
    key: str, name: str, read: Callable[[], bytes], true_class: str | None = None
) -> explore.PreparedImage | str:
    """The prepared image (or the error message) for an upload or example, made once a session
    and language (its notes and errors are worded)."""
    cache = decoded_in_this_language()
    if key not in cache:
        try:
            cache[key] = explore.prepare(open_image(read(), name), true_class)
        except ImageError as error:
            cache[key] = str(error)
        except OSError as error:  # an example file that vanished or cannot be read
            cache[key] = _("{name} could not be read ({error}).").format(
                name=name, error=error.strerror or error
            )
    return cache[key]


def decoded_in_this_language() -> dict[str, explore.PreparedImage | str]:
    by_language = st.session_state.setdefault(DECODED_KEY, {})
    for other in set(by_language) - {active_language()}:  # the language was switched
        del by_language[other]
    return by_language.setdefault(active_language(), {})


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
    _("Upload one or several pictures"),
    type=list(UPLOAD_TYPES),
    accept_multiple_files=True,
    key="explore_uploads",
)
st.caption(
    _(
        "PNG, JPEG, WebP, BMP, GIF or TIFF; up to {megabytes} MB per file and {megapixels:.0f} "
        "megapixels. Any size works: the centre square is resized to 32×32 pixels, the size the "
        "network was trained on."
    ).format(megabytes=models.upload_limit_mb(), megapixels=MAX_PIXELS / 1e6)
)
for file in files or []:
    key = f"upload:{file.file_id}"
    add(key, prepared(key, file.name, file.getvalue))

# Behind a switch: the browser asks for the camera only when someone wants to use it.
if st.toggle(
    _("Take a picture with the camera"),
    key=CAMERA_KEY,
    help=_("Hold an object up to the camera: the photo is checked and shown like an upload."),
):
    shot = st.camera_input(_("Camera"), key="explore_camera")
    if shot is not None:
        key = f"camera:{shot.file_id}"
        add(key, prepared(key, _("camera photo"), shot.getvalue))

if st.toggle(_("Add example pictures from the dataset"), key=EXAMPLES_KEY):
    pool = examples.example_pool(loaded.config)
    if isinstance(pool, str):
        st.info(_("{reason} Uploading your own pictures still works.").format(reason=pool))
    else:
        seed = st.session_state.setdefault(SEED_KEY, 0)
        pick_column, button_column = st.columns([4, 1], vertical_alignment="bottom")
        chosen = pick_column.multiselect(
            _("Classes (one random picture each)"),
            pool.classes,
            default=pool.classes,
            key="explore_example_classes",
            format_func=class_label,
        )
        if button_column.button(_("Another one"), key="explore_another", width="stretch"):
            seed = st.session_state[SEED_KEY] = seed + 1
        st.caption(text.examples_caption(pool))
        for class_name, path in pick_examples(pool, chosen, seed):
            key = f"example:{path}"
            label = f"{class_name} · {path.name}"
            add(key, prepared(key, label, Path(path).read_bytes, class_name))

# Forget images no longer on the page, so a long session does not collect them.
cache = decoded_in_this_language()
for stale in set(cache) - current_keys:
    del cache[stale]

if not images:
    st.info(_("Add a picture above to see what the network does with it."))
    st.stop()

# -- the forward pass -------------------------------------------------------------------------

analysis = explore.analyse_prepared(loaded.model, loaded.classes, images)
top = analysis.top_k()

if len(images) > 1:
    st.subheader(_("Your pictures, as the network sees them"))
    for start in range(0, len(images), GALLERY_COLUMNS):
        row = range(start, min(start + GALLERY_COLUMNS, len(images)))
        for column, index in zip(st.columns(GALLERY_COLUMNS), row, strict=False):
            label, probability = top[index][0]
            caption = _("{name} → {label} ({probability:.0%})").format(
                name=analysis.names[index], label=class_label(label), probability=probability
            )
            tag = text.model_crop_tag(images[index].crop)
            # Enlarged past the column width with hard edges, so the browser only shrinks it.
            column.image(
                explore.enlarged(images[index].view),
                caption=f"{caption} · ⚠ {tag}" if tag else caption,
                width="stretch",
            )

chosen_index = 0
if len(images) > 1:
    chosen_index = st.selectbox(
        _("Picture to look at closely"),
        range(len(images)),
        format_func=lambda i: analysis.names[i],
        key="explore_image",
    )
    chosen_index = min(chosen_index or 0, len(images) - 1)
image = images[chosen_index]
name = analysis.names[chosen_index]
best_label, best_probability = top[chosen_index][0]

if presentation.is_presenting():
    presentation.walkthrough(loaded, analysis, image, chosen_index)
    st.stop()  # fewer controls: the walk is the whole page

st.subheader(
    _("{name}: the network says **{label}** ({probability:.0%})").format(
        name=name, label=class_label(best_label), probability=best_probability
    )
)
truth = image.true_class
if truth is not None:
    if truth == best_label:
        verdict = _("The dataset says **{label}**: the network is right on this one.")
    else:
        verdict = _("The dataset says **{label}**: the network is wrong on this one.")
    st.caption(verdict.format(label=class_label(truth)))
original_column, view_column, prediction_column = st.columns([1, 1, 2])
width, height = image.original_size
original_column.image(
    image.preview,
    caption=_("Original, {width}×{height} {file_format}").format(
        width=width, height=height, file_format=image.format
    ),
    width="stretch",
)
view_column.image(
    explore.enlarged(image.view),
    caption=_("What the network sees: 32×32 pixels"),
    width="stretch",
)
crop_remark = text.model_crop_remark(image.crop)
if crop_remark:
    view_column.warning(crop_remark, icon=":material/crop:")
prediction_column.plotly_chart(
    figures.prediction_bars(top[chosen_index], analysis.true_classes[chosen_index]),
    key="explore_prediction",
    config=PLOT_CONFIG,
)
if image.notes:
    st.info(_("About this file: {notes}.").format(notes="; ".join(image.notes)))

# -- SE blocks --------------------------------------------------------------------------------

kind = loaded.model.attention_kind
# the baseline has no blocks of its own: its heading keeps the lesson's "SE"
st.subheader(_("Inside the {module} blocks").format(module=kind.label if analysis.has_se else "SE"))
if not analysis.has_se:
    st.info(
        _(
            "**{model}** has no SE blocks: it is the baseline network without channel attention, "
            "so there are no channel weights to show. The prediction above is still its own. "
            "Pick a model with SE (r=…) in the sidebar to see channel attention at work."
        ).format(model=loaded.label)
    )
else:
    st.markdown(text.attention_intro(kind))
    records = {record.name: record for record in analysis.blocks}
    if st.session_state.get(BLOCK_KEY) not in records:  # a model with other blocks was picked
        st.session_state.pop(BLOCK_KEY, None)
    # One block at a time: charts in hidden tabs are still sent and drawn by the browser, which
    # cost seconds per rerun with several uploads.
    block_name = st.segmented_control(
        _("{module} block to look inside").format(module=kind.label),
        list(records),
        default=next(iter(records)),
        required=True,
        key=BLOCK_KEY,
        format_func=lambda block: text.block_title(records[block]),
    ) or next(iter(records))
    number = list(records).index(block_name)
    record = records[block_name]
    block_channels = int(record.weights.shape[1])

    order_column, choice_column, k_column, option_column = st.columns([1, 1.5, 1.1, 1.5])
    order = order_column.segmented_control(
        _("Sort bars by"),
        list(ORDER_CHOICES),
        default="weight",
        required=True,
        key="explore_order",
        format_func=lambda choice: _(ORDER_CHOICES[choice]),
    )
    which = choice_column.segmented_control(
        _("Maps to show"),
        list(CHANNEL_CHOICES),
        default="top",
        required=True,
        key="explore_channels",
        format_func=lambda choice: _(CHANNEL_CHOICES[choice]),
    )
    # Set on every run, so k survives the runs where "All" hides its slider, and is clamped to
    # the chosen block's channels (the slider refuses a value above its end).
    st.session_state[K_KEY] = min(st.session_state.get(K_KEY, DEFAULT_K), block_channels)
    if which == "all":
        k = block_channels
    else:
        k = k_column.slider(_("k (channels)"), 1, block_channels, key=K_KEY)
    per_channel = option_column.toggle(
        _("Scale each map on its own"),
        key="explore_per_map",
        help=_(
            "Off: one colour scale for every map, so a channel {module} turned down visibly "
            "fades. On: each channel is divided by its own peak before {module}, so faint maps "
            "show their pattern (and 'after' still shows how far {module} turned them down)."
        ).format(module=kind.label),
    )
    difference = option_column.toggle(
        _("Show what {module} removed").format(module=kind.label),
        key="explore_difference",
        help=_(
            "A third grid: before minus after, the part of each map that {module} took away."
        ).format(module=kind.label),
    )

    context, measurable = dataset_context(loaded)
    if context is None and measurable:
        context = offer_measuring(loaded)
    bar_view = "weight"
    if context is not None:
        bar_view = st.segmented_control(
            _("Bars show"),
            list(text.BAR_VIEWS),
            default="weight",
            required=True,
            key="explore_bar_view",
            format_func=lambda view: _(text.BAR_VIEWS[view]),
        )
        st.caption(text.dataset_context_caption(context.images, context.data_name, context.split))

    weights = analysis.weights(number)[chosen_index]
    channels = explore.choose_channels(weights, which, k)
    statistics = analysis.statistics(number, chosen_index)
    for column, stat in zip(st.columns(len(STATISTICS)), STATISTICS, strict=True):
        label, help_text = text.STATISTIC_LABELS[stat]
        value = statistics[stat]
        shown = f"{value:.0%}" if stat.startswith("share") else f"{value:.3f}"
        column.metric(_(label), shown, help=_(help_text))

    # The coloured bars are the channels whose maps are drawn below.
    highlight_label = {
        "top": _("{count} strongest"),
        "bottom": _("{count} weakest"),
        "all": _("{count} channels, all shown"),
    }[which].format(count=len(channels))
    distribution = context.blocks.get(record.name) if context is not None else None
    deviation = bar_view == "deviation" and distribution is not None
    st.plotly_chart(
        figures.channel_weight_bars(
            weights,
            order=order,
            highlight=channels,
            highlight_label=highlight_label,
            title=_("How {name}'s channel weights differ from the data set's").format(name=name)
            if deviation
            else _("Channel weights for {name}").format(name=name),
            channel_means=distribution.mean if distribution is not None else None,
            channel_stds=distribution.std if distribution is not None else None,
            deviation=deviation,
        ),
        key=f"explore_bars_{record.name}",
        config=PLOT_CONFIG,
    )

    maps_heading = {
        "top": ngettext(
            "**Feature maps before and after {module}**: the channel {module} kept most",
            "**Feature maps before and after {module}**: the {count} channels {module} kept most",
            len(channels),
        ),
        "bottom": ngettext(
            "**Feature maps before and after {module}**: the channel {module} turned down most",
            "**Feature maps before and after {module}**: the {count} channels {module} turned "
            "down most",
            len(channels),
        ),
        "all": _("**Feature maps before and after {module}**: all {count} channels"),
    }[which]
    st.markdown(maps_heading.format(count=len(channels), module=kind.label))
    maps_caption = {
        "top": _(
            "Each small square is one channel's map of the picture (bright = strong response), "
            "strongest first, reading left to right and top to bottom. Hover a square to see its "
            "channel."
        ),
        "bottom": _(
            "Each small square is one channel's map of the picture (bright = strong response), "
            "weakest first, reading left to right and top to bottom. Hover a square to see its "
            "channel."
        ),
        "all": _(
            "Each small square is one channel's map of the picture (bright = strong response), "
            "in channel order, reading left to right and top to bottom. Hover a square to see its "
            "channel."
        ),
    }[which]
    st.caption(maps_caption)
    panels = explore.feature_map_panels(
        record.before[chosen_index],
        record.after[chosen_index],
        channels,
        per_channel_scale=per_channel,
        show_difference=difference,
        module=kind.label,
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
        _("Zoom into one channel"),
        zoom_options,
        format_func=lambda c, w=weights: (
            "—"
            if c is None
            else _("channel {channel} (weight {weight:.3f})").format(channel=c, weight=w[c])
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

    view_pixels = np.asarray(image.view)
    if record.spatial is not None:
        st.markdown(
            _(
                "**Spatial attention** (CBAM): after weighting the channels, the block gives "
                "every position of the maps one more weight from 0 to 1, the same for all "
                "channels: where in the picture it keeps the response."
            )
        )
        spatial = record.spatial[chosen_index].float().numpy()
        st.plotly_chart(
            figures.maps_over_picture(
                view_pixels,
                [spatial, spatial],
                [_("Over the picture"), _("As a heat map")],
                _("spatial weight"),
                show_picture=[True, False],
            ),
            key=f"explore_spatial_{record.name}",
            config=PLOT_CONFIG,
        )

    grad_cam_panel(loaded, image, view_pixels, number, top[chosen_index][0][0])

    if len(images) > 1:
        st.markdown(_("**All your images together**: which channels respond to which picture"))
        st.plotly_chart(
            figures.excitation_matrix(
                analysis.weights(number),
                analysis.names,
                title=_("Block {number}: SE weights per image").format(number=number + 1),
            ),
            key=f"explore_matrix_{record.name}",
            config=PLOT_CONFIG,
        )

    what_if_panel(
        loaded,
        image,
        name,
        {record.name: int(record.weights.shape[1]) for record in analysis.blocks},
        context,
        order,
    )

# -- downloads --------------------------------------------------------------------------------

st.subheader(_("Download"))
csv_column, json_column = st.columns(2)
csv_column.download_button(
    _("Channel weights (CSV)"),
    explore.weights_csv(analysis),
    file_name="se_weights.csv",
    mime="text/csv",
    icon=":material/download:",
    disabled=not analysis.has_se,
    help=_("One row per image, block and channel: image, block, channel, weight."),
)
json_column.download_button(
    _("Predictions (JSON)"),
    explore.predictions_json(analysis, loaded.describe()),
    file_name="predictions.json",
    mime="application/json",
    icon=":material/download:",
    help=_("Top-5 classes with probabilities for every image, and which model made them."),
)
