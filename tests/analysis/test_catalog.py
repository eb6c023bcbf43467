"""Tests for seattn.analysis.catalog: what a user can pick, and the vetting of uploaded checkpoints.

The entries are structured; how the picker words them is tests/app/test_text.py's concern.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import torch

from seattn import zoo
from seattn.analysis import catalog
from seattn.model.checkpoints import CheckpointError, save_checkpoint
from seattn.model.cnn import SECNN
from seattn.training.engine import train
from seattn.training.recipes import Augmentation, Optimizer
from seattn.training.runfiles import Run, RunState
from seattn.training.spec import TrainSpec
from tests.helpers import write_trainer_status

CLASSES = ["circle", "square", "stripes"]


@pytest.fixture(scope="module")
def trained_run(image_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real completed run folder, made once by the trainer on the generated images."""
    root = tmp_path_factory.mktemp("catalog-runs")
    config = TrainSpec(
        data=str(image_folder), reduction_ratio=4, epochs=1, batch_size=16, val_fraction=0.25
    )
    train(config, root / "r4-run", data_dir=root.parent / "catalog-data")
    return root / "r4-run"


def write_checkpoint(path: Path, ratio: int | None) -> Path:
    model = SECNN(reduction_ratio=ratio, num_classes=len(CLASSES))
    config = {"reduction_ratio": ratio, "classes": CLASSES}
    save_checkpoint(path, {"config": config, "epoch": 1, "model_state": model.state_dict()})
    return path


def checkpoint_bytes(ratio: int | None) -> bytes:
    model = SECNN(reduction_ratio=ratio, num_classes=len(CLASSES))
    buffer = io.BytesIO()
    payload = {
        "format": "seattn.checkpoint",
        "format_version": 1,
        "config": {"reduction_ratio": ratio, "classes": CLASSES},
        "model_state": model.state_dict(),
    }
    torch.save(payload, buffer)
    return buffer.getvalue()


# -- bundled models ---------------------------------------------------------------------------


def test_bundled_entries_put_the_default_first_and_read_metadata(tmp_path: Path) -> None:
    write_checkpoint(tmp_path / "no-se.pt", None)
    write_checkpoint(tmp_path / "se-r4.pt", 4)
    write_checkpoint(tmp_path / f"{zoo.DEFAULT_MODEL}.pt", 16)
    meta = {"reduction_ratio": 16, "epochs": 30, "val_accuracy": 0.8612}
    (tmp_path / f"{zoo.DEFAULT_MODEL}.json").write_text(json.dumps(meta))
    (tmp_path / "se-r4.json").write_text("{not json")

    entries = catalog.bundled_entries(tmp_path)
    assert [e.path.stem for e in entries] == [zoo.DEFAULT_MODEL, "no-se", "se-r4"]
    first = entries[0]
    assert first.key == f"bundled:{zoo.DEFAULT_MODEL}"
    assert first.source == catalog.ModelSource.BUNDLED
    assert first.name == zoo.DEFAULT_MODEL
    assert (first.reduction_ratio, first.ratio_known) == (16, True)
    assert (first.epochs, first.val_accuracy, first.recipe) == (30, 0.8612, None)
    # unreadable metadata: the weights still count, with nothing said about them
    unread = entries[2]
    assert unread.name == "se-r4" and unread.source == catalog.ModelSource.BUNDLED
    assert not unread.ratio_known and unread.epochs is None and unread.val_accuracy is None


def test_a_model_trained_with_another_recipe_says_so(tmp_path: Path) -> None:
    for name, recipe in (
        ("course", {"augment": True, "optimizer": "Adam"}),
        ("light", {"augment": "crop-flip"}),
        ("plain", {"augment": "none"}),
        ("sgd", {"augment": "crop-flip", "optimizer": "sgd-cosine"}),
        # metadata written before optimisers had names describes the optimiser instead
        ("sgd-old", {"augment": "crop-flip", "optimizer": "SGD(momentum 0.9, Nesterov)"}),
    ):
        write_checkpoint(tmp_path / f"{name}.pt", 16)
        meta = {"reduction_ratio": 16, "epochs": 80, "recipe": recipe}
        (tmp_path / f"{name}.json").write_text(json.dumps(meta))
    recipes = {
        e.path.stem: (e.recipe.optimizer, e.recipe.augment)
        for e in catalog.bundled_entries(tmp_path)
    }
    assert recipes == {
        "course": (Optimizer.ADAM_PLATEAU, Augmentation.COURSE),
        "light": (Optimizer.ADAM_PLATEAU, Augmentation.CROP_FLIP),
        "plain": (Optimizer.ADAM_PLATEAU, Augmentation.NONE),
        "sgd": (Optimizer.SGD_COSINE, Augmentation.CROP_FLIP),
        "sgd-old": (Optimizer.SGD_COSINE, Augmentation.CROP_FLIP),
    }


def test_zoo_folder_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(tmp_path))
    write_checkpoint(tmp_path / "se-r8.pt", 8)
    assert [e.path for e in catalog.list_models()] == [tmp_path / "se-r8.pt"]


# -- runs -------------------------------------------------------------------------------------


def test_runs_with_a_checkpoint_are_offered_and_unfinished_ones_say_so(
    trained_run: Path, tmp_path: Path
) -> None:
    root = tmp_path / "runs"
    shutil.copytree(trained_run, root / "done")
    shutil.copytree(trained_run, root / "stopped")
    status = Run(root / "stopped").read_status()
    write_trainer_status(Run(root / "stopped"), {**status, "state": "stopped"})
    shutil.copytree(trained_run, root / "no-checkpoint")
    (root / "no-checkpoint" / "checkpoint.pt").unlink()

    entries = {e.key: e for e in catalog.run_entries(root)}
    assert set(entries) == {"run:done", "run:stopped"}  # no checkpoint, nothing to open
    assert entries["run:stopped"].state == RunState.STOPPED
    assert entries["run:done"].state == RunState.COMPLETED
    entry = entries["run:done"]
    assert entry.source == catalog.ModelSource.RUN and entry.path == root / "done" / "checkpoint.pt"
    assert entry.name == "done" and (entry.reduction_ratio, entry.ratio_known) == (4, True)
    assert entry.val_accuracy is not None and 0 <= entry.val_accuracy <= 1
    metrics = Run(root / "done").read_metrics()
    assert entry.val_accuracy == metrics["val_accuracy"].iloc[-1]  # the weights the picker opens
    assert entry.best_val_accuracy == metrics["val_accuracy"].max()  # what the Train page shows
    assert entry.epochs == 1 and entry.data_name


def test_list_models_is_bundled_then_runs_and_default_prefers_r16(
    trained_run: Path, tmp_path: Path
) -> None:
    zoo_folder = tmp_path / "zoo"
    runs_root = trained_run.parent
    assert catalog.list_models(zoo_folder, tmp_path / "nothing") == []
    assert catalog.default_entry([]) is None

    only_runs = catalog.list_models(zoo_folder, runs_root)
    assert catalog.default_entry(only_runs).source == catalog.ModelSource.RUN

    write_checkpoint(zoo_folder / "no-se.pt", None)
    with_zoo = catalog.list_models(zoo_folder, runs_root)
    assert [e.source for e in with_zoo] == [catalog.ModelSource.BUNDLED, catalog.ModelSource.RUN]
    assert catalog.default_entry(with_zoo).path.stem == "no-se"

    write_checkpoint(zoo_folder / f"{zoo.DEFAULT_MODEL}.pt", 16)
    assert catalog.default_entry(catalog.list_models(zoo_folder, runs_root)).path.stem == (
        zoo.DEFAULT_MODEL
    )


# -- uploads ----------------------------------------------------------------------------------


def test_an_uploaded_checkpoint_is_vetted_kept_once_and_named(tmp_path: Path) -> None:
    data = checkpoint_bytes(8)
    entry = catalog.save_upload(data, "mine.pt", tmp_path)
    assert entry.source == catalog.ModelSource.UPLOAD and entry.path.parent == tmp_path
    assert entry.name == "mine.pt" and (entry.reduction_ratio, entry.ratio_known) == (8, True)
    assert entry.classes == len(CLASSES)
    again = catalog.save_upload(data, "renamed.pt", tmp_path)
    assert again.key == entry.key and again.path == entry.path
    assert [p.name for p in tmp_path.iterdir()] == [entry.path.name]


def test_a_run_checkpoint_can_be_uploaded(trained_run: Path, tmp_path: Path) -> None:
    data = (trained_run / "checkpoint.pt").read_bytes()
    entry = catalog.save_upload(data, "checkpoint.pt", tmp_path)
    assert (entry.reduction_ratio, entry.ratio_known) == (4, True)


class Evil:
    def __reduce__(self) -> tuple:
        return (print, ("this must never run",))


def pickled(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        # seattn.checkpoints reads any unpickling failure as "refused", garbage included.
        (b"definitely not a checkpoint", "a text file, not a PyTorch checkpoint"),
        (checkpoint_bytes(4)[:5000], "the file is cut short"),
        (pickled({"weights": torch.zeros(3)}), "not a seattn checkpoint"),
        (pickled({"format": "seattn.checkpoint", "format_version": 1, "x": Evil()}), "refused"),
    ],
    ids=["empty", "garbage", "truncated", "foreign", "pickled-code"],
)
def test_bad_uploads_are_refused_naming_the_users_file(
    data: bytes, reason: str, tmp_path: Path
) -> None:
    with pytest.raises(CheckpointError, match=reason) as raised:
        catalog.save_upload(data, "upload.pt", tmp_path)
    message = str(raised.value)
    assert message.startswith("upload.pt") and str(tmp_path) not in message
    assert list(tmp_path.iterdir()) == []  # nothing refused is kept


def test_an_upload_of_another_architecture_is_refused(tmp_path: Path) -> None:
    data = bytearray(checkpoint_bytes(4))
    payload = torch.load(io.BytesIO(bytes(data)), weights_only=True)
    payload["config"]["reduction_ratio"] = 8  # weights of r=4 claimed to be r=8
    with pytest.raises(CheckpointError, match="do not fit the r=8 architecture"):
        catalog.save_upload(pickled(payload), "wrong.pt", tmp_path)


def test_bundled_models_are_offered_default_first_then_by_recipe_and_growing_ratio(tmp_path):
    from tests.helpers import write_checkpoint

    for name, ratio in (
        ("se-r32", 32), ("se-r4", 4), ("no-se", None), ("se-r16", 16), ("se-r2", 2),
        ("se-r8", 8), ("se-r16-course", 16), ("no-se-course", None),
    ):  # fmt: skip
        write_checkpoint(tmp_path / f"{name}.pt", ratio)
        (tmp_path / f"{name}.json").write_text(json.dumps({"reduction_ratio": ratio}))
    names = [entry.name for entry in catalog.bundled_entries(tmp_path)]
    assert names == [
        "se-r16", "no-se", "se-r2", "se-r4", "se-r8", "se-r32", "no-se-course", "se-r16-course",
    ]  # fmt: skip


def test_uploads_are_capped_keeping_the_most_recently_used(tmp_path, monkeypatch):
    import os

    monkeypatch.setattr(catalog, "UPLOADS_KEPT", 2)
    files = [checkpoint_bytes(ratio) for ratio in (2, 4, 8, 16)]
    entries = []
    for age, data in enumerate(files[:3]):
        entry = catalog.save_upload(data, f"upload{age}.pt", tmp_path)
        os.utime(entry.path, (1000 + age, 1000 + age))  # distinct ages without sleeping
        entries.append(entry)
    catalog.prune_uploads(tmp_path)
    assert [e.path.exists() for e in entries] == [False, True, True]
    # the older of the two, uploaded again, becomes the newest: kept when another one arrives
    catalog.save_upload(files[1], "again.pt", tmp_path)
    catalog.save_upload(files[3], "new.pt", tmp_path)
    assert [e.path.exists() for e in entries] == [False, True, False]
    assert len(list(tmp_path.glob("*.pt"))) == 2
