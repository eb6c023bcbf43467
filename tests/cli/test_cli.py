"""The CLI end to end, as a user runs it: real subprocesses on generated images."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from PIL import Image

from seattn.analysis.compare import grouping, sources, tables
from seattn.model.checkpoints import read_checkpoint
from seattn.training.runfiles import Run, RunState
from tests.helpers import PROJECT_ROOT


def seattn(*args, check=True, timeout=180, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "OMP_WAIT_POLICY": "PASSIVE"}
    result = subprocess.run(
        [sys.executable, "-m", "seattn", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=cwd,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {result.stderr}")
    return result


def assert_one_clean_error_line(result, *fragments):
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture(scope="module")
def trained_run(image_folder, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    seattn(
        "train",
        "--data",
        image_folder,
        "--ratio",
        "4",
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--threads",
        "1",
        "--run-dir",
        run_dir,
    )
    return run_dir


def test_train_writes_a_completed_run_with_a_line_per_epoch(trained_run):
    run = Run(trained_run)
    assert run.state() == "completed"
    assert run.read_metrics()["epoch"].tolist() == [1, 2]
    assert read_checkpoint(run.checkpoint_path)["epoch"] == 2


def test_eval_prints_accuracy_loss_n_and_per_class(trained_run, image_folder):
    result = seattn("eval", trained_run / "checkpoint.pt", "--data", image_folder, "--threads", "1")
    report = json.loads(result.stdout)
    assert report["n"] == 120
    assert 0.0 <= report["accuracy"] <= 1.0 and report["loss"] > 0
    assert set(report["per_class"]) == {"circle", "square", "stripes"}


def test_predict_prints_top5_per_image(trained_run, image_folder, tmp_path):
    images = sorted((image_folder / "circle").glob("*.png"))[:2]
    result = seattn("predict", trained_run / "checkpoint.pt", *images)
    predictions = json.loads(result.stdout)
    assert [p["image"] for p in predictions] == [str(i) for i in images]
    for prediction in predictions:
        top = prediction["top5"]
        assert len(top) == 3  # only three classes exist
        assert sum(entry["prob"] for entry in top) == pytest.approx(1.0, abs=1e-5)
        assert top[0]["prob"] >= top[-1]["prob"]


@pytest.mark.parametrize("command", ["train", "eval", "predict", "sweep"])
def test_every_command_has_help(command):
    result = seattn(command, "--help")
    assert "usage:" in result.stdout


def test_bad_arguments_exit_with_one_clear_line(tmp_path):
    assert_one_clean_error_line(
        seattn("train", "--ratio", "abc", "--run-dir", tmp_path, check=False), "reduction ratio"
    )
    assert_one_clean_error_line(
        seattn("train", "--epochs", "0", "--run-dir", tmp_path, check=False), "--epochs"
    )
    assert_one_clean_error_line(
        seattn("eval", tmp_path / "missing.pt", "--data", tmp_path, check=False),
        "missing.pt: no such file",
    )
    assert_one_clean_error_line(
        seattn("train", "--augment", "heavy", "--run-dir", tmp_path, check=False),
        "--augment",
        "crop-flip",
    )
    assert_one_clean_error_line(
        seattn("train", "--optimizer", "rmsprop", "--run-dir", tmp_path, check=False),
        "--optimizer",
        "sgd-cosine",
    )
    assert_one_clean_error_line(
        seattn("train", "--device", "gpu0", "--run-dir", tmp_path / "r", check=False),
        "unknown device 'gpu0'",
    )
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_unreadable_inputs_exit_with_one_clear_line(trained_run, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    assert_one_clean_error_line(
        seattn("predict", trained_run / "checkpoint.pt", text, check=False), "notes.png"
    )
    assert_one_clean_error_line(
        seattn("predict", trained_run / "checkpoint.pt", tmp_path / "nope.png", check=False),
        "nope.png",
    )
    truncated = tmp_path / "cut.pt"
    truncated.write_bytes((trained_run / "checkpoint.pt").read_bytes()[:1000])
    assert_one_clean_error_line(
        seattn("predict", truncated, text, check=False), "cut.pt", "cut short"
    )
    assert_one_clean_error_line(
        seattn("train", "--data", tmp_path / "absent", "--run-dir", tmp_path / "r", check=False),
        "absent: no such folder",
    )


def test_a_sigkilled_run_reads_as_interrupted_and_resumes(image_folder, tmp_path):
    run = Run(tmp_path / "run")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "OMP_WAIT_POLICY": "PASSIVE"}
    arguments = [
        "train",
        "--data",
        str(image_folder),
        "--ratio",
        "8",
        "--batch-size",
        "8",
        "--threads",
        "1",
        "--run-dir",
        str(run.path),
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "seattn", *arguments, "--epochs", "50"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 120
        while not run.checkpoint_path.exists():
            assert time.time() < deadline, "no checkpoint within 120 s"
            assert process.poll() is None, "the training process ended early"
            time.sleep(0.1)
        time.sleep(0.3)  # let it get into the next epoch
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert run.read_status()["state"] == RunState.RUNNING  # what the dead process left behind
    assert run.state() == RunState.INTERRUPTED  # what a reader concludes
    epoch_kept = read_checkpoint(run.checkpoint_path)["epoch"]
    assert epoch_kept >= 1
    # metrics.csv is derived from the checkpoint and written just after it: a kill between the
    # two leaves it one epoch behind (never ahead); the resume below rewrites it from the
    # checkpoint's own history.
    assert epoch_kept - 1 <= len(run.read_metrics()) <= epoch_kept
    leftovers = [p.name for p in run.path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [] or all(p.startswith(".") for p in leftovers)

    # A resume names only the run and what changes; the rest is the run's own (ratio 8, the
    # folder, batch 8). An option that contradicts the run is refused, leaving it as it was.
    resume = ["train", "--run-dir", str(run.path), "--resume", "--threads", "1"]
    assert_one_clean_error_line(
        seattn(*resume, "--ratio", "4", check=False), "cannot resume with reduction_ratio=4"
    )
    assert run.state() == RunState.INTERRUPTED
    seattn(*resume, "--epochs", str(epoch_kept + 1))
    assert run.state() == "completed"
    assert run.read_config()["reduction_ratio"] == 8 and run.read_config()["batch_size"] == 8
    assert run.read_metrics()["epoch"].tolist() == list(range(1, epoch_kept + 2))


def test_a_run_on_a_relative_folder_resumes_from_another_working_directory(image_folder, tmp_path):
    run = Run(tmp_path / "run")
    start = ["--run-dir", run.path, "--batch-size", "8", "--limit", "40", "--threads", "1"]
    seattn("train", "--data", image_folder.name, *start, "--epochs", "1", cwd=image_folder.parent)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Naming the folder another way (absolute here) is the same data, not a different run.
    seattn("train", "--data", image_folder, *start, "--epochs", "2", "--resume", cwd=elsewhere)
    # Not naming it at all resumes on the run's own folder, wherever it was named from.
    seattn("train", "--run-dir", run.path, "--resume", "--epochs", "3", cwd=elsewhere)
    assert run.state() == "completed"
    assert run.read_metrics()["epoch"].tolist() == [1, 2, 3]


def test_sweep_trains_every_ratio_and_seed(image_folder, tmp_path):
    seattn(
        "sweep",
        "--data",
        image_folder,
        "--ratios",
        "none,8",
        "--seeds",
        "0,1",
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--threads",
        "1",
        "--runs-root",
        tmp_path / "sweeps",
    )
    names = sorted(p.name for p in (tmp_path / "sweeps").iterdir())
    assert names == [
        "sweep-no-SE-seed0-e1",
        "sweep-no-SE-seed1-e1",
        "sweep-r8-seed0-e1",
        "sweep-r8-seed1-e1",
    ]
    assert all(Run(tmp_path / "sweeps" / n).state() == "completed" for n in names)
    # Another recipe with the same epochs gets folders of its own, beside the first sweep's.
    seattn(
        "sweep",
        "--data",
        image_folder,
        "--ratios",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--optimizer",
        "sgd-cosine",
        "--augment",
        "crop-flip",
        "--threads",
        "1",
        "--runs-root",
        tmp_path / "sweeps",
    )
    assert (
        Run(tmp_path / "sweeps" / "sweep-r8-seed0-e1-sgd-cosine-crop-flip").state() == "completed"
    )

    groups = grouping.group_models(sources.read_runs(tmp_path / "sweeps"))
    assert len(groups) == 2 and groups[0].ratios == [None, 8] and groups[1].ratios == [8]
    assert groups[1].recipe.optimizer == "sgd-cosine"
    table = tables.variants_table(groups[0])
    assert table["seeds"].tolist() == [2, 2] and table["best val accuracy std"].notna().all()


def test_sweep_trains_attention_modules_beside_the_ratios(image_folder, tmp_path):
    result = seattn(
        "sweep",
        "--data",
        image_folder,
        "--attentions",
        "eca,cbam,none",
        "--ratios",
        "8",
        "--epochs",
        "1",
        "--limit",
        "48",
        "--batch-size",
        "16",
        "--threads",
        "1",
        "--runs-root",
        tmp_path / "sweeps",
    )
    names = sorted(p.name for p in (tmp_path / "sweeps").iterdir())
    assert names == ["sweep-cbam-r8-seed0-e1", "sweep-eca-seed0-e1", "sweep-no-SE-seed0-e1"]
    assert "ECA, seed 0 -> " in result.stderr and "CBAM r=8, seed 0 -> " in result.stderr
    for name, attention, ratio in (
        ("sweep-eca-seed0-e1", "eca", None),
        ("sweep-cbam-r8-seed0-e1", "cbam", 8),
        ("sweep-no-SE-seed0-e1", "none", None),
    ):
        run = Run(tmp_path / "sweeps" / name)
        assert run.state() == "completed"
        config = run.read_config()
        assert (config["attention"], config["reduction_ratio"]) == (attention, ratio)
    (group,) = grouping.group_models(sources.read_runs(tmp_path / "sweeps"))
    assert [v.label for v in group.variants] == ["no SE", "ECA", "CBAM r=8"]
    bad = seattn("sweep", "--attentions", "se,bogus", check=False)
    assert bad.returncode == 2 and "--attentions" in bad.stderr and "Traceback" not in bad.stderr


def test_an_image_that_is_fine_predicts_even_when_large(trained_run, tmp_path):
    big = tmp_path / "big.jpg"
    Image.new("RGB", (640, 480), (200, 30, 30)).save(big)
    predictions = json.loads(seattn("predict", trained_run / "checkpoint.pt", big).stdout)
    assert predictions[0]["image"] == str(big)


def test_analyse_prints_the_atlas_as_json_and_reuses_its_cache(tmp_path, image_folder):
    from tests.helpers import write_checkpoint

    checkpoint = write_checkpoint(tmp_path / "se-r8.pt", 8, data=image_folder)
    args = ("analyse", checkpoint, "--data", image_folder, "--split", "all", "--limit", "30")
    summary = json.loads(seattn(*args, "--json", "--threads", "1").stdout)
    assert summary["images"] == 30 and summary["data"]["split"] == "all"
    assert [b["name"] for b in summary["blocks"]] == ["block1", "block2", "block3"]
    assert summary["interventions"][0]["kind"] == "clean"
    text = seattn(*args).stdout
    assert "block3" in text and "bypass on all" in text


def test_analyse_of_an_unknown_model_or_split_is_one_clear_line(tmp_path, image_folder):
    assert_one_clean_error_line(
        seattn("analyse", "se-r99", check=False), "se-r99", "not a bundled model"
    )
    from tests.helpers import write_checkpoint

    checkpoint = write_checkpoint(tmp_path / "se-r8.pt", 8, data=image_folder)
    assert_one_clean_error_line(
        seattn("analyse", checkpoint, "--split", "test", check=False), "no test split"
    )


@pytest.mark.parametrize(
    ("attention", "ratio", "blocks_spatial"),
    [("eca", None, False), ("cbam", "4", True), ("none", None, None), ("se", "8", False)],
)
def test_train_takes_the_attention_module_as_a_parameter(
    attention, ratio, blocks_spatial, image_folder, tmp_path
):
    from seattn.model.checkpoints import load_model
    from seattn.model.probe import probe

    run_dir = tmp_path / attention
    options = ["--ratio", ratio] if ratio else []
    seattn("train", "--data", image_folder, "--attention", attention, *options,
           "--epochs", "1", "--batch-size", "16", "--limit", "48", "--threads", "1",
           "--run-dir", run_dir)  # fmt: skip
    run = Run(run_dir)
    assert run.read_status()["state"] == RunState.COMPLETED
    config = run.read_config()
    assert config["attention"] == attention
    assert config["reduction_ratio"] == (int(ratio) if ratio else None)
    model, _ = load_model(run_dir / "checkpoint.pt")
    assert model.attention_kind == attention
    records = probe(model, torch.zeros(1, 3, 32, 32)).blocks
    if blocks_spatial is None:
        assert records == []
    else:
        assert len(records) == 3
        assert all((r.spatial is not None) == blocks_spatial for r in records)


def test_an_attention_that_needs_a_ratio_without_one_is_one_clear_line(image_folder, tmp_path):
    result = seattn("train", "--data", image_folder, "--attention", "se", "--ratio", "none",
                    "--run-dir", tmp_path / "r", check=False)  # fmt: skip
    assert_one_clean_error_line(result, "needs a reduction ratio")
    result = seattn("train", "--data", image_folder, "--attention", "sk",
                    "--run-dir", tmp_path / "r", check=False)  # fmt: skip
    assert result.returncode == 2 and "se, eca, cbam, none" in result.stderr
