"""The bundled trained models: float16 state_dicts in seattn/zoo/, each with a metadata file.

    seattn/zoo/<name>.pt     a seattn checkpoint (see seattn.model.checkpoints) whose model_state is
                             float16 and which carries no optimizer state: small, loads offline
    seattn/zoo/<name>.json   how it was made and how well it does: recipe, epochs, seed, data and
                             split, validation accuracy and loss, per-class accuracy, training
                             time, hardware, software versions and the metrics history

Names: "no-se", "se-r2", "se-r4", "se-r8", "se-r16", "se-r32", "eca", "cbam-r16" by default;
``--name`` ships a second model of one variant under its own name. Runs of the same variant and
recipe with other seeds can ride along as metrics only (``--seed-run``): the Compare page
averages them.
SEATTN_ZOO_DIR points elsewhere (tests use it so they never depend on the shipped files).

This package reads them; ``python -m seattn.zoo`` (seattn.zoo.export) writes them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seattn.model.attention import AttentionKind, resolve
from seattn.model.checkpoints import CheckpointError
from seattn.settings import zoo_dir

DEFAULT_MODEL = "se-r16"


def model_name(reduction_ratio: int | None, attention: AttentionKind | str | None = None) -> str:
    """A bundled model's default name: "no-se", "se-r16", "eca", "cbam-r16"."""
    kind, ratio = resolve(attention, reduction_ratio)
    if kind is AttentionKind.NONE:
        return "no-se"
    return str(kind) if ratio is None else f"{kind}-r{ratio}"


def bundled_models(folder: Path | None = None) -> dict[str, Path]:
    """name -> weights file, for every bundled model."""
    folder = folder or zoo_dir()
    return {path.stem: path for path in sorted(folder.glob("*.pt"))}


def metadata(name: str, folder: Path | None = None) -> dict[str, Any]:
    return json.loads(((folder or zoo_dir()) / f"{name}.json").read_text())


def default_model_path() -> Path:
    path = zoo_dir() / f"{DEFAULT_MODEL}.pt"
    if not path.exists():
        raise CheckpointError(
            f"{path}: the bundled default model is missing; pass a checkpoint file instead"
        )
    return path
