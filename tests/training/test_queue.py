"""Background jobs: real detached processes on the generated image folder, a few seconds each.

Every test uses its own runs root (conftest sets SEATTN_RUNS_DIR per test) and, on the way out,
stops and if need be kills only the processes recorded in that root: never anything else.
"""

import http.server
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from seattn.cli.parser import build_parser, given_recipe
from seattn.data import datasets
from seattn.data.datasets import DataAvailability, DataCheck
from seattn.training import overview
from seattn.training import queue as jobs
from seattn.training.launcher import JOB_NICENESS
from seattn.training.runfiles import (
    HEARTBEAT_STALE_SECONDS,
    FailureKind,
    Run,
    RunState,
    failure_kind,
    list_runs,
    resume_would_repeat_failure,
)
from seattn.training.spec import TrainSpec, spec_to_resume
from tests.helpers import launched_by, write_queue_job, write_trainer_status

WAIT_SECONDS = 90.0  # a job's Python + torch start takes seconds when the cores are shared


def tiny_spec(folder, **overrides):
    settings = dict(data=str(folder), reduction_ratio=4, epochs=2, batch_size=16, threads=1)
    settings.update(overrides)
    return TrainSpec(**settings)


def wait_for(predicate, timeout=WAIT_SECONDS, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def wait_state(run, states, timeout=WAIT_SECONDS):
    states = (states,) if isinstance(states, str) else states
    wait_for(lambda: run.state() in states, timeout, f"{run.name} to be {states}")
    return run.state()


def test_a_spec_travels_through_job_json_and_the_cli_unchanged(tmp_path):
    spec = TrainSpec(
        data=str(tmp_path),
        reduction_ratio=None,
        epochs=3,
        batch_size=16,
        lr=0.0005,
        seed=7,
        augment=False,
        optimizer="sgd-cosine",
        limit=50,
        threads=1,
    )
    # The queue stores the spec in job.json and its launcher trains exactly what it reads back.
    assert TrainSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    # On the command line every option is given, so none comes from the saved run.
    args = build_parser().parse_args(
        ["train", "--data", str(tmp_path), "--ratio", "none", "--epochs", "3"]
        + ["--batch-size", "16", "--lr", "0.0005", "--seed", "7", "--no-augment"]
        + ["--optimizer", "sgd-cosine", "--limit", "50", "--threads", "1"]
        + ["--run-dir", str(tmp_path / "r"), "--resume", "--quiet"]
    )
    assert args.resume and args.quiet and args.threads == 1 and args.run_dir == tmp_path / "r"
    saved = {
        "data": "elsewhere",
        "reduction_ratio": 4,
        "epochs": 99,
        "augment": True,
        "optimizer": "adam-plateau",
    }
    given = {**given_recipe(args), "threads": args.threads, "device": args.device}
    assert spec_to_resume(saved, **given) == spec
    # config.json carries every field of the spec (execution settled), plus more besides
    config = {**spec.to_dict(), "classes": ["a"], "bf16": True, "device": "cpu", "threads": 1}
    assert TrainSpec.from_dict(config).identity() == spec.identity()


def test_child_environment_finds_the_package_and_waits_passively(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    env = jobs.job_environment()
    assert env["PYTHONPATH"].split(os.pathsep) == [str(jobs.PROJECT_ROOT), "/elsewhere"]
    assert (jobs.PROJECT_ROOT / "seattn" / "__main__.py").exists()
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"


def test_bad_requests_are_refused_before_anything_is_written(tmp_path, root, image_folder):
    with pytest.raises(jobs.JobError, match="no such folder"):
        jobs.start(tiny_spec(tmp_path / "missing"))
    with pytest.raises(ValueError, match="epochs"):
        jobs.start(tiny_spec(image_folder, epochs=0))
    with pytest.raises(jobs.JobError, match="run name"):
        jobs.start(tiny_spec(image_folder), name="../escape")
    assert list_runs(root) == []
    assert overview.runs_table(root).empty


def test_a_job_runs_detached_and_completes(root, image_folder):
    run = jobs.start(tiny_spec(image_folder))
    status = run.read_status()
    assert run.path.parent == root and status["state"] == RunState.RUNNING
    # the recorded pid is a process of its own session: it outlives the page that started it
    assert os.getsid(status["launcher_pid"]) == status["launcher_pid"] != os.getsid(0)
    assert wait_state(run, (RunState.COMPLETED, RunState.FAILED)) == RunState.COMPLETED, (
        run.log_tail()
    )
    row = overview.runs_table(root).iloc[0]
    assert (row["run"], row["state"], row["model"], row["optimizer"], row["augment"]) == (
        run.name,
        RunState.COMPLETED,
        "r=4",
        "adam-plateau",
        "course",
    )
    assert (row["epochs done"], row["epochs"], row["progress"]) == (2, 2, 1.0)
    assert row["data"].endswith(image_folder.name) and row["path"] == str(run.path)
    assert 0 <= row["best val accuracy"] <= 1 and row["training seconds"] > 0
    assert row["started"] is not None
    assert "completed" in run.log_tail()
    assert not jobs.has_active_jobs(root)


def test_queue_starts_the_next_run_when_one_stops_then_resume_continues(
    root, image_folder, monkeypatch
):
    monkeypatch.setenv("SEATTN_MAX_JOBS", "1")  # inherited by the launchers, which schedule too
    first = jobs.start(tiny_spec(image_folder, epochs=300))
    second = jobs.start(tiny_spec(image_folder, epochs=1, seed=1))
    assert second.read_status()["state"] == RunState.QUEUED and jobs.queue_position(second) == 1
    assert jobs.schedule(root) == []  # the only slot is taken
    wait_for(lambda: len(first.read_metrics()) >= 1, what="the first epoch")
    # the trainer runs niced, so the dashboard keeps its cores when both want them
    trainer_nice = os.getpriority(os.PRIO_PROCESS, first.read_status()["pid"])
    assert trainer_nice == min(19, os.getpriority(os.PRIO_PROCESS, 0) + JOB_NICENESS)
    jobs.stop(first)
    assert wait_state(first, RunState.STOPPED) == RunState.STOPPED
    # Nobody polls here: the stopped job's launcher starts the queued one.
    assert wait_state(second, (RunState.COMPLETED, RunState.FAILED)) == RunState.COMPLETED, (
        second.log_tail()
    )
    done = len(first.read_metrics())
    assert first.checkpoint_path.exists() and done >= 1
    stopped_seconds = overview.run_summary(first)["training seconds"]

    jobs.resume(first, epochs=done + 1)
    # Never reset by the resume: queued, starting and training again, the first session counts.
    assert overview.run_summary(first)["training seconds"] >= stopped_seconds
    assert wait_state(first, (RunState.COMPLETED, RunState.FAILED)) == RunState.COMPLETED, (
        first.log_tail()
    )
    assert first.read_status()["earlier_seconds"] == pytest.approx(stopped_seconds)
    resumed_epoch = first.read_metrics()["epoch_seconds"].iloc[-1]
    assert overview.run_summary(first)["training seconds"] > stopped_seconds + resumed_epoch
    assert f"resumed from the checkpoint of epoch {done}" in first.log_path.read_text()
    assert first.read_metrics()["epoch"].tolist() == list(range(1, done + 2))
    with pytest.raises(jobs.JobError, match="completed"):
        jobs.resume(first)


def test_a_queued_run_can_be_stopped_without_ever_starting(root, image_folder):
    run = jobs.start(tiny_spec(image_folder), max_jobs=0)
    assert run.state() == RunState.QUEUED and launched_by(run) == []
    jobs.stop(run)
    assert run.state() == RunState.STOPPED and launched_by(run) == []


def test_failed_run_records_its_error_and_what_kind_of_failure_it_was(root, tmp_path):
    # A folder the quick check accepts (a class sub-folder holding a .png) whose images cannot be
    # read: the trainer fails on its data, and says so.
    (tmp_path / "broken" / "only").mkdir(parents=True)
    (tmp_path / "broken" / "only" / "0.png").write_bytes(b"not a picture")
    run = jobs.start(tiny_spec(tmp_path / "broken"))
    assert wait_state(run, (RunState.FAILED, RunState.COMPLETED)) == RunState.FAILED
    status = run.read_status()
    assert "cannot be read as an image" in status["error"]
    assert "cannot be read as an image" in run.log_tail()
    assert failure_kind(status) == FailureKind.DATA and resume_would_repeat_failure(status)
    recorded = DataCheck.from_record(status["data_check"])
    assert recorded.availability == DataAvailability.PRESENT  # there, but unreadable
    assert recorded.location == (tmp_path / "broken").resolve()


# -- is the data there? (checked before a run is queued) ----------------------------------------


def refusing_url() -> str:
    """The address of a port nobody listens on: connections are refused, as offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"


@pytest.fixture
def offline(monkeypatch):
    """CIFAR-10's download host made unreachable: the check probes a refusing port instead."""
    monkeypatch.setattr(datasets, "CIFAR10_URL", refusing_url())


def write_cifar10_batches(data_dir: Path) -> Path:
    """Files of the names torchvision's CIFAR-10 reads (their contents are checked on load)."""
    folder = data_dir / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]:
        (folder / name).write_bytes(b"")
    return folder


def refused_check(spec: TrainSpec) -> DataCheck:
    with pytest.raises(jobs.DataUnavailable) as refused:
        jobs.check_startable(spec)
    return refused.value.check


def test_a_folder_of_class_images_is_present_and_anything_less_is_refused(tmp_path, image_folder):
    assert jobs.check_startable(tiny_spec(image_folder)).availability == DataAvailability.PRESENT
    missing = refused_check(tiny_spec(tmp_path / "missing"))
    assert missing.availability == DataAvailability.NO_SUCH_FOLDER
    assert missing.location == tmp_path / "missing"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert refused_check(tiny_spec(empty)).availability == DataAvailability.NO_CLASS_IMAGES
    # Class sub-folders without images, and images without class sub-folders: neither trains.
    (empty / "cat").mkdir()
    (empty / "cat" / "notes.txt").write_text("no pictures here")
    assert refused_check(tiny_spec(empty)).availability == DataAvailability.NO_CLASS_IMAGES
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copyfile(image_folder / "circle" / "0000.png", flat / "0000.png")
    assert refused_check(tiny_spec(flat)).availability == DataAvailability.NO_CLASS_IMAGES
    # A folder split already needs images on both sides.
    split = tmp_path / "split"
    (split / "test" / "circle").mkdir(parents=True)
    (split / "train").symlink_to(image_folder)
    assert refused_check(tiny_spec(split)).availability == DataAvailability.NO_CLASS_IMAGES
    shutil.copyfile(image_folder / "circle" / "0001.png", split / "test" / "circle" / "0001.png")
    assert jobs.check_startable(tiny_spec(split)).availability == DataAvailability.PRESENT


def test_cifar10_is_present_when_its_batches_are_here_even_offline(tmp_path, offline):
    data_dir = tmp_path / "data"
    spec = TrainSpec(data="cifar10")
    started = time.monotonic()
    check = refused_check(spec)
    assert time.monotonic() - started < datasets.DOWNLOAD_PROBE_SECONDS + 1
    assert check.availability == DataAvailability.OFFLINE
    assert check.location == data_dir / "cifar-10-batches-py"
    assert "cannot be reached" in str(jobs.DataUnavailable(check))
    write_cifar10_batches(data_dir)
    assert jobs.check_startable(spec).availability == DataAvailability.PRESENT


def test_cifar10_offline_is_refused_before_a_run_folder_is_made(root, offline):
    with pytest.raises(jobs.DataUnavailable):
        jobs.start(TrainSpec(data="cifar10", epochs=1))
    assert list_runs(root) == []


class _AnswersHead(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):  # noqa: N802 (the name http.server calls)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_cifar10_absent_is_downloadable_when_its_host_answers(tmp_path, monkeypatch):
    server = http.server.HTTPServer(("127.0.0.1", 0), _AnswersHead)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/cifar-10-python.tar.gz"
        monkeypatch.setattr(datasets, "CIFAR10_URL", url)
        assert jobs.check_startable(TrainSpec()).availability == DataAvailability.DOWNLOADABLE
    finally:
        server.shutdown()
        server.server_close()
    # The answer is remembered for a while: the page does not probe the network on every press.
    assert datasets.download_reachable(url)


def test_a_host_that_never_answers_costs_the_probe_time_and_no_more():
    silent = socket.socket()  # listens, so connections are accepted, but never replies
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        started = time.monotonic()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        assert not datasets.download_reachable(url)
        assert time.monotonic() - started < datasets.DOWNLOAD_PROBE_SECONDS + 0.5
    finally:
        silent.close()


def fake_run(root: Path, name: str, status: dict, folder: Path) -> Run:
    run = Run(root / name)
    run.write_config(tiny_spec(folder).to_dict() | {"classes": ["a", "b", "c"]})
    write_trainer_status(run, {"created": time.time(), "started": time.time(), **status})
    return run


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_interrupted_run_can_be_resumed_with_its_own_arguments(root, image_folder):
    run = fake_run(
        root,
        "killed",
        {
            "state": RunState.RUNNING,
            "pid": dead_pid(),
            "host": os.uname()[1],
            "heartbeat": time.time(),
        },
        image_folder,
    )
    assert run.state() == RunState.INTERRUPTED
    stale = fake_run(
        root,
        "stale",
        {
            "state": RunState.RUNNING,
            "pid": os.getpid(),
            "host": "elsewhere",
            "heartbeat": time.time() - HEARTBEAT_STALE_SECONDS - 1,
        },
        image_folder,
    )
    assert stale.state() == RunState.INTERRUPTED
    jobs.resume(run, max_jobs=0)  # queue it without starting it
    assert run.state() == RunState.QUEUED
    job = run.read_job()
    assert job["resume"] is True and TrainSpec.from_dict(job["spec"]) == tiny_spec(image_folder)


def test_delete_refuses_a_running_run_and_removes_others(root, image_folder):
    live = fake_run(
        root,
        "live",
        {
            "state": RunState.RUNNING,
            "pid": os.getpid(),
            "host": os.uname()[1],
            "heartbeat": time.time(),
        },
        image_folder,
    )
    with pytest.raises(jobs.JobError, match="running"):
        jobs.delete(live)
    assert live.path.exists()
    # Stopping it must not signal this test's own process: its pid is not a job of that folder.
    jobs.stop(live)
    assert live.stop_requested()
    write_trainer_status(live, {"state": RunState.STOPPED})
    done = fake_run(root, "done", {"state": RunState.COMPLETED}, image_folder)
    jobs.delete(done)
    assert not done.path.exists()
    with pytest.raises(jobs.JobError):
        jobs.delete(Run(root / "never-was"))


def _start_in_process(folder: str, barrier, results) -> None:
    barrier.wait()
    try:
        run = jobs.start(tiny_spec(folder, epochs=300), name="same")
        results.put(("started", run.name))
    except jobs.JobError as error:
        results.put(("refused", str(error)))


def test_two_processes_pressing_start_at_once_get_one_job(root, image_folder):
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_start_in_process, args=(str(image_folder), barrier, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    outcomes = sorted(results.get(timeout=5)[0] for _ in workers)
    assert outcomes == ["refused", "started"]
    assert [run.name for run in list_runs(root)] == ["same"]
    assert len(launched_by(Run(root / "same"))) == 1


def test_two_threads_with_the_same_settings_get_one_job(root, image_folder):
    barrier, outcomes = threading.Barrier(2), []

    def press_start():
        barrier.wait()
        try:
            outcomes.append(jobs.start(tiny_spec(image_folder, epochs=300)))
        except jobs.JobError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=press_start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started = [o for o in outcomes if isinstance(o, Run)]
    refused = [o for o in outcomes if isinstance(o, jobs.JobError)]
    assert len(started) == 1 and len(refused) == 1
    assert "already" in str(refused[0])
    assert len(list_runs(root)) == 1 and len(launched_by(started[0])) == 1


def test_training_seconds_adds_earlier_sessions_to_this_one():
    status = {"started": 100.0, "finished": 130.0}
    config = {"created_from_resume_at_epoch": 2}
    assert (
        overview.training_seconds(status, config, [10.0, 12.0, 9.0], RunState.COMPLETED, 0) == 52.0
    )
    assert overview.training_seconds({"started": 100.0}, {}, [], RunState.RUNNING, 160.0) == 60.0
    assert overview.training_seconds({}, {}, [], RunState.QUEUED, 0) is None


def test_a_stopped_then_resumed_run_keeps_the_time_of_every_session(root, image_folder):
    from seattn.training.engine import earlier_sessions_seconds

    def shown_seconds(now):
        return overview.runs_table(root, now=now).set_index("run").loc["r", "training seconds"]

    # Session one: 1 min 56 s, two complete epochs, then stopped inside the third.
    first_start = time.time() - 1000
    run = fake_run(
        root,
        "r",
        {
            "state": RunState.STOPPED,
            "started": first_start,
            "finished": first_start + 116,
            "earlier_seconds": 0.0,
        },
        image_folder,
    )
    run.write_metrics([{"epoch": 1, "epoch_seconds": 50.0}, {"epoch": 2, "epoch_seconds": 50.0}])
    assert shown_seconds(time.time()) == pytest.approx(116)
    # Resumed: the queue's word (queued, then launched) keeps the first session's time.
    jobs.resume(run, max_jobs=0)
    assert run.state() == RunState.QUEUED and shown_seconds(time.time()) == pytest.approx(116)
    job = run.read_job()
    launched_at = time.time() - 100
    launched = {"state": "launched", "launcher_pid": os.getpid(), "launched_at": launched_at}
    write_queue_job(run, {**job, **launched, "updated": launched_at})
    assert shown_seconds(time.time()) == pytest.approx(116)
    # Session two's trainer carries the earlier sessions' time and adds its own as it runs.
    assert earlier_sessions_seconds(run) == pytest.approx(116)
    second_start = time.time() - 90
    beat = time.time()
    write_trainer_status(
        run,
        {
            "state": RunState.RUNNING,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "heartbeat": beat,
            "started": second_start,
            "earlier_seconds": 116.0,
            "phase": "training",
        },
    )
    assert shown_seconds(beat + 5) == pytest.approx(116 + (beat + 5 - second_start))
    # ... and at the end: 1 min 56 s + 65 s = 3 min 01 s.
    write_trainer_status(
        run,
        {
            "state": RunState.COMPLETED,
            "started": second_start,
            "finished": second_start + 65,
            "earlier_seconds": 116.0,
        },
    )
    assert shown_seconds(time.time()) == pytest.approx(181)
    # A third session would start from both.
    assert earlier_sessions_seconds(run) == pytest.approx(181)


def test_a_job_stopped_while_it_starts_ends_stopped_not_interrupted(root, image_folder):
    run = jobs.start(tiny_spec(image_folder, epochs=300))
    jobs.stop(run)  # the trainer has not even imported torch yet
    assert (
        wait_state(
            run, (RunState.STOPPED, RunState.FAILED, RunState.INTERRUPTED, RunState.COMPLETED)
        )
        == RunState.STOPPED
    )
    wait_for(lambda: not launched_by(run), what="the launcher to exit")
    assert len(run.read_metrics()) == 0
