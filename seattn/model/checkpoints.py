"""Checkpoint files: tensors and plain types only, loaded with ``torch.load(weights_only=True)``.

A checkpoint is a dict::

    format            "seattn.checkpoint"
    format_version    1
    config            the run's config (plain JSON types); its ``reduction_ratio`` and
                      ``classes`` rebuild the network
    epoch             the last complete epoch
    model_state       the SECNN state_dict
    optimizer_state   the optimiser's state_dict  (absent in bundled models)
    scheduler_state   ReduceLROnPlateau's, or {}  (absent in bundled models)
    history           metrics rows so far          (so a resume can rewrite metrics.csv exactly)
    excitation        excitation history so far

Nothing in a file is executed: weights_only refuses every pickled object that is not a tensor or a
plain container, and every refusal is one CheckpointError naming the file and the reason.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from seattn.atomic import atomic_path
from seattn.i18n import _
from seattn.model.attention import config_attention, variant_text
from seattn.model.cnn import SECNN
from seattn.model.ratios import ratio_label

FORMAT = "seattn.checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a usable seattn checkpoint; the message names the file and why."""


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **payload}
    with atomic_path(Path(path)) as tmp:
        torch.save(payload, tmp)


def read_checkpoint(path: Path | str) -> dict[str, Any]:
    """The checkpoint's dict, refusing anything that is not one of ours."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(_("{path}: no such file").format(path=path))
    if path.is_dir():
        raise CheckpointError(_("{path}: is a folder, not a checkpoint file").format(path=path))
    if path.stat().st_size == 0:
        raise CheckpointError(_("{path}: the file is empty").format(path=path))
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for damaged files: diagnose the bytes
        reason = _why_unreadable(path, error)
        raise CheckpointError(_("{path}: {reason}").format(path=path, reason=reason)) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        message = _("{path}: not a seattn checkpoint (no '{marker}' marker)")
        raise CheckpointError(message.format(path=path, marker=FORMAT))
    if payload.get("format_version") != FORMAT_VERSION:
        message = _("{path}: checkpoint format version {version} is not supported")
        version = repr(payload.get("format_version"))
        raise CheckpointError(message.format(path=path, version=version))
    for key in ("config", "model_state"):
        if key not in payload:
            message = _("{path}: the checkpoint has no '{key}'")
            raise CheckpointError(message.format(path=path, key=key))
    return payload


ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive
PICKLE_PROTOCOL_2 = b"\x80\x02"  # torch's legacy format starts with a pickle of protocol 2


def _why_unreadable(path: Path, error: Exception) -> str:
    """What a file that torch.load(weights_only=True) refused is, from its own bytes: true and in
    a user's terms, never torch's internal message (in the language of the code running)."""
    # Only a refused GLOBAL (a class or function to import) means "objects we will not build";
    # weights_only also fails on bytes that are no pickle at all ("Unsupported operand").
    found = re.search(r"unsupported global:? (?:GLOBAL )?(\S+)", str(error), re.IGNORECASE)
    if isinstance(error, pickle.UnpicklingError) and found:
        return _(
            "refused: it holds Python objects other than tensors and plain data "
            "({name}); nothing in it was run"
        ).format(name=found.group(1))
    head = path.read_bytes()[:4096]
    if head.startswith(ZIP_MAGIC):
        if not zipfile.is_zipfile(path):
            return _("the file is cut short (a checkpoint not completely written or downloaded)")
        with zipfile.ZipFile(path) as archive:
            if not any(name.endswith("data.pkl") for name in archive.namelist()):
                return _("a zip archive, but not a PyTorch checkpoint")
        return _("a PyTorch archive that is damaged inside (its parts do not read back)")
    if head.startswith(PICKLE_PROTOCOL_2):
        return _("not a PyTorch checkpoint, or one cut short (its data ends early or is damaged)")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return _("not a PyTorch checkpoint (its bytes are not a format PyTorch writes)")
    if all(ch.isprintable() or ch.isspace() for ch in text):
        return _("a text file, not a PyTorch checkpoint")
    return _("not a PyTorch checkpoint (its bytes are not a format PyTorch writes)")


_UNSET: Any = object()


def model_from_checkpoint(
    payload: dict[str, Any], path: Path | str, expected_ratio: int | None = _UNSET
) -> SECNN:
    """Build the network a checkpoint describes and load its weights, or refuse clearly."""
    config = payload["config"]
    try:
        attention, ratio = config_attention(config)
        classes = list(config["classes"])
    except (KeyError, TypeError, ValueError) as error:
        message = _("{path}: its config does not describe a model ({error})")
        raise CheckpointError(message.format(path=path, error=error)) from None
    if expected_ratio is not _UNSET and ratio != expected_ratio:
        raise CheckpointError(
            f"{path}: it holds a {ratio_label(ratio)} model, but {ratio_label(expected_ratio)} "
            "was asked for"
        )
    model = SECNN(reduction_ratio=ratio, num_classes=len(classes), attention=attention)
    state = {
        k: v.float() if v.is_floating_point() else v for k, v in payload["model_state"].items()
    }
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        detail = " ".join(str(error).split())[:240]
        message = _("{path}: its weights do not fit the {variant} architecture ({detail})")
        raise CheckpointError(
            message.format(path=path, variant=variant_text(attention, ratio), detail=detail)
        ) from None
    return model.eval()


def load_model(path: Path | str, expected_ratio: int | None = _UNSET) -> tuple[SECNN, dict]:
    """(model in eval mode, checkpoint config) for a checkpoint or bundled model file."""
    payload = read_checkpoint(path)
    model = model_from_checkpoint(payload, path, expected_ratio)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model, payload["config"]
