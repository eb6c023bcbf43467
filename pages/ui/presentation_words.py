"""The presentation mode's words: a title and one sentence per step of the walk, made from the
picture's own numbers (seattn.analysis.walkthrough). Plain Python, no Streamlit."""

from __future__ import annotations

from seattn.analysis.walkthrough import BlockNumbers, SEEffect, Step, StepKind
from seattn.data.cifar10 import class_label
from seattn.data.images import ModelCrop
from seattn.i18n import N_, _
from seattn.model.attention import AttentionKind

SHOWN_CHANNELS = 8  # the maps a step shows: enough to compare, few enough to read in a room
STEP_TITLES = {
    StepKind.PICTURE: N_("The picture, and what the network sees"),
    StepKind.PREDICTION: N_("What the network says"),
    StepKind.SQUEEZE: N_("Block 1 · Squeeze: one number per channel"),
    StepKind.EXCITATION: N_("Block 1 · Excitation: a weight for every channel"),
    StepKind.SCALE: N_("Block 1 · Scale: every map times its weight"),
    StepKind.CHANGED: N_("What SE changed"),
}


def step_title(step: Step) -> str:
    if step.kind is StepKind.BLOCK:
        return _("Block {number}: squeeze, excitation and scale at once").format(
            number=step.block + 1
        )
    return _(STEP_TITLES[step.kind])


def step_counter(index: int, total: int) -> str:
    return _("Step {number} of {total}").format(number=index + 1, total=total)


def picture_sentence(crop: ModelCrop) -> str:
    width, height = crop.original_size
    if crop.used_share >= 0.99:
        return _(
            "The network never sees the {width}×{height} picture itself: it gets it shrunk to "
            "32×32 pixels, 3,072 numbers, and works only with those."
        ).format(width=width, height=height)
    return _(
        "The network never sees the {width}×{height} picture itself: it takes the centre square, "
        "{share:.0%} of the picture, shrinks it to 32×32 pixels, 3,072 numbers, and works only "
        "with those."
    ).format(width=width, height=height, share=crop.used_share)


def prediction_sentence(top: list[tuple[str, float]], true_class: str | None) -> str:
    (best, best_p), *rest = top
    sentence = _("The network says **{label}**, {probability:.0%} sure.").format(
        label=class_label(best), probability=best_p
    )
    if rest:
        second, second_p = rest[0]
        sentence += " " + _("Its second guess: {label} ({probability:.0%}).").format(
            label=class_label(second), probability=second_p
        )
    if true_class is not None:
        if true_class == best:
            sentence += " " + _("That is right.")
        else:
            sentence += " " + _("The picture is really a {label}.").format(
                label=class_label(true_class)
            )
    return sentence


def squeeze_sentence(block: BlockNumbers) -> str:
    height, width = block.map_size
    return _(
        "Block 1 made {channels} feature maps of {height}×{width}, one per channel. Squeeze "
        "sums each map up in one number, its mean: channel {strongest} responds most "
        "({strongest_value:.2f}), channel {weakest} least ({weakest_value:.2f})."
    ).format(
        channels=block.channels,
        height=height,
        width=width,
        strongest=block.strongest_response,
        strongest_value=block.squeeze[block.strongest_response],
        weakest=block.weakest_response,
        weakest_value=block.squeeze[block.weakest_response],
    )


def excitation_sentence(block: BlockNumbers, attention: AttentionKind) -> str:
    """How the module turned the channel means into weights (SE's and CBAM's small network,
    ECA's convolution across neighbouring channels), and what it gave."""
    if attention is AttentionKind.ECA:
        sentence = _(
            "From these {channels} numbers ECA gives every channel a weight between 0 and 1, "
            "each from its own mean and its neighbours': channel {kept} is kept most "
            "({kept_weight:.2f}), channel {damped} is turned down most ({damped_weight:.2f}); on "
            "average {mean:.2f}."
        )
    else:
        sentence = _(
            "From these {channels} numbers a tiny network gives every channel a weight between 0 "
            "and 1: channel {kept} is kept most ({kept_weight:.2f}), channel {damped} is turned "
            "down most ({damped_weight:.2f}); on average {mean:.2f}."
        )
    return sentence.format(
        channels=block.channels,
        kept=block.most_kept,
        kept_weight=block.weights[block.most_kept],
        damped=block.most_damped,
        damped_weight=block.weights[block.most_damped],
        mean=float(block.weights.mean()),
    )


def scale_sentence(block: BlockNumbers, attention: AttentionKind) -> str:
    if attention is AttentionKind.CBAM:
        sentence = _(
            "Every map is multiplied by its weight, then CBAM weighs every place of the maps too "
            "(its spatial attention): the patterns stay, only their strength changes. Shown: "
            "the {shown} channels kept most, before and after. Of all the response, {kept:.0%} "
            "passes on to the next block."
        )
    else:
        sentence = _(
            "Every map is multiplied by its weight: the patterns stay, only their strength "
            "changes. Shown: the {shown} channels kept most, before and after. Of all the "
            "response, {kept:.0%} passes on to the next block."
        )
    return sentence.format(shown=min(block.channels, SHOWN_CHANNELS), kept=block.activity_kept)


def block_sentence(number: int, block: BlockNumbers) -> str:
    height, width = block.map_size
    return _(
        "Block {number} does the same with {channels} channels of {height}×{width}: weights "
        "from {low:.2f} to {high:.2f}, channel {kept} kept most; {share:.0%} of the response "
        "passes on."
    ).format(
        number=number,
        channels=block.channels,
        height=height,
        width=width,
        low=float(block.weights.min()),
        high=float(block.weights.max()),
        kept=block.most_kept,
        share=block.activity_kept,
    )


def changed_sentence(effect: SEEffect, blocks: list[BlockNumbers]) -> str:
    (label, probability), (off_label, off_probability) = effect.with_se[0], effect.without_se[0]
    kept = " · ".join(f"{block.activity_kept:.0%}" for block in blocks)
    if effect.changes_its_mind:
        verdict = _(
            "Switch SE off in every block (all weights 1) and the same network says "
            "**{off_label}** ({off_probability:.0%}) instead of **{label}** ({probability:.0%})."
        )
    else:
        verdict = _(
            "Switch SE off in every block (all weights 1) and the network still says "
            "**{label}**, but {off_probability:.0%} sure instead of {probability:.0%}."
        )
    return (
        verdict.format(
            label=class_label(label),
            probability=probability,
            off_label=class_label(off_label),
            off_probability=off_probability,
        )
        + " "
        + _(
            "Block by block, SE let through {kept} of the response: it learned to work with "
            "channels turned down, so without SE the later layers get maps they never saw."
        ).format(kept=kept)
    )
