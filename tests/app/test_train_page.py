"""The Train page through Streamlit's AppTest, with real background jobs on generated images.

Every test has its own runs root (conftest); on the way out the jobs of that root are stopped,
and only launchers recorded in it are ever killed.
"""

import dataclasses
import json
import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from seattn.data import datasets
from seattn.training.engine import train
from seattn.training.runfiles import Run, RunState, list_runs
from seattn.training.spec import TrainSpec
from tests.helpers import (
    PROJECT_ROOT,
    button,
    launched_by,
    write_queue_job,
    write_trainer_status,
)

PAGE = str(PROJECT_ROOT / "pages" / "train.py")
WAIT_SECONDS = 90.0


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Every message, caption and code block on the page, as one string."""
    parts = []
    for kind in ("markdown", "caption", "info", "success", "warning", "error", "code"):
        parts += [str(element.value) for element in getattr(at, kind)]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    parts += [p.proto.text for p in at.get("progress")]
    return "\n".join(parts)


def shown_state(at: AppTest) -> str | None:
    badges = [m.value for m in at.markdown if "-badge[" in str(m.value)]
    return badges[0].split(" ", 1)[1].rstrip("]") if badges else None


def poll(at: AppTest, until, timeout: float = WAIT_SECONDS, what: str = "the page"):
    """Rerun the page (as its timer would) until ``until(at)`` holds; every text seen returned."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        seen.append(texts(at))
        if until(at):
            return seen
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; last page:\n{seen[-1] if seen else ''}")


def fill_form(
    at: AppTest,
    folder: Path,
    *,
    epochs: int,
    name: str | None = None,
    augment: str = "course",
    optimizer: str = "adam-plateau",
) -> None:
    at.radio(key="train_data").set_value("An image folder")
    at.text_input(key="train_folder").input(str(folder))
    at.selectbox(key="train_ratio").set_value(4)
    at.selectbox(key="train_augment").set_value(augment)
    at.selectbox(key="train_optimizer").set_value(optimizer)
    at.number_input(key="train_epochs").set_value(epochs)
    at.number_input(key="train_batch").set_value(16)
    if name:
        at.text_input(key="train_name").input(name)


def start_through_page(at: AppTest, folder: Path, **form) -> None:
    fill_form(at, folder, **form)
    button(at, "Start training").click()
    at.run()
    assert not at.exception, at.exception


def test_empty_page_invites_a_first_run(root):
    at = open_page()
    assert [title.value for title in at.title] == ["Train"]
    assert "No runs yet" in texts(at)
    (form,) = [e for e in at.expander if e.label == "Start a training run"]
    assert form.proto.expanded
    # The form starts from the training defaults (TrainSpec's), not numbers of its own.
    defaults = {field.name: field.default for field in dataclasses.fields(TrainSpec)}
    assert at.number_input(key="train_epochs").value == defaults["epochs"]
    assert at.number_input(key="train_batch").value == defaults["batch_size"]


def test_a_tiny_job_shows_progress_completes_and_shows_its_curves(root, image_folder):
    at = open_page()
    start_through_page(at, image_folder, epochs=3, augment="crop-flip", optimizer="sgd-cosine")
    assert "Started" in texts(at) and "keeps training if you close this tab" in texts(at)
    assert shown_state(at) == RunState.RUNNING
    seen = poll(
        at, lambda at: shown_state(at) in (RunState.COMPLETED, RunState.FAILED), what="completion"
    )
    assert shown_state(at) == RunState.COMPLETED, texts(at)
    running_views = [text for text in seen[:-1] if "of 3 epochs done" in text]
    assert running_views, "no progress was shown while the job ran"
    assert "3 of 3 epochs done" in texts(at) and "Epochs done: 3 / 3" in texts(at)
    charts = {chart.key: chart.proto.spec for chart in at.get("plotly_chart")}
    assert '"name":"validation"' in charts["train_curves"]
    assert '"type":"heatmap"' in charts["train_channels"]
    assert '"type":"heatmap"' in charts["train_hists"]
    (table,) = [d.value for d in at.dataframe if "recipe" in d.value.columns]
    assert table["state"].tolist() == [RunState.COMPLETED] and table["epochs"].tolist() == ["3/3"]
    assert table["recipe"].tolist() == ["SGD + cosine, crop-flip augmentation"]
    (run,) = list_runs(root)
    config = run.read_config()
    assert config["recipe"]["augment"] == "crop-flip" and config["optimizer"] == "sgd-cosine"
    assert config["lr"] == 0.05  # the rate box left empty: SGD's own


def test_stop_and_resume_through_the_page(root, image_folder):
    at = open_page()
    start_through_page(at, image_folder, epochs=300)
    poll(
        at,
        # Epochs of this tiny set take a fraction of a second: any finished epoch will do.
        lambda at: re.search(r"Epochs done: [1-9]\d* / 300", texts(at)) is not None,
        what="the first epoch",
    )
    button(at, "Stop").click()
    at.run()
    assert "Asked" in texts(at)
    poll(at, lambda at: shown_state(at) == RunState.STOPPED, what="the stop")
    run = list_runs(root)[0]
    done = len(run.read_metrics())
    assert run.state() == RunState.STOPPED and done >= 1
    button(at, "Resume").click()
    at.run()
    assert "Resuming" in texts(at)
    poll(
        at,
        lambda at: f"resumed from the checkpoint of epoch {done}" in texts(at),
        what="the resumed job's log",
    )
    assert run.state() == RunState.RUNNING
    button(at, "Stop").click()
    at.run()
    poll(at, lambda at: shown_state(at) == RunState.STOPPED, what="the second stop")


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_an_interrupted_run_shows_as_interrupted_and_resumes(root, image_folder, tmp_path):
    run_dir = root / "killed"
    config = TrainSpec(data=str(image_folder), reduction_ratio=4, epochs=1, batch_size=16)
    train(config, run_dir, data_dir=tmp_path / "data")
    run = Run(run_dir)
    status = run.read_status()
    status.update(
        state=RunState.RUNNING, pid=dead_pid(), heartbeat=time.time() - 3600, phase="training"
    )
    write_trainer_status(run, status)

    at = open_page()
    assert shown_state(at) == RunState.INTERRUPTED
    assert "process is gone" in texts(at) and "last complete epoch (1)" in texts(at)
    button(at, "Resume").click()
    at.run()
    poll(
        at,
        lambda at: shown_state(at) in (RunState.COMPLETED, RunState.FAILED),
        what="the resumed run",
    )
    assert shown_state(at) == RunState.COMPLETED, texts(at)
    assert "resumed from the checkpoint of epoch 1" in run.log_path.read_text()


def fake_run(root: Path, name: str, status: dict, log: str = "") -> Run:
    run = Run(root / name)
    run.write_config({"data": "cifar10", "reduction_ratio": 8, "epochs": 5, "batch_size": 128})
    if status.get("state") == RunState.QUEUED:  # the queue's word, in the queue's file
        write_queue_job(run, {"created": time.time(), **status})
    else:
        write_trainer_status(run, {"created": time.time(), "epochs": 5, **status})
    if log:
        run.log_path.write_text(log)
    return run


ERROR_DETAILS = "The error in full, and the end of the log"


def test_a_failed_run_shows_its_cause_in_a_sentence_and_its_log_folded_away(root):
    log = "\n".join(f"line {i}" for i in range(40)) + "\nRuntimeError: out of memory\n"
    fake_run(
        root, "broken", {"state": RunState.FAILED, "error": "RuntimeError: out of memory"}, log
    )
    at = open_page()
    assert shown_state(at) == RunState.FAILED
    assert [e.value for e in at.error] == ["Training failed: out of memory"]
    (details,) = [e for e in at.expander if e.label == ERROR_DETAILS]
    (tail,) = [c.value for c in details.code]
    assert "line 39" in tail and "line 5\n" not in tail and "out of memory" in tail
    # A failure a resume may get past (not the data, not the settings): Resume is offered.
    assert [b.label for b in at.button if b.label in ("Resume", "Edit and start again")] == [
        "Resume"
    ]


def refusing_url() -> str:
    """The address of a port nobody listens on: connections are refused, as offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"


@pytest.fixture
def offline_without_cifar10(monkeypatch, tmp_path):
    """A newcomer's machine: no SEATTN_DATA, an empty data folder, CIFAR-10's host unreachable."""
    monkeypatch.delenv("SEATTN_DATA", raising=False)
    data_dir = tmp_path / "empty-data"
    data_dir.mkdir()
    monkeypatch.setenv("SEATTN_DATA_DIR", str(data_dir))
    monkeypatch.setattr(datasets, "CIFAR10_URL", refusing_url())
    return data_dir


OFFLINE_CAUSE = "CIFAR-10 is not on this machine and cannot be downloaded (offline)"
CHOOSE_A_FOLDER = "Choose 'An image folder' in the Data box"


def test_start_with_cifar10_offline_queues_nothing_and_says_what_to_do(
    root, offline_without_cifar10
):
    at = open_page()
    assert at.radio(key="train_data").value == "CIFAR-10"  # the default
    assert any("Each run trains on 1 CPU thread" in c.value for c in at.caption)
    button(at, "Start training").click()
    at.run()
    assert not at.exception, at.exception
    assert list_runs(root) == [] and "No runs yet" in texts(at)
    (problem,) = [e.value for e in at.error]
    assert problem.startswith(OFFLINE_CAUSE) and CHOOSE_A_FOLDER in problem
    assert "--data" not in problem  # no command-line flag for someone in a browser


def test_a_run_that_failed_on_its_data_is_edited_and_started_again_not_resumed(
    root, offline_without_cifar10, image_folder
):
    error = (
        "DataError: CIFAR-10 is not in /data/cifar-10-batches-py (download failed: <urlopen "
        "error [Errno -2] Name or service not known>). Connect to the internet once, or train "
        "on a folder of class sub-folders with --data PATH."
    )
    log = f'Traceback (most recent call last):\n  File "engine.py", line 1, in train\n{error}\n'
    check = {
        "data": "cifar10",
        "availability": "offline",
        "location": str(offline_without_cifar10 / "cifar-10-batches-py"),
    }
    status = {"state": RunState.FAILED, "error": error, "failure": "data", "data_check": check}
    fake_run(root, "no-data", status, log)
    at = open_page()
    assert shown_state(at) == RunState.FAILED
    # One sentence; the traceback only where it is asked for.
    assert [e.value for e in at.error] == [f"Training failed because {OFFLINE_CAUSE}."]
    assert not any("Traceback" in str(e.value) for e in (*at.error, *at.caption, *at.markdown))
    (details,) = [e for e in at.expander if e.label == ERROR_DETAILS]
    assert any("Traceback" in c.value for c in details.code)
    labels = [b.label for b in at.button]
    assert "Resume" not in labels and "Edit and start again" in labels
    assert any(CHOOSE_A_FOLDER.lower() in c.value.lower() for c in at.caption)

    button(at, "Edit and start again").click()
    at.run()
    assert not at.exception, at.exception
    (form,) = [e for e in at.expander if e.label == "Start a training run"]
    assert form.proto.expanded
    # The form holds the failed run's settings (fake_run's config), and says what to change.
    assert at.radio(key="train_data").value == "CIFAR-10"
    assert at.selectbox(key="train_ratio").value == 8
    assert at.number_input(key="train_epochs").value == 5
    assert at.number_input(key="train_batch").value == 128
    (note,) = [i.value for i in at.info if "settings of no-data" in i.value]
    assert CHOOSE_A_FOLDER in note
    # Changing what failed starts a new run; the failed one keeps its name and log.
    at.radio(key="train_data").set_value("An image folder")
    at.text_input(key="train_folder").input(str(image_folder))
    at.number_input(key="train_epochs").set_value(1)
    at.number_input(key="train_batch").set_value(16)
    button(at, "Start training").click()
    at.run()
    assert not at.exception, at.exception
    assert "Started" in texts(at), texts(at)
    assert (
        sorted(run.name for run in list_runs(root))[-1] == "no-data" and len(list_runs(root)) == 2
    )
    assert not [i for i in at.info if "settings of no-data" in i.value]


@pytest.fixture
def slot_taken(root: Path, monkeypatch: pytest.MonkeyPatch):
    """One job slot, held by a live process that stands in for a trainer: new runs must queue."""
    monkeypatch.setenv("SEATTN_MAX_JOBS", "1")
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        fake_run(
            root,
            "busy",
            {
                "state": RunState.RUNNING,
                "pid": sleeper.pid,
                "host": os.uname()[1],
                "heartbeat": time.time(),
                "phase": "training",
            },
        )
        yield
    finally:
        write_trainer_status(Run(root / "busy"), {"state": RunState.STOPPED})
        sleeper.kill()
        sleeper.wait()


def test_runs_table_labels_its_columns_and_sums_a_resumed_runs_sessions(root, slot_taken):
    # Stopped after 1 min 56 s, then resumed and waiting in the queue: still 1 min 56 s.
    run = fake_run(
        root,
        "resumed",
        {
            "state": RunState.STOPPED,
            "started": time.time() - 500,
            "finished": time.time() - 384,
            "earlier_seconds": 0.0,
        },
    )
    spec = run.read_config()
    write_queue_job(run, {"state": "queued", "spec": spec, "queued_at": time.time()})
    at = open_page()
    (table,) = [d for d in at.dataframe if "recipe" in d.value.columns]
    shown = table.value.set_index("run")
    assert shown.loc["resumed", "state"] == RunState.QUEUED
    assert shown.loc["resumed", "duration"] == "1 min 56 s"
    assert shown.loc["resumed", "best"] == "—"  # no epoch done: a dash, not "None"
    columns = json.loads(table.proto.columns)
    shown_columns = {name: c for name, c in columns.items() if not c.get("hidden")}
    assert len(shown_columns) == 9
    assert shown_columns["duration"]["label"] == "Trained for"
    assert shown_columns["best"]["label"] == "Best acc."
    # Every shown column has room for what it holds: none left to the default width.
    assert all(isinstance(column.get("width"), int) for column in shown_columns.values())


def test_queued_runs_wait_their_turn_and_can_be_cancelled(root, slot_taken):
    fake_run(root, "waiting", {"state": RunState.QUEUED, "queued_at": time.time()})
    at = open_page()
    at.selectbox(key="train_pick").set_value("waiting").run()
    assert shown_state(at) == RunState.QUEUED
    assert "number 1 in the queue" in texts(at) and "at most 1 runs" in texts(at)
    button(at, "Stop").click()
    at.run()
    assert Run(root / "waiting").state() == RunState.STOPPED and shown_state(at) == RunState.STOPPED
    assert [b.label for b in at.button if b.label == "Resume"] == ["Resume"]


def test_delete_asks_first(root):
    run = fake_run(root, "old", {"state": RunState.COMPLETED, "phase": "completed"})
    at = open_page()
    button(at, "Delete…").click()
    at.run()
    assert any("cannot be undone" in w.value for w in at.warning) and run.path.exists()
    button(at, "Cancel").click()
    at.run()
    assert not at.warning and run.path.exists()
    button(at, "Delete…").click()
    at.run()
    button(at, "Yes, delete").click()
    at.run()
    assert not run.path.exists()
    assert "Deleted old" in texts(at) and "No runs yet" in texts(at)


def test_polling_runs_only_while_a_job_is_active(root, monkeypatch):
    intervals = []
    real_fragment = streamlit.fragment

    def spy(func=None, *, run_every=None, **kwargs):
        intervals.append(run_every)
        return real_fragment(func, run_every=run_every, **kwargs)

    monkeypatch.setattr(streamlit, "fragment", spy)
    run = fake_run(root, "done", {"state": RunState.COMPLETED})
    open_page()
    assert intervals[-1] is None
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        write_trainer_status(
            run,
            {
                "state": RunState.RUNNING,
                "pid": sleeper.pid,
                "host": os.uname()[1],
                "heartbeat": time.time(),
                "epochs": 5,
            },
        )
        open_page()
        assert 1 <= intervals[-1] <= 2
    finally:
        write_trainer_status(run, {"state": RunState.STOPPED})
        sleeper.kill()
        sleeper.wait()


def test_two_sessions_pressing_start_at_once_get_one_run(root, image_folder, monkeypatch):
    # CPython 3.11.7 can fail when two threads compile at the same moment ("AST constructor
    # recursion depth mismatch", python/cpython#106905). Only the compiling of the page scripts
    # is serialised here; the two Start presses, which are what this test is about, still race.
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    compile_lock = threading.Lock()
    get_bytecode = ScriptCache.get_bytecode

    def serialised_get_bytecode(self, script_path):
        with compile_lock:
            return get_bytecode(self, script_path)

    monkeypatch.setattr(ScriptCache, "get_bytecode", serialised_get_bytecode)
    sessions = [open_page(), open_page()]
    for at in sessions:
        fill_form(at, image_folder, epochs=300)
        button(at, "Start training")  # exists
    barrier = threading.Barrier(2)

    def press(at):
        barrier.wait()
        button(at, "Start training").click()
        at.run()

    threads = [threading.Thread(target=press, args=(at,)) for at in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    messages = [texts(at) for at in sessions]
    assert sum("Started" in m for m in messages) == 1, messages
    assert (
        sum(
            "already running" in m or "already queued" in m or "exists already" in m
            for m in messages
        )
        == 1
    ), messages
    runs = list_runs(root)
    assert len(runs) == 1
    assert len(launched_by(runs[0])) == 1


def test_open_in_explore_hands_the_checkpoint_to_the_explore_page(root, image_folder, tmp_path):
    config = TrainSpec(data=str(image_folder), reduction_ratio=4, epochs=1, batch_size=16)
    train(config, root / "trained", data_dir=tmp_path / "data")
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=60)
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    button(at, "Open in Explore").click()
    at.run()
    assert not [b for b in at.button if b.label == "Open in Explore"]  # we left the Train page
    assert at.session_state["seattn_model_key"] == "run:trained"  # the picker shows this run
    assert [title.value for title in at.title] == ["Explore"]


def test_the_form_gives_the_chosen_attention_and_a_ratio_only_where_it_has_one(
    root, image_folder, monkeypatch
):
    from seattn.training import queue

    asked = []

    def fake_start(spec, *, root, name=None, max_jobs=None):
        asked.append(spec)
        raise queue.JobError("not started in this test")

    monkeypatch.setattr(queue, "start", fake_start)
    at = open_page()
    assert at.selectbox(key="train_attention").value == "se"  # SE at r=16, as before
    assert at.selectbox(key="train_ratio").value == 16
    assert at.selectbox(key="train_attention").options == [
        "SE (Squeeze-and-Excitation)",
        "ECA (Efficient Channel Attention)",
        "CBAM (channel and spatial attention)",
        "No attention (baseline)",
    ]
    for attention in ("eca", "cbam", "none", "se"):
        fill_form(at, image_folder, epochs=2)  # the ratio box says 4
        at.selectbox(key="train_attention").set_value(attention)
        button(at, "Start training").click()
        at.run()
        assert not at.exception, at.exception
        assert [e.value for e in at.error] == ["not started in this test"]
    assert [(spec.attention_kind, spec.reduction_ratio) for spec in asked] == [
        ("eca", None),  # ECA has no ratio: the box's 4 is ignored
        ("cbam", 4),
        ("none", None),
        ("se", 4),
    ]
    assert all(spec.epochs == 2 and spec.batch_size == 16 for spec in asked)
