"""Background jobs: real detached processes on the generated image folder, a few seconds each.

Every test uses its own runs root (conftest sets SEATTN_RUNS_DIR per test) and, on the way out,
stops and if need be kills only the processes recorded in that root: never anything else.
"""

import json
import multiprocessing
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from seattn.cli.parser import build_parser, given_recipe
from seattn.training import overview
from seattn.training import queue as jobs
from seattn.training.launcher import JOB_NICENESS
from seattn.training.runfiles import HEARTBEAT_STALE_SECONDS, Run, RunState, list_runs
from seattn.training.spec import TrainSpec, spec_to_resume
from tests.helpers import launched_by, write_trainer_status

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

    jobs.resume(first, epochs=done + 1)
    assert wait_state(first, (RunState.COMPLETED, RunState.FAILED)) == RunState.COMPLETED, (
        first.log_tail()
    )
    assert f"resumed from the checkpoint of epoch {done}" in first.log_path.read_text()
    assert first.read_metrics()["epoch"].tolist() == list(range(1, done + 2))
    with pytest.raises(jobs.JobError, match="completed"):
        jobs.resume(first)


def test_a_queued_run_can_be_stopped_without_ever_starting(root, image_folder):
    run = jobs.start(tiny_spec(image_folder), max_jobs=0)
    assert run.state() == RunState.QUEUED and launched_by(run) == []
    jobs.stop(run)
    assert run.state() == RunState.STOPPED and launched_by(run) == []


def test_failed_run_records_its_error(root, tmp_path):
    (tmp_path / "one-class" / "only").mkdir(parents=True)  # a folder without images
    run = jobs.start(tiny_spec(tmp_path / "one-class"))
    assert wait_state(run, (RunState.FAILED, RunState.COMPLETED)) == RunState.FAILED
    assert "no images" in run.read_status()["error"]
    assert "no images" in run.log_tail()


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
