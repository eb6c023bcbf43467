"""The reference recipe's training augmentations, applied to a whole batch of tensors at once.

The recipe augments one PIL image at a time with torchvision: RandomCrop(32, padding=4),
RandomHorizontalFlip(), ColorJitter(0.2, 0.2, 0.2, 0.1), RandomRotation(15), ToTensor. On two CPU
cores that per-image Python work costs more than the network itself, so ``BatchAugment`` does the
same operations, in the same order, on a ``[B, 3, H, W]`` uint8 batch with tensor ops. Every sample
still draws its own crop offset, flip, jitter factors, jitter order and angle, as the per-image
pipeline would; only the random numbers come from a caller's ``torch.Generator`` instead of the
global RNG, so a reseeded generator replays an epoch's augmentations exactly.

Known differences from the PIL pipeline, all at the level of rounding:
- PIL rounds to uint8 after every jitter op and rotation; here everything after the crop and flip
  stays float32 until the caller normalises (this is what torchvision's tensor functionals do).
- Colour maths follows torchvision's tensor functionals (the ``adjust_*`` helpers below match
  ``torchvision.transforms.functional`` on float tensors), not PIL's ImageEnhance/HSV code, which
  e.g. rounds the contrast mean and the hue shift to whole uint8 steps.
- Nearest-neighbour rotation may pick the neighbouring pixel where a sample point lies exactly
  halfway between two pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F

# ColorJitter's four ops, in the index order torchvision's ColorJitter.get_params permutes.
BRIGHTNESS, CONTRAST, SATURATION, HUE = range(4)


def augment_disabled(images: torch.Tensor) -> torch.Tensor:
    """uint8 [B, 3, H, W] -> float32 in [0, 1], exactly what ToTensor gives without augmentation."""
    return images.float() / 255


# --- colour ops with explicit per-sample factors (float images in [0, 1], factors of shape [B]) ---


def _per_sample(factors: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    return factors.to(device=images.device, dtype=images.dtype).view(-1, 1, 1, 1)


def _blend(images: torch.Tensor, other: torch.Tensor, ratio: torch.Tensor) -> torch.Tensor:
    # torchvision's _blend, with one ratio per sample instead of one per call.
    return (ratio * images + (1.0 - ratio) * other).clamp_(0.0, 1.0)


def _grayscale(images: torch.Tensor) -> torch.Tensor:
    # torchvision's rgb_to_grayscale (ITU-R 601-2 luma), keeping the channel axis.
    r, g, b = images.unbind(dim=-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(dim=-3)


def adjust_brightness(images: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Blend each sample with black by its factor, as torchvision's adjust_brightness does."""
    return (images * _per_sample(factors, images)).clamp_(0.0, 1.0)


def adjust_contrast(images: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Blend each sample with the mean of its own grayscale image."""
    mean = _grayscale(images).mean(dim=(-3, -2, -1), keepdim=True)
    return _blend(images, mean, _per_sample(factors, images))


def adjust_saturation(images: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Blend each sample with its grayscale version."""
    return _blend(images, _grayscale(images), _per_sample(factors, images))


def adjust_hue(images: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Rotate each sample's hue by its factor (a fraction of a turn, in [-0.5, 0.5]).

    The maths of torchvision's adjust_hue (RGB -> HSV, shift H, HSV -> RGB) without building the
    HSV image: a hue shift keeps each pixel's max (V) and chroma (C = max - min), so only H is
    computed, and it goes back to RGB in closed form: f(n) = V - C * clamp(min(k, 4 - k), 0, 1)
    with k = (n + 6H) mod 6 and n = 5, 3, 1 for R, G, B. About twice as fast as torchvision's
    batched HSV helpers, equal to them up to float rounding.
    """
    value = images.amax(dim=-3, keepdim=True)
    chroma = value - images.amin(dim=-3, keepdim=True)
    # Distance of each channel below the max, in units of chroma (grey pixels: any finite value).
    distance = (value - images) / torch.where(chroma == 0, 1.0, chroma)
    red, green, blue = images.split(1, dim=-3)
    dist_red, dist_green, dist_blue = distance.split(1, dim=-3)
    sixths = torch.where(
        red == value,
        dist_blue - dist_green,
        torch.where(green == value, 2.0 + dist_red - dist_blue, 4.0 + dist_green - dist_red),
    )
    turns = (sixths / 6.0 + 1.0).fmod_(1.0).add_(_per_sample(factors, images)).remainder_(1.0)
    k = (turns * 6.0 + _HUE_CHANNEL_OFFSETS.to(images.device)).remainder_(6.0)
    return value - chroma * torch.minimum(k, 4.0 - k).clamp_(0.0, 1.0)


_HUE_CHANNEL_OFFSETS = torch.tensor([5.0, 3.0, 1.0]).view(1, 3, 1, 1)


_BLENDS = {
    BRIGHTNESS: adjust_brightness,
    CONTRAST: adjust_contrast,
    SATURATION: adjust_saturation,
}


def color_jitter(images: torch.Tensor, factors: torch.Tensor, orders: torch.Tensor) -> torch.Tensor:
    """Apply the jitter ops to each sample in its own order.

    ``factors`` is [B, 4] (brightness, contrast, saturation, hue; NaN = op off, as torchvision's
    None), ``orders`` is [B, 4], a permutation of 0..3 per sample. Step ``k`` applies, to each
    sample, the op it lists at position ``k``, and no Python loop runs over samples. The three
    blends run on the whole batch with factor 1 for the samples that do not take them at this step:
    a blend with factor 1 returns its input bit for bit, and a whole-batch pass is cheaper than
    gathering and scattering a subset. Only the costlier hue shift runs on its subset.
    """
    for step in range(orders.shape[1]):
        for op, blend in _BLENDS.items():
            chosen = (orders[:, step] == op) & ~factors[:, op].isnan()
            if chosen.any():
                images = blend(images, torch.where(chosen, factors[:, op], 1.0))
        chosen = (orders[:, step] == HUE) & ~factors[:, HUE].isnan()
        if chosen.all():
            images = adjust_hue(images, factors[:, HUE])
        elif chosen.any():
            index = chosen.nonzero().squeeze(1)
            images = images.index_copy(0, index, adjust_hue(images[index], factors[index, HUE]))
    return images


# --- geometry ---


def crop_and_flip(
    images: torch.Tensor, padding: int, offsets: torch.Tensor, flips: torch.Tensor
) -> torch.Tensor:
    """Zero-pad by ``padding``, cut each sample's window at ``offsets`` [B, 2] (row, column, each in
    [0, 2 * padding]), then mirror the samples where ``flips`` [B] is True. Any dtype."""
    batch, channels, height, width = images.shape
    padded = F.pad(images, (padding,) * 4) if padding else images
    offsets = offsets.to(images.device)
    rows = offsets[:, 0:1] + torch.arange(height, device=images.device)  # [B, H]
    columns = torch.arange(width, device=images.device).expand(batch, width)
    # Reading the window's columns backwards is the flip: no separate pass over the pixels.
    columns = torch.where(flips.to(images.device)[:, None], columns.flip(1), columns)
    columns = columns + offsets[:, 1:2]  # [B, W]
    # Two one-axis gathers: about twice as fast as one four-index advanced-indexing read.
    rows_cut = padded.gather(2, rows[:, None, :, None].expand(-1, channels, -1, padded.shape[3]))
    return rows_cut.gather(3, columns[:, None, None, :].expand(-1, channels, height, -1))


def rotate(images: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate each sample counter-clockwise by ``angles`` [B] degrees about its centre, nearest
    neighbour, zero fill, output the same size: torchvision's ``rotate`` with its defaults."""
    radians = torch.deg2rad(angles.to(device=images.device, dtype=torch.float32))
    cos, sin = radians.cos(), radians.sin()
    zeros = torch.zeros_like(cos)
    height, width = images.shape[-2:]
    # affine_grid maps output to input points in coordinates normalised to [-1, 1] on each axis;
    # the aspect terms keep the rotation rigid in pixels when the image is not square.
    theta = torch.stack(
        (
            torch.stack((cos, -sin * height / width, zeros), dim=1),
            torch.stack((sin * width / height, cos, zeros), dim=1),
        ),
        dim=1,
    )
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(
        images.float(), grid, mode="nearest", padding_mode="zeros", align_corners=False
    )


class AugmentParameters(NamedTuple):
    """The random choices for one batch of B images."""

    offsets: torch.Tensor  # [B, 2] int64 crop window corner (row, column) in the padded image
    flips: torch.Tensor  # [B] bool, mirror left-right
    jitter_orders: torch.Tensor  # [B, 4] int64, a permutation of BRIGHTNESS..HUE per sample
    jitter_factors: torch.Tensor  # [B, 4] float32 factors in that index order; NaN = op off
    angles: torch.Tensor  # [B] float32 degrees, counter-clockwise


class BatchAugment:
    """The reference recipe's augmentations on a whole uint8 batch at once, per-sample random
    parameters drawn from the caller's generator.

    Arguments mean what they mean in torchvision: a jitter strength ``s`` draws a factor uniformly
    from [max(0, 1 - s), 1 + s] (hue: from [-s, s]), 0 turns that op off; ``rotation_degrees`` is
    ``d`` for [-d, d] or an explicit (low, high) range.
    """

    def __init__(
        self,
        crop_padding: int = 4,
        flip_probability: float = 0.5,
        brightness: float = 0.2,
        contrast: float = 0.2,
        saturation: float = 0.2,
        hue: float = 0.1,
        rotation_degrees: float | Sequence[float] = 15.0,
    ) -> None:
        if crop_padding < 0:
            raise ValueError(f"crop padding must be >= 0, got {crop_padding}")
        if not 0.0 <= flip_probability <= 1.0:
            raise ValueError(f"flip probability must be in [0, 1], got {flip_probability}")
        if min(brightness, contrast, saturation) < 0:
            raise ValueError("brightness, contrast and saturation must be >= 0")
        if not 0.0 <= hue <= 0.5:
            raise ValueError(f"hue must be in [0, 0.5], got {hue}")
        if isinstance(rotation_degrees, int | float):
            if rotation_degrees < 0:
                raise ValueError(f"rotation degrees must be >= 0, got {rotation_degrees}")
            rotation_degrees = (-float(rotation_degrees), float(rotation_degrees))
        low, high = (float(d) for d in rotation_degrees)
        if low > high:
            raise ValueError(f"rotation range must be (low, high), got {rotation_degrees}")
        self.crop_padding = crop_padding
        self.flip_probability = flip_probability
        # None = op off, as in torchvision's ColorJitter; otherwise the (low, high) factor range.
        self.jitter_ranges = (
            (max(0.0, 1.0 - brightness), 1.0 + brightness) if brightness else None,
            (max(0.0, 1.0 - contrast), 1.0 + contrast) if contrast else None,
            (max(0.0, 1.0 - saturation), 1.0 + saturation) if saturation else None,
            (-hue, hue) if hue else None,
        )
        self.rotation_range = (low, high)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(crop_padding={self.crop_padding}, "
            f"flip_probability={self.flip_probability}, jitter_ranges={self.jitter_ranges}, "
            f"rotation_range={self.rotation_range})"
        )

    def draw_parameters(self, batch_size: int, generator: torch.Generator) -> AugmentParameters:
        """Every random choice for a batch, from ``generator`` only (never the global RNG)."""

        def uniform(low: float, high: float) -> torch.Tensor:
            return torch.rand(batch_size, generator=generator) * (high - low) + low

        # All of them are drawn whichever ops are on, so the stream a seed gives is always the same.
        offsets = torch.randint(0, 2 * self.crop_padding + 1, (batch_size, 2), generator=generator)
        flips = torch.rand(batch_size, generator=generator) < self.flip_probability
        # torchvision's ColorJitter draws one op order per image; so do we (a random permutation).
        jitter_orders = torch.rand(batch_size, 4, generator=generator).argsort(dim=1)
        jitter_factors = torch.stack(
            [
                uniform(*bounds) if bounds else torch.full((batch_size,), math.nan)
                for bounds in self.jitter_ranges
            ],
            dim=1,
        )
        angles = uniform(*self.rotation_range)
        return AugmentParameters(offsets, flips, jitter_orders, jitter_factors, angles)

    def apply(self, images: torch.Tensor, parameters: AugmentParameters) -> torch.Tensor:
        """uint8 [B, 3, H, W] -> float32 [B, 3, H, W] in [0, 1] with the given random choices."""
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(
                f"expected a uint8 [B, 3, H, W] batch, got {images.dtype} {list(images.shape)}"
            )
        # The recipe's order: crop, flip, jitter, rotate. Crop and flip only move bytes, so they
        # run on uint8 before the one conversion to float.
        if self.crop_padding or self.flip_probability > 0:
            images = crop_and_flip(images, self.crop_padding, parameters.offsets, parameters.flips)
        images = augment_disabled(images)
        if any(self.jitter_ranges):
            images = color_jitter(images, parameters.jitter_factors, parameters.jitter_orders)
        if self.rotation_range != (0.0, 0.0):
            images = rotate(images, parameters.angles)
        return images

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """uint8 [B, 3, H, W] -> float32 [B, 3, H, W] in [0, 1], not normalised; each sample gets
        its own random parameters, all drawn from ``generator``."""
        return self.apply(images, self.draw_parameters(images.shape[0], generator))
