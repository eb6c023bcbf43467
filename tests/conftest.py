"""Shared fixtures: small generated image folders, so the core tests need no downloaded data, and
a runs root whose background jobs are stopped on the way out."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

# Busy-waiting OpenMP threads collapse when the cores are shared (a dashboard, a training job,
# other tests); passive waiting keeps small ops fast. Must be set before torch starts its pool.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest
import torch
from PIL import Image

from seattn import jobs
from seattn.runs import Run, list_runs
from seattn.settings import runs_root
from seattn.train import TrainConfig

REAL_DATA_ENV = "SEATTN_DATA"
CLASSES = ("circle", "square", "stripes")


def make_class_image(class_index: int, rng: np.random.Generator, size: int = 32) -> Image.Image:
    """A noisy picture whose class is visible: a bright disc, a bright square, or stripes."""
    base = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
    yy, xx = np.mgrid[:size, :size]
    centre = size / 2 + rng.uniform(-3, 3, 2)
    if class_index == 0:
        mask = (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 < (size / 4) ** 2
    elif class_index == 1:
        mask = (abs(yy - centre[0]) < size / 4) & (abs(xx - centre[1]) < size / 4)
    else:
        mask = (xx // 4) % 2 == 0
    colour = np.array([200, 80 + 40 * class_index, 60], dtype=np.uint8)
    base[mask] = colour
    return Image.fromarray(base)


def tiny_config(folder: Path, ratio: int | None, seed: int = 0) -> TrainConfig:
    """One epoch of batch 16 over a small class folder: seconds to train, enough to export."""
    return TrainConfig(
        data=str(folder),
        reduction_ratio=ratio,
        epochs=1,
        batch_size=16,
        val_fraction=0.25,
        seed=seed,
    )


def write_image_folder(root: Path, per_class: int, *, seed: int = 0, size: int = 32) -> Path:
    rng = np.random.default_rng(seed)
    for class_index, name in enumerate(CLASSES):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            make_class_image(class_index, rng, size).save(folder / f"{i:04d}.png")
    return root


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 classes x 40 generated 32x32 PNGs in ImageFolder layout."""
    return write_image_folder(tmp_path_factory.mktemp("images"), per_class=40)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own runs and data folders; nothing is written into the source tree."""
    monkeypatch.setenv("SEATTN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("SEATTN_DATA_DIR", str(tmp_path / "data"))
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real CIFAR-10 image folder named by SEATTN_DATA, or a skip saying why."""
    value = os.environ.get(REAL_DATA_ENV)
    if not value or not Path(value).is_dir():
        pytest.skip(f"{REAL_DATA_ENV} does not name a folder of CIFAR-10 class sub-folders")
    return Path(value)


# -- background jobs --------------------------------------------------------------------------


def launched_by(run: Run) -> list[int]:
    """Pids of launcher processes whose command line names this run folder."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"seattn.jobs" in argv and str(run.path).encode() in argv:
            pids.append(int(entry.name))
    return pids


def stop_our_jobs(root: Path) -> None:
    """Stop every job of this root; kill, by process group, launchers that ignore the stop."""
    jobs.request_stop_all(root)
    if jobs.wait_until_idle(root, timeout=30):
        return
    for run in list_runs(root):
        for pid in launched_by(run):  # only processes started for this test's own folders
            os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def root() -> Iterator[Path]:
    """This test's runs root (see isolated_dirs); its jobs are stopped on the way out."""
    root = runs_root().resolve()
    yield root
    stop_our_jobs(root)
