"""Compare: SE reduction ratios and attention modules (ECA, CBAM) side by side, and sweeps that
train them.

Thin on purpose: seattn.analysis.compare reads the runs and bundled models, groups them and
computes every number; seattn.figures.compare draws; this page reads widgets and shows what they
return. Sweeps go through the Train page's job queue (seattn.training), so they train in the
background.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.ui import atlas as atlas_ui
from pages.ui import forms, models, text
from pages.ui.routing import run_through_dashboard
from seattn import i18n
from seattn.analysis.compare import attention, grouping, sources, speed, tables
from seattn.analysis.explore import enlarged, uint8_image
from seattn.data.datasets import DataError, ImageSet
from seattn.data.examples import sample_image_set
from seattn.figures import atlas as atlas_figures
from seattn.figures import compare as compare_figures
from seattn.i18n import N_, _, ngettext
from seattn.model.attention import AttentionKind
from seattn.model.ratios import STANDARD_RATIOS, ratio_label
from seattn.settings import default_data_spec, runs_root, zoo_dir
from seattn.training import queue, sweep

run_through_dashboard()

PLOT_CONFIG = {"displaylogo": False}
IMAGE_COUNTS = (100, 250, 500, 1000, 2000, 5000)
DEFAULT_IMAGE_COUNT = 1000
PERCENT = ("best val accuracy", "final val accuracy")

root = runs_root()


# -- cached work (keyed by what makes the result change) ----------------------------------------


# The spinners are shown around the calls (with st.spinner): a decorator's text is fixed at
# import, before a language is chosen.
@st.cache_resource(max_entries=4, show_spinner=False)
def validation_set(
    group_key: str, data_setting: str, language: str, _group: grouping.ComparisonGroup
):
    """The group's validation images, or the sentence saying why there are none."""
    # data_setting (SEATTN_DATA) is only part of the key: it is one of the places looked at;
    # language too: the sentence is in the language of the session that asked.
    try:
        return attention.validation_images(_group)
    except DataError as error:
        return str(error)


@st.cache_data(max_entries=8, show_spinner=False)
def measurement(
    group_key: str, stamp: tuple, images: int, _group: grouping.ComparisonGroup, _val: ImageSet
) -> attention.ExcitationMeasurement:
    # stamp (checkpoints and their modification times) is only part of the key.
    return attention.measure_excitation(_group, _val, max_images=images, load=models.load_model)


@st.cache_resource(show_spinner=False)
def sample_images() -> ImageSet:
    return sample_image_set()


def show_table(
    frame: pd.DataFrame, *, key: str, column_config: dict | None = None, where=st
) -> None:
    """A comparison table on the page, its words and headers in the session's language: renamed
    here, at the edge (the library's tables and the CSV keep their English names, and so do the
    keys of ``column_config``)."""
    names = {column: text.compare_header(column) for column in frame.columns}
    where.dataframe(
        text.compare_values_for_display(frame).rename(columns=names),
        hide_index=True,
        key=key,
        column_config={names[c]: v for c, v in (column_config or {}).items() if c in names},
    )


# -- the sweep form ---------------------------------------------------------------------------


def sweep_form(expanded: bool) -> None:
    with (
        st.expander(_("Train a sweep of ratios"), expanded=expanded, icon=":material/tune:"),
        st.form("compare_sweep", border=False),
    ):
        st.caption(
            _(
                "One training run per ratio and seed, all with the same recipe, so they land in "
                "one group below. They train in the background, a few at a time (one per core), "
                "and appear here as they complete; follow them on the Train page."
            )
        )
        left, right = st.columns(2)
        data = forms.data_input(
            left,
            "compare",
            folder_help=_("Used when '{folder_choice}' is chosen.").format(
                folder_choice=_(text.DATA_FOLDER_CHOICE)
            ),
        )
        ratios = right.multiselect(
            _("Reduction ratios"),
            list(STANDARD_RATIOS),
            default=list(STANDARD_RATIOS),
            format_func=lambda ratio: text.variant_label(ratio_label(ratio)),
            key="compare_ratios",
            help=_("'no SE' is the same network without SE blocks: the baseline."),
        )
        attentions = right.multiselect(
            _("Attention modules"),
            list(AttentionKind),
            default=[AttentionKind.SE],
            format_func=text.attention_choice,
            key="compare_attentions",
            help=_(
                "The ratios apply to SE and to CBAM's channel bottleneck; ECA and no attention "
                "train once per seed. 'no SE' among the ratios is the network without attention "
                "whichever module is chosen."
            ),
        )
        seeds_text = right.text_input(
            _("Seeds"),
            "0",
            key="compare_seeds",
            help=_("Comma-separated, or a range like 0-2. More seeds give error bars."),
        )
        augment = forms.augmentation_input(right, "compare_aug")
        optimizer = forms.optimizer_input(right, "compare_optimizer")
        recipe = forms.recipe_inputs(st.columns(4), "compare")
        if not st.form_submit_button(
            _("Start the sweep"), type="primary", icon=":material/play_arrow:"
        ):
            return
    base = forms.spec_from_form(data, augment=augment, optimizer=optimizer, **recipe)
    if isinstance(base, str):
        st.error(base)
        return
    try:
        seeds = sweep.parse_seeds(seeds_text)
    except ValueError as error:
        st.error(str(error))
        return
    try:
        # Refused, with the data's check, when the data is not here and cannot be fetched.
        plan = sweep.plan_sweep(base, ratios, seeds, root, attentions)
    except queue.DataUnavailable as error:
        st.error(text.data_problem(error.check))
        return
    except queue.JobError as error:
        st.error(str(error))
        return
    outcome = sweep.launch_sweep(plan, root)
    (st.warning if outcome.refused else st.success)(text.sweep_summary(outcome))
    for name, reason in outcome.refused:
        st.error(_("{name}: {reason}").format(name=name, reason=reason))


# -- the comparison ---------------------------------------------------------------------------


def pending_note() -> None:
    pending = sources.pending_runs(root)
    if not pending:
        return
    note, refresh = st.columns([5, 1], vertical_alignment="center")
    note.info(
        ngettext(
            "{count} run still queued or training. It joins the comparison when it completes; "
            "the Train page shows its progress.",
            "{count} runs still queued or training. They join the comparison when they "
            "complete; the Train page shows their progress.",
            len(pending),
        ).format(count=len(pending))
    )
    if refresh.button(_("Refresh"), icon=":material/refresh:", key="compare_refresh"):
        st.rerun()


def choose_group(groups: list[grouping.ComparisonGroup]) -> grouping.ComparisonGroup:
    st.subheader(_("What is compared with what"), anchor=False)
    st.markdown(
        _(
            "Models are compared only with models trained **on the same images with the same "
            "recipe** (optimiser, epochs, batch size, learning rate, augmentation). Each such "
            "set is a group; pick one to compare its ratios."
        )
        if len(groups) > 1
        else _("All models here were trained on the same images with the same recipe.")
    )
    labels = text.group_labels(groups)
    table = grouping.groups_table(groups)
    table.insert(0, "group", [labels[group.key] for group in groups])
    # The fingerprint (a hash of the images) tells groups apart; the labels number them instead.
    show_table(table.drop(columns=["fingerprint"]), key="compare_groups")
    # Keyed by the group's identity, not its position: a new group appearing keeps the choice.
    by_key = {group.key: group for group in groups}
    chosen = st.selectbox(
        _("Group"),
        list(by_key),
        format_func=lambda key: ngettext(
            "{group} ({count} model)", "{group} ({count} models)", len(by_key[key].models)
        ).format(group=labels[key], count=len(by_key[key].models)),
        key="compare_group",
    )
    group = by_key.get(chosen, groups[0])
    if group.left_out:
        count = len(group.left_out)
        with st.expander(
            ngettext(
                "{count} model left out of this group's statistics",
                "{count} models left out of this group's statistics",
                count,
            ).format(count=count)
        ):
            for model, first in group.left_out:
                reason = text.left_out_reason(model, first)
                st.markdown(
                    _("- **{model}** ({source}): {reason}").format(
                        model=model.name, source=text.model_source_word(model.source), reason=reason
                    )
                )
    return group


def table_tab(group: grouping.ComparisonGroup) -> None:
    table = tables.variants_table(group)
    percent = {
        column: st.column_config.NumberColumn(format="percent")
        for column in (*PERCENT, *(f"{c} std" for c in PERCENT))
    }
    show_table(
        text.variants_for_display(table),
        key="compare_table",
        column_config={
            "variant": st.column_config.TextColumn(pinned=True),
            **percent,
            "final val loss": st.column_config.NumberColumn(format="%.4f"),
            "final val loss std": st.column_config.NumberColumn(format="%.4f"),
            "training seconds": st.column_config.NumberColumn(format="%.0f"),
            "training seconds std": st.column_config.NumberColumn(format="%.0f"),
            "images per second": st.column_config.NumberColumn(format="%.0f"),
            "images per second std": st.column_config.NumberColumn(format="%.0f"),
            "checkpoint MB": st.column_config.NumberColumn(format="%.2f"),
            "parameters": st.column_config.NumberColumn(format="localized"),
            "attention parameters": st.column_config.NumberColumn(format="localized"),
            "FLOPs per image": st.column_config.NumberColumn(format="localized"),
            "attention FLOPs per image": st.column_config.NumberColumn(format="localized"),
        },
    )
    st.caption(
        _(
            "One row per variant (attention module and ratio); accuracy, loss, time and speed "
            "are the mean over its seeds, and 'std' their standard deviation (empty with one "
            "seed). Hidden widths: the hidden units of each block's channel bottleneck, SE's or "
            "CBAM's (channels ÷ r, at least 1); ECA and the network without attention have none. "
            "Attention parameters and FLOPs: those of the attention modules alone. FLOPs are "
            "counted by torch.utils.flop_counter for one 32×32 image: convolutions and matrix "
            "multiplies only. A run's checkpoint also holds the optimiser state; a bundled "
            "model's holds float16 weights only, so checkpoint sizes compare within a source."
        )
    )
    # The CSV keeps the table's English column names and words: it is read by programs.
    st.download_button(
        _("Download the table (CSV)"),
        tables.table_csv(table),
        file_name="seattn-ratio-comparison.csv",
        mime="text/csv",
        icon=":material/download:",
        key="compare_csv",
    )
    with st.expander(_("Every model behind the table")):
        show_table(
            tables.models_table(group),
            key="compare_models",
            column_config={c: st.column_config.NumberColumn(format="percent") for c in PERCENT},
        )


def charts_tab(group: grouping.ComparisonGroup) -> None:
    table = tables.variants_table(group)
    st.plotly_chart(
        compare_figures.accuracy_vs_ratio(table), key="compare_accuracy", config=PLOT_CONFIG
    )
    st.plotly_chart(
        compare_figures.parameters_vs_ratio(table), key="compare_parameters", config=PLOT_CONFIG
    )
    st.plotly_chart(
        compare_figures.learning_curves_figure(tables.learning_curves(group)),
        key="compare_curves",
        config=PLOT_CONFIG,
    )


def step_time_tab(group: grouping.ComparisonGroup) -> None:
    """Each variant's training step, timed here once per process (seattn.analysis.compare.speed)."""
    batch_size = group.recipe.batch_size or speed.DEFAULT_BATCH_SIZE
    st.caption(
        _(
            "Measured here, on this machine's CPU, when this tab is first opened: one training "
            "step (forward pass, backward pass and the optimiser's update) on a batch of "
            "{batch_size} images, the group's batch size; the median of {steps} steps after a "
            "warm-up. The variants are timed one after another on the same machine, so they "
            "compare with each other; the speeds in the Table were measured wherever and "
            "whenever each model trained."
        ).format(batch_size=batch_size, steps=speed.STEPS)
    )
    progress = st.empty()

    def report(done: int, total: int) -> None:
        if done < total:
            message = _("Timing a training step of every variant ({done} of {total})…")
            progress.progress(done / total, text=message.format(done=done, total=total))
        else:
            progress.empty()

    with st.spinner(_("Timing a training step of every variant…")):
        times = speed.step_times(group, progress=report)
    st.plotly_chart(
        compare_figures.step_time_figure(times), key="compare_step_time", config=PLOT_CONFIG
    )
    show_table(
        times,
        key="compare_step_times",
        column_config={
            "ms per step": st.column_config.NumberColumn(format="%.1f"),
            "images per second": st.column_config.NumberColumn(format="%.0f"),
        },
    )


def depth_tab(group: grouping.ComparisonGroup) -> None:
    """Each attention model's atlas depth measures side by side (seattn.analysis.atlas)."""
    st.caption(
        _(
            "How each block's weights behave over the evaluation images (see the Atlas page): "
            "the share that is a fixed gain per channel, how much the class explains, and how "
            "well the class can be guessed from the weights alone, for every variant of the "
            "group, SE, ECA and CBAM alike."
        )
    )
    with_attention = [
        m for m in group.models if m.has_weights and m.attention != AttentionKind.NONE
    ]
    measured, missing = {}, []
    for model in with_attention:
        try:
            found = atlas_ui.cached_atlas(model.checkpoint)
        except atlas_ui.AtlasUnavailable as error:
            st.info(_("No evaluation images for these models here: {reason}").format(reason=error))
            return
        label = _("{variant}, seed {seed}").format(
            variant=text.variant_label(model.variant), seed=model.seed
        )
        if found is None:
            missing.append(model)
        else:
            measured[label] = found.summary()["blocks"]
    running = [m for m in missing if (b := atlas_ui.build_of(m.checkpoint)) and not b.finished]
    if running:
        atlas_ui.build_progress(*(m.checkpoint for m in running))
    st.plotly_chart(
        atlas_figures.depth_comparison_figure(measured),
        config=PLOT_CONFIG,
        key="compare_depth_chart",
    )
    if missing and not running:
        names = _(", ").join(text.variant_label(m.variant) for m in missing)
        st.caption(_("Not measured yet: {names} (about a minute each).").format(names=names))
        measure = ngettext(
            "Measure the {count} model not measured yet",
            "Measure the {count} models not measured yet",
            len(missing),
        ).format(count=len(missing))
        if st.button(measure, key="compare_measure"):
            atlas_ui.start_builds([(m.checkpoint, m.name) for m in missing])
            st.rerun()


def image_count(total: int) -> int:
    options = [n for n in IMAGE_COUNTS if n < total] + [total]
    if len(options) == 1:
        return total
    default = min(options, key=lambda n: abs(n - DEFAULT_IMAGE_COUNT))
    return st.select_slider(
        _("Validation images to measure on"), options, value=default, key="compare_images"
    )


def attention_tab(group: grouping.ComparisonGroup, images: ImageSet) -> None:
    st.markdown(
        _(
            "Every SE block gives each channel a weight between 0 and 1. Here they are "
            "summarised over validation images, per block: the **mean** weight, their "
            "**spread**, and their **evenness** (1.0 when all channels are weighted alike; lower "
            "when a block singles channels out). Error bars: standard deviation over seeds."
        )
    )
    count = image_count(len(images))
    with st.spinner(_("Measuring the attention of every model…")):
        result = measurement(group.key, attention.weights_stamp(group), count, group, images)
    st.plotly_chart(
        compare_figures.excitation_statistics_figure(result.summary),
        key="compare_attention",
        config=PLOT_CONFIG,
    )
    st.markdown(
        _(
            "**How alike are the ratios' attention patterns?** Linear CKA over the {count} "
            "images: 1.0 when two ratios treat the same images alike (whatever order their "
            "channels are in), near 0 when unrelated."
        ).format(count=result.images)
    )
    st.plotly_chart(
        compare_figures.similarity_figure(result.similarity, value_name="CKA", zmin=0.0),
        key="compare_cka",
        config=PLOT_CONFIG,
    )
    with st.expander(_("The numbers, per model and block")):
        show_table(result.statistics, key="compare_statistics")


def one_image_tab(group: grouping.ComparisonGroup, images: ImageSet) -> None:
    index = 0
    if len(images) > 1:
        index = st.slider(_("Validation image"), 0, len(images) - 1, 0, key="compare_image")
    seen = attention.image_excitation(group, images.images[index], load=models.load_model)
    picture, predictions = st.columns([1, 2])
    picture.image(
        enlarged(uint8_image(images.images[index]), scale=6),
        caption=text.image_caption(images, index),
    )
    show_table(
        seen.predictions,
        key="compare_predictions",
        column_config={"probability": st.column_config.NumberColumn(format="percent")},
        where=predictions,
    )
    st.plotly_chart(
        compare_figures.image_excitation_figure(seen.vectors),
        key="compare_image_weights",
        config=PLOT_CONFIG,
    )
    st.markdown(
        _(
            "**Correlation between ratios, for this image.** Every ratio gives one weight per "
            "channel (C of them, whatever its hidden width), so the vectors are compared entry "
            "by entry (Pearson r). Channel numbers only mean the same feature as far as training "
            "kept them alike: models of one seed start block 1 from the same filters, deeper "
            "blocks not, so a low value there can mean a different channel order rather than "
            "different attention. The CKA on the Attention tab does not depend on channel order."
        )
    )
    st.plotly_chart(
        compare_figures.similarity_figure(seen.correlation),
        key="compare_image_correlation",
        config=PLOT_CONFIG,
    )


# -- the page ---------------------------------------------------------------------------------

st.title(_("Compare"))
st.caption(
    _(
        "How much does the SE reduction ratio matter? Each ratio r gives each SE block a "
        "bottleneck of channels ÷ r hidden units: a small r is a bigger, costlier block. Here the "
        "ratios are set side by side: accuracy, cost, learning curves and what their attention "
        "looks like."
    )
)
st.caption(
    _(
        "Models with ECA or CBAM in place of SE, trained with the same recipe on the same "
        "images, join the same group: the attention modules side by side."
    )
)

groups = grouping.group_models(sources.collect(root, zoo_dir()))
sweep_form(expanded=not groups)
pending_note()
if not groups:
    st.info(
        _(
            "Nothing to compare yet: no bundled models and no completed runs. Start a sweep "
            "above, or train runs on the Train page; they appear here when they complete."
        )
    )
    st.stop()

group = choose_group(groups)
# Only the open tab runs (its .open): the attention tabs read thousands of images and run every
# model, which a visit to the table should not wait for.
TABS = {  # the tabs' names, shown through _()
    N_("Table"): table_tab,
    N_("Charts"): charts_tab,
    N_("Time per step"): step_time_tab,
    N_("Attention"): attention_tab,
    N_("One image, every ratio"): one_image_tab,
    N_("Across depth (atlas)"): depth_tab,
}
NEEDS_VALIDATION = (attention_tab, one_image_tab)
TAB_KEY = "compare_tab"
# st.tabs keeps the open tab by its label: after a language switch, the same tab in the new one.
opened = st.session_state.get(TAB_KEY)
for name in TABS:
    said = {name, *(i18n.translations(language).gettext(name) for language in i18n.LANGUAGES)}
    if opened in said and opened != _(name):
        st.session_state[TAB_KEY] = _(name)
tabs = st.tabs([_(name) for name in TABS], key=TAB_KEY, on_change="rerun")
for tab, draw in zip(tabs, TABS.values(), strict=True):
    if not tab.open:
        continue
    with tab:
        if draw not in NEEDS_VALIDATION:
            draw(group)
            continue
        with st.spinner(_("Loading the validation images…")):
            validation = validation_set(
                group.key, default_data_spec(), i18n.active_language(), group
            )
        if isinstance(validation, str) and draw is one_image_tab:
            # One image needs no validation set: the shipped samples do, as on Explore.
            st.caption(_(text.ONE_IMAGE_FROM_SAMPLES))
            draw(group, sample_images())
        elif isinstance(validation, str):
            st.info(validation)
        else:
            draw(group, validation)
