"""Training speed: the reference per-image pipeline against `python -m seattn train`, same run.

Both train the r=16 model with the same recipe on the same seeded 90/10 split for the same number
of epochs, each in its own process, one after the other; this prints, for each, images/s over
whole epochs (data loading, augmentation, validation included), wall time including start-up,
peak resident memory (from the kernel's accounting of that process), and validation accuracy.

    python -m bench.train_throughput --data FOLDER [--epochs 2] [--limit N] [--threads 2] [--seed 0]

FOLDER defaults to SEATTN_DATA. Run it on an otherwise idle machine: absolute figures move with
load, the ratio much less.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run_measured(command: list[str]) -> tuple[str, float, float]:
    """(stdout, wall seconds, peak RSS in MiB) of one child process."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, env=env, cwd=PROJECT_ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        stdout = out.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return stdout, wall, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("SEATTN_DATA"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    # After a few epochs, validation accuracy moves by points from one seed to the next: compare
    # accuracy over several seeds before reading anything into a gap.
    parser.add_argument("--seed", type=int, default=0, help="training seed of both pipelines")
    args = parser.parse_args()
    if not args.data:
        raise SystemExit("give --data FOLDER (or set SEATTN_DATA)")
    common = ["--epochs", str(args.epochs), "--threads", str(args.threads)]
    common += ["--seed", str(args.seed)]
    if args.limit:
        common += ["--limit", str(args.limit)]

    print(
        f"data {args.data}, {args.epochs} epochs, {args.threads} threads, seed {args.seed}",
        flush=True,
    )
    stdout, base_wall, base_rss = run_measured(
        [sys.executable, "-m", "bench.reference_pipeline", "--data", args.data, *common]
    )
    baseline = pd.DataFrame(json.loads(stdout)["epochs"])

    with tempfile.TemporaryDirectory() as tmp:
        # On the CPU like the reference, also on a machine with a GPU: these are CPU figures.
        _, fast_wall, fast_rss = run_measured(
            [sys.executable, "-m", "seattn", "train", "--data", args.data, "--ratio", "16",
             "--device", "cpu", "--run-dir", f"{tmp}/run", "--quiet", *common]
        )  # fmt: skip
        fast = pd.read_csv(f"{tmp}/run/metrics.csv")
        config = json.loads(Path(f"{tmp}/run/config.json").read_text())

    def summary(name: str, frame: pd.DataFrame, wall: float, rss: float) -> dict:
        return {
            "pipeline": name,
            "images/s (whole epochs)": frame["images_per_second"].mean(),
            "epoch s": frame["epoch_seconds"].mean(),
            "wall s (with start-up)": wall,
            "peak RSS MiB": rss,
            "val accuracy": frame["val_accuracy"].iloc[-1],
        }

    table = pd.DataFrame(
        [
            summary("reference (PIL per image, batch 64, fp32)", baseline, base_wall, base_rss),
            summary(
                f"seattn train (batch {config['batch_size']}, bf16={config['bf16']}, "
                f"channels_last={config['channels_last']})",
                fast,
                fast_wall,
                fast_rss,
            ),
        ]
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    ratio = table["images/s (whole epochs)"].iloc[1] / table["images/s (whole epochs)"].iloc[0]
    gap = 100 * (table["val accuracy"].iloc[1] - table["val accuracy"].iloc[0])
    print(f"speed-up: {ratio:.2f}x; validation accuracy difference: {gap:+.2f} points")


if __name__ == "__main__":
    main()
