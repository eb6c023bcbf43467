import dataclasses
import math
import threading

import pandas as pd
import pytest
import torch

from seattn.model import checkpoints
from seattn.model.checkpoints import read_checkpoint
from seattn.training.engine import train
from seattn.training.evaluation import evaluate
from seattn.training.hardware import resolve_device
from seattn.training.runfiles import Run, RunState
from seattn.training.spec import TrainSpec
from tests.helpers import tiny_spec


def _config(folder, **overrides):
    settings = dict(
        data=str(folder), reduction_ratio=4, epochs=2, batch_size=16, seed=0, val_fraction=0.25
    )
    settings.update(overrides)
    return TrainSpec(**settings)


def _final_state(run_dir):
    return read_checkpoint(run_dir / "checkpoint.pt")["model_state"]


def test_a_run_writes_every_file_with_one_row_per_epoch(image_folder, tmp_path):
    status = train(_config(image_folder), tmp_path / "run", data_dir=tmp_path)
    run = Run(tmp_path / "run")
    assert status["state"] == RunState.COMPLETED == run.state()
    metrics = run.read_metrics()
    assert metrics["epoch"].tolist() == [1, 2]
    for column in (
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "epoch_seconds",
        "images_per_second",
        "block1_weight_mean",
        "block3_weight_std",
    ):
        assert metrics[column].notna().all(), column
    assert metrics["val_accuracy"].between(0, 1).all()
    config = run.read_config()
    assert (
        config["reduction_ratio"] == 4
        and config["model"]["parameters"] == 1_158_666 - (512 + 1) * 7
    )
    assert config["classes"] == ["circle", "square", "stripes"]
    assert {"torch", "torchvision", "python"} <= set(config["versions"])
    excitation = run.read_excitation()
    assert excitation["epochs"] == [1, 2]
    assert len(excitation["blocks"]["block2"]["channel_means"][1]) == 64
    assert sum(excitation["blocks"]["block1"]["histogram"][0]) > 0
    assert "epoch 2/2" in run.log_path.read_text()


def test_training_learns_the_generated_classes(image_folder, tmp_path):
    config = _config(image_folder, epochs=4, augment=False, reduction_ratio=None)
    train(config, tmp_path / "run", data_dir=tmp_path)
    metrics = Run(tmp_path / "run").read_metrics()
    assert metrics["val_accuracy"].iloc[-1] > 0.6  # chance is 1/3
    assert metrics["train_loss"].iloc[-1] < metrics["train_loss"].iloc[0]


def test_same_seed_same_metrics_and_weights(image_folder, tmp_path):
    for name in ("a", "b"):
        train(_config(image_folder), tmp_path / name, data_dir=tmp_path)
    columns = ["train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"]
    pd.testing.assert_frame_equal(
        Run(tmp_path / "a").read_metrics()[columns], Run(tmp_path / "b").read_metrics()[columns]
    )
    a, b = _final_state(tmp_path / "a"), _final_state(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("optimizer", ["adam-plateau", "sgd-cosine"])
def test_stop_then_resume_equals_a_run_never_interrupted(image_folder, tmp_path, optimizer):
    config = _config(image_folder, epochs=3, optimizer=optimizer)
    train(config, tmp_path / "whole", data_dir=tmp_path)

    stop = threading.Event()

    def stop_in_epoch_two(fields):
        if fields.get("epoch") == 2 and fields.get("batch") == 2:
            stop.set()

    status = train(
        config,
        tmp_path / "split",
        data_dir=tmp_path,
        stop_event=stop,
        progress=stop_in_epoch_two,
    )
    run = Run(tmp_path / "split")
    assert status["state"] == RunState.STOPPED == run.state()
    assert read_checkpoint(run.checkpoint_path)["epoch"] == 1
    assert run.read_metrics()["epoch"].tolist() == [1]

    status = train(config, tmp_path / "split", resume=True, data_dir=tmp_path)
    assert status["state"] == RunState.COMPLETED
    whole, split = _final_state(tmp_path / "whole"), _final_state(tmp_path / "split")
    assert all(torch.equal(whole[k], split[k]) for k in whole)
    pd.testing.assert_frame_equal(
        Run(tmp_path / "whole").read_metrics().drop(columns=["epoch_seconds", "images_per_second"]),
        run.read_metrics().drop(columns=["epoch_seconds", "images_per_second"]),
    )


def test_stop_request_file_stops_the_run(image_folder, tmp_path):
    run = Run(tmp_path / "run")

    def ask_to_stop(fields):
        if fields.get("batch") == 1:
            run.request_stop()

    status = train(_config(image_folder), run.path, data_dir=tmp_path, progress=ask_to_stop)
    assert status["state"] == RunState.STOPPED
    assert not run.checkpoint_path.exists()  # no epoch completed, nothing half-saved
    assert not run.stop_requested()  # cleared, so a resume is not stopped at once


def test_resume_with_other_arguments_is_refused(image_folder, tmp_path):
    train(_config(image_folder, epochs=1), tmp_path / "run", data_dir=tmp_path)
    before = Run(tmp_path / "run").read_status()
    with pytest.raises(ValueError, match="cannot resume with reduction_ratio=8"):
        train(
            _config(image_folder, reduction_ratio=8),
            tmp_path / "run",
            resume=True,
            data_dir=tmp_path,
        )
    assert Run(tmp_path / "run").read_status() == before  # the refusal leaves the run as it was
    # More epochs is allowed: the run continues.
    status = train(
        _config(image_folder, epochs=2), tmp_path / "run", resume=True, data_dir=tmp_path
    )
    assert status["state"] == RunState.COMPLETED
    assert Run(tmp_path / "run").read_metrics()["epoch"].tolist() == [1, 2]


def test_starting_over_an_existing_run_is_refused(image_folder, tmp_path):
    train(_config(image_folder, epochs=1), tmp_path / "run", data_dir=tmp_path)
    with pytest.raises(ValueError, match="already holds a run"):
        train(_config(image_folder, epochs=1), tmp_path / "run", data_dir=tmp_path)


def test_a_failure_is_recorded_in_status_and_log(tmp_path):
    with pytest.raises(Exception, match="no such folder"):
        train(_config(tmp_path / "absent"), tmp_path / "run", data_dir=tmp_path)
    run = Run(tmp_path / "run")
    assert run.state() == "failed"
    assert "no such folder" in run.read_status()["error"]
    assert "Traceback" in run.log_path.read_text()


def test_evaluate_counts_per_class(image_folder, tmp_path):
    from seattn.data.datasets import decode_folder
    from seattn.model.cnn import SECNN

    image_set = decode_folder(image_folder)
    result = evaluate(SECNN(16, num_classes=3), image_set)
    assert result["n"] == 120
    assert set(result["per_class"]) == {"circle", "square", "stripes"}
    mean_per_class = sum(result["per_class"].values()) / 3
    assert result["accuracy"] == pytest.approx(mean_per_class)  # balanced classes


def test_bf16_channels_last_validation_agrees_with_float32(image_folder):
    from seattn.data.datasets import decode_folder
    from seattn.model.cnn import SECNN

    image_set = decode_folder(image_folder)
    torch.manual_seed(0)
    model = SECNN(16, num_classes=3).eval()
    exact = evaluate(model, image_set)
    fast = evaluate(model, image_set, bf16=True, channels_last=True)
    assert fast["n"] == exact["n"]
    assert fast["loss"] == pytest.approx(exact["loss"], rel=0.02)
    assert abs(fast["accuracy"] - exact["accuracy"]) <= 0.05
    assert not model.training


@pytest.mark.slow
def test_one_epoch_on_real_cifar_beats_chance_by_far(real_data, tmp_path):
    config = TrainSpec(data=str(real_data), reduction_ratio=16, epochs=1, limit=6000)
    train(config, tmp_path / "run", data_dir=tmp_path)
    assert Run(tmp_path / "run").read_metrics()["val_accuracy"].iloc[0] > 0.2


def test_a_checkpoint_from_the_unfused_optimizer_resumes(image_folder, tmp_path):
    from seattn.model.checkpoints import model_from_checkpoint, save_checkpoint

    config = TrainSpec(
        data=str(image_folder), reduction_ratio=4, epochs=1, batch_size=16, val_fraction=0.25
    )
    train(config, tmp_path / "run", data_dir=tmp_path)
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    payload = read_checkpoint(checkpoint)
    # Runs saved before training used the fused kernel hold the default loop's optimizer state.
    model = model_from_checkpoint(payload, checkpoint)
    unfused = torch.optim.Adam(model.parameters(), lr=config.lr)
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    unfused.step()
    assert not unfused.defaults["fused"]
    payload["optimizer_state"] = unfused.state_dict()
    save_checkpoint(checkpoint, payload)

    train(dataclasses.replace(config, epochs=2), tmp_path / "run", resume=True)

    assert Run(tmp_path / "run").read_metrics()["epoch"].tolist() == [1, 2]


def test_resuming_a_finished_run_completes_at_its_last_epoch(image_folder, tmp_path):
    config = TrainSpec(
        data=str(image_folder), reduction_ratio=4, epochs=1, batch_size=16, val_fraction=0.25
    )
    train(config, tmp_path / "run", data_dir=tmp_path)
    status = train(config, tmp_path / "run", resume=True, data_dir=tmp_path)
    assert status["state"] == RunState.COMPLETED
    assert status["epoch"] == 1 and status["last_epoch"]["epoch"] == 1
    assert Run(tmp_path / "run").read_metrics()["epoch"].tolist() == [1]


def test_a_device_that_cannot_be_used_is_refused_by_name(image_folder, tmp_path):
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        TrainSpec(device="gpu0")
    with pytest.raises(ValueError, match="device 'meta' is not supported"):
        resolve_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no usable CUDA GPU"):
            resolve_device("cuda")
        # The trainer refuses it before it writes anything.
        with pytest.raises(ValueError, match="no usable CUDA GPU"):
            train(_config(image_folder, device="cuda"), tmp_path / "run", data_dir=tmp_path)
        assert not (tmp_path / "run").exists()


def test_a_crop_flip_run_says_so_and_where_it_trained(image_folder, tmp_path):
    config = dataclasses.replace(tiny_spec(image_folder, 4), augment="crop-flip", device="cpu")
    train(config, tmp_path / "run", data_dir=tmp_path)
    saved = Run(tmp_path / "run").read_config()
    assert saved["augment"] == saved["recipe"]["augment"] == "crop-flip"
    assert saved["device"] == "cpu" and isinstance(saved["bf16"], bool)
    assert "gpu" not in saved["versions"]
    assert "training on the CPU" in (tmp_path / "run" / "train.log").read_text()


def test_a_run_saved_before_recipes_had_names_resumes_as_the_course_recipe(image_folder, tmp_path):
    run = Run(tmp_path / "old")
    train(tiny_spec(image_folder, 4), run.path, data_dir=tmp_path)
    # Rewrite it as runs were saved before recipes had names: augment yes/no, no optimizer.
    payload = read_checkpoint(run.checkpoint_path)
    payload["config"]["augment"] = payload["config"]["recipe"]["augment"] = True
    del payload["config"]["optimizer"]
    checkpoints.save_checkpoint(run.checkpoint_path, payload)
    run.write_config(payload["config"])
    config = dataclasses.replace(tiny_spec(image_folder, 4), epochs=2)
    with pytest.raises(ValueError, match="cannot resume with optimizer='sgd-cosine'.*adam-plateau"):
        train(
            dataclasses.replace(config, optimizer="sgd-cosine"),
            run.path,
            resume=True,
            data_dir=tmp_path,
        )
    status = train(config, run.path, resume=True, data_dir=tmp_path)
    assert status["state"] == RunState.COMPLETED
    assert read_checkpoint(run.checkpoint_path)["epoch"] == 2
    assert run.read_config()["recipe"]["augment"] == "course"


def test_sgd_cosine_takes_its_own_rate_down_a_cosine_and_says_so(image_folder, tmp_path):
    config = _config(image_folder, epochs=4, optimizer="sgd-cosine")
    assert config.lr == 0.05  # no rate given: SGD's own, not Adam's 1e-3
    train(config, tmp_path / "run", data_dir=tmp_path)
    run = Run(tmp_path / "run")
    expected = [0.05 * (1 + math.cos(math.pi * epoch / 4)) / 2 for epoch in range(4)]
    assert run.read_metrics()["lr"].tolist() == pytest.approx(expected)
    saved = run.read_config()
    assert saved["optimizer"] == "sgd-cosine" and saved["lr"] == 0.05
    # The recipe is recorded by name (an identity), not described in words.
    assert saved["recipe"]["optimizer"] == "sgd-cosine"
    state = read_checkpoint(run.checkpoint_path)["optimizer_state"]
    assert state["param_groups"][0]["nesterov"] and "momentum_buffer" in state["state"][0]
    # Given more epochs, it continues on the cosine of the new total.
    train(dataclasses.replace(config, epochs=6), run.path, resume=True, data_dir=tmp_path)
    assert run.read_metrics()["lr"].iloc[4] == pytest.approx(
        0.05 * (1 + math.cos(math.pi * 4 / 6)) / 2
    )
