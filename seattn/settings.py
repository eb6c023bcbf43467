"""Where things live and what a user gets without choosing: every environment variable, here.

SEATTN_RUNS_DIR   run folders (default ./runs)
SEATTN_DATA_DIR   torchvision downloads and the decoded-image cache (default ./data)
SEATTN_DATA       the data used when none is chosen: 'cifar10' (default) or a class-folder path;
                  also where Explore's example pictures come from
SEATTN_ZOO_DIR    the bundled models (default: the package's seattn/zoo/)
SEATTN_MAX_JOBS   training jobs that may run at once (default: one per core)

Plain Python (no torch): the CLI answers --help and the queue runs without the deep-learning stack.
"""

from __future__ import annotations

import os
from pathlib import Path

from seattn.data.cifar10 import CIFAR10

PACKAGE_ZOO_DIR = Path(__file__).parent / "zoo"


def runs_root() -> Path:
    return Path(os.environ.get("SEATTN_RUNS_DIR", "runs"))


def data_dir() -> Path:
    return Path(os.environ.get("SEATTN_DATA_DIR", "data"))


def default_data_spec() -> str:
    """The data a user gets without choosing: SEATTN_DATA when set, else CIFAR-10."""
    return os.environ.get("SEATTN_DATA", CIFAR10)


def example_data_folder() -> str | None:
    """The dataset folder named by SEATTN_DATA, or None when it is not set."""
    return os.environ.get("SEATTN_DATA") or None


def zoo_dir() -> Path:
    return Path(os.environ.get("SEATTN_ZOO_DIR", PACKAGE_ZOO_DIR))


def max_jobs() -> int:
    """Jobs that may train at once: SEATTN_MAX_JOBS, else one per core (each job uses 1 thread)."""
    value = os.environ.get("SEATTN_MAX_JOBS", "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            pass
    return max(1, os.cpu_count() or 1)
