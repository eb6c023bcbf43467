"""Tests for seattn.training.spec: the one description of a run, as forms, the queue, the CLI and
the engine read and write it, and the rules for resuming a saved run with it."""

from __future__ import annotations

import dataclasses
import json

import pytest

from seattn.model.ratios import DEFAULT_REDUCTION_RATIO
from seattn.training.recipes import Augmentation, Optimizer, Recipe
from seattn.training.spec import (
    DEFAULT_VAL_FRACTION,
    EXECUTION_FIELDS,
    RESUMABLE_CHANGES,
    TrainSpec,
    resume_conflict,
    spec_to_resume,
)


def test_the_defaults_are_the_courses_recipe_on_cifar10():
    spec = TrainSpec()
    assert (spec.data, spec.reduction_ratio, spec.epochs, spec.batch_size) == (
        "cifar10",
        DEFAULT_REDUCTION_RATIO,
        30,
        128,
    )
    assert (spec.seed, spec.split_seed, spec.val_fraction, spec.limit) == (
        0,
        0,
        DEFAULT_VAL_FRACTION,
        None,
    )
    assert spec.augment is Augmentation.COURSE and spec.optimizer is Optimizer.ADAM_PLATEAU
    assert spec.lr == 1e-3  # settled to the optimiser's own rate
    assert (spec.device, spec.bf16, spec.channels_last, spec.threads) == ("auto", None, True, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.epochs = 3


def test_values_are_settled_so_one_recipe_gives_one_spec():
    assert TrainSpec(reduction_ratio="none") == TrainSpec(reduction_ratio=None)
    assert TrainSpec(reduction_ratio="8").reduction_ratio == 8
    assert TrainSpec(augment="crop-flip").augment is Augmentation.CROP_FLIP
    assert TrainSpec(optimizer="sgd-cosine").optimizer is Optimizer.SGD_COSINE
    assert TrainSpec(optimizer="sgd-cosine").lr == 0.05
    assert TrainSpec(lr=0.2).lr == 0.2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"lr": 0.0}, "learning rate must be positive"),
        ({"lr": -0.1}, "learning rate must be positive"),
        ({"limit": 1}, "limit must be at least 2"),
        ({"val_fraction": 0.0}, "validation fraction must be between 0 and 1"),
        ({"val_fraction": 1.0}, "validation fraction must be between 0 and 1"),
        ({"threads": 0}, "threads must be at least 1"),
        ({"device": "gpu0"}, "unknown device 'gpu0'"),
        ({"reduction_ratio": 0}, "reduction ratio must be >= 1"),
        ({"reduction_ratio": "x"}, "reduction ratio must be a whole number or 'none'"),
        ({"augment": "heavy"}, "unknown augmentation 'heavy'"),
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'"),
    ],
)
def test_an_invalid_value_is_refused_when_the_spec_is_made(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainSpec(**changes)
    # replace() makes a new spec, checked the same way.
    with pytest.raises(ValueError, match=message):
        TrainSpec().replace(**changes)


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:1"])
def test_the_devices_a_spec_may_name(device):
    assert TrainSpec(device=device).device == device


def test_to_dict_holds_plain_json_and_reads_back_equal(tmp_path):
    spec = TrainSpec(
        data=str(tmp_path),
        reduction_ratio=None,
        epochs=3,
        lr=0.01,
        seed=2,
        split_seed=5,
        val_fraction=0.25,
        augment="none",
        optimizer="sgd-cosine",
        limit=40,
        device="cpu",
        bf16=False,
        channels_last=False,
        threads=2,
    )
    record = spec.to_dict()
    assert set(record) == {field.name for field in dataclasses.fields(TrainSpec)}
    assert type(record["augment"]) is str and type(record["optimizer"]) is str
    assert (record["augment"], record["optimizer"]) == ("none", "sgd-cosine")
    assert TrainSpec.from_dict(json.loads(json.dumps(record))) == spec


def test_from_dict_reads_records_saved_before_recipes_had_names():
    # augment was yes/no; there was no optimiser choice, so nothing was said of it.
    yes = TrainSpec.from_dict({"data": "cifar10", "reduction_ratio": 16, "augment": True})
    assert (yes.augment, yes.optimizer, yes.lr) == (
        Augmentation.COURSE,
        Optimizer.ADAM_PLATEAU,
        1e-3,
    )
    assert TrainSpec.from_dict({"augment": False}).augment is Augmentation.NONE
    assert TrainSpec.from_dict({"optimizer": None}).optimizer is Optimizer.ADAM_PLATEAU


def test_from_dict_ignores_what_the_engine_learnt_and_threads_left_to_torch():
    config = {
        **TrainSpec(epochs=2).to_dict(),
        "classes": ["a", "b"],
        "versions": {"torch": "2"},
        "recipe": {"optimizer": "adam-plateau"},
        "data_description": {"kind": "cifar10"},
        "threads": 0,  # older runs wrote 0 for "torch's default"
    }
    spec = TrainSpec.from_dict(config)
    assert spec == TrainSpec(epochs=2) and spec.threads is None
    assert TrainSpec.from_dict({"threads": 3}).threads == 3


def test_identity_ignores_execution_and_nothing_else():
    spec = TrainSpec(epochs=4)
    fast = spec.replace(device="cpu", bf16=True, channels_last=False, threads=2)
    assert fast != spec and fast.identity() == spec.identity()
    assert not set(EXECUTION_FIELDS) & set(spec.identity())
    for change in ({"epochs": 5}, {"seed": 1}, {"lr": 0.01}, {"augment": "none"}, {"limit": 10}):
        assert spec.replace(**change).identity() != spec.identity(), change


def test_recipe_and_absolute_data(tmp_path, monkeypatch):
    spec = TrainSpec(optimizer="sgd-cosine", augment="crop-flip", epochs=7, limit=50)
    assert spec.recipe() == Recipe(Optimizer.SGD_COSINE, Augmentation.CROP_FLIP, 0.05, 128, 7, 50)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "images").mkdir()
    assert TrainSpec(data="images").with_absolute_data().data == str(tmp_path / "images")
    assert TrainSpec(data=" CIFAR10 ").with_absolute_data().data == "cifar10"


def test_resumable_changes_are_epochs_and_execution():
    assert set(RESUMABLE_CHANGES) == {"epochs", *EXECUTION_FIELDS}
    assert set(EXECUTION_FIELDS) == {"device", "bf16", "channels_last", "threads"}


def saved_folder_run(folder, **fields):
    """A config.json as the engine writes it for a run on ``folder``, trained on 3 threads."""
    settings = dict(data=str(folder), reduction_ratio=4, epochs=2, device="cpu", threads=3)
    return {
        **TrainSpec(**{**settings, **fields}).to_dict(),
        "data_description": {"kind": "folder", "source": str(folder.resolve())},
        "classes": ["a", "b", "c"],
    }


def test_spec_to_resume_takes_the_runs_own_recipe_and_leaves_execution_to_this_session(
    tmp_path, monkeypatch
):
    folder = tmp_path / "images"
    folder.mkdir()
    saved = saved_folder_run(folder, seed=3, optimizer="sgd-cosine")
    # Saved with a relative folder name: the resume trains on the folder the run trained on.
    saved["data"] = "images"
    monkeypatch.chdir(tmp_path.parent)
    spec = spec_to_resume(saved)
    assert spec == TrainSpec(
        data=str(folder.resolve()), reduction_ratio=4, epochs=2, seed=3, optimizer="sgd-cosine"
    )
    assert (spec.device, spec.threads) == ("auto", None)
    # Options given win over the run's own.
    more = spec_to_resume(saved, epochs=5, threads=1, device="cpu")
    assert (more.epochs, more.threads, more.device, more.seed) == (5, 1, "cpu", 3)
    # A run from before recipes had names resumes as the course's recipe.
    old = {"data": "cifar10", "reduction_ratio": 16, "lr": 1e-3, "augment": True, "threads": 0}
    assert spec_to_resume(old) == TrainSpec()


def test_resume_conflict_allows_more_epochs_and_other_execution_only(tmp_path, monkeypatch):
    folder = tmp_path / "images"
    folder.mkdir()
    saved = saved_folder_run(folder)
    spec = TrainSpec.from_dict(saved)
    assert resume_conflict(saved, spec) is None
    assert resume_conflict(saved, spec.replace(epochs=9, device="auto", threads=None)) is None
    assert resume_conflict(saved, spec.replace(bf16=True, channels_last=False)) is None
    message = resume_conflict(saved, spec.replace(reduction_ratio=8))
    assert message is not None
    assert "cannot resume with reduction_ratio=8" in message and "reduction_ratio=4" in message
    assert "cannot resume with seed=1" in resume_conflict(saved, spec.replace(seed=1))
    assert "augment='none'" in resume_conflict(saved, spec.replace(augment="none"))
    # The same folder named from another working directory is the same data; another is not.
    monkeypatch.chdir(tmp_path)
    assert resume_conflict(saved, spec.replace(data="images")) is None
    other = tmp_path / "other"
    other.mkdir()
    assert "cannot resume with data=" in resume_conflict(saved, spec.replace(data=str(other)))


def test_resume_conflict_on_records_saved_before_recipes_had_names():
    old = {"data": "cifar10", "reduction_ratio": 16, "epochs": 3, "lr": 1e-3, "augment": True}
    spec = TrainSpec(epochs=5)
    assert resume_conflict(old, spec) is None  # course augmentation, course optimiser
    # Saying nothing of the optimiser, it trained with the course's: another is refused.
    message = resume_conflict(old, spec.replace(optimizer="sgd-cosine", lr=1e-3))
    assert message is not None and "optimizer='sgd-cosine'" in message
    assert "adam-plateau" in message
    assert "augment='crop-flip'" in resume_conflict(old, spec.replace(augment="crop-flip"))
    # A field the old record does not hold (it was added later) is not held against it.
    assert resume_conflict(old, spec.replace(split_seed=4, val_fraction=0.2)) is None


# -- moved from test_engine.py and test_queue.py (they test the spec alone) --------------------


def test_augmentation_is_named_and_the_yes_no_of_older_configs_still_reads():
    assert TrainSpec(augment=True).augment == "course"
    assert TrainSpec(augment=False).augment == "none"
    assert TrainSpec(augment="crop-flip").augment == "crop-flip"
    with pytest.raises(ValueError, match="unknown augmentation 'heavy'"):
        TrainSpec(augment="heavy")


def test_an_optimizer_is_named_and_a_rate_given_is_kept():
    assert TrainSpec().optimizer == "adam-plateau" and TrainSpec().lr == 1e-3
    assert TrainSpec(optimizer="sgd-cosine", lr=0.1).lr == 0.1
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'.*sgd-cosine"):
        TrainSpec(optimizer="rmsprop")


def test_a_spec_settles_its_rate_so_equal_recipes_compare_equal():
    assert TrainSpec(optimizer="sgd-cosine") == TrainSpec(optimizer="sgd-cosine", lr=0.05)
    assert TrainSpec().lr == 1e-3
    # A run saved before there was a choice of optimiser used the course's.
    old = {"data": "cifar10", "reduction_ratio": 16, "lr": 1e-3, "augment": True}
    assert TrainSpec.from_dict(old) == TrainSpec()
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        TrainSpec(optimizer="rmsprop")


def test_the_attention_module_is_part_of_the_spec_and_old_specs_read_as_before():
    assert TrainSpec(reduction_ratio=16).attention_kind == "se"
    # as the forms and sweeps always made the baseline: the ratio none, whatever was SE
    assert TrainSpec(reduction_ratio=16).replace(reduction_ratio=None).attention_kind == "none"
    eca = TrainSpec(attention="eca", reduction_ratio=16)
    assert (eca.attention_kind, eca.reduction_ratio) == ("eca", None)
    assert TrainSpec(attention="cbam").reduction_ratio == 16
    # the same training however it was asked for, and the record says the module
    assert TrainSpec(attention="se").identity() == TrainSpec().identity()
    assert TrainSpec().to_dict()["attention"] == "se"
    old_job = {k: v for k, v in TrainSpec(reduction_ratio=None).to_dict().items()}
    del old_job["attention"]
    assert TrainSpec.from_dict(old_job).attention_kind == "none"
    with pytest.raises(ValueError, match="needs a reduction ratio"):
        TrainSpec(attention="cbam", reduction_ratio=None)
