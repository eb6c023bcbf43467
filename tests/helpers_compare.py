"""What the comparison tests share: real runs and bundled models trained once, synthetic models."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd

from seattn.analysis.catalog import ModelSource
from seattn.analysis.compare import grouping, sources
from seattn.model.attention import AttentionKind
from seattn.training.engine import train
from seattn.training.recipes import Recipe
from seattn.training.sweep import sweep_run_name
from seattn.zoo.export import export_run
from tests.helpers import tiny_spec, write_image_folder

RATIOS = (None, 4, 8)


EXTRA_BUNDLED_SEED = {
    "seed": 2,
    "best_val_accuracy": 0.5,
    "final_val_accuracy": 0.4,
    "val_loss": 1.5,
}


def comparison_store(base: Path, image_folder: Path) -> dict[str, Path]:
    """Runs and a zoo for the comparison, trained by the real trainer once per test session.

    runs/: no SE, r=4 and r=8 (seed 0) on ``image_folder``, named as the CLI's sweep names them,
    plus r=4 on another generated folder. zoo/: r=4 trained with seed 1 on ``image_folder``,
    exported by seattn.zoo with one extra metrics-only seed. Shared by test_compare and
    test_app_compare through the session's base folder, so the training happens once.
    """
    store = base / "compare-store"
    paths = {
        "runs": store / "runs",
        "zoo": store / "zoo",
        "data": store / "data",
        "other_images": store / "other-images",
    }
    if (store / "complete").exists():
        return paths
    for ratio in RATIOS:
        train(
            tiny_spec(image_folder, ratio),
            paths["runs"] / sweep_run_name(ratio, 0, 1),
            data_dir=paths["data"],
        )
    write_image_folder(paths["other_images"], per_class=16, seed=7)
    train(
        tiny_spec(paths["other_images"], 4),
        paths["runs"] / "other-data-r4",
        data_dir=paths["data"],
    )
    seed_one = store / "for-zoo" / "r4-seed1"
    train(tiny_spec(image_folder, 4, seed=1), seed_one, data_dir=paths["data"])
    export_run(seed_one, paths["zoo"], extra_seeds=[EXTRA_BUNDLED_SEED, {"seed": 1}])
    (store / "complete").touch()
    return paths


def synthetic(
    name: str, ratio: int | None, seed: int, accuracy: float, **changes
) -> sources.TrainedModel:
    model = sources.TrainedModel(
        source=ModelSource.RUN,
        name=name,
        reduction_ratio=ratio,
        seed=seed,
        classes=("a", "b", "c"),
        data={"name": "shapes", "fingerprint": "f1", "split": "seeded"},
        recipe=Recipe.from_record(
            {"epochs": 2, "lr": 0.001, "batch_size": 16, "augment": True, "limit": None}
        ),
        history=pd.DataFrame(
            {
                "epoch": [1, 2],
                "val_accuracy": [accuracy - 0.1, accuracy],
                "val_loss": [1.0, 0.5],
                "train_loss": [1.2, 0.8],
                "epoch_seconds": [2.0, 4.0],
                "images_per_second": [100.0, 50.0],
            }
        ),
        epochs=2,
        best_val_accuracy=accuracy,
        final_val_accuracy=accuracy,
        final_val_loss=0.5,
        training_seconds=6.0,
        images_per_second=75.0,
        checkpoint=None,
        checkpoint_bytes=None,
    )
    return dataclasses.replace(model, **changes)


def main_group(groups) -> grouping.ComparisonGroup:
    return next(g for g in groups if len(g.ratios) == 3)


def attention_store(base: Path, image_folder: Path) -> dict[str, Path]:
    """The comparison store's runs and zoo, plus an ECA and a CBAM r=4 run of the same recipe on
    the same images (seed 0, sweep names): one group of five variants. Trained once per session."""
    main = comparison_store(base, image_folder)
    store = base / "compare-attention-store"
    paths = {**main, "runs": store / "runs", "data": store / "data"}
    if (store / "complete").exists():
        return paths
    shutil.copytree(main["runs"], paths["runs"], dirs_exist_ok=True)
    for kind, ratio in ((AttentionKind.ECA, None), (AttentionKind.CBAM, 4)):
        spec = tiny_spec(image_folder, ratio).replace(attention=kind)
        name = sweep_run_name(ratio, 0, 1, attention=kind)
        train(spec, paths["runs"] / name, data_dir=paths["data"])
    (store / "complete").touch()
    return paths
