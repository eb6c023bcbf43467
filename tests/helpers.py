"""What the tests share besides fixtures: generated image folders, tiny training specs, and a way
to find and stop the background jobs a test started."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
from PIL import Image

from seattn.atomic import write_json_atomic
from seattn.training import queue
from seattn.training.runfiles import JOB_FILE, STATUS_FILE, Run, list_runs
from seattn.training.spec import TrainSpec

REAL_DATA_ENV = "SEATTN_DATA"
CLASSES = ("circle", "square", "stripes")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEST_OUTPUT = PROJECT_ROOT / "test-output"  # screenshots the browser tests leave behind
# A Streamlit page in the browser whose script has finished its run.
STREAMLIT_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


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


def tiny_spec(folder: Path, ratio: int | None, seed: int = 0) -> TrainSpec:
    """One epoch of batch 16 over a small class folder: seconds to train, enough to export."""
    return TrainSpec(
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
        if b"seattn.training.launcher" in argv and str(run.path).encode() in argv:
            pids.append(int(entry.name))
    return pids


def stop_our_jobs(root: Path) -> None:
    """Stop every job of this root; kill, by process group, launchers that ignore the stop."""
    queue.request_stop_all(root)
    if queue.wait_until_idle(root, timeout=30):
        return
    for run in list_runs(root):
        for pid in launched_by(run):  # only processes started for this test's own folders
            os.killpg(pid, signal.SIGKILL)


def write_trainer_status(run: Run, status: dict) -> None:
    """Write status.json as the trainer would have left it (tests that fake a run's state)."""
    write_json_atomic(run.path / STATUS_FILE, status)


def write_queue_job(run: Run, job: dict) -> None:
    """Write job.json as the queue would have left it, "updated" now unless given."""
    write_json_atomic(run.path / JOB_FILE, {"updated": time.time(), **job})


def chart_keys(app) -> list[str]:
    """The keys of the plotly charts an AppTest run drew, in page order."""
    return [chart.key for chart in app.get("plotly_chart")]


def button(app, label: str):
    """The one button (or form submit button) with this label in an AppTest run."""
    matches = [b for b in app.button if b.label == label]
    assert len(matches) == 1, f"{len(matches)} buttons labelled {label!r}"
    return matches[0]


def write_checkpoint(
    path: Path,
    ratio: int | None,
    *,
    classes: tuple[str, ...] | list[str] = CLASSES,
    data: Path | str | None = None,
    seed: int = 0,
    attention: str | None = None,
) -> Path:
    """An untrained (seeded) model saved as a seattn checkpoint: instant, and enough for code
    that only needs a real network, not a good one. ``attention`` None: written as configs were
    before ECA and CBAM (the ratio alone says SE or none)."""
    import torch

    from seattn.model.checkpoints import save_checkpoint
    from seattn.model.cnn import SECNN

    torch.manual_seed(seed)
    model = SECNN(reduction_ratio=ratio, num_classes=len(classes), attention=attention).eval()
    config = {
        **({"attention": attention} if attention is not None else {}),
        "reduction_ratio": model.reduction_ratio,
        "classes": list(classes),
        "data": str(data) if data is not None else None,
        "val_fraction": 0.25,
        "split_seed": 0,
    }
    save_checkpoint(Path(path), {"config": config, "epoch": 0, "model_state": model.state_dict()})
    return Path(path)
