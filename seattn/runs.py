"""The run folder: one directory per training run, written atomically, readable at any moment.

    config.json      everything needed to rebuild the model and repeat the run, plus versions
    status.json      state, pid, heartbeat, progress within the epoch, error text
    metrics.csv      one row per completed epoch
    excitation.json  per SE block and epoch: channel means and a histogram over a probe batch
    checkpoint.pt    the last complete epoch (see seattn.checkpoints)
    train.log        human-readable log
    stop.request     present when someone asked the run to stop

Every file is replaced in one step (temp file + os.replace), so a reader sees the old version or
the new one, never half of one. The trainer is the only writer of a run's files, except for
stop.request, which anyone may create.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
METRICS_FILE = "metrics.csv"
EXCITATION_FILE = "excitation.json"
CHECKPOINT_FILE = "checkpoint.pt"
LOG_FILE = "train.log"
STOP_FILE = "stop.request"

QUEUED, RUNNING, COMPLETED, STOPPED, FAILED = "queued", "running", "completed", "stopped", "failed"
# Never written: a reader's verdict on a "running" run whose process is gone.
INTERRUPTED = "interrupted"
ACTIVE_STATES = (QUEUED, RUNNING)
RESUMABLE_STATES = (STOPPED, FAILED, INTERRUPTED)

HEARTBEAT_SECONDS = 2.0
# A live trainer refreshes its heartbeat every HEARTBEAT_SECONDS from a thread of its own; ten
# missed beats means the process is gone (killed, machine restarted), not merely busy.
HEARTBEAT_STALE_SECONDS = 20.0


# mkstemp creates files only the owner can read; run files are meant to be shared like any other.
FILE_MODE = 0o644


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, FILE_MODE)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write to; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp_name)
        with open(tmp_name, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp_name, FILE_MODE)
        os.replace(tmp_name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)


def write_json_atomic(path: Path, payload: Any) -> None:
    write_bytes_atomic(path, json.dumps(payload, indent=2, sort_keys=True).encode())


def read_json(path: Path) -> dict[str, Any] | None:
    """The file's JSON object, or None when it does not exist (yet)."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None


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


class Run:
    """A view of one run folder. Cheap to create; every property reads the files afresh."""

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
        return (self.path / CONFIG_FILE).exists() or (self.path / STATUS_FILE).exists()

    # -- config -----------------------------------------------------------------------------
    def read_config(self) -> dict[str, Any]:
        return read_json(self.path / CONFIG_FILE) or {}

    def write_config(self, config: dict[str, Any]) -> None:
        write_json_atomic(self.path / CONFIG_FILE, config)

    # -- status -----------------------------------------------------------------------------
    def read_status(self) -> dict[str, Any]:
        return read_json(self.path / STATUS_FILE) or {}

    def write_status(self, status: dict[str, Any]) -> None:
        write_json_atomic(self.path / STATUS_FILE, status)

    def state(self, now: float | None = None) -> str:
        """The run's state as a reader should show it; a dead "running" run reads as interrupted."""
        status = self.read_status()
        return effective_state(status, now)

    # -- metrics ----------------------------------------------------------------------------
    def read_metrics(self) -> pd.DataFrame:
        try:
            return pd.read_csv(self.path / METRICS_FILE)
        except (FileNotFoundError, pd.errors.EmptyDataError):
            return pd.DataFrame()

    def write_metrics(self, rows: list[dict[str, Any]]) -> None:
        write_bytes_atomic(
            self.path / METRICS_FILE, pd.DataFrame(rows).to_csv(index=False).encode()
        )

    def read_excitation(self) -> dict[str, Any]:
        return read_json(self.path / EXCITATION_FILE) or {}

    def write_excitation(self, history: dict[str, Any]) -> None:
        write_json_atomic(self.path / EXCITATION_FILE, history)

    # -- stop requests ----------------------------------------------------------------------
    def request_stop(self) -> None:
        write_bytes_atomic(self.path / STOP_FILE, b"stop\n")

    def stop_requested(self) -> bool:
        return (self.path / STOP_FILE).exists()

    def clear_stop_request(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.path / STOP_FILE).unlink()

    # -- log --------------------------------------------------------------------------------
    def log(self, line: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {line}\n")

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def effective_state(status: dict[str, Any], now: float | None = None) -> str:
    state = status.get("state", QUEUED if status else "")
    if state != RUNNING:
        return state
    now = time.time() if now is None else now
    stale = now - float(status.get("heartbeat", 0.0)) > HEARTBEAT_STALE_SECONDS
    same_host = status.get("host") == socket.gethostname()
    dead = same_host and not pid_is_alive(status.get("pid"))
    return INTERRUPTED if stale or dead else RUNNING


def list_runs(root: Path | str) -> list[Run]:
    """Every run folder under ``root``, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = [Run(p) for p in root.iterdir() if p.is_dir() and Run(p).exists()]
    return sorted(runs, key=lambda r: r.read_status().get("created", 0.0), reverse=True)


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
        self.run.write_status(self._status)
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
