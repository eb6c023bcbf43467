"""The Home schematic drawn from a network's own block 1 for a real picture."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from seattn.analysis.schematic import model_se_example
from seattn.data.images import to_model_input
from seattn.model.cnn import SECNN
from seattn.model.probe import probe


def test_the_schematic_shows_the_most_kept_and_most_damped_channels_with_their_real_weights():
    torch.manual_seed(0)
    model = SECNN(reduction_ratio=4, num_classes=3).eval()
    picture = Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), np.uint8))
    example = model_se_example(model, picture)
    weights = probe(model, to_model_input([picture])).blocks[0].weights[0]
    ranked = weights.sort(descending=True).values
    expected = torch.cat([ranked[:2], ranked[-2:]]).numpy()
    np.testing.assert_allclose(example.weights, expected, rtol=1e-6)
    assert example.weights[0] >= example.weights[1] >= example.weights[2] >= example.weights[3]
    np.testing.assert_allclose(example.after, example.before * example.weights[:, None, None])
    assert example.before.max() == 1.0 and len(example.names) == 4


def test_a_network_without_se_has_no_schematic():
    picture = Image.new("RGB", (32, 32), "gray")
    assert model_se_example(SECNN(reduction_ratio=None, num_classes=3).eval(), picture) is None
