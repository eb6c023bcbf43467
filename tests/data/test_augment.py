"""BatchAugment and its helpers against torchvision's own functionals, sample by sample."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
import torchvision.transforms.v2.functional as TF2

from seattn.data.augment import (
    BRIGHTNESS,
    CONTRAST,
    HUE,
    SATURATION,
    BatchAugment,
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    augment_disabled,
    color_jitter,
    crop_and_flip,
    rotate,
)

BATCH = 16
NO_OPS = dict(
    crop_padding=0,
    flip_probability=0.0,
    brightness=0.0,
    contrast=0.0,
    saturation=0.0,
    hue=0.0,
    rotation_degrees=0.0,
)


def only(**settings: object) -> BatchAugment:
    return BatchAugment(**{**NO_OPS, **settings})


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def images() -> torch.Tensor:
    return torch.randint(0, 256, (BATCH, 3, 32, 32), dtype=torch.uint8, generator=generator(7))


@pytest.fixture
def float_images() -> torch.Tensor:
    x = torch.rand(BATCH, 3, 32, 32, generator=generator(3))
    # Grey pixels (r = g = b) and saturated ones take the HSV code's special branches.
    x[:, :, :4] = x[:, :1, :4]
    x[:, 0, 4:8] = 1.0
    x[:, 1, 8:12] = 0.0
    # Ties between two channels pick the hue formula's branch; black and white have no hue.
    x[:, 1, 12:16] = x[:, 0, 12:16]
    x[:, 2, 16:20] = x[:, 1, 16:20]
    x[:, :, 20:22] = 0.0
    x[:, :, 22:24] = 1.0
    return x


def test_output_shape_dtype_and_range(images: torch.Tensor) -> None:
    out = BatchAugment()(images, generator(0))
    assert out.shape == images.shape
    assert out.dtype == torch.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_same_seed_same_output_different_seed_different(images: torch.Tensor) -> None:
    augment = BatchAugment()
    first = augment(images, generator(123))
    assert torch.equal(first, augment(images, generator(123)))
    assert not torch.equal(first, augment(images, generator(124)))


def test_randomness_comes_only_from_the_generator(images: torch.Tensor) -> None:
    global_state = torch.get_rng_state()
    BatchAugment()(images, generator(0))
    assert torch.equal(torch.get_rng_state(), global_state)


def test_a_restored_generator_state_replays_the_next_batch(images: torch.Tensor) -> None:
    augment = BatchAugment()
    running = generator(5)
    augment(images, running)
    saved = running.get_state()
    next_batch = augment(images, running)
    restored = torch.Generator()
    restored.set_state(saved)
    assert torch.equal(augment(images, restored), next_batch)


def test_every_op_off_is_to_tensor(images: torch.Tensor) -> None:
    expected = images.float() / 255
    assert torch.equal(only()(images, generator(0)), expected)
    assert torch.equal(augment_disabled(images), expected)


def test_rejects_anything_but_uint8_rgb_batches(images: torch.Tensor) -> None:
    augment = BatchAugment()
    with pytest.raises(ValueError, match="uint8"):
        augment(images.float(), generator(0))
    with pytest.raises(ValueError, match="uint8"):
        augment(images[0], generator(0))


def test_parameters_fall_in_torchvision_ranges() -> None:
    parameters = BatchAugment().draw_parameters(4096, generator(0))
    assert parameters.offsets.min() == 0 and parameters.offsets.max() == 8
    assert 0.4 < parameters.flips.float().mean() < 0.6
    assert torch.equal(parameters.jitter_orders.sort(dim=1).values, torch.arange(4).expand(4096, 4))
    assert len({tuple(order) for order in parameters.jitter_orders.tolist()}) == 24
    factors = parameters.jitter_factors
    for op in (BRIGHTNESS, CONTRAST, SATURATION):
        assert factors[:, op].min() >= 0.8 and factors[:, op].max() <= 1.2
    assert factors[:, HUE].min() >= -0.1 and factors[:, HUE].max() <= 0.1
    assert parameters.angles.min() >= -15 and parameters.angles.max() <= 15
    assert parameters.angles.min() < -14 and parameters.angles.max() > 14
    off = only().draw_parameters(8, generator(0)).jitter_factors
    assert off.isnan().all()


def test_crop_only_gives_a_window_of_the_zero_padded_image(images: torch.Tensor) -> None:
    out = only(crop_padding=4)(images, generator(1))
    padded = F.pad(images, (4, 4, 4, 4)).float() / 255
    windows = padded.unfold(2, 32, 1).unfold(3, 32, 1)  # [B, 3, 9, 9, 32, 32]
    matches = (windows == out[:, :, None, None]).all(dim=(1, 4, 5))  # [B, 9, 9]
    assert matches.any(dim=(1, 2)).all()
    corners = matches.flatten(1).float().argmax(dim=1)
    assert len(set(corners.tolist())) > 1  # each sample drew its own offset


def test_crop_matches_explicit_offsets(images: torch.Tensor) -> None:
    offsets = torch.tensor(
        [[row, col] for row, col in zip(range(9), range(8, -1, -1), strict=True)]
    )
    out = crop_and_flip(images[:9], 4, offsets, torch.zeros(9, dtype=torch.bool))
    padded = F.pad(images[:9], (4, 4, 4, 4))
    for sample, (row, col) in enumerate(offsets.tolist()):
        assert torch.equal(out[sample], padded[sample, :, row : row + 32, col : col + 32])


def test_flip_always_is_torch_flip(images: torch.Tensor) -> None:
    out = only(flip_probability=1.0)(images, generator(0))
    assert torch.equal(out, torch.flip(images, dims=[3]).float() / 255)


def test_flip_half_the_time_flips_some_samples_whole(images: torch.Tensor) -> None:
    out = only(flip_probability=0.5)(images, generator(0))
    same = (out == images.float() / 255).flatten(1).all(dim=1)
    flipped = (out == torch.flip(images, dims=[3]).float() / 255).flatten(1).all(dim=1)
    assert (same | flipped).all()
    assert same.any() and flipped.any()


def test_crop_and_flip_is_flip_of_the_crop(images: torch.Tensor) -> None:
    offsets = torch.randint(0, 9, (BATCH, 2), generator=generator(2))
    flips = torch.arange(BATCH) % 2 == 0
    out = crop_and_flip(images, 4, offsets, flips)
    cropped = crop_and_flip(images, 4, offsets, torch.zeros(BATCH, dtype=torch.bool))
    assert torch.equal(out[flips], cropped[flips].flip(3))
    assert torch.equal(out[~flips], cropped[~flips])


def test_rotation_by_zero_is_identity(float_images: torch.Tensor) -> None:
    assert torch.equal(rotate(float_images, torch.zeros(BATCH)), float_images)


def test_rotation_by_90_is_rot90(images: torch.Tensor) -> None:
    out = only(rotation_degrees=(90.0, 90.0))(images, generator(0))
    expected = torch.rot90(images, k=1, dims=(2, 3)).float() / 255  # counter-clockwise
    assert torch.equal(out, expected)
    out = rotate(images.float(), torch.full((BATCH,), -90.0))
    assert torch.equal(out, torch.rot90(images, k=-1, dims=(2, 3)).float())


def test_rotation_matches_torchvision_rotate(float_images: torch.Tensor) -> None:
    angles = torch.linspace(-15, 15, BATCH)
    out = rotate(float_images, angles)
    expected = torch.stack(
        [TF2.rotate(image, float(angle)) for image, angle in zip(float_images, angles, strict=True)]
    )
    # Both are nearest neighbour about the centre with zero fill; they may only disagree on the
    # odd pixel whose sample point lies on a rounding boundary.
    differs = (out != expected).any(dim=1).float().mean()
    assert differs < 0.001, f"{differs:.2%} of pixels differ"


def test_rotation_fills_with_zeros_in_the_corners(images: torch.Tensor) -> None:
    out = only(rotation_degrees=(45.0, 45.0))(torch.full_like(images, 255), generator(0))
    assert (out[:, :, 0, 0] == 0).all() and (out[:, :, 16, 16] == 1).all()


def test_brightness_only_scales_by_the_drawn_factors(images: torch.Tensor) -> None:
    augment = only(brightness=0.2)
    parameters = augment.draw_parameters(BATCH, generator(9))
    factors = parameters.jitter_factors[:, BRIGHTNESS]
    expected = (images.float() / 255 * factors.view(-1, 1, 1, 1)).clamp(0, 1)
    assert torch.allclose(augment.apply(images, parameters), expected, atol=1e-6)
    assert torch.equal(augment(images, generator(9)), augment.apply(images, parameters))


@pytest.mark.parametrize(
    ("batched", "reference", "low", "high", "tolerance"),
    [
        (adjust_brightness, TF.adjust_brightness, 0.0, 2.0, 1e-5),
        (adjust_contrast, TF.adjust_contrast, 0.0, 2.0, 1e-5),
        (adjust_saturation, TF.adjust_saturation, 0.0, 2.0, 1e-5),
        (adjust_hue, TF.adjust_hue, -0.5, 0.5, 1e-4),
    ],
)
def test_colour_helper_matches_torchvision_per_sample(
    float_images: torch.Tensor, batched, reference, low: float, high: float, tolerance: float
) -> None:
    factors = torch.rand(BATCH, generator=generator(4)) * (high - low) + low
    out = batched(float_images, factors)
    expected = torch.stack(
        [reference(image, float(f)) for image, f in zip(float_images, factors, strict=True)]
    )
    torch.testing.assert_close(out, expected, atol=tolerance, rtol=0)


def test_color_jitter_applies_each_samples_own_order(float_images: torch.Tensor) -> None:
    augment = BatchAugment(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.3)
    parameters = augment.draw_parameters(BATCH, generator(11))
    out = color_jitter(float_images, parameters.jitter_factors, parameters.jitter_orders)
    reference = {
        BRIGHTNESS: TF.adjust_brightness,
        CONTRAST: TF.adjust_contrast,
        SATURATION: TF.adjust_saturation,
        HUE: TF.adjust_hue,
    }
    for sample in range(BATCH):
        image = float_images[sample]
        for op in parameters.jitter_orders[sample].tolist():
            image = reference[op](image, float(parameters.jitter_factors[sample, op]))
        torch.testing.assert_close(out[sample], image, atol=1e-4, rtol=0)
    assert len({tuple(o) for o in parameters.jitter_orders.tolist()}) > 1


def test_color_jitter_leaves_its_input_alone(float_images: torch.Tensor) -> None:
    before = float_images.clone()
    parameters = BatchAugment(hue=0.5).draw_parameters(BATCH, generator(12))
    color_jitter(float_images, parameters.jitter_factors, parameters.jitter_orders)
    assert torch.equal(float_images, before)


def test_color_jitter_skips_ops_that_are_off(float_images: torch.Tensor) -> None:
    factors = torch.full((BATCH, 4), float("nan"))
    factors[:, SATURATION] = 0.5
    orders = torch.arange(4).expand(BATCH, 4)
    out = color_jitter(float_images, factors, orders)
    assert torch.equal(out, adjust_saturation(float_images, factors[:, SATURATION]))


def test_jitter_runs_before_rotation_so_the_fill_stays_black(images: torch.Tensor) -> None:
    augment = only(contrast=0.2, rotation_degrees=(45.0, 45.0))
    out = augment(torch.full_like(images, 200), generator(0))
    assert (out[:, :, 0, 0] == 0).all()


@pytest.mark.parametrize(
    "settings",
    [
        {"crop_padding": -1},
        {"flip_probability": 1.5},
        {"brightness": -0.1},
        {"hue": 0.6},
        {"rotation_degrees": -5.0},
        {"rotation_degrees": (10.0, -10.0)},
    ],
)
def test_rejects_settings_torchvision_would_refuse(settings: dict) -> None:
    with pytest.raises(ValueError):
        BatchAugment(**settings)


def test_same_choices_give_what_the_per_image_pil_recipe_gives() -> None:
    """End to end against the reference recipe run the slow way, with the same random choices.

    PIL rounds to uint8 after every op and does its own HSV maths, so pixels differ by a few
    levels; a nearest-neighbour tie or a near-grey pixel's hue can flip a rare one entirely.
    """
    images = torch.randint(0, 256, (32, 3, 32, 32), dtype=torch.uint8, generator=generator(8))
    augment = BatchAugment()
    parameters = augment.draw_parameters(32, generator(12))
    out = augment.apply(images, parameters)
    reference_ops = {
        BRIGHTNESS: TF.adjust_brightness,
        CONTRAST: TF.adjust_contrast,
        SATURATION: TF.adjust_saturation,
        HUE: TF.adjust_hue,
    }
    expected = []
    for sample in range(32):
        image = TF.pad(TF.to_pil_image(images[sample]), 4)
        row, column = parameters.offsets[sample].tolist()
        image = TF.crop(image, row, column, 32, 32)
        if parameters.flips[sample]:
            image = TF.hflip(image)
        for op in parameters.jitter_orders[sample].tolist():
            image = reference_ops[op](image, float(parameters.jitter_factors[sample, op]))
        image = TF.rotate(image, float(parameters.angles[sample]))
        expected.append(TF.to_tensor(image))
    difference = (out - torch.stack(expected)).abs()
    assert difference.mean() < 3 / 255
    assert difference.flatten().quantile(0.99) < 15 / 255
