"""What the Explore page computes, without the page: run images through a model, pick channels,
tile feature maps, and build the downloadable tables.

The page only reads widgets and draws; everything that touches a tensor or a file is here, so it is
tested without a browser and timed by ``bench/explore_speed.py``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from PIL import Image

from seattn.analysis.statistics import weight_statistics
from seattn.data.images import CheckedImage, ModelCrop, to_model_input, to_model_view
from seattn.i18n import _
from seattn.model.cnn import SECNN, BlockRecord
from seattn.model.probe import ProbeResult, probe

TOP_K_CLASSES = 5
ChannelChoice = Literal["top", "bottom", "all"]
# -- running the model ------------------------------------------------------------------------


@dataclass(frozen=True)
class Analysis:
    """One recorded forward pass over a few images, with their names and true classes if known."""

    names: list[str]
    classes: list[str]  # the model's class names
    result: ProbeResult
    true_classes: list[str | None]

    @property
    def has_se(self) -> bool:
        return bool(self.result.blocks)

    @property
    def blocks(self) -> list[BlockRecord]:
        return self.result.blocks

    def top_k(self, k: int = TOP_K_CLASSES) -> list[list[tuple[str, float]]]:
        return self.result.top_k(self.classes, k)

    def weights(self, block: int) -> np.ndarray:
        """[images, channels] excitation weights of SE block number ``block`` (0-based)."""
        return self.blocks[block].weights.float().numpy()

    def statistics(self, block: int, image: int) -> dict[str, float]:
        return weight_statistics(self.blocks[block].weights[image])


def analyse(
    model: SECNN,
    classes: Sequence[str],
    images: Sequence[Image.Image],
    names: Sequence[str],
    true_classes: Sequence[str | None] | None = None,
) -> Analysis:
    """Run ``images`` (any size, RGB) through ``model`` as it sees them and keep every SE block.

    The analysis names each image by its place and file name (``numbered_names``).
    """
    if len(images) != len(names):
        raise ValueError(f"{len(images)} images but {len(names)} names")
    result = probe(model, to_model_input(list(images)))
    truths = list(true_classes) if true_classes is not None else [None] * len(images)
    return Analysis(numbered_names(names), list(classes), result, truths)


def numbered_names(names: Sequence[str]) -> list[str]:
    """Each name behind its place in the list, from 1: "#1 0000.jpg", "#2 0000.jpg".

    Uploads from different folders often share a file name; a number that is the picture's place
    in the gallery tells them apart and says where to find each one, which "0000.jpg (2)" did not.
    Every name is numbered, so the downloads' image column reads the same whatever was uploaded.
    """
    return [f"#{place} {name}" for place, name in enumerate(names, start=1)]


# -- channels and feature maps ----------------------------------------------------------------


def choose_channels(weights: np.ndarray, which: ChannelChoice, k: int) -> np.ndarray:
    """Channel indices to show: the k highest weights, the k lowest (each strongest first), or all.

    Ties are broken by channel index (a stable sort) so the choice never flickers between reruns.
    """
    weights = np.asarray(weights)
    if which == "all":
        return np.arange(weights.shape[0])
    k = max(1, min(k, weights.shape[0]))
    if which == "top":
        return np.argsort(-weights, kind="stable")[:k]
    if which == "bottom":
        return np.argsort(weights, kind="stable")[:k]
    raise ValueError(f"unknown channel choice {which!r}; expected 'top', 'bottom' or 'all'")


def grid_columns(count: int) -> int:
    """Columns for ``count`` tiles: a near-square grid, a little wider than tall."""
    return max(1, math.ceil(math.sqrt(count)))


def tile_maps(
    maps: np.ndarray, channels: np.ndarray, columns: int | None = None, gutter: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Lay ``maps`` [n, H, W] out as one image, and say which channel each pixel belongs to.

    Returns (tiled float32 [rows*(H+g)-g, cols*(W+g)-g] with NaN in the gutters, so they draw
    blank and never hover; channel index per pixel, -1 in the gutters). One array drawn as one
    heatmap is what keeps the page fast: one subplot per channel means hundreds of axes.
    """
    maps = np.asarray(maps, dtype=np.float32)
    count, height, width = maps.shape
    columns = grid_columns(count) if columns is None else columns
    rows = max(1, math.ceil(count / columns))
    tiled = np.full(
        (rows * (height + gutter) - gutter, columns * (width + gutter) - gutter),
        np.nan,
        dtype=np.float32,
    )
    owner = np.full(tiled.shape, -1, dtype=np.int16)
    for slot, (channel, image) in enumerate(zip(channels, maps, strict=True)):
        top = (slot // columns) * (height + gutter)
        left = (slot % columns) * (width + gutter)
        tiled[top : top + height, left : left + width] = image
        owner[top : top + height, left : left + width] = channel
    return tiled, owner


@dataclass(frozen=True)
class FeatureMapPanels:
    """What one block's before/after grid shows for one image, ready to draw."""

    titles: list[str]
    tiles: list[np.ndarray]  # one tiled array per panel, same shape
    owner: np.ndarray  # channel index per pixel, -1 in gutters
    zmax: float  # one colour scale for every panel
    value_label: str  # what the colour means


def feature_map_panels(
    before: torch.Tensor | np.ndarray,
    after: torch.Tensor | np.ndarray,
    channels: np.ndarray,
    *,
    per_channel_scale: bool = False,
    show_difference: bool = False,
    module: str = "SE",
) -> FeatureMapPanels:
    """Before and after SE (and optionally what SE removed) for the chosen channels of one image.

    ``module`` names the attention in the panels' titles: "SE", "ECA", or "CBAM" (whose "after"
    is after both its channel and its spatial attention).

    ``before``/``after`` are one image's [C, H, W] maps. On the shared scale the colours are
    activations, so a channel SE turned down visibly fades. With ``per_channel_scale`` each
    channel is divided by its own largest value before SE: faint channels show their pattern, and
    "after" still shows how far SE turned each one down (its tiles peak at the channel's weight).
    """
    before_np = _as_numpy(before)[channels]
    after_np = _as_numpy(after)[channels]
    value_label = _("activation")
    if per_channel_scale:
        peak = before_np.reshape(len(channels), -1).max(axis=1)
        scale = np.where(peak > 0, peak, 1.0).astype(np.float32)[:, None, None]
        before_np, after_np = before_np / scale, after_np / scale
        value_label = _("share of the channel's peak before {module}").format(module=module)
    panels = [
        (_("Before {module}").format(module=module), before_np),
        (_("After {module}").format(module=module), after_np),
    ]
    if show_difference:
        # The maps enter SE after a ReLU, so before >= after >= 0: the difference is what SE took.
        removed = _("Removed by {module} (before − after)").format(module=module)
        panels.append((removed, before_np - after_np))
    columns = grid_columns(len(channels))
    tiles, owner = [], None
    for _title, maps in panels:
        tiled, owner = tile_maps(maps, channels, columns)
        tiles.append(tiled)
    finite_max = max((float(np.nanmax(t)) for t in tiles if np.isfinite(t).any()), default=0.0)
    return FeatureMapPanels(
        titles=[title for title, _ in panels],
        tiles=tiles,
        owner=owner,
        zmax=finite_max if finite_max > 0 else 1.0,
        value_label=value_label,
    )


def _as_numpy(array: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        return array.detach().float().numpy()
    return np.asarray(array, dtype=np.float32)


# -- tables to download -----------------------------------------------------------------------


def weights_table(analysis: Analysis) -> pd.DataFrame:
    """Every excitation weight as rows of (image, block, channel, weight), in network order."""
    frames = []
    for record in analysis.blocks:
        weights = record.weights.float().numpy()
        images, channels = weights.shape
        frames.append(
            pd.DataFrame(
                {
                    "image": np.repeat(analysis.names, channels),
                    "block": record.name,
                    "channel": np.tile(np.arange(channels), images),
                    "weight": weights.reshape(-1),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["image", "block", "channel", "weight"])
    return pd.concat(frames, ignore_index=True)


def weights_csv(analysis: Analysis) -> bytes:
    return weights_table(analysis).to_csv(index=False, float_format="%.6g").encode()


def predictions(analysis: Analysis, k: int = TOP_K_CLASSES) -> list[dict[str, Any]]:
    """Per image: its name, true class when known, and the top-k classes with probabilities."""
    return [
        {
            "image": name,
            "true_class": truth,
            "top_k": [{"class": label, "probability": round(p, 6)} for label, p in top],
        }
        for name, truth, top in zip(
            analysis.names, analysis.true_classes, analysis.top_k(k), strict=True
        )
    ]


def predictions_json(analysis: Analysis, model: dict[str, Any], k: int = TOP_K_CLASSES) -> str:
    """The predictions as a JSON document, with what model made them (``model``: plain values)."""
    return json.dumps({"model": model, "predictions": predictions(analysis, k)}, indent=2)


# -- uploads as the page keeps them ----------------------------------------------------------


@dataclass(frozen=True)
class PreparedImage:
    """What the page keeps of a checked image: a preview, the model's 32x32 view, and facts.

    A 40-megapixel upload decodes to over 100 MB; keeping only these two small images per session
    keeps memory flat and makes every rerun skip the crop-and-resize.
    """

    name: str
    preview: Image.Image  # at most PREVIEW_SIDE pixels a side
    view: Image.Image  # what the model sees: 32x32 RGB
    original_size: tuple[int, int]
    format: str
    notes: tuple[str, ...]
    crop: ModelCrop  # the part of the picture the model sees
    true_class: str | None = None


PREVIEW_SIDE = 480


def prepare(checked: CheckedImage, true_class: str | None = None) -> PreparedImage:
    """Reduce a checked image to what Explore shows and runs (see ``PreparedImage``)."""
    preview = checked.image.copy()
    # Box-reduce by a whole factor first, then a short bilinear step: about 4x faster than the
    # default bicubic thumbnail and indistinguishable at preview size.
    preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.BILINEAR, reducing_gap=1.0)
    return PreparedImage(
        name=checked.name,
        preview=preview,
        view=to_model_view(checked.image),
        original_size=checked.original_size,
        format=checked.format,
        notes=checked.notes,
        crop=checked.model_crop,
        true_class=true_class,
    )


def enlarged(view: Image.Image, scale: int = 8) -> Image.Image:
    """A small image enlarged with hard pixel edges, so 32x32 still reads as 32x32 pixels."""
    return view.resize((view.width * scale, view.height * scale), Image.Resampling.NEAREST)


def uint8_image(image: torch.Tensor) -> Image.Image:
    """A uint8 [3, H, W] tensor (a data set's stored image) as a PIL image."""
    return Image.fromarray(image.permute(1, 2, 0).contiguous().numpy())


def analyse_prepared(
    model: SECNN, classes: Sequence[str], images: Sequence[PreparedImage]
) -> Analysis:
    """``analyse`` for prepared images: their 32x32 views go to the model unchanged."""
    return analyse(
        model,
        classes,
        [image.view for image in images],
        [image.name for image in images],
        [image.true_class for image in images],
    )


# -- the Home page's illustration -------------------------------------------------------------


@dataclass(frozen=True)
class ToySE:
    """A four-channel SE block worked through by hand, for the Home page's explanation."""

    before: np.ndarray  # [4, H, W]
    squeeze: np.ndarray  # [4] the channel means
    weights: np.ndarray  # [4] excitation weights
    after: np.ndarray  # [4, H, W]
    names: list[str]


def toy_se_example(size: int = 12) -> ToySE:
    """Four simple patterns a first layer might detect, and weights that keep two of them.

    The weights are chosen, not learned: the picture explains the arithmetic (average, weight,
    multiply), which is the same whatever the weights are.
    """
    yy, xx = np.mgrid[:size, :size] / (size - 1)
    before = np.stack(
        [
            ((xx * 4).astype(int) % 2).astype(np.float32),  # vertical stripes
            np.exp(-((xx - 0.5) ** 2 + (yy - 0.5) ** 2) * 10),  # a blob
            yy,  # a gradient from top to bottom
            (((xx * 3).astype(int) + (yy * 3).astype(int)) % 2).astype(np.float32),  # checks
        ]
    ).astype(np.float32)
    weights = np.array([0.92, 0.85, 0.12, 0.3], dtype=np.float32)
    return ToySE(
        before=before,
        squeeze=before.mean(axis=(1, 2)),
        weights=weights,
        after=before * weights[:, None, None],
        names=["stripes", "blob", "gradient", "checks"],
    )
