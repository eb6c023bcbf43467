"""The Atlas page's words: each block's numbers said in plain sentences, and the definitions.

Every sentence is whole, in the session's language (seattn.i18n): where the numbers choose what
to say, they choose between whole sentences.
"""

from __future__ import annotations

from typing import Any

from seattn.data.cifar10 import class_label
from seattn.i18n import N_, _, pgettext

DEFINITIONS = N_("""
All measures are over the evaluation set: images the model never trained on (CIFAR-10's test
split when there is one, else the model's own held-out validation images).

- **mean**, **std**: of all the block's weights, over images and channels.
- **share above 0.9 / below 0.1**: of those weights: how often a channel is nearly kept whole or
  nearly silenced.
- **fixed share**: the share of the weights' total variance (over images and channels) that lies
  between the channels' dataset means. It is the part of SE that is a *fixed gain per channel*,
  the same for every picture; 1 − fixed share is what SE adapts to each picture.
- **η² (eta squared)**: for each channel, the variance of its weight between classes (class
  means around the overall mean, weighted by the classes' image counts) divided by its total
  variance over the images, averaged over the block's channels. 0: the class says nothing about
  the weight; 1: the class decides it. **η² with shuffled labels** is the same with the classes
  shuffled at random: the floor that chance alone reaches.
- **nearest class-mean accuracy**: guess each image's class from the block's weights alone, by the
  nearest class-mean weight vector (class means taken from the other half of the images),
  beside chance (1 / classes).
- **Interventions** change a block's weights inside the real forward pass (later blocks compute
  their own weights from what they receive) and measure the accuracy: *bypass* sets every weight
  to 1; *mean vector* gives every image the block's dataset-mean weights; *scalar* one number,
  the block's mean weight; *other image* each image the weights of another; *zero top / bottom /
  random* zeroes the k channels with the highest, lowest or random weight (k = 10% or 25% of the
  block's channels; random: the mean of 3 draws).
""")

# Shown through _(INTERVENTION_NAMES[kind]).
INTERVENTION_NAMES = {
    "bypass": N_("SE switched off (every weight 1)"),
    "mean_vector": N_("frozen to its dataset-mean weights"),
    "scalar": N_("one weight for every channel"),
    "other_image": N_("another picture's weights"),
    "zero_top": N_("strongest channels zeroed"),
    "zero_bottom": N_("weakest channels zeroed"),
    "zero_random": N_("random channels zeroed"),
}

# Why a measure is not defined, as seattn.analysis.atlas.measures records it in the atlas (in
# English): marked here, so that a page says it with _(reason).
UNDEFINED_REASONS = (
    N_("only one class in the evaluation set"),
    N_("no channel's weight varies over the images"),
    N_("too few images for two halves"),
    N_("the weights do not vary at all"),
)

# The sentence under the title, one whole sentence per split the atlas measures.
_MEASURED_ON = {
    "test": N_(
        "**{model}** on **{images:,} images** of {data} (test split), which it never trained "
        "on: accuracy **{accuracy:.1%}**."
    ),
    "val": N_(
        "**{model}** on **{images:,} images** of {data} (val split), which it never trained "
        "on: accuracy **{accuracy:.1%}**."
    ),
    "all": N_(
        "**{model}** on **{images:,} images** of {data} (all split), which it never trained "
        "on: accuracy **{accuracy:.1%}**."
    ),
}


def measured_on(model: str, images: int, data: str, split: str, accuracy: float) -> str:
    """What the atlas was measured on, and the model's accuracy there."""
    if split in _MEASURED_ON:
        sentence = _(_MEASURED_ON[split])
    else:
        sentence = _(
            "**{model}** on **{images:,} images** of {data} ({split} split), which it never "
            "trained on: accuracy **{accuracy:.1%}**."
        )
    return sentence.format(model=model, images=images, data=data, split=split, accuracy=accuracy)


def intervention_name(kind: str) -> str | None:
    """An intervention kind in words, or None for one without a name (the clean run)."""
    return _(INTERVENTION_NAMES[kind]) if kind in INTERVENTION_NAMES else None


def block_title(name: str) -> str:
    """ "block2" -> "Block 2" (in the session's language); another name as it is."""
    number = name.removeprefix("block")
    return _("Block {number}").format(number=number) if number.isdigit() else name


def _accuracy(interventions: list[dict], kind: str, where: str) -> float | None:
    for record in interventions:
        if record["kind"] == kind and record["blocks"] == where and record["k"] is None:
            return record["accuracy"]
    return None


def _fixed_sentence(block: str, fixed: float | None) -> str:
    if fixed is None:
        return _("**{block}** gives every picture exactly the same weights.").format(block=block)
    if fixed >= 0.8:
        sentence = _(
            "**{block}** gives nearly every picture the same weights: {fixed:.0%} of their "
            "variation is a fixed gain per channel."
        )
    elif fixed >= 0.5:
        sentence = _(
            "**{block}** is mostly a fixed gain per channel ({fixed:.0%}), and adapts the rest "
            "({adaptive:.0%}) to each picture."
        )
    else:
        sentence = _(
            "**{block}** adapts its weights to each picture: only {fixed:.0%} of their "
            "variation is a fixed gain per channel."
        )
    return sentence.format(block=block, fixed=fixed, adaptive=1 - fixed)


def _class_sentence(block: dict[str, Any]) -> str:
    eta, floor = block.get("eta_squared"), block.get("eta_squared_shuffled")
    if eta is None:
        undefined = block.get("undefined", {}).get("eta_squared", "")
        return _("How much the class matters cannot be said here ({reason}).").format(
            reason=_(undefined) if undefined else undefined
        )
    if floor is not None and eta > max(3 * floor, 0.05):
        return _(
            "Its weights depend on the class: the class explains {eta:.0%} of a channel's "
            "variation (chance alone: {floor:.1%})."
        ).format(eta=eta, floor=floor)
    return _("Its weights say little about the class, no more than chance.")


def _intervention_sentence(block: dict[str, Any], interventions: list[dict]) -> str | None:
    clean = _accuracy(interventions, "clean", "all")
    frozen = _accuracy(interventions, "mean_vector", block["name"])
    bypass = _accuracy(interventions, "bypass", block["name"])
    if clean is None or frozen is None or bypass is None:
        return None
    adaptation = (clean - frozen) * 100
    switched_off = (clean - bypass) * 100
    if adaptation < 0.5:
        sentence = _(
            "Taking its per-picture adaptation away costs almost nothing "
            "({adaptation:+.1f} points), though switching SE off costs "
            "{switched_off:.1f} points."
        )
    else:
        sentence = _(
            "Taking its per-picture adaptation away costs {adaptation:.1f} points of "
            "accuracy; switching SE off costs {switched_off:.1f}."
        )
    return sentence.format(adaptation=adaptation, switched_off=switched_off)


def block_sentence(block: dict[str, Any], interventions: list[dict]) -> str:
    """What the numbers of one block say, for someone who does not read η²."""
    parts = [
        _fixed_sentence(block_title(block["name"]), block.get("fixed_share")),
        _class_sentence(block),
        _intervention_sentence(block, interventions),
    ]
    said = [part for part in parts if part]
    text = said[0]
    for sentence in said[1:]:
        # One sentence after another: a space in English, none after a Chinese full stop.
        text = pgettext("sentences", "{sentence} {next}").format(sentence=text, next=sentence)
    return text


def thumbnail_caption(classes: list[str], true: int, predicted: int, weight: float) -> str:
    """A thumbnail's class, the network's guess when it is wrong, and the channel's weight."""
    mark = "✓" if true == predicted else f"→ {class_label(classes[predicted])}"
    return f"{class_label(classes[true])} {mark} · {weight:.3f}"
