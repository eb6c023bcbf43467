"""The Atlas page's words: each block's numbers said in plain sentences, and the definitions."""

from __future__ import annotations

from typing import Any

DEFINITIONS = """
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
"""

INTERVENTION_NAMES = {
    "bypass": "SE switched off (every weight 1)",
    "mean_vector": "frozen to its dataset-mean weights",
    "scalar": "one weight for every channel",
    "other_image": "another picture's weights",
    "zero_top": "strongest channels zeroed",
    "zero_bottom": "weakest channels zeroed",
    "zero_random": "random channels zeroed",
}


def block_title(name: str) -> str:
    """ "block2" -> "Block 2"."""
    return name.replace("block", "Block ")


def _accuracy(interventions: list[dict], kind: str, where: str) -> float | None:
    for record in interventions:
        if record["kind"] == kind and record["blocks"] == where and record["k"] is None:
            return record["accuracy"]
    return None


def block_sentence(block: dict[str, Any], interventions: list[dict]) -> str:
    """What the numbers of one block say, for someone who does not read η²."""
    name = block_title(block["name"])
    parts = []
    fixed = block.get("fixed_share")
    if fixed is None:
        parts.append(f"**{name}** gives every picture exactly the same weights.")
    elif fixed >= 0.8:
        parts.append(
            f"**{name}** gives nearly every picture the same weights: {fixed:.0%} of their "
            "variation is a fixed gain per channel."
        )
    elif fixed >= 0.5:
        parts.append(
            f"**{name}** is mostly a fixed gain per channel ({fixed:.0%}), and adapts the rest "
            f"({1 - fixed:.0%}) to each picture."
        )
    else:
        parts.append(
            f"**{name}** adapts its weights to each picture: only {fixed:.0%} of their "
            "variation is a fixed gain per channel."
        )
    eta, floor = block.get("eta_squared"), block.get("eta_squared_shuffled")
    if eta is None:
        undefined = block.get("undefined", {}).get("eta_squared", "")
        parts.append(f"How much the class matters cannot be said here ({undefined}).")
    elif floor is not None and eta > max(3 * floor, 0.05):
        parts.append(
            f"Its weights depend on the class: the class explains {eta:.0%} of a channel's "
            f"variation (chance alone: {floor:.1%})."
        )
    else:
        parts.append("Its weights say little about the class, no more than chance.")
    clean = _accuracy(interventions, "clean", "all")
    frozen = _accuracy(interventions, "mean_vector", block["name"])
    bypass = _accuracy(interventions, "bypass", block["name"])
    if clean is not None and frozen is not None and bypass is not None:
        adaptation = (clean - frozen) * 100
        switched_off = (clean - bypass) * 100
        if adaptation < 0.5:
            parts.append(
                f"Taking its per-picture adaptation away costs almost nothing "
                f"({adaptation:+.1f} points), though switching SE off costs "
                f"{switched_off:.1f} points."
            )
        else:
            parts.append(
                f"Taking its per-picture adaptation away costs {adaptation:.1f} points of "
                f"accuracy; switching SE off costs {switched_off:.1f}."
            )
    return " ".join(parts)


def thumbnail_caption(classes: list[str], true: int, predicted: int, weight: float) -> str:
    mark = "✓" if true == predicted else f"→ {classes[predicted]}"
    return f"{classes[true]} {mark} · {weight:.3f}"
