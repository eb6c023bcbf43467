import json
import os
import socket
import threading
import time

import pandas as pd
import pytest

from seattn.atomic import write_json_atomic
from seattn.training.runfiles import (
    HEARTBEAT_STALE_SECONDS,
    FailureKind,
    Run,
    RunState,
    StatusWriter,
    failure_kind,
    list_runs,
    resume_would_repeat_failure,
    seconds_trained,
)
from tests.helpers import write_queue_job, write_trainer_status


def test_atomic_write_replaces_whole_file_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "a.json"
    write_json_atomic(target, {"x": 1})
    write_json_atomic(target, {"x": 2})
    assert json.loads(target.read_text()) == {"x": 2}
    assert os.listdir(tmp_path) == ["a.json"]


def test_failed_atomic_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "a.json"
    write_json_atomic(target, {"x": 1})

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        write_json_atomic(target, {"x": Unserialisable()})
    assert json.loads(target.read_text()) == {"x": 1}
    assert os.listdir(tmp_path) == ["a.json"]


def test_reader_never_sees_a_half_written_file(tmp_path):
    target = tmp_path / "big.json"
    payloads = [{"n": i, "pad": "x" * 200_000} for i in range(2)]
    write_json_atomic(target, payloads[0])
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            write_json_atomic(target, payloads[i % 2])
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(300):
            assert json.loads(target.read_text())["n"] in (0, 1)
    finally:
        stop.set()
        thread.join()


def test_metrics_round_trip_through_pandas(tmp_path):
    run = Run(tmp_path / "r")
    rows = [{"epoch": 1, "val_accuracy": 0.5}, {"epoch": 2, "val_accuracy": 0.625}]
    run.write_metrics(rows)
    frame = run.read_metrics()
    pd.testing.assert_frame_equal(frame, pd.DataFrame(rows))
    assert Run(tmp_path / "missing").read_metrics().empty


def test_running_state_with_stale_heartbeat_or_dead_pid_reads_as_interrupted(tmp_path):
    run = Run(tmp_path / "r")
    write_trainer_status(
        run, {"state": RunState.RUNNING, "pid": os.getpid(), "heartbeat": time.time()}
    )
    assert run.state() == RunState.RUNNING
    write_trainer_status(
        run, {"state": RunState.RUNNING, "pid": os.getpid(), "heartbeat": time.time() - 1}
    )
    assert run.state(now=time.time() + HEARTBEAT_STALE_SECONDS + 5) == RunState.INTERRUPTED
    dead_pid = 2**22 + 12345  # above the default pid_max, never a live process
    write_trainer_status(
        run,
        {
            "state": RunState.RUNNING,
            "pid": dead_pid,
            "host": socket.gethostname(),
            "heartbeat": time.time(),
        },
    )
    assert run.state() == RunState.INTERRUPTED
    write_trainer_status(run, {"state": RunState.COMPLETED, "pid": dead_pid, "heartbeat": 0})
    assert run.state() == RunState.COMPLETED


def test_status_writer_heartbeat_advances_from_its_thread(tmp_path, monkeypatch):
    monkeypatch.setattr("seattn.training.runfiles.HEARTBEAT_SECONDS", 0.05)
    run = Run(tmp_path / "r")
    writer = StatusWriter(run)
    writer.update(state=RunState.RUNNING)
    first = run.read_status()["heartbeat"]
    writer.start_heartbeat()
    time.sleep(0.3)
    writer.stop_heartbeat()
    assert run.read_status()["heartbeat"] > first
    assert run.read_status()["state"] == RunState.RUNNING


def test_status_writer_throttles_unforced_updates(tmp_path):
    run = Run(tmp_path / "r")
    writer = StatusWriter(run, min_interval=10.0)
    writer.update(batch=1)
    writer.update(force=False, batch=2)
    assert run.read_status()["batch"] == 1
    writer.update(batch=3)
    assert run.read_status()["batch"] == 3


def test_stop_request_and_listing(tmp_path):
    older, newer = Run(tmp_path / "a"), Run(tmp_path / "b")
    write_trainer_status(older, {"state": RunState.COMPLETED, "created": 1.0})
    write_trainer_status(newer, {"state": RunState.COMPLETED, "created": 2.0})
    (tmp_path / "not-a-run").mkdir()
    assert list_runs(tmp_path) == [newer, older]
    assert not older.stop_requested()
    older.request_stop()
    assert older.stop_requested()
    older.clear_stop_request()
    assert not older.stop_requested()
    assert list_runs(tmp_path / "absent") == []


def test_the_newer_of_the_trainers_status_and_the_queues_job_speaks(tmp_path):
    run = Run(tmp_path / "r")
    # A command-line run: no job.json, the trainer's status is the run's.
    write_trainer_status(run, {"state": RunState.STOPPED, "started": 100.0, "epoch": 3})
    assert run.state() == RunState.STOPPED
    # Queued again after it stopped: the queue spoke last, the last attempt's progress is kept.
    queued = {"state": "queued", "created": 50.0, "spec": {"epochs": 9}, "updated": 200.0}
    write_queue_job(run, queued)
    status = run.read_status()
    assert (run.state(), status["phase"], status["epoch"], status["epochs"]) == (
        RunState.QUEUED,
        "queued",
        3,
        9,
    )
    assert status["created"] == 50.0
    # Launched: running (starting) under the launcher's pid until the trainer takes over.
    write_queue_job(
        run,
        {
            "state": "launched",
            "launcher_pid": os.getpid(),
            "host": socket.gethostname(),
            "launched_at": time.time(),
            "created": 50.0,
        },
    )
    assert (run.state(), run.read_status()["phase"]) == (RunState.RUNNING, "starting")
    # The trainer started after the queue's last word: its status speaks, with the queue's facts.
    write_trainer_status(
        run,
        {
            "state": RunState.RUNNING,
            "phase": "training",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "heartbeat": time.time(),
            "started": time.time() + 1,
        },
    )
    assert run.read_status()["phase"] == "training" and run.read_status()["created"] == 50.0
    # Stopped while it waited, or ended before the trainer took over: the queue's verdict.
    write_trainer_status(run, {"state": RunState.STOPPED, "started": 100.0})
    write_queue_job(run, {"state": "cancelled"})
    assert (run.state(), run.read_status()["phase"]) == (
        RunState.STOPPED,
        "stopped before it started",
    )
    write_queue_job(run, {"state": "ended", "ended_as": "failed", "error": "exit 1"})
    assert (run.state(), run.read_status()["error"]) == (RunState.FAILED, "exit 1")


def test_seconds_trained_sums_the_sessions_and_counts_none_the_queue_holds():
    session = {"started": 100.0, "finished": 130.0, "earlier_seconds": 50.0}
    assert seconds_trained(session, running=False, now=999.0) == 80.0
    # Running: up to now; dead (not running), up to its last heartbeat.
    live = {"started": 100.0, "heartbeat": 140.0, "earlier_seconds": 50.0}
    assert seconds_trained(live, running=True, now=160.0) == 110.0
    assert seconds_trained(live, running=False, now=160.0) == 90.0
    # Queued or still starting: only the sessions before, however long the wait.
    for phase in ("queued", "starting"):
        waiting = {"started": 100.0, "phase": phase, "earlier_seconds": 50.0}
        assert seconds_trained(waiting, running=True, now=1000.0) == 50.0
    # A status from before sessions were summed gets its earlier sessions from the caller.
    assert (
        seconds_trained({"started": 100.0, "finished": 130.0}, running=False, now=0, earlier=7)
        == 37
    )


def test_a_resumed_run_waiting_in_the_queue_carries_the_time_of_its_ended_sessions(tmp_path):
    run = Run(tmp_path / "r")
    write_trainer_status(
        run,
        {"state": RunState.STOPPED, "started": 100.0, "finished": 216.0, "earlier_seconds": 4.0},
    )
    write_queue_job(run, {"state": "queued", "spec": {"epochs": 9}, "updated": 300.0})
    assert run.read_status()["earlier_seconds"] == 120.0
    # A first run in the queue has trained nothing yet.
    fresh = Run(tmp_path / "fresh")
    write_queue_job(fresh, {"state": "queued", "spec": {"epochs": 9}})
    assert fresh.read_status()["earlier_seconds"] == 0.0


def test_failure_kind_names_what_a_resume_would_repeat():
    def failed(**fields):
        return {"state": RunState.FAILED, **fields}

    assert failure_kind(failed(failure="data", error="DataError: x")) == FailureKind.DATA
    assert failure_kind(failed(failure="other", error="DataError: x")) == FailureKind.OTHER
    # Recorded before the trainer named the kind: told by the exception's name.
    assert failure_kind(failed(error="DataError: no images")) == FailureKind.DATA
    assert failure_kind(failed(error="ValueError: cannot resume with")) == FailureKind.SETTINGS
    assert failure_kind(failed(error="RuntimeError: out of memory")) == FailureKind.OTHER
    assert failure_kind(failed()) == FailureKind.OTHER
    assert failure_kind({"state": RunState.STOPPED, "failure": "data"}) is None
    assert resume_would_repeat_failure(failed(failure="data"))
    assert resume_would_repeat_failure(failed(failure="settings"))
    assert not resume_would_repeat_failure(failed(failure="other"))
    assert not resume_would_repeat_failure({"state": RunState.STOPPED})
