"""Background training jobs: start, queue, stop, resume and delete runs, without a daemon.

A job is a launcher process (seattn.training.launcher) that runs the trainer in a process of its
own, detached from whoever started it (``start_new_session``), so it outlives the Streamlit
session, the browser tab and even the Streamlit server. Everything about it lives in its run
folder (seattn.training.runfiles); any session, in any process, sees the same jobs by reading it.

The queue has no daemon. At most ``max_jobs`` runs of one runs root train at once (one per core
by default: each job uses one thread). Further runs wait as "queued" and are started by whoever
calls :func:`schedule` next: the page's polling fragment, a Start press, or a launcher whose
trainer has exited - so the queue keeps moving with no browser open. Every decision to start a
process is taken under one file lock per runs root (``.jobs.lock``), and the launcher waits for
that lock before it starts the trainer, so job.json says "launched" before the trainer can write
anything, and two sessions can never start two processes for one run folder.

This module (with its launcher) is the only writer of job.json and stop.job; the trainer's files
are the trainer's (see runfiles for who writes what).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from seattn import settings
from seattn.atomic import write_json_atomic
from seattn.i18n import N_, _, ngettext
from seattn.model.ratios import ratio_slug
from seattn.training.runfiles import (
    ACTIVE_STATES,
    JOB_FILE,
    RESUMABLE_STATES,
    STOP_JOB_FILE,
    JobState,
    Run,
    RunState,
    list_runs,
)
from seattn.training.spec import TrainSpec

if TYPE_CHECKING:
    from seattn.data.datasets import DataCheck

LOCK_FILE = ".jobs.lock"
LOCK_TIMEOUT_SECONDS = 30.0
# Run names become folder names and appear in URLs and logs: keep them plain.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
JOB_THREADS = 1  # each job trains on one thread, so one job per core keeps every core busy

# Launcher processes this process started; polled so that finished ones do not stay zombies.
_children: list[subprocess.Popen] = []


class JobError(Exception):
    """A job request that cannot be honoured; the message says why, in the active language (a
    page shows it as it is; the command line speaks English)."""


# A run's state inside a JobError's sentence (the Train page's words for it: pages/ui/text.py).
_STATE_WORDS = {
    RunState.QUEUED: N_("queued"),
    RunState.RUNNING: N_("running"),
    RunState.COMPLETED: N_("completed"),
    RunState.STOPPED: N_("stopped"),
    RunState.FAILED: N_("failed"),
    RunState.INTERRUPTED: N_("interrupted"),
}


def _state_text(state: str) -> str:
    """A run's state in the active language ("stopped" in English); an unknown one as it is."""
    words = _STATE_WORDS.get(state)
    return _(words) if words else str(state)


def _root(root: Path | str | None) -> Path:
    return Path(root if root is not None else settings.runs_root()).resolve()


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """The runs root's lock: every decision to start, stop or delete a job is taken under it."""
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(root / LOCK_FILE, timeout=LOCK_TIMEOUT_SECONDS)
    try:
        with lock:
            yield
    except TimeoutError as error:  # filelock.Timeout subclasses TimeoutError
        message = _("{root}: the job queue is busy; try again in a moment")
        raise JobError(message.format(root=root)) from error


def _write_job(run: Run, job: dict[str, Any]) -> None:
    write_json_atomic(run.path / JOB_FILE, {**job, "updated": time.time()})


def job_spec(run: Run) -> TrainSpec:
    """The spec that repeats ``run``: its config.json, else the job.json written at Start."""
    config = run.read_config()
    try:
        if config:
            return TrainSpec.from_dict(config)
        job = run.read_job()
        if job.get("spec"):
            return TrainSpec.from_dict(job["spec"])
    except (TypeError, ValueError) as error:
        message = _("{run}: its saved settings cannot be read ({error})")
        raise JobError(message.format(run=run.name, error=error)) from None
    message = _("{run}: neither config.json nor job.json says how it was trained")
    raise JobError(message.format(run=run.name))


class DataUnavailable(JobError):
    """The data of a spec cannot be trained on here; ``check`` says why, for the page to word."""

    def __init__(self, check: DataCheck) -> None:
        self.check = check
        super().__init__(f"{check.data}: {UNAVAILABLE_MESSAGES[check.availability]}")


UNAVAILABLE_MESSAGES = {  # by DataAvailability: the command line's words (pages word the check)
    "offline": "CIFAR-10 is not in the data folder (SEATTN_DATA_DIR) and its download host "
    "cannot be reached (offline?); copy torchvision's 'cifar-10-batches-py' folder there, or "
    "train on a folder of class sub-folders",
    "no such folder": "no such folder (expected one sub-folder per class)",
    "no class images": "no images found in its class sub-folders (expected one sub-folder per "
    "class, each holding images)",
}


def check_startable(spec: TrainSpec, *, data_dir: Path | None = None) -> DataCheck:
    """The data check of ``spec`` (seattn.data.datasets.check_data); raises DataUnavailable
    when it cannot be trained on here: a run is never queued to fail on its data.

    Takes at most a couple of seconds (CIFAR-10 missing: a probe of its download host, cached).
    """
    # Imported here: the rest of the queue (and the launcher, which imports it) runs without
    # torch, which the data module needs.
    from seattn.data.datasets import check_data

    check = check_data(spec.data, data_dir=data_dir)
    if not check.usable:
        raise DataUnavailable(check)
    return check


# -- start, schedule -------------------------------------------------------------------------


def new_run_name(spec: TrainSpec, now: float | None = None) -> str:
    """A readable, sortable default name: when, then what."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{stamp}-{ratio_slug(spec.reduction_ratio)}-e{spec.epochs}-s{spec.seed}"


def start(
    spec: TrainSpec,
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
    if spec.threads is None:
        spec = spec.replace(threads=JOB_THREADS)
    check_startable(spec)
    root_path = _root(root)
    if name is not None and not NAME_PATTERN.match(name):
        message = _(
            "{name} cannot be a run name: use letters, digits, '.', '_' and '-' (at most 80)"
        )
        raise JobError(message.format(name=repr(name)))
    with locked(root_path):
        for other in list_runs(root_path):
            state = other.state()
            if state in ACTIVE_STATES and _same_training(other, spec):
                if state == RunState.QUEUED:
                    message = _("the same training is already queued: {run}")
                else:
                    message = _("the same training is already running: {run}")
                raise JobError(message.format(run=other.name))
        if name is None:
            name = free_name(root_path, new_run_name(spec))
        run = Run(root_path / name)
        if run.path.exists():
            message = _("a run named {name} exists already; choose another name")
            raise JobError(message.format(name=name))
        run.path.mkdir(parents=True)
        _enqueue(run, spec, resume=False)
    schedule(root_path, max_jobs=max_jobs)
    return run


def same_training(first: TrainSpec, second: TrainSpec) -> bool:
    """Whether two specs ask for the same training (data folders compared resolved)."""
    return first.with_absolute_data().identity() == second.with_absolute_data().identity()


def _same_training(run: Run, spec: TrainSpec) -> bool:
    with contextlib.suppress(JobError):
        return same_training(job_spec(run), spec)
    return False


def free_name(root: Path, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not taken under ``root``."""
    name, suffix = base, 2
    while (root / name).exists():
        name, suffix = f"{base}-{suffix}", suffix + 1
    return name


def _enqueue(run: Run, spec: TrainSpec, *, resume: bool) -> None:
    now = time.time()
    previous = run.read_status()
    job = {
        "spec": spec.to_dict(),
        "resume": resume,
        "state": JobState.QUEUED,
        "created": previous.get("created") or now,
        "queued_at": now,
        "error": None,
    }
    if previous.get("first_started"):
        job["first_started"] = previous["first_started"]
    run.clear_stop_request()
    with contextlib.suppress(FileNotFoundError):
        (run.path / STOP_JOB_FILE).unlink()
    _write_job(run, job)


def schedule(root: Path | str | None = None, *, max_jobs: int | None = None) -> list[Run]:
    """Start queued runs, oldest first, while fewer than ``max_jobs`` run; returns those started.

    Cheap when there is nothing to do (a directory listing and small JSON reads), so the page
    can call it on every refresh.
    """
    root_path = _root(root)
    limit = max_jobs if max_jobs is not None else settings.max_jobs()
    _reap_children()
    if not root_path.is_dir() or not _queued(root_path):
        return []
    started = []
    with locked(root_path):
        runs = list_runs(root_path)
        running = sum(1 for run in runs if run.state() == RunState.RUNNING)
        for run in _queued(root_path)[: max(0, limit - running)]:
            _launch(run)
            started.append(run)
    return started


def _queued(root: Path) -> list[Run]:
    """The queued runs under ``root``, first in first out."""
    statuses = [(run, run.read_status()) for run in list_runs(root)]
    queued = [(run, s) for run, s in statuses if s.get("state") == RunState.QUEUED]
    queued.sort(key=lambda pair: pair[1].get("queued_at") or 0.0)
    return [run for run, _ in queued]


def job_environment() -> dict[str, str]:
    """The environment a job's launcher (and so its trainer) runs in."""
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
    """Start the launcher for a queued run and mark the job launched; the root lock is held."""
    command = [sys.executable, "-m", "seattn.training.launcher", str(run.path)]
    job = run.read_job()
    if not job.get("spec"):  # queued by a version that kept the spec elsewhere
        job.update(spec=job_spec(run).to_dict(), resume=bool(run.read_config()))
    now = time.time()
    try:
        with open(run.log_path, "ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=job_environment(),
                start_new_session=True,
            )
    except OSError as error:
        job.update(
            state=JobState.ENDED,
            ended_as=RunState.FAILED,
            error=f"could not start the job: {error}",
        )
        _write_job(run, job)
        return
    _children.append(process)
    job.update(
        state=JobState.LAUNCHED,
        launcher_pid=process.pid,
        host=socket.gethostname(),
        launched_at=now,
        first_started=job.get("first_started") or now,
    )
    _write_job(run, job)


def _reap_children() -> None:
    _children[:] = [process for process in _children if process.poll() is None]


def end_job(run: Run, *, ended_as: RunState, error: str | None = None) -> None:
    """The launcher's verdict on a job whose trainer never took over (seattn.training.launcher)."""
    job = run.read_job()
    job.update(state=JobState.ENDED, ended_as=ended_as, error=error)
    _write_job(run, job)


# -- stop, resume, delete ----------------------------------------------------------------------


def stop(run: Run) -> None:
    """Ask a running run to stop at its next batch (the last complete epoch is kept).

    A queued run is taken out of the queue and marked stopped at once.
    """
    root = run.path.parent
    with locked(root):
        state = run.state()
        if state == RunState.QUEUED:
            job = run.read_job()
            job.update(state=JobState.CANCELLED)
            _write_job(run, job)
            return
        if state != RunState.RUNNING:
            message = _("{run} is {state}, not running")
            raise JobError(message.format(run=run.name, state=_state_text(state)))
        # stop.request is the trainer's own signal, read once per batch, but the trainer clears
        # it when it starts; the marker, which only the launcher reads, also catches a job that
        # is still starting: the launcher then sends its trainer SIGTERM. Nothing here signals
        # a pid read from a file, which could by now belong to another process.
        run.request_stop()
        (run.path / STOP_JOB_FILE).touch()


def resume(run: Run, *, epochs: int | None = None, max_jobs: int | None = None) -> Run:
    """Queue ``run`` to continue from its last complete epoch, with the arguments it was given.

    ``epochs`` may raise the total (also for a completed run, to train it further).
    """
    root = run.path.parent
    with locked(root):
        state = run.state()
        spec = job_spec(run)
        done = len(run.read_metrics())
        if epochs is not None:
            if epochs < max(1, done):
                message = ngettext(
                    "{run} has {done} epoch already; ask for more, not {epochs}",
                    "{run} has {done} epochs already; ask for more, not {epochs}",
                    done,
                )
                raise JobError(message.format(run=run.name, done=done, epochs=epochs))
            spec = spec.replace(epochs=epochs)
        can_extend = state == RunState.COMPLETED and spec.epochs > done
        if state not in RESUMABLE_STATES and not can_extend:
            message = _(
                "{run} is {state}; only a stopped, failed or interrupted run "
                "can be resumed (or a completed one given more epochs)"
            )
            raise JobError(message.format(run=run.name, state=_state_text(state)))
        _enqueue(run, spec, resume=True)
    schedule(root, max_jobs=max_jobs)
    return run


def delete(run: Run) -> None:
    """Remove the run folder; refused while it trains (stop it first)."""
    root = run.path.parent
    with locked(root):
        if not run.exists():
            raise JobError(_("{path} is not a run folder").format(path=run.path))
        if run.state() == RunState.RUNNING:
            message = _("{run} is running; stop it before deleting it")
            raise JobError(message.format(run=run.name))
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


def has_active_jobs(root: Path | str | None = None) -> bool:
    """True while some run under ``root`` is running or queued (the page polls only then)."""
    return any(run.state() in ACTIVE_STATES for run in list_runs(_root(root)))


def queue_position(run: Run) -> int | None:
    """1 for the next run to start, 2 for the one after...; None when ``run`` is not queued."""
    queued = _queued(run.path.parent)
    return queued.index(run) + 1 if run in queued else None
