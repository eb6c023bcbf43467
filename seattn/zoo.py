"""The bundled trained models: float16 state_dicts in seattn/zoo/, each with a metadata file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seattn.checkpoints import CheckpointError

ZOO_DIR = Path(__file__).parent / "zoo"
DEFAULT_MODEL = "se-r16"


def bundled_models() -> dict[str, Path]:
    """name -> weights file, for every bundled model (names like 'no-se', 'se-r16')."""
    return {path.stem: path for path in sorted(ZOO_DIR.glob("*.pt"))}


def metadata(name: str) -> dict[str, Any]:
    return json.loads((ZOO_DIR / f"{name}.json").read_text())


def default_model_path() -> Path:
    path = ZOO_DIR / f"{DEFAULT_MODEL}.pt"
    if not path.exists():
        raise CheckpointError(
            f"{path}: the bundled default model is missing; pass a checkpoint file instead"
        )
    return path
