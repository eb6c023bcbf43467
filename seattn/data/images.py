"""Untrusted image bytes -> a checked RGB image -> the model's input tensor.

Uploads can be anything: empty, not an image, cut off half-way, a tiny file that decodes to
gigabytes, a phone photo stored sideways with an EXIF rotation flag, a 16-bit scan, a CMYK print
file, an animated GIF. ``open_image`` turns every one of them into either an RGB ``PIL.Image`` the
rest of the code can trust or an ``ImageError`` whose message can be shown to the user as it is
(in the language of the code that raised it: seattn.i18n).

``to_model_view`` and ``to_model_input`` then make "what the model sees": the centre square
(``CheckedImage.model_crop`` says how much of the picture that is), resized to the 32 x 32 CIFAR-10
size and normalised with the CIFAR-10 statistics the network was
trained with. ``normalize_uint8`` is the same normalisation for tensors the trainer already holds.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import ExifTags, Image, ImageOps
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F

from seattn.data.cifar10 import CIFAR_MEAN, CIFAR_STD
from seattn.data.cifar10 import IMAGE_SIZE as MODEL_INPUT_SIZE
from seattn.i18n import N_, _

MAX_PIXELS = 40_000_000
# When the centre square keeps less than this share of a picture's area, or a side is shorter than
# MIN_USEFUL_SIDE pixels, the page says what the network was given: a strip of a panorama, or a
# few pixels blown up, predict something that has little to do with the file the user chose.
MIN_USED_SHARE = 0.5
MIN_USEFUL_SIDE = 16
SUPPORTED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
UPLOAD_TYPES = ("png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff")

# Modes that carry 16 (or more) bits per sample. Pillow's own convert("L") clips them at 255, which
# turns everything but the darkest 0.4 % of the range white; they are rescaled instead.
_HIGH_BIT_DEPTH_MODES = ("I", "I;16", "I;16L", "I;16B", "I;16N")
# EXIF orientations 2..8 are the flips and rotations ImageOps.exif_transpose undoes; 1 is upright.
_EXIF_TRANSPOSED_ORIENTATIONS = range(2, 9)
# The notes and mode names are shown on the page (translated there, when the note is made).
_HIGH_BIT_DEPTH_NOTE = N_("16-bit greyscale scaled to 8 bits")
_HIGH_BIT_DEPTH_NOTES = {"I": N_("32-bit greyscale (read as 16-bit) scaled to 8 bits")}
_MODE_NAMES = {
    "1": N_("1-bit black and white"),
    "L": N_("greyscale"),
    "LA": N_("greyscale with transparency"),
    "P": N_("palette"),
    "PA": N_("palette with transparency"),
    "CMYK": "CMYK",
    "YCbCr": "YCbCr",
    "LAB": "Lab",
    "HSV": "HSV",
    "F": N_("32-bit floating point"),
}


class ImageError(ValueError):
    """An upload that cannot be used; the message is one sentence naming the file and the problem.

    A ``ValueError`` because the input is wrong, not the program: callers show the message to the
    user and carry on with the other uploads.
    """


@dataclass(frozen=True)
class CheckedImage:
    """A decoded upload that is safe to show and to feed to the model.

    ``image`` is always RGB, upright (EXIF orientation applied) and opaque (transparency
    composited on white, the background a browser would most likely have shown). The other fields
    describe the file as it was, so the page can say what was changed and why.
    """

    name: str
    image: Image.Image
    original_size: tuple[int, int]
    original_mode: str
    format: str
    frames: int
    notes: tuple[str, ...]

    @property
    def model_crop(self) -> ModelCrop:
        """What part of ``image`` the model sees (``to_model_view`` crops this square)."""
        return ModelCrop.of(self.image.size)


@dataclass(frozen=True)
class ModelCrop:
    """The centre square ``to_model_view`` keeps of a picture, and what that leaves out."""

    original_size: tuple[int, int]  # width, height of the upright picture
    box: tuple[int, int, int, int]  # left, top, right, bottom of the centre square

    @classmethod
    def of(cls, size: tuple[int, int]) -> ModelCrop:
        return cls(original_size=size, box=centre_square(size))

    @property
    def side(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def used_share(self) -> float:
        """The share of the picture's area inside the square (1.0 for a square picture)."""
        width, height = self.original_size
        return self.side * self.side / (width * height) if width and height else 0.0

    @property
    def mostly_cut_away(self) -> bool:
        return self.used_share < MIN_USED_SHARE

    @property
    def far_too_small(self) -> bool:
        """Either side below ``MIN_USEFUL_SIDE``: the model's 32x32 view is mostly invented."""
        return min(self.original_size) < MIN_USEFUL_SIDE


def centre_square(size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The (left, top, right, bottom) box of the largest centred square in a ``size`` picture.

    Rounded as torchvision's ``center_crop`` rounds, so the box is the pixels it would keep.
    """
    width, height = size
    side = min(width, height)
    left = int(round((width - side) / 2.0))
    top = int(round((height - side) / 2.0))
    return left, top, left + side, top + side


def open_image(data: bytes, name: str) -> CheckedImage:
    """Decode untrusted image bytes into a checked RGB image, or raise ``ImageError``.

    The size is checked from the header, before any pixel is decoded, so a small file that claims
    to be enormous (a decompression bomb) costs nothing. Pillow's own bomb guard is honoured too,
    but turned into ``ImageError`` locally rather than by changing ``Image.MAX_IMAGE_PIXELS``, which
    is global state other code relies on. The first frame is then fully decoded, so a truncated or
    corrupt file fails here instead of later, half-drawn, in a figure. Truncated images are never
    accepted (``ImageFile.LOAD_TRUNCATED_IMAGES`` is left off): a grey-padded half image would give
    a confident prediction for pixels that do not exist.
    """
    if not data:
        raise ImageError(_("{name} is empty (0 bytes).").format(name=name))

    try:
        # Pillow reports "maybe a bomb" as a warning; make it an exception so it cannot slip past.
        # catch_warnings edits process-wide filters; with two threads interleaving, one may leave
        # this filter behind or lose it. Both are safe: a leftover only makes a bomb warning
        # elsewhere an error, and without it the header check below still refuses the image.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS) as opened:
                _check_pixel_count(opened.size, name)
                file_format = opened.format or "unknown"
                frames = getattr(opened, "n_frames", 1)
                opened.seek(0)  # counting frames may leave the file elsewhere
                opened.load()
                original_mode = opened.mode
                return _to_checked_rgb(opened, name, file_format, frames, original_mode)
    except ImageError:
        raise
    except Image.UnidentifiedImageError as error:
        supported = ", ".join(SUPPORTED_FORMATS)
        message = _("{name} is not an image in a supported format ({formats}).")
        raise ImageError(message.format(name=name, formats=supported)) from error
    except Image.DecompressionBombWarning as error:
        raise _too_large_for_pillow(data, name, times_limit=1) from error
    except Image.DecompressionBombError as error:
        raise _too_large_for_pillow(data, name, times_limit=2) from error
    except Exception as error:  # any decoder failure: truncated data, bad chunks, zlib errors ...
        message = _("{name} could not be decoded; the file is damaged or truncated.")
        raise ImageError(message.format(name=name)) from error


def _check_pixel_count(size: tuple[int, int], name: str) -> None:
    """Refuse images above ``MAX_PIXELS`` using only the header's size."""
    if size[0] * size[1] > MAX_PIXELS:
        raise _too_many_pixels(size, name)


def _too_many_pixels(size: tuple[int, int], name: str) -> ImageError:
    width, height = size
    message = _(
        "{name} is {megapixels:.1f} megapixels ({width}×{height}), "
        "above the {limit:.0f} megapixel limit."
    )
    return ImageError(
        message.format(
            name=name,
            megapixels=width * height / 1e6,
            width=width,
            height=height,
            limit=MAX_PIXELS / 1e6,
        )
    )


def _too_large_for_pillow(data: bytes, name: str, times_limit: int) -> ImageError:
    """The error for an image Pillow's own bomb guard stopped while reading its header.

    Pillow stops before handing back the size, so the header is read again without the guard to
    name the size the file declares. Should that fail too, the guard's own thresholds (its warning
    fires above ``Image.MAX_IMAGE_PIXELS``, its error above twice that) bound the size from below.
    """
    size = _declared_size(data)
    if size is not None:
        return _too_many_pixels(size, name)
    pillow_limit = (Image.MAX_IMAGE_PIXELS or MAX_PIXELS) * times_limit
    message = _(
        "{name} is over {megapixels:.0f} megapixels, above the {limit:.0f} megapixel limit."
    )
    return ImageError(
        message.format(name=name, megapixels=pillow_limit / 1e6, limit=MAX_PIXELS / 1e6)
    )


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """The (width, height) the header of ``data`` declares, or None when no format reads it.

    Does what ``Image.open`` does (ask each supported format's plugin whether it knows the first
    bytes, then let it parse the header) minus the bomb check, which lives in ``Image.open``
    alone. Parsing a header decodes no pixel, so a huge declared size costs nothing here.
    """
    Image.init()
    prefix = data[:16]
    for file_format in SUPPORTED_FORMATS:
        factory, accept = Image.OPEN.get(file_format, (None, None))
        if factory is None:
            continue
        known = not accept or accept(prefix)
        if not known or isinstance(known, str):  # a str is the plugin's reason to decline
            continue
        try:
            with factory(io.BytesIO(data), "") as header:
                return header.size
        except Exception:  # this plugin cannot read it; another one may
            continue
    return None


def _to_checked_rgb(
    opened: Image.Image, name: str, file_format: str, frames: int, original_mode: str
) -> CheckedImage:
    """Orient, flatten and convert a loaded first frame to RGB, noting each change."""
    notes: list[str] = []
    if frames > 1:
        notes.append(_first_frame_note(opened, file_format, frames))

    orientation = opened.getexif().get(ExifTags.Base.Orientation, 1)
    # Always returns a new image (a copy when there is nothing to do), detached from the file.
    image = ImageOps.exif_transpose(opened)
    if orientation in _EXIF_TRANSPOSED_ORIENTATIONS:
        note = _("turned upright using its EXIF orientation tag ({orientation})")
        notes.append(note.format(orientation=orientation))
    original_size = image.size

    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        if rgba.getchannel("A").getextrema()[0] < 255:
            notes.append(_("transparent areas are shown on white"))
        white = Image.new("RGBA", rgba.size, "white")
        image = Image.alpha_composite(white, rgba)
    elif image.mode in _HIGH_BIT_DEPTH_MODES:
        # 65535 / 257 = 255: the full 16-bit range maps onto 0..255; +0.5 rounds instead of
        # truncating. Values outside 0..65535 (possible in 32-bit "I") are clipped by convert("L").
        image = image.convert("I").point(lambda value: value / 257 + 0.5).convert("L")
        notes.append(_(_HIGH_BIT_DEPTH_NOTES.get(original_mode, _HIGH_BIT_DEPTH_NOTE)))

    if original_mode not in ("RGB", "RGBA") and original_mode not in _HIGH_BIT_DEPTH_MODES:
        mode = _(_MODE_NAMES[original_mode]) if original_mode in _MODE_NAMES else original_mode
        notes.append(_("converted from {mode}").format(mode=mode))
    rgb = image.convert("RGB")

    return CheckedImage(
        name=name,
        image=rgb,
        original_size=original_size,
        original_mode=original_mode,
        format=file_format,
        frames=frames,
        notes=tuple(notes),
    )


def _first_frame_note(opened: Image.Image, file_format: str, frames: int) -> str:
    # Always more than one frame: the plural is the only form English needs here.
    if file_format == "TIFF":
        return _("multi-page TIFF: the first of {frames} pages is used").format(frames=frames)
    if file_format == "MPO":
        # Phone cameras store a second picture (preview, depth map) after the main JPEG.
        note = _("multi-picture JPEG (MPO): the first of {frames} pictures is used")
        return note.format(frames=frames)
    if getattr(opened, "is_animated", False):
        note = _("animated {format}: the first of {frames} frames is used")
    else:
        note = _("multi-frame {format}: the first of {frames} frames is used")
    return note.format(format=file_format, frames=frames)


def to_model_view(image: Image.Image, size: int = MODEL_INPUT_SIZE) -> Image.Image:
    """What the model sees: the centre square of ``image``, resized to ``size`` x ``size``.

    Cropping rather than squashing keeps shapes undistorted, as in CIFAR-10's own square photos.
    The resize is skipped when the square is already the right size, so a 32 x 32 image reaches
    the model pixel for pixel. Bilinear with antialiasing, so that shrinking a photo averages its
    pixels instead of sampling a few (which aliases fine texture into noise).
    """
    if image.mode != "RGB":
        image = image.convert("RGB")
    square = image.crop(centre_square(image.size))
    if square.width == size:
        return square
    return F.resize(square, [size, size], interpolation=InterpolationMode.BILINEAR, antialias=True)


def to_model_input(images: Sequence[Image.Image]) -> torch.Tensor:
    """A normalised ``[N, 3, 32, 32]`` float32 batch of ``images`` as the model sees them."""
    if not images:
        return torch.empty(0, 3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, dtype=torch.float32)
    batch = torch.stack([F.pil_to_tensor(to_model_view(image)) for image in images])
    return normalize_uint8(batch)


def normalize_uint8(batch: torch.Tensor) -> torch.Tensor:
    """``[N, 3, H, W]`` uint8 -> float32 scaled to [0, 1] and normalised with the CIFAR-10 stats.

    The one place the normalisation lives: the trainer's cached uint8 data and uploads go through
    the same arithmetic, so the model never sees two slightly different input distributions.
    """
    if batch.dtype != torch.uint8:
        raise ValueError(f"expected a uint8 tensor, got {batch.dtype}")
    if batch.ndim != 4 or batch.shape[1] != 3:
        raise ValueError(f"expected a [N, 3, H, W] tensor, got shape {tuple(batch.shape)}")
    return normalize(F.to_dtype(batch, torch.float32, scale=True))


def normalize(batch: torch.Tensor) -> torch.Tensor:
    """``[N, 3, H, W]`` floats in [0, 1] -> normalised with the CIFAR-10 statistics, on any device.

    Training's augmented batches come here as floats; ``normalize_uint8`` brings everything else.
    """
    return F.normalize(batch, mean=list(CIFAR_MEAN), std=list(CIFAR_STD))


def denormalize(batch: torch.Tensor) -> torch.Tensor:
    """Undo ``normalize_uint8`` for display: ``[..., 3, H, W]`` back to [0, 1], clamped.

    Clamped because tensors changed after normalisation (e.g. by an attack or interpolation) can
    step outside the range an image can show.
    """
    mean = torch.tensor(CIFAR_MEAN, dtype=batch.dtype, device=batch.device).view(3, 1, 1)
    std = torch.tensor(CIFAR_STD, dtype=batch.dtype, device=batch.device).view(3, 1, 1)
    return (batch * std + mean).clamp(0.0, 1.0)
