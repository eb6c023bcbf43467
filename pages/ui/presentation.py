"""Presentation mode: for a projector and a room of people who do not code.

    presentation_toggle()  the sidebar's switch (dashboard.py); larger type on every page
    is_presenting()        whether this session presents
    walkthrough(...)       Explore's guided walk through one picture, one step per screen

The walk's steps and numbers come from seattn.analysis.walkthrough, its sentences from
pages/ui/presentation_words.py; this module only draws them.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from pages.ui import models
from pages.ui import presentation_words as words
from seattn.analysis import explore
from seattn.analysis.walkthrough import (
    BlockNumbers,
    StepKind,
    block_numbers,
    se_effect,
    walk_steps,
)
from seattn.data.cifar10 import class_label
from seattn.figures import explore as explore_figures
from seattn.figures.presentation import squeeze_bars
from seattn.i18n import _

PRESENTING_KEY = "seattn_presenting"
STEP_KEY = "seattn_walk_step"
_WALKED = "seattn_walk_subject"  # (model, picture) the step belongs to: a new one starts at 1
PLOT_CONFIG = {"displayModeBar": False}
# Root font size: Streamlit sizes text and widgets in rem, so this scales the whole page for
# the back of a room; the sentence of each step is larger still.
ROOM_STYLE = """
<style>
html { font-size: 22px; }
.seattn-step-sentence { font-size: 1.6rem; line-height: 1.45; margin: 0.6rem 0 1rem; }
</style>
"""


def presentation_toggle() -> bool:
    """The sidebar's switch; when on, larger type from here on. Returns whether it is on."""
    presenting = st.sidebar.toggle(
        _("Presentation mode"),
        key=PRESENTING_KEY,
        help=_(
            "For a projector: larger type, fewer controls, and on Explore a guided walk "
            "through one picture, one step per screen."
        ),
    )
    if presenting:
        st.html(ROOM_STYLE)
    return presenting


def is_presenting() -> bool:
    return bool(st.session_state.get(PRESENTING_KEY))


def _step_index(subject: tuple[str, str], total: int) -> int:
    if st.session_state.get(_WALKED) != subject:
        st.session_state[_WALKED] = subject
        st.session_state[STEP_KEY] = 0
    return min(max(st.session_state.get(STEP_KEY, 0), 0), total - 1)


def _move(delta: int, total: int) -> None:
    st.session_state[STEP_KEY] = min(max(st.session_state.get(STEP_KEY, 0) + delta, 0), total - 1)


def _sentence(text: str) -> None:
    st.markdown(f'<div class="seattn-step-sentence">\n\n{text}\n\n</div>', unsafe_allow_html=True)


def walkthrough(
    loaded: models.LoadedModel,
    analysis: explore.Analysis,
    image: explore.PreparedImage,
    index: int,
) -> None:
    """The guided walk through picture ``index`` of ``analysis`` (``image`` is that picture)."""
    steps = walk_steps(len(analysis.blocks))
    current = _step_index((loaded.entry.key, analysis.names[index]), len(steps))
    step = steps[current]

    st.progress((current + 1) / len(steps), text=words.step_counter(current, len(steps)))
    st.header(words.step_title(step))
    top = analysis.top_k()[index]
    blocks = [block_numbers(record, index) for record in analysis.blocks]

    if step.kind is StepKind.PICTURE:
        left, right = st.columns(2)
        width, height = image.original_size
        left.image(
            image.preview,
            caption=_("The picture, {width}×{height}").format(width=width, height=height),
            width="stretch",
        )
        right.image(
            explore.enlarged(image.view),
            caption=_("What the network sees: 32×32 pixels"),
            width="stretch",
        )
        _sentence(words.picture_sentence(image.crop))
    elif step.kind is StepKind.PREDICTION:
        shown = [(class_label(label), p) for label, p in top]
        truth = class_label(image.true_class) if image.true_class else None
        st.plotly_chart(
            explore_figures.prediction_bars(shown, truth),
            config=PLOT_CONFIG,
            key="walk_prediction",
        )
        _sentence(words.prediction_sentence(top, image.true_class))
        if not analysis.has_se:
            st.info(
                _(
                    "**{model}** has no SE blocks, so the walk ends here: pick a model with SE "
                    "in the sidebar to walk through channel attention."
                ).format(model=loaded.label)
            )
    elif step.kind is StepKind.SQUEEZE:
        block = blocks[0]
        st.plotly_chart(
            squeeze_bars(block.squeeze, [block.strongest_response, block.weakest_response]),
            config=PLOT_CONFIG,
            key="walk_squeeze",
        )
        _sentence(words.squeeze_sentence(block))
    elif step.kind is StepKind.EXCITATION:
        block = blocks[0]
        st.plotly_chart(
            _weight_bars(block, order="channel"), config=PLOT_CONFIG, key="walk_excitation"
        )
        _sentence(words.excitation_sentence(block, loaded.model.attention_kind))
    elif step.kind is StepKind.SCALE:
        _maps(analysis, blocks[0], 0, index, loaded.model.attention_kind.label)
        _sentence(words.scale_sentence(blocks[0], loaded.model.attention_kind))
    elif step.kind is StepKind.BLOCK:
        block = blocks[step.block]
        st.plotly_chart(
            _weight_bars(block, order="weight"), config=PLOT_CONFIG, key="walk_block_weights"
        )
        _maps(analysis, block, step.block, index, loaded.model.attention_kind.label)
        _sentence(words.block_sentence(step.block + 1, block))
    else:  # what SE changed
        effect = se_effect(loaded.model, image.view, loaded.classes)
        left, right = st.columns(2)
        for column, title, guesses, key in (
            (left, _("With SE, as trained"), effect.with_se, "walk_with_se"),
            (right, _("SE switched off"), effect.without_se, "walk_without_se"),
        ):
            column.markdown(f"**{title}**")
            column.plotly_chart(
                explore_figures.prediction_bars([(class_label(c), p) for c, p in guesses]),
                config=PLOT_CONFIG,
                key=key,
            )
        _sentence(words.changed_sentence(effect, blocks))

    back, _gap, forward = st.columns([1, 3, 1])
    back.button(
        _("Back"),
        icon=":material/arrow_back:",
        disabled=current == 0,
        on_click=_move,
        args=(-1, len(steps)),
        width="stretch",
        key="walk_back",
    )
    forward.button(
        _("Next"),
        icon=":material/arrow_forward:",
        type="primary",
        disabled=current == len(steps) - 1,
        on_click=_move,
        args=(1, len(steps)),
        width="stretch",
        key="walk_next",
    )


def _weight_bars(block: BlockNumbers, order: str) -> go.Figure:
    kept = block.kept_order()[: words.SHOWN_CHANNELS].tolist()
    return explore_figures.channel_weight_bars(
        block.weights,
        order=order,
        highlight=kept,
        highlight_label=_("the {count} kept most").format(count=len(kept)),
        title=_("Channel weights"),
    )


def _maps(
    analysis: explore.Analysis, block: BlockNumbers, number: int, index: int, module: str
) -> None:
    record = analysis.blocks[number]
    channels = block.kept_order()[: words.SHOWN_CHANNELS]
    panels = explore.feature_map_panels(
        record.before[index], record.after[index], channels, module=module
    )
    st.plotly_chart(
        explore_figures.feature_map_grid(panels, height=380),
        config=PLOT_CONFIG,
        key=f"walk_maps_{number}",
    )
