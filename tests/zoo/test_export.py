"""Tests for seattn.zoo.export: a run becomes a bundled model (half weights and metadata)."""

import dataclasses
import threading

import pytest
import torch

from seattn.model.checkpoints import load_model, read_checkpoint, save_checkpoint
from seattn.model.cnn import count_parameters
from seattn.training.engine import train
from seattn.training.runfiles import Run
from seattn.training.spec import TrainSpec
from seattn.zoo import metadata
from seattn.zoo.export import export_run
from seattn.zoo.export import main as zoo_main
from tests.helpers import tiny_spec


def test_export_writes_half_weights_that_predict_like_the_run(image_folder, tmp_path):
    config = TrainSpec(
        data=str(image_folder), reduction_ratio=8, epochs=1, batch_size=16, val_fraction=0.25
    )
    train(config, tmp_path / "run", data_dir=tmp_path)
    exported = export_run(tmp_path / "run", tmp_path / "zoo", hardware="test machine")
    assert exported.name == "se-r8.pt"
    original, _ = load_model(tmp_path / "run" / "checkpoint.pt")
    half, _ = load_model(exported)
    x = torch.randn(4, 3, 32, 32)
    torch.testing.assert_close(half(x).softmax(1), original(x).softmax(1), atol=2e-2, rtol=0)
    meta = metadata("se-r8", tmp_path / "zoo")
    assert meta["parameters"] == count_parameters(original)
    assert meta["hardware"] == "test machine" and meta["epochs"] == 1
    assert exported.stat().st_size < (tmp_path / "run" / "checkpoint.pt").stat().st_size / 2


def tiny_run(image_folder, tmp_path, name: str, ratio: int, seed: int):
    train(tiny_spec(image_folder, ratio, seed), tmp_path / name, data_dir=tmp_path)
    return tmp_path / name


def test_the_hardware_named_is_the_one_the_run_recorded(image_folder, tmp_path):
    run = tiny_run(image_folder, tmp_path, "run", 8, 0)
    meta = metadata(export_run(run, tmp_path / "zoo").stem, tmp_path / "zoo")
    assert meta["hardware"] == f"{meta['versions']['processor']}, 1 thread(s)"
    # A run trained on a GPU records it (seattn.train.software_versions): named first.
    payload = read_checkpoint(run / "checkpoint.pt")
    payload["config"]["versions"].update(gpu="NVIDIA H200", cuda="13.0")
    save_checkpoint(run / "checkpoint.pt", payload)
    meta = metadata(export_run(run, tmp_path / "zoo").stem, tmp_path / "zoo")
    assert meta["hardware"].startswith("NVIDIA H200 GPU (CUDA 13.0), with ")


def test_cli_ships_other_seeds_as_metrics_under_a_chosen_name(
    image_folder, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(tmp_path / "zoo"))
    shipped = tiny_run(image_folder, tmp_path, "seed0", 8, 0)
    other = tiny_run(image_folder, tmp_path, "seed1", 8, 1)

    assert zoo_main([str(shipped), "--seed-run", str(other), "--name", "se-r8-short"]) == 0

    assert sorted(p.name for p in (tmp_path / "zoo").iterdir()) == [
        "se-r8-short.json",
        "se-r8-short.pt",
    ]
    meta = metadata("se-r8-short", tmp_path / "zoo")
    assert meta["name"] == "se-r8-short" and meta["seed"] == 0
    [record] = meta["seeds"]
    other_metrics = Run(other).read_metrics()
    assert record["seed"] == 1 and record["epochs"] == 1
    assert record["final_val_accuracy"] == pytest.approx(other_metrics["val_accuracy"].iloc[-1])
    assert record["val_loss"] == pytest.approx(other_metrics["val_loss"].iloc[-1])
    assert len(record["history"]) == 1 and set(record["per_class"]) == set(meta["classes"])
    assert "(+ metrics of 1 other seed)" in capsys.readouterr().out


def test_cli_refuses_a_seed_run_of_another_variant_and_writes_nothing(
    image_folder, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(tmp_path / "zoo"))
    shipped = tiny_run(image_folder, tmp_path, "r8", 8, 0)
    other_ratio = tiny_run(image_folder, tmp_path, "r4", 4, 1)

    with pytest.raises(SystemExit) as exit_info:
        zoo_main([str(shipped), "--seed-run", str(other_ratio)])

    assert exit_info.value.code == 1
    assert str(other_ratio) in capsys.readouterr().err
    assert not (tmp_path / "zoo").exists()


def test_cli_names_a_missing_run_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(tmp_path / "zoo"))
    with pytest.raises(SystemExit) as exit_info:
        zoo_main([str(tmp_path / "nowhere")])
    assert exit_info.value.code == 1
    assert "nowhere" in capsys.readouterr().err


def test_a_run_stopped_before_its_planned_end_ships_with_the_epochs_it_trained(
    image_folder, tmp_path, monkeypatch
):
    # Planned 2 epochs, stopped after the first: its config still says 2.
    stop = threading.Event()
    config = dataclasses.replace(tiny_spec(image_folder, 8, 0), epochs=2)
    stopped = tmp_path / "stopped"
    status = train(
        config,
        stopped,
        data_dir=tmp_path,
        stop_event=stop,
        progress=lambda fields: stop.set() if fields.get("phase") == "epoch done" else None,
    )
    assert status["state"] == "stopped" and Run(stopped).read_config()["epochs"] == 2
    other = tiny_run(image_folder, tmp_path, "seed1", 8, 1)  # planned and trained 1 epoch
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(tmp_path / "zoo"))

    assert zoo_main([str(stopped), "--seed-run", str(other)]) == 0

    meta = metadata("se-r8", tmp_path / "zoo")
    assert meta["epochs"] == 1 and meta["recipe"]["epochs"] == 1
    assert [record["seed"] for record in meta["seeds"]] == [1]


def test_an_eca_run_ships_as_eca_and_a_network_without_attention_is_not_its_seed(
    image_folder, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(tmp_path / "zoo"))
    eca = tmp_path / "eca"
    train(dataclasses.replace(tiny_spec(image_folder, None, 0), attention="eca"), eca,
          data_dir=tmp_path)  # fmt: skip
    plain = tiny_run(image_folder, tmp_path, "plain", None, 1)  # no ratio either, no attention

    with pytest.raises(SystemExit):
        zoo_main([str(eca), "--seed-run", str(plain)])
    assert str(plain) in capsys.readouterr().err

    zoo_main([str(eca)])
    meta = metadata("eca", tmp_path / "zoo")
    assert (meta["attention"], meta["reduction_ratio"], meta["label"]) == ("eca", None, "ECA")
    model, _ = load_model(tmp_path / "zoo" / "eca.pt")
    assert model.attention_kind == "eca"
