"""The two processes of a background job: the launcher and the trainer it runs.

``python -m seattn.training.launcher RUN_DIR`` is what the queue starts (seattn.training.queue).
It waits for the queue's lock (so the queue has finished writing job.json), runs the trainer,
forwards a stop to it, and starts whatever waits in the queue once the trainer has exited - so the
queue moves on with no page open. When the trainer never took over the run (it died while
starting, or the job was stopped first), the launcher records how the job ended in job.json.

``python -m seattn.training.launcher --trainer RUN_DIR`` is the trainer: it trains the spec in
job.json, exactly as stored, and turns SIGTERM and SIGINT into a clean stop at the next batch.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from filelock import FileLock

from seattn.training.queue import LOCK_FILE, JobError, end_job, schedule
from seattn.training.runfiles import STOP_JOB_FILE, Run, RunState
from seattn.training.spec import TrainSpec

STOP_POLL_SECONDS = 0.25
JOB_NICENESS = 10  # added to the launcher's (and so the trainer's) nice value


def stop_event_on_signals() -> threading.Event:
    """An event that SIGTERM and SIGINT set: the trainer stops at its next batch."""
    stop_event = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop_event.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop_event


def trainer_main(run_dir: Path) -> int:
    """Train the job of ``run_dir``; the status and the log say how it went."""
    from seattn.training.engine import train  # torch: only in the trainer's own process

    run = Run(run_dir)
    job = run.read_job()
    spec = TrainSpec.from_dict(job["spec"])
    try:
        status = train(
            spec, run.path, resume=bool(job.get("resume")), stop_event=stop_event_on_signals()
        )
    except Exception as error:  # recorded in status.json and the log by the engine
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0 if status.get("state") == RunState.COMPLETED else 3


def launcher_main(run_dir: Path) -> int:
    """Run the trainer for ``run_dir``, then start whatever waits in the queue."""
    stop_signalled = False
    trainer: subprocess.Popen | None = None

    def forward_stop(signum: int, frame: Any) -> None:
        nonlocal stop_signalled
        stop_signalled = True
        if trainer is not None:
            trainer.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward_stop)
    # Training is background work: at a lower priority it yields the cores to the dashboard
    # (an Explore rerun) whenever both want them, and still takes every idle cycle.
    with contextlib.suppress(OSError):
        os.nice(JOB_NICENESS)
    run = Run(run_dir)
    root = run.path.parent
    stop_marker = run.path / STOP_JOB_FILE
    with FileLock(root / LOCK_FILE):
        pass
    launched_at = float(run.read_job().get("launched_at") or 0.0)
    code = None
    if not (stop_signalled or stop_marker.exists()):
        command = [sys.executable, "-m", "seattn.training.launcher", "--trainer", str(run.path)]
        # The trainer's stderr (warnings, tracebacks) goes to the log inherited from the queue.
        trainer = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        forwarded = stop_signalled  # a signal that came while the trainer was being started
        while code is None:
            if not forwarded and (stop_signalled or stop_marker.exists()):
                # SIGTERM reaches the trainer whatever it is doing, even before it has read (and
                # cleared) stop.request; the trainer turns it into a clean stop.
                trainer.send_signal(signal.SIGTERM)
                forwarded = True
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = trainer.wait(timeout=STOP_POLL_SECONDS)
    took_over = float(run.read_trainer_status().get("started") or 0.0) >= launched_at > 0
    if not took_over:
        if stop_signalled or stop_marker.exists() or code is None:
            end_job(run, ended_as=RunState.STOPPED)
        else:
            end_job(
                run,
                ended_as=RunState.FAILED,
                error=f"the trainer exited with status {code} before training began; see the log",
            )
        run.clear_stop_request()
    with contextlib.suppress(FileNotFoundError):
        stop_marker.unlink()
    with contextlib.suppress(JobError):
        schedule(root)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--trainer":
        return trainer_main(Path(argv[1]))
    if len(argv) == 1 and not argv[0].startswith("-"):
        return launcher_main(Path(argv[0]))
    print("usage: python -m seattn.training.launcher [--trainer] RUN_DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
