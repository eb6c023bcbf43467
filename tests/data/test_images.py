"""Tests for seattn.data.images: every image is made here with PIL, in memory."""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib

import pytest
import torch
from PIL import ExifTags, Image
from torchvision.transforms.v2 import functional as F

from seattn.data.cifar10 import CIFAR_MEAN, CIFAR_STD
from seattn.data.images import (
    MAX_PIXELS,
    MIN_USEFUL_SIDE,
    SUPPORTED_FORMATS,
    CheckedImage,
    ImageError,
    centre_square,
    denormalize,
    normalize,
    normalize_uint8,
    open_image,
    to_model_input,
    to_model_view,
)

RED = (220, 30, 30)
WHITE = (255, 255, 255)


def encode(image: Image.Image, file_format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, file_format, **params)
    return buffer.getvalue()


def noise_image(size: tuple[int, int] = (64, 64), seed: int = 0) -> Image.Image:
    """Random pixels: they do not compress, so cutting the file in half cuts the pixel data."""
    width, height = size
    return Image.frombytes("RGB", size, random.Random(seed).randbytes(width * height * 3))


def with_png_size(png: bytes, width: int, height: int) -> bytes:
    """A PNG whose header claims another size (CRC fixed), as a decompression bomb would."""
    assert png[12:16] == b"IHDR"
    header = png[12:16] + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + header + struct.pack(">I", zlib.crc32(header)) + png[33:]


def assert_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> None:
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (
        actual,
        expected,
    )


# --- formats -------------------------------------------------------------------------------------

# Lossless formats must give the colour back exactly; JPEG and lossy WebP only nearly.
FORMAT_CASES = [
    ("PNG", {}, 0),
    ("JPEG", {"quality": 95}, 6),
    ("WEBP", {"quality": 90}, 12),
    ("BMP", {}, 0),
    ("GIF", {}, 0),
    ("TIFF", {}, 0),
]


@pytest.mark.parametrize(("file_format", "params", "tolerance"), FORMAT_CASES)
def test_supported_formats_load_as_rgb(file_format: str, params: dict, tolerance: int) -> None:
    data = encode(Image.new("RGB", (12, 8), RED), file_format, **params)

    checked = open_image(data, f"photo.{file_format.lower()}")

    assert isinstance(checked, CheckedImage)
    assert checked.name == f"photo.{file_format.lower()}"
    assert checked.format == file_format
    assert checked.image.mode == "RGB"
    assert checked.image.size == checked.original_size == (12, 8)
    assert checked.frames == 1
    assert_close(checked.image.getpixel((6, 4)), RED, tolerance)


def test_format_cases_cover_every_supported_format() -> None:
    assert {case[0] for case in FORMAT_CASES} == set(SUPPORTED_FORMATS)


def test_plain_rgb_png_has_no_notes() -> None:
    checked = open_image(encode(Image.new("RGB", (4, 4), RED), "PNG"), "plain.png")
    assert checked.notes == ()
    assert checked.original_mode == "RGB"


# --- orientation, transparency, modes -----------------------------------------------------------


def test_exif_orientation_turns_the_image_upright() -> None:
    # Stored 40 wide x 20 tall, left half red, right half blue; orientation 6 means "rotate 90
    # degrees clockwise to display", which brings the left half to the top.
    stored = Image.new("RGB", (40, 20), (0, 0, 255))
    stored.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(stored, "JPEG", quality=95, exif=exif.tobytes())

    checked = open_image(data, "sideways.jpg")

    assert checked.image.size == checked.original_size == (20, 40)
    assert_close(checked.image.getpixel((10, 5)), RED, 12)
    assert_close(checked.image.getpixel((10, 35)), (0, 0, 255), 12)
    assert any("EXIF orientation" in note for note in checked.notes)


def test_transparency_is_composited_on_white() -> None:
    image = Image.new("RGBA", (20, 10), (0, 0, 0, 0))  # transparent black everywhere ...
    image.paste((*RED, 255), (10, 0, 20, 10))  # ... except an opaque red right half
    image.putpixel((0, 0), (0, 0, 255, 128))  # and one half-transparent blue pixel

    checked = open_image(encode(image, "PNG"), "logo.png")

    assert checked.original_mode == "RGBA"
    assert checked.image.mode == "RGB"
    assert checked.image.getpixel((5, 5)) == WHITE
    assert checked.image.getpixel((15, 5)) == RED
    assert_close(checked.image.getpixel((0, 0)), (127, 127, 255), 1)
    assert any("white" in note for note in checked.notes)


def test_opaque_rgba_gets_no_transparency_note() -> None:
    checked = open_image(encode(Image.new("RGBA", (4, 4), (*RED, 255)), "PNG"), "opaque.png")
    assert checked.image.getpixel((1, 1)) == RED
    assert not any("white" in note for note in checked.notes)


def test_palette_with_transparency() -> None:
    image = Image.new("P", (10, 10), 0)
    image.putpalette([0, 0, 0, *RED])  # index 0 black (made transparent), index 1 red
    image.paste(1, (5, 0, 10, 10))

    checked = open_image(encode(image, "PNG", transparency=0), "sprite.png")

    assert checked.original_mode == "P"
    assert checked.image.getpixel((2, 5)) == WHITE
    assert checked.image.getpixel((7, 5)) == RED


def test_greyscale_becomes_grey_rgb() -> None:
    checked = open_image(encode(Image.new("L", (6, 6), 100), "PNG"), "grey.png")

    assert checked.original_mode == "L"
    assert checked.image.getpixel((3, 3)) == (100, 100, 100)
    assert any("greyscale" in note for note in checked.notes)


def test_cmyk_jpeg_becomes_rgb() -> None:
    cyan_free_red = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # no cyan, full magenta+yellow

    checked = open_image(encode(cyan_free_red, "JPEG", quality=95), "print.jpg")

    assert checked.original_mode == "CMYK"
    assert checked.image.mode == "RGB"
    assert_close(checked.image.getpixel((4, 4)), (255, 0, 0), 6)
    assert any("CMYK" in note for note in checked.notes)


def test_16_bit_png_keeps_relative_brightness() -> None:
    image = Image.new("I;16", (3, 1))
    for x, value in enumerate((0, 32768, 65535)):
        image.putpixel((x, 0), value)

    checked = open_image(encode(image, "PNG"), "scan.png")

    assert checked.original_mode == "I;16"
    # Pillow's own convert would clip every value above 255 to white; scaled, 50 % stays 50 %.
    assert [checked.image.getpixel((x, 0)) for x in range(3)] == [
        (0, 0, 0),
        (128, 128, 128),
        (255, 255, 255),
    ]
    assert any("8 bits" in note for note in checked.notes)


def test_animated_gif_uses_the_first_frame() -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in (RED, (0, 200, 0), (0, 0, 200))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)

    checked = open_image(data, "blink.gif")

    assert checked.frames == 3
    assert checked.image.getpixel((4, 4)) == RED
    assert any("first" in note and "3" in note for note in checked.notes)


def test_multi_page_tiff_uses_the_first_page() -> None:
    pages = [Image.new("RGB", (8, 8), RED), Image.new("RGB", (8, 8), (0, 0, 200))]
    data = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])

    checked = open_image(data, "scan.tiff")

    assert checked.frames == 2
    assert checked.image.getpixel((4, 4)) == RED
    assert any("first of 2 pages" in note for note in checked.notes)


def test_multi_picture_jpeg_from_a_camera_is_accepted() -> None:
    # Pillow opens a JPEG that carries a second picture as "MPO" through its JPEG reader.
    pictures = [Image.new("RGB", (8, 8), RED), Image.new("RGB", (8, 8), (0, 0, 200))]
    data = encode(pictures[0], "MPO", save_all=True, append_images=pictures[1:], quality=95)

    checked = open_image(data, "camera.jpg")

    assert checked.format == "MPO"
    assert checked.frames == 2
    assert_close(checked.image.getpixel((4, 4)), RED, 6)


# --- refusals ------------------------------------------------------------------------------------


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(ImageError, match=r"^x\.png is empty \(0 bytes\)\.$"):
        open_image(b"", "x.png")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("noise.png", random.Random(1).randbytes(2000)),
        ("notes.txt", b"this is a shopping list, not a picture\n"),
        ("old.ppm", encode(Image.new("RGB", (4, 4), RED), "PPM")),
    ],
)
def test_non_images_and_unsupported_formats_are_refused(name: str, data: bytes) -> None:
    with pytest.raises(ImageError, match="not an image in a supported format") as raised:
        open_image(data, name)
    assert name in str(raised.value)


@pytest.mark.parametrize(("file_format", "name"), [("PNG", "cut.png"), ("JPEG", "cut.jpg")])
def test_truncated_files_are_refused(file_format: str, name: str) -> None:
    data = encode(noise_image(), file_format)
    with pytest.raises(ImageError, match="damaged or truncated") as raised:
        open_image(data[: len(data) // 2], name)
    assert name in str(raised.value)


def test_image_over_40_megapixels_is_refused_before_decoding() -> None:
    # A real decompression bomb: 8000 x 6000 one-bit pixels compress to a few kilobytes.
    data = encode(Image.new("1", (8000, 6000)), "PNG")
    assert len(data) < 100_000

    with pytest.raises(ImageError) as raised:
        open_image(data, "bomb.png")

    message = str(raised.value)
    assert "bomb.png" in message
    assert "48.0 megapixels" in message
    assert f"{MAX_PIXELS / 1e6:.0f} megapixel limit" in message


@pytest.mark.parametrize(
    ("width", "height"),
    [(10_000, 10_000), (20_000, 20_000)],  # Pillow's bomb warning, then its bomb error
)
def test_pillow_bomb_guard_becomes_image_error(width: int, height: int) -> None:
    data = with_png_size(encode(Image.new("1", (8, 8)), "PNG"), width, height)
    limit_before = Image.MAX_IMAGE_PIXELS

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning may escape
        with pytest.raises(ImageError, match="megapixel limit") as raised:
            open_image(data, "huge.png")

    assert "huge.png" in str(raised.value)
    assert limit_before == Image.MAX_IMAGE_PIXELS


def test_a_bomb_message_names_the_size_the_header_declares() -> None:
    # 900 megapixels declared by a 77-byte file: Pillow's own guard stops it before we see the
    # size, and the message must still say how large the file claims to be.
    data = with_png_size(encode(Image.new("1", (8, 8)), "PNG"), 30_000, 30_000)
    assert len(data) < 200

    with pytest.raises(ImageError) as raised:
        open_image(data, "huge.png")

    message = str(raised.value)
    assert "huge.png" in message
    assert "30000×30000" in message and "900.0 megapixels" in message
    assert "179" not in message  # Pillow's threshold says nothing about this file


def test_pillow_limit_is_unchanged_after_opening_images() -> None:
    limit_before = Image.MAX_IMAGE_PIXELS
    open_image(encode(Image.new("RGB", (4, 4)), "PNG"), "small.png")
    with pytest.raises(ImageError):
        open_image(encode(Image.new("1", (8000, 6000)), "PNG"), "bomb.png")
    assert limit_before == Image.MAX_IMAGE_PIXELS


# --- what the model sees -------------------------------------------------------------------------


def test_model_view_crops_the_centre_square_and_resizes() -> None:
    image = Image.new("RGB", (64, 48), (0, 0, 255))  # blue bands, 8 px each side ...
    image.paste(RED, (8, 0, 56, 48))  # ... around a 48 x 48 red centre

    view = to_model_view(image)

    assert view.mode == "RGB"
    assert view.size == (32, 32)
    assert view.getcolors() == [(32 * 32, RED)]


@pytest.mark.parametrize("size", [(5000, 100), (64, 48), (33, 20), (20, 33), (7, 4)])
def test_the_model_crop_is_the_square_the_model_view_keeps(size: tuple[int, int]) -> None:
    image = noise_image(size, seed=sum(size))
    side = min(size)
    box = centre_square(size)
    assert box[2] - box[0] == box[3] - box[1] == side
    # The same pixels as torchvision's centre crop, which the model view once used directly.
    assert image.crop(box).tobytes() == F.center_crop(image, [side, side]).tobytes()
    checked = open_image(encode(image, "PNG"), "picture.png")
    assert checked.model_crop.box == box
    assert checked.model_crop.used_share == pytest.approx(side * side / (size[0] * size[1]))


def test_a_panorama_is_mostly_cut_away_and_a_square_photo_is_not() -> None:
    strip = open_image(encode(noise_image((5000, 100)), "PNG"), "strip.png").model_crop
    assert strip.original_size == (5000, 100) and strip.side == 100
    assert strip.used_share == pytest.approx(0.02)
    assert strip.mostly_cut_away and not strip.far_too_small

    photo = open_image(encode(noise_image((640, 480)), "PNG"), "photo.png").model_crop
    assert photo.used_share == pytest.approx(0.75)
    assert not photo.mostly_cut_away and not photo.far_too_small


def test_a_picture_far_smaller_than_32_pixels_is_marked() -> None:
    dot = open_image(encode(Image.new("RGB", (1, 1), RED), "PNG"), "dot.png")
    assert dot.model_crop.far_too_small and not dot.model_crop.mostly_cut_away
    assert to_model_view(dot.image).getcolors() == [(32 * 32, RED)]  # one pixel, blown up
    # Either side below the threshold is enough; at the threshold it is not.
    for size, small in (((40, MIN_USEFUL_SIDE - 1), True), ((MIN_USEFUL_SIDE, 20), False)):
        checked = open_image(encode(noise_image(size), "PNG"), "small.png")
        assert checked.model_crop.far_too_small is small


def test_model_view_keeps_a_32_pixel_square_pixel_for_pixel() -> None:
    image = noise_image((32, 32))
    assert to_model_view(image).tobytes() == image.tobytes()


def test_model_input_shape_dtype_and_values() -> None:
    batch = to_model_input([Image.new("RGB", (64, 48), WHITE), noise_image((10, 20))])

    assert batch.shape == (2, 3, 32, 32)
    assert batch.dtype == torch.float32
    expected_white = torch.tensor([(1 - m) / s for m, s in zip(CIFAR_MEAN, CIFAR_STD, strict=True)])
    torch.testing.assert_close(batch[0, :, 0, 0], expected_white)


def test_model_input_of_no_images_is_an_empty_batch() -> None:
    assert to_model_input([]).shape == (0, 3, 32, 32)


def test_normalize_uint8_agrees_with_model_input() -> None:
    image = noise_image((32, 32), seed=3)
    from_images = to_model_input([image])
    from_tensor = normalize_uint8(F.pil_to_tensor(image).unsqueeze(0))
    assert torch.equal(from_images, from_tensor)


def test_normalize_uint8_refuses_other_dtypes() -> None:
    with pytest.raises(ValueError, match="uint8"):
        normalize_uint8(torch.zeros(1, 3, 4, 4))


def test_denormalize_inverts_normalize() -> None:
    generator = torch.Generator().manual_seed(0)
    batch = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8, generator=generator)

    restored = denormalize(normalize_uint8(batch))

    torch.testing.assert_close(restored, batch.float() / 255, atol=1e-6, rtol=0)
    assert restored.min() >= 0 and restored.max() <= 1


def test_normalize_of_floats_matches_normalize_uint8_and_uses_the_cifar_statistics() -> None:
    generator = torch.Generator().manual_seed(1)
    batch = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8, generator=generator)
    floats = batch.float() / 255
    torch.testing.assert_close(normalize(floats), normalize_uint8(batch))
    mean = torch.tensor(CIFAR_MEAN).view(3, 1, 1)
    std = torch.tensor(CIFAR_STD).view(3, 1, 1)
    torch.testing.assert_close(normalize(floats), (floats - mean) / std)
