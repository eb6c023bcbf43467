"""Background training jobs: start, queue, stop, resume, delete and list runs, without a daemon.

A job is the CLI (``python -m seattn train ... --quiet``) in a process of its own, detached from
whoever started it (``start_new_session``), so it outlives the Streamlit session, the browser tab
and even the Streamlit server. Everything about it lives in its run folder (seattn.runs); any
session, in any process, sees the same jobs by reading those files.

The queue has no daemon. At most ``max_jobs`` runs of one runs root train at once (one per core
by default: each job uses one thread). Further runs are written as state "queued" and are started
by whoever calls :func:`schedule` next: the page's polling fragment, a Start press, or the tiny
launcher that wraps every job, which schedules once its trainer exits - so the queue keeps moving
with no browser open. Every decision to start a process is taken under one file lock per runs
root, and the launcher waits for that lock before it starts the trainer, so a run folder is
marked "running" (with a live pid) before its trainer can write anything, and two sessions can
never start two processes for one run folder.

Files this module adds to a run folder: ``job.json`` (the arguments of the job, so that a queued
run can be started later and a stopped one resumed) and, while a stop is pending, ``stop.job``;
per runs root, ``.jobs.lock``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock

from seattn.monitor import format_duration
from seattn.recipes import (
    ADAM_PLATEAU,
    COURSE,
    OPTIMIZER_LABELS,
    OPTIMIZERS,
    augmentation_text,
    learning_rate_or_default,
    parse_augmentation,
)
from seattn.runs import (
    ACTIVE_STATES,
    COMPLETED,
    FAILED,
    METRICS_FILE,
    QUEUED,
    RESUMABLE_STATES,
    RUNNING,
    STOPPED,
    Run,
    list_runs,
    read_json,
    write_json_atomic,
)
from seattn.settings import runs_root

JOB_FILE = "job.json"
STOP_MARKER = "stop.job"  # "stop this job", for its launcher; see stop()
STOP_POLL_SECONDS = 0.25
JOB_NICENESS = 10  # added to the launcher's (and so the trainer's) nice value
LOCK_FILE = ".jobs.lock"
MAX_JOBS_ENV = "SEATTN_MAX_JOBS"
CIFAR10 = "cifar10"  # same spelling as seattn.data.CIFAR10; not imported to keep torch out
LOCK_TIMEOUT_SECONDS = 30.0
# Run names become folder names and appear in URLs and logs: keep them plain.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Launcher processes this process started; polled so that finished ones do not stay zombies.
_children: list[subprocess.Popen] = []


class JobError(Exception):
    """A job request that cannot be honoured; the message says why, in words for the page."""


@dataclass(frozen=True)
class JobSpec:
    """The arguments of one training job: what the CLI's ``train`` command is given."""

    data: str = CIFAR10
    reduction_ratio: int | None = 16
    epochs: int = 30
    batch_size: int = 128
    lr: float | None = None  # None: the optimiser's own
    seed: int = 0
    split_seed: int = 0
    augment: str = COURSE  # a name in seattn.recipes.AUGMENTATIONS
    optimizer: str = ADAM_PLATEAU  # a name in seattn.recipes.OPTIMIZERS
    limit: int | None = None
    threads: int = 1

    def __post_init__(self) -> None:
        # Runs saved before recipes had names hold a yes/no for augment, and no optimizer. The
        # rate is settled here, so that two specs of one recipe are equal however it was given.
        if isinstance(self.augment, bool):
            object.__setattr__(self, "augment", parse_augmentation(self.augment))
        if self.optimizer is None:
            object.__setattr__(self, "optimizer", ADAM_PLATEAU)
        if self.optimizer in OPTIMIZERS:
            object.__setattr__(self, "lr", learning_rate_or_default(self.lr, self.optimizer))

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> JobSpec:
        """The spec that repeats a run, from its config.json (or job.json's "spec")."""
        names = {f.name for f in dataclasses.fields(cls)}
        known = {key: value for key, value in config.items() if key in names}
        if not known.get("threads"):
            known.pop("threads", None)
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def with_absolute_data(self) -> JobSpec:
        """A folder is resolved now: the job must not depend on the page's working directory."""
        if self.data.strip().lower() == CIFAR10:
            return dataclasses.replace(self, data=CIFAR10)
        return dataclasses.replace(self, data=str(Path(self.data).expanduser().resolve()))

    def validate(self) -> None:
        """Raise JobError with the trainer's own message when the trainer would refuse this."""
        from seattn.train import TrainConfig  # imports torch: only where the page already has it

        if self.threads < 1:
            raise JobError(f"threads must be at least 1, got {self.threads}")
        fields = {k: v for k, v in self.to_dict().items() if k != "threads"}
        try:
            TrainConfig(**fields)
        except (TypeError, ValueError) as error:
            raise JobError(str(error)) from None
        if self.data.strip().lower() != CIFAR10 and not Path(self.data).expanduser().is_dir():
            raise JobError(f"{self.data}: no such folder (expected one sub-folder per class)")

    def cli_args(self, run_dir: Path, *, resume: bool) -> list[str]:
        """Arguments of ``python -m seattn train`` for this spec."""
        ratio = "none" if self.reduction_ratio is None else str(self.reduction_ratio)
        args = [
            "--data",
            self.data,
            "--ratio",
            ratio,
            "--epochs",
            str(self.epochs),
            "--batch-size",
            str(self.batch_size),
            "--lr",
            repr(float(self.lr)),
            "--seed",
            str(self.seed),
            "--split-seed",
            str(self.split_seed),
            "--threads",
            str(self.threads),
            "--run-dir",
            str(run_dir),
            "--quiet",
        ]
        args += ["--augment", self.augment, "--optimizer", self.optimizer]
        if self.limit is not None:
            args += ["--limit", str(self.limit)]
        if resume:
            args.append("--resume")
        return args

    def label(self) -> str:
        return "no SE" if self.reduction_ratio is None else f"r={self.reduction_ratio}"

    def recipe_label(self) -> str:
        """The named recipes, e.g. "SGD + cosine, crop-flip augmentation"."""
        return f"{OPTIMIZER_LABELS[self.optimizer]}, {augmentation_text(self.augment)}"


# -- where and how many -------------------------------------------------------------------------


def default_max_jobs() -> int:
    """Jobs that may train at once: SEATTN_MAX_JOBS, else one per core (each job uses 1 thread)."""
    value = os.environ.get(MAX_JOBS_ENV, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            pass
    return max(1, os.cpu_count() or 1)


def _root(root: Path | str | None) -> Path:
    return Path(root if root is not None else runs_root()).resolve()


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(root / LOCK_FILE, timeout=LOCK_TIMEOUT_SECONDS)
    try:
        with lock:
            yield
    except TimeoutError as error:  # filelock.Timeout subclasses TimeoutError
        raise JobError(f"{root}: the job queue is busy; try again in a moment") from error


def _read_job(run: Run) -> dict[str, Any]:
    return read_json(run.path / JOB_FILE) or {}


def job_spec(run: Run) -> JobSpec:
    """The arguments that repeat ``run``: its config.json, else the job.json written at Start."""
    config = run.read_config()
    if config:
        return JobSpec.from_config(config)
    job = _read_job(run)
    if job.get("spec"):
        return JobSpec.from_config(job["spec"])
    raise JobError(f"{run.name}: neither config.json nor job.json says how it was trained")


# -- start, schedule -------------------------------------------------------------------------


def new_run_name(spec: JobSpec, now: float | None = None) -> str:
    """A readable, sortable default name: when, then what."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    label = "noSE" if spec.reduction_ratio is None else f"r{spec.reduction_ratio}"
    return f"{stamp}-{label}-e{spec.epochs}-s{spec.seed}"


def start(
    spec: JobSpec,
    *,
    root: Path | str | None = None,
    name: str | None = None,
    max_jobs: int | None = None,
) -> Run:
    """Create a run folder for ``spec`` and start it now, or queue it when every slot is taken.

    Refused (JobError) when the name is taken or the same training is already queued or
    running: two sessions pressing Start together get one run, not two.
    """
    spec = spec.with_absolute_data()
    spec.validate()
    root_path = _root(root)
    if name is not None and not NAME_PATTERN.match(name):
        raise JobError(
            f"{name!r} cannot be a run name: use letters, digits, '.', '_' and '-' (at most 80)"
        )
    with _locked(root_path):
        for other in list_runs(root_path):
            if other.state() in ACTIVE_STATES and _same_job(other, spec):
                raise JobError(f"the same training is already {other.state()}: {other.name}")
        if name is None:
            name = _free_name(root_path, new_run_name(spec))
        run = Run(root_path / name)
        if run.path.exists():
            raise JobError(f"a run named {name} exists already; choose another name")
        run.path.mkdir(parents=True)
        _enqueue(run, spec, resume=False, previous={})
    schedule(root_path, max_jobs=max_jobs)
    return run


def _same_job(run: Run, spec: JobSpec) -> bool:
    with contextlib.suppress(JobError, TypeError):
        return job_spec(run) == spec
    return False


def _free_name(root: Path, base: str) -> str:
    name, suffix = base, 2
    while (root / name).exists():
        name, suffix = f"{base}-{suffix}", suffix + 1
    return name


def _enqueue(run: Run, spec: JobSpec, *, resume: bool, previous: dict[str, Any]) -> None:
    now = time.time()
    write_json_atomic(run.path / JOB_FILE, {"spec": spec.to_dict(), "resume": resume})
    run.clear_stop_request()
    with contextlib.suppress(FileNotFoundError):
        (run.path / STOP_MARKER).unlink()
    status = {
        "state": QUEUED,
        "phase": "queued",
        "created": previous.get("created", now),
        "queued_at": now,
        "epoch": previous.get("epoch", 0),
        "epochs": spec.epochs,
        "error": None,
    }
    if "first_started" in previous:
        status["first_started"] = previous["first_started"]
    run.write_status(status)


def schedule(root: Path | str | None = None, *, max_jobs: int | None = None) -> list[Run]:
    """Start queued runs, oldest first, while fewer than ``max_jobs`` run; returns those started.

    Cheap when there is nothing to do (a directory listing and small JSON reads), so the page
    can call it on every refresh.
    """
    root_path = _root(root)
    limit = max_jobs if max_jobs is not None else default_max_jobs()
    _reap_children()
    if not root_path.is_dir() or not _any_queued(root_path):
        return []
    started = []
    with _locked(root_path):
        runs = list_runs(root_path)
        running = sum(1 for run in runs if run.state() == RUNNING)
        queued = [run for run in runs if run.read_status().get("state") == QUEUED]
        queued.sort(key=lambda run: run.read_status().get("queued_at", 0.0))
        for run in queued[: max(0, limit - running)]:
            _launch(run)
            started.append(run)
    return started


def _any_queued(root: Path) -> bool:
    return any(run.read_status().get("state") == QUEUED for run in list_runs(root))


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # Busy-waiting OpenMP threads steal the cores the page and other jobs need.
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    # The project is run from its folder, not installed: the child must find the package.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _launch(run: Run) -> None:
    """Start the launcher for a queued run and mark the run running; the root lock is held."""
    command = [sys.executable, "-m", "seattn.jobs", "launch", str(run.path)]
    now = time.time()
    status = run.read_status()
    try:
        with open(run.log_path, "ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=_child_env(),
                start_new_session=True,
            )
    except OSError as error:
        status.update(state=FAILED, phase="failed", error=f"could not start the job: {error}")
        run.write_status(status)
        return
    _children.append(process)
    status.update(
        state=RUNNING,
        phase="starting",
        pid=process.pid,
        launcher_pid=process.pid,
        host=socket.gethostname(),
        heartbeat=now,
        started=now,
        finished=None,
        first_started=status.get("first_started", now),
    )
    run.write_status(status)


def _reap_children() -> None:
    _children[:] = [process for process in _children if process.poll() is None]


# -- the launcher: the process a job runs in ----------------------------------------------------


def _launcher_main(run_dir: Path) -> int:
    """Run the trainer for ``run_dir``, then start whatever waits in the queue.

    Waiting for the root lock first means the scheduler that started us has finished writing
    the run's status (state running, our pid) before the trainer can write its own.
    """
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
    stop_marker = run.path / STOP_MARKER
    with FileLock(root / LOCK_FILE):
        pass
    job = _read_job(run)
    code = None
    if not (stop_signalled or stop_marker.exists()):
        spec = JobSpec.from_config(job["spec"])
        command = [
            sys.executable,
            "-m",
            "seattn",
            "train",
            *spec.cli_args(run.path, resume=job.get("resume", False)),
        ]
        # stdout only repeats the epoch lines the trainer logs itself; stderr (warnings,
        # tracebacks, the final state) goes to the log inherited from the scheduler.
        trainer = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        forwarded = stop_signalled  # a signal that came while the trainer was being started
        while code is None:
            if not forwarded and (stop_signalled or stop_marker.exists()):
                # SIGTERM reaches the trainer whatever it is doing, even before it has read (and
                # cleared) stop.request; the CLI turns it into a clean stop.
                trainer.send_signal(signal.SIGTERM)
                forwarded = True
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = trainer.wait(timeout=STOP_POLL_SECONDS)
    status = run.read_status()
    # The trainer writes its own final state; if it never took over the status (it died while
    # starting, or was stopped before it began), say so here instead of leaving "running".
    if status.get("state") == RUNNING and status.get("pid") == os.getpid():
        if stop_signalled or stop_marker.exists() or code is None:
            status.update(state=STOPPED, phase="stopped", finished=time.time())
        else:
            status.update(
                state=FAILED,
                phase="failed",
                finished=time.time(),
                error=f"the trainer exited with status {code} before training began; see the log",
            )
        run.write_status(status)
        run.clear_stop_request()
    with contextlib.suppress(FileNotFoundError):
        stop_marker.unlink()
    with contextlib.suppress(JobError):
        schedule(root)
    return 0


# -- stop, resume, delete ----------------------------------------------------------------------


def stop(run: Run) -> None:
    """Ask a running run to stop at its next batch (the last complete epoch is kept).

    A queued run is taken out of the queue and marked stopped at once.
    """
    root = run.path.parent
    with _locked(root):
        status = run.read_status()
        state = run.state()
        if state == QUEUED:
            status.update(state=STOPPED, phase="stopped before it started", finished=time.time())
            run.write_status(status)
            return
        if state != RUNNING:
            raise JobError(f"{run.name} is {state}, not running")
        # stop.request is the trainer's own signal, read once per batch, but the trainer clears
        # it when it starts; the marker, which only the launcher reads, also catches a job that
        # is still starting: the launcher then sends its trainer SIGTERM. Nothing here signals
        # a pid read from a file, which could by now belong to another process.
        run.request_stop()
        (run.path / STOP_MARKER).touch()


def resume(run: Run, *, epochs: int | None = None, max_jobs: int | None = None) -> Run:
    """Queue ``run`` to continue from its last complete epoch, with the arguments it was given.

    ``epochs`` may raise the total (also for a completed run, to train it further).
    """
    root = run.path.parent
    with _locked(root):
        state = run.state()
        spec = job_spec(run)
        done = _epochs_done(run)
        if epochs is not None:
            if epochs < max(1, done):
                raise JobError(f"{run.name} has {done} epochs already; ask for more, not {epochs}")
            spec = dataclasses.replace(spec, epochs=epochs)
        can_extend = state == COMPLETED and spec.epochs > done
        if state not in RESUMABLE_STATES and not can_extend:
            raise JobError(
                f"{run.name} is {state}; only a stopped, failed or interrupted run "
                "can be resumed (or a completed one given more epochs)"
            )
        _enqueue(run, spec, resume=True, previous=run.read_status())
    schedule(root, max_jobs=max_jobs)
    return run


def delete(run: Run) -> None:
    """Remove the run folder; refused while it trains (stop it first)."""
    root = run.path.parent
    with _locked(root):
        if not run.exists():
            raise JobError(f"{run.path} is not a run folder")
        state = run.state()
        if state == RUNNING:
            raise JobError(f"{run.name} is running; stop it before deleting it")
        shutil.rmtree(run.path)


def request_stop_all(root: Path | str | None = None) -> list[Run]:
    """Stop every running or queued run under ``root``; returns them."""
    stopped = []
    for run in list_runs(_root(root)):
        if run.state() in ACTIVE_STATES:
            with contextlib.suppress(JobError):
                stop(run)
                stopped.append(run)
    return stopped


def wait_until_idle(root: Path | str | None = None, timeout: float = 60.0) -> bool:
    """Wait until no run under ``root`` is running or queued; True if that happened in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not has_active_jobs(root):
            return True
        time.sleep(0.2)
    return not has_active_jobs(root)


# -- listing ---------------------------------------------------------------------------------


def has_active_jobs(root: Path | str | None = None) -> bool:
    """True while some run under ``root`` is running or queued (the page polls only then)."""
    return any(run.state() in ACTIVE_STATES for run in list_runs(_root(root)))


def queue_position(run: Run) -> int | None:
    """1 for the next run to start, 2 for the one after...; None when ``run`` is not queued."""
    if run.read_status().get("state") != QUEUED:
        return None
    queued = [r.read_status() for r in list_runs(run.path.parent)]
    mine = run.read_status().get("queued_at", 0.0)
    return 1 + sum(1 for s in queued if s.get("state") == QUEUED and s.get("queued_at", 0) < mine)


def _epochs_done(run: Run) -> int:
    return len(_metrics_summary(run.path / METRICS_FILE))


@functools.lru_cache(maxsize=512)
def _metrics_cached(path: str, mtime_ns: int, size: int) -> tuple[tuple[float, float], ...]:
    try:
        frame = pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return ()
    columns = [c for c in ("val_accuracy", "epoch_seconds") if c in frame.columns]
    frame = frame.reindex(columns=["epoch", *columns])
    return tuple(
        (float(row.get("val_accuracy", float("nan"))), float(row.get("epoch_seconds", 0.0)))
        for row in frame.to_dict("records")
    )


def _metrics_summary(path: Path) -> tuple[tuple[float, float], ...]:
    """(val accuracy, epoch seconds) per epoch, re-read only when metrics.csv changed."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return ()
    return _metrics_cached(str(path), stat.st_mtime_ns, stat.st_size)


def training_seconds(
    status: dict[str, Any],
    config: dict[str, Any],
    epoch_seconds: list[float],
    state: str,
    now: float,
) -> float | None:
    """Time spent training: earlier sessions' epochs plus this session's wall-clock time."""
    started = status.get("started")
    if state == QUEUED or not started:
        return sum(epoch_seconds) or None
    resumed_at = int(config.get("created_from_resume_at_epoch") or 0)
    earlier = sum(epoch_seconds[:resumed_at])
    # A finished session ends at "finished"; one whose process died, at its last heartbeat.
    end = now if state == RUNNING else (status.get("finished") or status.get("heartbeat"))
    end = end or started
    return earlier + max(0.0, float(end) - float(started))


def run_summary(run: Run, now: float | None = None) -> dict[str, Any]:
    """One row of the runs table: what a person scans to find a run."""
    now = time.time() if now is None else now
    status = run.read_status()
    config = run.read_config()
    state = run.state(now)
    rows = _metrics_summary(run.path / METRICS_FILE)
    accuracies = [acc for acc, _ in rows if acc == acc]  # NaN != NaN
    spec: JobSpec | None = None
    with contextlib.suppress(JobError, TypeError):
        spec = job_spec(run)
    epochs = status.get("epochs") or (spec.epochs if spec else None)
    first_started = status.get("first_started") or (
        status.get("created") if state != QUEUED else None
    )
    return {
        "run": run.name,
        "state": state,
        "model": spec.label() if spec else "?",
        "recipe": spec.recipe_label() if spec else "?",
        "data": _data_name(config, spec),
        "epochs": f"{len(rows)}/{epochs}" if epochs else str(len(rows)),
        "progress": (len(rows) / epochs) if epochs else None,
        "best val accuracy": max(accuracies) if accuracies else None,
        "duration": format_duration(
            training_seconds(status, config, [s for _, s in rows], state, now)
        ),
        # Local wall-clock time: what the person who pressed Start remembers.
        "started": datetime.fromtimestamp(first_started) if first_started else None,
        "path": str(run.path),
    }


def _data_name(config: dict[str, Any], spec: JobSpec | None) -> str:
    described = (config.get("data_description") or {}).get("name")
    if described:
        return str(described)
    if spec is None:
        return "?"
    return "CIFAR-10" if spec.data == CIFAR10 else Path(spec.data).name


SUMMARY_COLUMNS = [
    "run",
    "state",
    "model",
    "recipe",
    "data",
    "epochs",
    "progress",
    "best val accuracy",
    "duration",
    "started",
    "path",
]


def runs_table(root: Path | str | None = None, now: float | None = None) -> pd.DataFrame:
    """One row per run under ``root``, newest first (see :func:`run_summary`)."""
    rows = [run_summary(run, now) for run in list_runs(_root(root))]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def main(argv: list[str] | None = None) -> int:
    """``python -m seattn.jobs launch RUN_DIR``: the launcher (internal; started by schedule)."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "launch":
        print("usage: python -m seattn.jobs launch RUN_DIR", file=sys.stderr)
        return 2
    return _launcher_main(Path(argv[1]))


if __name__ == "__main__":
    sys.exit(main())
