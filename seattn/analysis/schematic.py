"""The Home page's SE schematic drawn from a trained network's own numbers for a real picture.

A schematic with chosen weights (0.92 for one channel, 0.12 for another) promises more than a
trained SE block does: the bundled models' weights mostly sit between 0.3 and 0.7. This one
shows block 1 of the network as it is: the two channels it keeps most for the picture and the two
it damps most, their maps before and after, and the weights that scaled them.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from seattn.analysis.explore import ToySE
from seattn.data.images import to_model_input
from seattn.i18n import _
from seattn.model.cnn import SECNN
from seattn.model.probe import probe

SHOWN = 2  # channels from each end: the most kept and the most damped


def model_se_example(model: SECNN, image: Image.Image) -> ToySE | None:
    """Block 1 of ``model`` on ``image``, as four channels; None for a network without SE."""
    result = probe(model, to_model_input([image]))
    if not result.blocks:
        return None
    block = result.blocks[0]
    weights = block.weights[0].float()
    order = weights.argsort(descending=True).tolist()
    chosen = order[:SHOWN] + order[-SHOWN:]
    before = block.before[0, chosen].float().numpy()
    # one scale for before and after, so a damped map is darker, not rescaled
    before = before / max(float(before.max()), 1e-6)
    picked = weights[chosen].numpy()
    return ToySE(
        before=before.astype(np.float32),
        squeeze=before.mean(axis=(1, 2)).astype(np.float32),
        weights=picked.astype(np.float32),
        after=(before * picked[:, None, None]).astype(np.float32),
        names=[_("channel {number}").format(number=c) for c in chosen],
    )
