"""The run folder: one directory per training run, each file with one writer, readable any time.

    file             writer                    what it holds
    job.json         the queue (queue.py and   the spec to train, whether to resume, and the
                     its launcher)             queue's word on the run: queued, launched,
                                               cancelled before it started, or ended before
                                               the trainer took over
    status.json      the trainer (engine.py,   state, pid, host, heartbeat, progress within the
                     through StatusWriter)     epoch, the last epoch's row, the seconds of the
                                               sessions before this one, error text and the
                                               kind of failure (with the data check, for one
                                               on the data)
    config.json      the trainer               the spec, with what the trainer learnt about
                                               the data and the software (``spec.TrainSpec``)
    metrics.csv      the trainer               one row per completed epoch
    excitation.json  the trainer               per SE block and epoch: channel means and a
                                               histogram over a probe batch
    checkpoint.pt    the trainer               the last complete epoch (model/checkpoints.py)
    train.log        the trainer; the launcher human-readable log, appended to
                     appends the trainer's
                     stderr
    stop.request     anyone                    "stop at the next batch"; the trainer removes it
    stop.job         the queue                 "stop this job", for its launcher

Every file but the log is replaced in one step (seattn.atomic), so a reader sees the old version
or the new one, never half of one.

Which word counts: :meth:`Run.read_status` merges the two writers' files. The newer one wins:
a trainer's status from after the queue's last change to job.json, else the queue's (a run
queued again after it stopped reads "queued" until its new trainer has started). A run trained
from the command line has no job.json, and its status is the trainer's alone.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from seattn.atomic import read_json, write_bytes_atomic, write_json_atomic
from seattn.training.states import (  # noqa: F401  (the run folder's vocabulary, read with it)
    ACTIVE_STATES,
    REPEATED_ON_RESUME,
    RESUMABLE_STATES,
    FailureKind,
    JobState,
    Phase,
    RunState,
)

CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
JOB_FILE = "job.json"
METRICS_FILE = "metrics.csv"
EXCITATION_FILE = "excitation.json"
CHECKPOINT_FILE = "checkpoint.pt"
LOG_FILE = "train.log"
STOP_FILE = "stop.request"
STOP_JOB_FILE = "stop.job"


# In status.json: the wall-clock seconds of the run's sessions before this one (the trainer
# writes it when it starts; the queue's word carries the total of the sessions that ended).
EARLIER_SECONDS = "earlier_seconds"

HEARTBEAT_SECONDS = 2.0
# A live trainer refreshes its heartbeat every HEARTBEAT_SECONDS from a thread of its own; ten
# missed beats means the process is gone (killed, machine restarted), not merely busy.
HEARTBEAT_STALE_SECONDS = 20.0


def pid_is_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0): look at its state where /proc tells.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


@functools.lru_cache(maxsize=64)
def _metrics(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return pd.DataFrame()


@functools.lru_cache(maxsize=32)
def _excitation(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def file_version(path: Path) -> tuple[int, int]:
    """(mtime_ns, size) of a file, (0, 0) when it is missing: what a cached reading depends on."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def _read_cached(reader: Any, path: Path, empty: Any) -> Any:
    # The files change once per epoch but pages poll every second or two: re-parse only when the
    # (atomically replaced) file is a new one.
    version = file_version(path)
    return reader(str(path), *version) if version != (0, 0) else empty


class Run:
    """A view of one run folder. Cheap to create; every read sees the files as they are now."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and self.path.resolve() == other.path.resolve()

    def __hash__(self) -> int:
        return hash(self.path.resolve())

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT_FILE

    @property
    def log_path(self) -> Path:
        return self.path / LOG_FILE

    def exists(self) -> bool:
        return any((self.path / name).exists() for name in (CONFIG_FILE, STATUS_FILE, JOB_FILE))

    # -- reading ------------------------------------------------------------------------------
    def read_config(self) -> dict[str, Any]:
        return read_json(self.path / CONFIG_FILE) or {}

    def read_job(self) -> dict[str, Any]:
        return read_json(self.path / JOB_FILE) or {}

    def read_trainer_status(self) -> dict[str, Any]:
        """status.json as the trainer wrote it (see :meth:`read_status` for the run's status)."""
        return read_json(self.path / STATUS_FILE) or {}

    def read_status(self) -> dict[str, Any]:
        """The run's status: the trainer's, or the queue's where it spoke last (see the module)."""
        return merged_status(self.read_trainer_status(), self.read_job())

    def state(self, now: float | None = None) -> RunState | str:
        """The run's state as a reader should show it; a dead "running" run reads as interrupted."""
        return effective_state(self.read_status(), now)

    def read_metrics(self) -> pd.DataFrame:
        """metrics.csv, parsed once per version of the file; shared: do not modify it."""
        return _read_cached(_metrics, self.path / METRICS_FILE, pd.DataFrame())

    def read_excitation(self) -> dict[str, Any]:
        """excitation.json, parsed once per version of the file; shared: do not modify it."""
        return _read_cached(_excitation, self.path / EXCITATION_FILE, {})

    def stop_requested(self) -> bool:
        return (self.path / STOP_FILE).exists()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- the trainer's files ------------------------------------------------------------------
    def write_config(self, config: dict[str, Any]) -> None:
        write_json_atomic(self.path / CONFIG_FILE, config)

    def write_metrics(self, rows: list[dict[str, Any]]) -> None:
        write_bytes_atomic(
            self.path / METRICS_FILE, pd.DataFrame(rows).to_csv(index=False).encode()
        )

    def write_excitation(self, history: dict[str, Any]) -> None:
        write_json_atomic(self.path / EXCITATION_FILE, history)

    def log(self, line: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {line}\n")

    # -- stop requests (anyone) ---------------------------------------------------------------
    def request_stop(self) -> None:
        write_bytes_atomic(self.path / STOP_FILE, b"stop\n")

    def clear_stop_request(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.path / STOP_FILE).unlink()


# Facts of the queue's that hold for every attempt, kept when the trainer's status is the word.
_QUEUE_FACTS = ("created", "first_started", "queued_at")


def merged_status(status: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    """One status from the trainer's status.json and the queue's job.json; the newer speaks."""
    if not job or "updated" not in job:  # a command-line run, or one queued before job states
        return dict(status)
    if float(status.get("started") or 0.0) >= float(job["updated"]):
        merged = dict(status)
        merged.update({key: job[key] for key in _QUEUE_FACTS if key in job})
        return merged
    merged = {
        "created": job.get("created"),
        "queued_at": job.get("queued_at"),
        "epoch": status.get("epoch", 0),  # the last attempt's progress: what a resume starts from
        "epochs": (job.get("spec") or {}).get("epochs"),
        "last_epoch": status.get("last_epoch"),
        "error": job.get("error"),
    }
    if EARLIER_SECONDS in status or not status:
        # Every session so far has ended (the queue speaks last only then): their total. A
        # status from before sessions were summed says too little; overview falls back on it.
        merged[EARLIER_SECONDS] = seconds_trained(status, running=False, now=0.0)
    if "first_started" in job:
        merged["first_started"] = job["first_started"]
    state = job.get("state")
    if state == JobState.QUEUED:
        merged.update(state=RunState.QUEUED, phase=Phase.QUEUED)
    elif state == JobState.LAUNCHED:
        merged.update(
            state=RunState.RUNNING,
            phase=Phase.STARTING,
            pid=job.get("launcher_pid"),
            launcher_pid=job.get("launcher_pid"),
            host=job.get("host"),
            heartbeat=job.get("launched_at"),
            started=job.get("launched_at"),
        )
    elif state == JobState.CANCELLED:
        merged.update(
            state=RunState.STOPPED, phase=Phase.STOPPED_BEFORE_START, finished=job["updated"]
        )
    else:  # ENDED: the launcher's verdict, "stopped" or "failed"
        ended_as = RunState(job.get("ended_as") or RunState.FAILED)
        merged.update(state=ended_as, phase=Phase(ended_as), finished=job["updated"])
    return merged


def effective_state(status: dict[str, Any], now: float | None = None) -> RunState | str:
    state = status.get("state", RunState.QUEUED if status else "")
    if state != RunState.RUNNING:
        return RunState(state) if state in tuple(RunState) else state
    now = time.time() if now is None else now
    stale = now - float(status.get("heartbeat") or 0.0) > HEARTBEAT_STALE_SECONDS
    same_host = status.get("host") == socket.gethostname()
    dead = same_host and not pid_is_alive(status.get("pid"))
    return RunState.INTERRUPTED if stale or dead else RunState.RUNNING


def seconds_trained(
    status: dict[str, Any], *, running: bool, now: float, earlier: float | None = None
) -> float:
    """Wall-clock seconds of every training session ``status`` accounts for.

    The sessions before this one are ``status["earlier_seconds"]`` (else ``earlier``, for a
    status written before sessions were summed). This one counts from the trainer's start to
    ``now`` while it runs, else to its finish, or to its last heartbeat when its process died. A
    session the queue has not handed to a trainer yet (queued, starting) has trained nothing.
    """
    before = float(status.get(EARLIER_SECONDS, earlier) or 0.0)
    started = status.get("started")
    if not started or status.get("phase") in (Phase.QUEUED, Phase.STARTING):
        return before
    end = now if running else (status.get("finished") or status.get("heartbeat") or started)
    return before + max(0.0, float(end) - float(started))


def failure_kind(status: dict[str, Any]) -> FailureKind | None:
    """What made a failed run fail; None for a run that did not fail.

    A failure recorded before the trainer named its kind is told by its error's exception name.
    """
    if status.get("state") != RunState.FAILED:
        return None
    with contextlib.suppress(ValueError):
        return FailureKind(status.get("failure"))
    error = str(status.get("error") or "")
    if error.startswith("DataError:"):
        return FailureKind.DATA
    if error.startswith("ValueError:"):
        return FailureKind.SETTINGS
    return FailureKind.OTHER


def resume_would_repeat_failure(status: dict[str, Any]) -> bool:
    """Whether resuming a failed run with its own settings would fail the same way."""
    return failure_kind(status) in REPEATED_ON_RESUME


def list_runs(root: Path | str) -> list[Run]:
    """Every run folder under ``root``, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = [Run(p) for p in root.iterdir() if p.is_dir() and Run(p).exists()]
    return sorted(runs, key=lambda r: r.read_status().get("created") or 0.0, reverse=True)


class StatusWriter:
    """The trainer's handle on status.json: one lock, one heartbeat thread, throttled progress.

    The heartbeat comes from a thread so that a long data decode or a slow batch never looks like
    a dead process; progress from the training loop is merged in at most every ``min_interval``.
    """

    def __init__(self, run: Run, *, min_interval: float = 0.5) -> None:
        self.run = run
        self.min_interval = min_interval
        self._status = run.read_status()
        self._lock = threading.Lock()
        self._last_write = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update(self, *, force: bool = True, **fields: Any) -> None:
        with self._lock:
            self._status.update(fields)
            now = time.time()
            if force or now - self._last_write >= self.min_interval:
                self._write(now)

    def _write(self, now: float) -> None:
        self._status["heartbeat"] = now
        write_json_atomic(self.run.path / STATUS_FILE, self._status)
        self._last_write = now

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with self._lock:
                self._write(time.time())

    def start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._beat, name="seattn-heartbeat", daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
