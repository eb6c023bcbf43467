"""Where things live, from environment variables with defaults relative to the working folder.

SEATTN_RUNS_DIR   run folders (default ./runs)
SEATTN_DATA_DIR   torchvision downloads and the decoded-image cache (default ./data)
SEATTN_DATA       the data used when none is chosen: 'cifar10' (default) or a class-folder path
"""

from __future__ import annotations

import os
from pathlib import Path


def runs_root() -> Path:
    return Path(os.environ.get("SEATTN_RUNS_DIR", "runs"))


CIFAR10 = "cifar10"


def default_data_spec() -> str:
    """The data a user gets without choosing: SEATTN_DATA when set, else CIFAR-10."""
    return os.environ.get("SEATTN_DATA", CIFAR10)
