"""Tests for seattn.analysis.gradcam: Grad-CAM before and after each block's attention, on a copy
of the network, peaking where the evidence is."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from seattn.analysis.gradcam import grad_cam
from seattn.data.images import to_model_input
from seattn.model.cnn import SECNN

SIDE = 32
SQUARE = 8


def square_picture(rng: np.random.Generator, corner: tuple[int, int] | None) -> Image.Image:
    """A flat background of a random dull colour, with a bright square at ``corner`` (or none)."""
    pixels = np.empty((SIDE, SIDE, 3), dtype=np.uint8)
    pixels[:] = rng.integers(20, 110, size=3)
    pixels += rng.integers(0, 12, size=(SIDE, SIDE, 3), dtype=np.uint8)
    if corner is not None:
        top, left = corner
        pixels[top : top + SQUARE, left : left + SQUARE] = rng.integers(220, 256, size=3)
    return Image.fromarray(pixels)


@pytest.fixture(scope="module")
def square_finder() -> SECNN:
    """An SE network trained, here, to tell pictures with a bright square from those without."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    pictures, labels = [], []
    for index in range(320):
        has_square = index % 2 == 0
        corner = tuple(rng.integers(0, SIDE - SQUARE, size=2)) if has_square else None
        pictures.append(square_picture(rng, corner))
        labels.append(int(has_square))
    images, targets = to_model_input(pictures), torch.tensor(labels)
    model = SECNN(4, num_classes=2, attention="se")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _epoch in range(4):
        for start in torch.randperm(len(images)).split(32):
            loss = torch.nn.functional.cross_entropy(model(images[start]), targets[start])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval().zero_grad(set_to_none=True)  # as a loaded, cached model is: no gradients
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    with torch.no_grad():
        accuracy = (model(images).argmax(1) == targets).float().mean()
    assert accuracy > 0.95, f"the square finder did not learn ({accuracy:.0%})"
    return model


def hand_grad_cam(model: SECNN, picture: Image.Image, class_index: int, block: int) -> np.ndarray:
    """Grad-CAM written out: block ``block``'s output after attention, weighted per channel by
    the mean gradient of the class score over it, summed, ReLU, scaled to 0..1."""
    copy = SECNN(model.reduction_ratio, model.num_classes, model.attention_kind)
    copy.load_state_dict(model.state_dict())
    copy.eval()
    x = to_model_input([picture])
    for earlier in copy.blocks[:block]:
        x = earlier(x)
    attended = copy.blocks[block].attention(copy.blocks[block].features(x))
    y = copy.blocks[block].pool(attended)
    for later in copy.blocks[block + 1 :]:
        y = later(y)
    score = copy.classifier(y)[0, class_index]
    (gradient,) = torch.autograd.grad(score, attended)
    cam = torch.relu((gradient.mean(dim=(2, 3), keepdim=True) * attended).sum(dim=1))[0]
    cam = cam - cam.min()
    return (cam / cam.max()).detach().numpy()


def test_the_library_agrees_with_grad_cam_written_out(square_finder: SECNN) -> None:
    picture = square_picture(np.random.default_rng(5), (4, 20))
    maps = grad_cam(square_finder, picture, class_index=1)
    assert maps.class_index == 1 and maps.block_names == ["block1", "block2", "block3"]
    assert [m.shape for m in maps.before] == [(32, 32), (16, 16), (8, 8)]
    for block in range(3):
        np.testing.assert_allclose(
            maps.after[block], hand_grad_cam(square_finder, picture, 1, block), atol=1e-5
        )


@pytest.mark.parametrize("corner", [(2, 3), (21, 22), (4, 20), (18, 5)])
def test_the_map_peaks_on_the_square(square_finder: SECNN, corner: tuple[int, int]) -> None:
    picture = square_picture(np.random.default_rng(11), corner)
    maps = grad_cam(square_finder, picture)  # the predicted class: a square
    assert maps.class_index == 1
    for cam in (maps.before[2], maps.after[2], maps.after[1]):
        cell = SIDE // cam.shape[0]
        row, column = np.unravel_index(np.argmax(cam), cam.shape)
        # the peak's cell overlaps the square, give or take one cell
        top, left = corner
        assert top - cell <= row * cell <= top + SQUARE + cell - 1, (row, cam.shape)
        assert left - cell <= column * cell <= left + SQUARE + cell - 1, (column, cam.shape)


def test_the_shared_model_gets_no_hook_no_gradient_and_no_change(square_finder: SECNN) -> None:
    before = {name: value.clone() for name, value in square_finder.state_dict().items()}
    grad_cam(square_finder, square_picture(np.random.default_rng(1), (10, 10)), class_index=0)
    assert not square_finder.training
    assert all(p.grad is None and not p.requires_grad for p in square_finder.parameters())
    assert all(
        not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks
        for m in square_finder.modules()
    )
    for name, value in square_finder.state_dict().items():
        assert torch.equal(value, before[name])


@pytest.mark.parametrize("attention", ["eca", "cbam", "none"])
def test_every_attention_kind_gets_its_maps(attention: str) -> None:
    torch.manual_seed(0)
    model = SECNN(4, num_classes=3, attention=attention).eval()
    maps = grad_cam(model, square_picture(np.random.default_rng(2), (8, 8)))
    assert len(maps.before) == len(maps.after) == 3
    if attention == "none":  # nothing between "before" and "after"
        for before, after in zip(maps.before, maps.after, strict=True):
            np.testing.assert_allclose(before, after, atol=1e-6)
