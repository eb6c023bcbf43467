"""Grad-CAM at every block, before and after its attention: where the network looks, and how the
attention moved it.

torchcam's ``GradCAM`` does the maths (Selvaraju et al., 2017: each channel's map weighted by the
mean gradient of the class score over it, summed, ReLU). It was chosen over pytorch-grad-cam
because both agree with a hand-written Grad-CAM to float precision (bench/gradcam_libraries.py),
torchcam hands out each map at its layer's own resolution (the page draws the blocks' 32, 16 and
8 pixel grids as they are) and needs only matplotlib beside torch, where pytorch-grad-cam brings
OpenCV, scikit-learn and SciPy.

Each call wraps the network in a module of its own whose blocks pass their maps through identity
modules, the places the library hooks (the attention modules are called through ``excite``,
which a forward hook would not see), inside the library's context manager, which removes its
hooks on the way out. The gradient flows from the picture, which is the one tensor that asks for
it: the network's parameters do not, so they gather no gradient, and the shared cached model
gets no hook and no change of mode (tests/analysis/test_gradcam.py). No copy of the network is
made: a copy cost more than the forward and backward passes together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchcam.methods import GradCAM

from seattn.data.images import to_model_input
from seattn.model.cnn import SECNN


class _TappedNetwork(nn.Module):
    """The network with its blocks' maps before and after attention passed through identity
    modules, so a CAM library can hook them; same outputs as the network alone."""

    def __init__(self, model: SECNN) -> None:
        super().__init__()
        if model.training:
            raise ValueError("Grad-CAM needs a model in eval mode (batch norm as in inference)")
        self.network = model
        self.before = nn.ModuleList(nn.Identity() for _ in self.network.blocks)
        self.after = nn.ModuleList(nn.Identity() for _ in self.network.blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block, before, after in zip(self.network.blocks, self.before, self.after, strict=True):
            features = before(block.features(x))
            attended = block.attention(features) if block.attention is not None else features
            x = block.pool(after(attended))
        return self.network.classifier(x)


@dataclass(frozen=True)
class GradCamMaps:
    """Grad-CAM of one picture for one class, per block: [H, W] maps scaled to 0..1 each."""

    class_index: int
    block_names: list[str]
    before: list[np.ndarray]  # at each block's output before its attention (after the ReLU)
    after: list[np.ndarray]  # after its attention (before the max-pool)

    def shift(self, block: int) -> float:
        """How far attention moved the map: mean |after - before| over the block's positions."""
        return float(np.abs(self.after[block] - self.before[block]).mean())


def grad_cam(model: SECNN, view: Image.Image, class_index: int | None = None) -> GradCamMaps:
    """Grad-CAM of ``view`` (32x32 RGB) for ``class_index`` (None: the predicted class) at every
    block, before and after its attention, in one forward and one backward pass."""
    tapped = _TappedNetwork(model)
    layers = [*tapped.before, *tapped.after]
    batch = to_model_input([view]).requires_grad_()
    with GradCAM(tapped, target_layer=layers, input_shape=tuple(batch.shape[1:])) as extractor:
        scores = tapped(batch)
        chosen = int(scores[0].argmax()) if class_index is None else int(class_index)
        maps = [cam[0].detach().float().numpy() for cam in extractor(chosen, scores)]
    count = len(tapped.before)
    return GradCamMaps(
        class_index=chosen,
        block_names=[block.name for block in tapped.network.blocks],
        before=maps[:count],
        after=maps[count:],
    )
