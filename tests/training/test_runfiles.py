import json
import os
import threading
import time

import pandas as pd
import pytest

from seattn.runs import (
    COMPLETED,
    HEARTBEAT_STALE_SECONDS,
    INTERRUPTED,
    RUNNING,
    Run,
    StatusWriter,
    list_runs,
    write_json_atomic,
)


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
    run.write_status({"state": RUNNING, "pid": os.getpid(), "heartbeat": time.time()})
    assert run.state() == RUNNING
    run.write_status({"state": RUNNING, "pid": os.getpid(), "heartbeat": time.time() - 1})
    assert run.state(now=time.time() + HEARTBEAT_STALE_SECONDS + 5) == INTERRUPTED
    import socket

    dead_pid = 2**22 + 12345  # above the default pid_max, never a live process
    run.write_status(
        {"state": RUNNING, "pid": dead_pid, "host": socket.gethostname(), "heartbeat": time.time()}
    )
    assert run.state() == INTERRUPTED
    run.write_status({"state": COMPLETED, "pid": dead_pid, "heartbeat": 0})
    assert run.state() == COMPLETED


def test_status_writer_heartbeat_advances_from_its_thread(tmp_path, monkeypatch):
    monkeypatch.setattr("seattn.runs.HEARTBEAT_SECONDS", 0.05)
    run = Run(tmp_path / "r")
    writer = StatusWriter(run)
    writer.update(state=RUNNING)
    first = run.read_status()["heartbeat"]
    writer.start_heartbeat()
    time.sleep(0.3)
    writer.stop_heartbeat()
    assert run.read_status()["heartbeat"] > first
    assert run.read_status()["state"] == RUNNING


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
    older.write_status({"state": COMPLETED, "created": 1.0})
    newer.write_status({"state": COMPLETED, "created": 2.0})
    (tmp_path / "not-a-run").mkdir()
    assert list_runs(tmp_path) == [newer, older]
    assert not older.stop_requested()
    older.request_stop()
    assert older.stop_requested()
    older.clear_stop_request()
    assert not older.stop_requested()
    assert list_runs(tmp_path / "absent") == []
