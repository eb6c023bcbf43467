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
from pathlib import Path
from typing import Any

import torch

from seattn.atomic import atomic_path
from seattn.model.cnn import SECNN
from seattn.model.ratios import parse_ratio, ratio_label

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
        raise CheckpointError(f"{path}: no such file")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: the file is empty")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "invalid load key" in str(error) or "Weights only load failed" not in str(error):
            raise CheckpointError(
                f"{path}: not a readable checkpoint (not a PyTorch file, or truncated)"
            ) from None
        # weights_only refused a pickled object: code we will not run.
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        what = f"({found.group(1)})" if found else "(not tensors or plain types)"
        raise CheckpointError(
            f"{path}: refused, it holds pickled Python objects that are not plain data {what}; "
            "nothing in it was run"
        ) from None
    except Exception as error:  # torch raises many types for damaged files; all mean the same
        raise CheckpointError(
            f"{path}: not a readable checkpoint (truncated or not a PyTorch file: "
            f"{str(error).splitlines()[0][:160] if str(error) else type(error).__name__})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a seattn checkpoint (no '{FORMAT}' marker)")
    if payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {payload.get('format_version')!r} is not supported"
        )
    for key in ("config", "model_state"):
        if key not in payload:
            raise CheckpointError(f"{path}: the checkpoint has no '{key}'")
    return payload


_UNSET: Any = object()


def model_from_checkpoint(
    payload: dict[str, Any], path: Path | str, expected_ratio: int | None = _UNSET
) -> SECNN:
    """Build the network a checkpoint describes and load its weights, or refuse clearly."""
    config = payload["config"]
    try:
        ratio = parse_ratio(config.get("reduction_ratio"))
        classes = list(config["classes"])
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: its config does not describe a model ({error})") from None
    if expected_ratio is not _UNSET and ratio != expected_ratio:
        raise CheckpointError(
            f"{path}: it holds a {ratio_label(ratio)} model, but {ratio_label(expected_ratio)} "
            "was asked for"
        )
    model = SECNN(reduction_ratio=ratio, num_classes=len(classes))
    state = {
        k: v.float() if v.is_floating_point() else v for k, v in payload["model_state"].items()
    }
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        detail = " ".join(str(error).split())[:240]
        raise CheckpointError(
            f"{path}: its weights do not fit the {ratio_label(ratio)} architecture ({detail})"
        ) from None
    return model.eval()


def load_model(path: Path | str, expected_ratio: int | None = _UNSET) -> tuple[SECNN, dict]:
    """(model in eval mode, checkpoint config) for a checkpoint or bundled model file."""
    payload = read_checkpoint(path)
    model = model_from_checkpoint(payload, path, expected_ratio)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model, payload["config"]
