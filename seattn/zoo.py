"""The bundled trained models: float16 state_dicts in seattn/zoo/, each with a metadata file.

    seattn/zoo/<name>.pt     a seattn checkpoint (see seattn.checkpoints) whose model_state is
                             float16 and which carries no optimizer state: small, loads offline
    seattn/zoo/<name>.json   how it was made and how well it does: recipe, epochs, seed, data and
                             split, validation accuracy and loss, per-class accuracy, training
                             time, hardware, software versions and the metrics history

Names: "no-se", "se-r2", "se-r4", "se-r8", "se-r16", "se-r32" by default; ``--name`` ships a
second model of one variant under its own name. Runs of the same variant and recipe with other
seeds can ride along as metrics only (``--seed-run``): the Compare page averages them.
SEATTN_ZOO_DIR points elsewhere (tests use it so they never depend on the shipped files).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from seattn.checkpoints import CheckpointError, read_checkpoint, save_checkpoint
from seattn.recipes import parse_augmentation
from seattn.runs import Run, write_json_atomic

PACKAGE_ZOO_DIR = Path(__file__).parent / "zoo"
DEFAULT_MODEL = "se-r16"


def zoo_dir() -> Path:
    return Path(os.environ.get("SEATTN_ZOO_DIR", PACKAGE_ZOO_DIR))


def model_name(reduction_ratio: int | None) -> str:
    return "no-se" if reduction_ratio is None else f"se-r{reduction_ratio}"


def bundled_models(folder: Path | None = None) -> dict[str, Path]:
    """name -> weights file, for every bundled model."""
    folder = folder or zoo_dir()
    return {path.stem: path for path in sorted(folder.glob("*.pt"))}


def metadata(name: str, folder: Path | None = None) -> dict[str, Any]:
    return json.loads(((folder or zoo_dir()) / f"{name}.json").read_text())


def default_model_path() -> Path:
    path = zoo_dir() / f"{DEFAULT_MODEL}.pt"
    if not path.exists():
        raise CheckpointError(
            f"{path}: the bundled default model is missing; pass a checkpoint file instead"
        )
    return path


def _completed_training(run_dir: Path | str) -> tuple[Run, dict[str, Any], list[dict[str, Any]]]:
    run = Run(run_dir)
    payload = read_checkpoint(run.checkpoint_path)
    history = list(payload.get("history", []))
    if not history:
        raise CheckpointError(f"{run.checkpoint_path}: no completed epoch to export")
    return run, payload, history


def recipe_as_trained(recipe: dict[str, Any], epochs: int | None) -> dict[str, Any]:
    """The recipe with the epochs actually trained (when known), its augmentation by name.

    A run stopped before its planned end, or resumed with no epoch left, keeps the epochs it once
    planned in its config; it trained, and is compared with models of, as many as it holds.
    Runs saved before augmentation recipes had names say yes or no; named, they group with newer
    runs of the same recipe.
    """
    recipe = dict(recipe)
    if recipe.get("augment") is not None:
        recipe["augment"] = parse_augmentation(recipe["augment"])
    if epochs is not None:
        recipe["epochs"] = epochs
    return recipe


def _checkpoint_recipe(payload: dict[str, Any]) -> dict[str, Any]:
    return recipe_as_trained(payload["config"].get("recipe") or {}, payload["epoch"])


def _variant(payload: dict[str, Any]) -> tuple[Any, ...]:
    """What must match for two runs to count as seeds of one model: ratio, recipe, data, split."""
    config = payload["config"]
    data = config.get("data_description") or {}
    return (
        config.get("reduction_ratio"),
        json.dumps(_checkpoint_recipe(payload), sort_keys=True),
        data.get("fingerprint"),
        data.get("split"),
    )


def read_seed_run(run_dir: Path | str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A run's variant and its metrics, for shipping beside another seed's weights."""
    run, payload, history = _completed_training(run_dir)
    last = history[-1]
    record = {
        "seed": payload["config"].get("seed"),
        "epochs": payload["epoch"],
        "final_val_accuracy": last["val_accuracy"],
        "best_val_accuracy": max(row["val_accuracy"] for row in history),
        "val_loss": last["val_loss"],
        "per_class": payload.get("val_per_class"),
        "training_seconds": sum(row["epoch_seconds"] for row in history),
        "state": run.read_status().get("state"),
        "history": history,
    }
    return _variant(payload), record


def _hardware(config: dict[str, Any]) -> str:
    versions = config.get("versions", {})
    cpu = f"{versions.get('processor', 'CPU')}, {config.get('threads')} thread(s)"
    gpu = versions.get("gpu")
    return f"{gpu} GPU (CUDA {versions.get('cuda')}), with {cpu}" if gpu else cpu


def export_run(
    run_dir: Path | str,
    folder: Path | None = None,
    *,
    name: str | None = None,
    hardware: str | None = None,
    extra_seeds: list[dict[str, Any]] | None = None,
) -> Path:
    """Write a completed run's model into the zoo as float16 weights plus metadata; returns .pt."""
    run, payload, history = _completed_training(run_dir)
    config = payload["config"]
    name = name or model_name(config.get("reduction_ratio"))
    folder = folder or zoo_dir()
    folder.mkdir(parents=True, exist_ok=True)
    half_state = {
        key: value.half() if value.is_floating_point() else value
        for key, value in payload["model_state"].items()
    }
    weights_path = folder / f"{name}.pt"
    save_checkpoint(
        weights_path,
        {"config": config, "epoch": payload["epoch"], "model_state": half_state},
    )
    last = history[-1]
    status = run.read_status()
    versions = config.get("versions", {})
    write_json_atomic(
        folder / f"{name}.json",
        {
            "name": name,
            "reduction_ratio": config.get("reduction_ratio"),
            "label": config.get("model", {}).get("label"),
            "parameters": config.get("model", {}).get("parameters"),
            "se_hidden_widths": config.get("model", {}).get("se_hidden_widths"),
            "classes": config.get("classes"),
            "epochs": payload["epoch"],
            "seed": config.get("seed"),
            "recipe": _checkpoint_recipe(payload),
            "data": config.get("data_description"),
            "val_accuracy": last["val_accuracy"],
            "val_loss": last["val_loss"],
            "best_val_accuracy": max(row["val_accuracy"] for row in history),
            "per_class": payload.get("val_per_class"),
            "training_seconds": sum(row["epoch_seconds"] for row in history),
            "images_per_second": sum(row["images_per_second"] for row in history) / len(history),
            "hardware": hardware or _hardware(config),
            "versions": versions,
            "precision": "weights stored as float16; trained with "
            + ("bfloat16 autocast" if config.get("bf16") else "float32"),
            "history": history,
            "seeds": extra_seeds or [],
            "state": status.get("state"),
        },
    )
    return weights_path


def main(argv: list[str] | None = None) -> int:
    """``python -m seattn.zoo RUN_DIR...``: put completed runs' models into the zoo (the package's
    own unless SEATTN_ZOO_DIR says otherwise)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m seattn.zoo", description=main.__doc__)
    parser.add_argument("runs", nargs="+", type=Path, help="run folders to export")
    parser.add_argument("--hardware", default=None, help="what they were trained on")
    parser.add_argument("--name", default=None, help="zoo name (one run only; default: se-rN)")
    parser.add_argument(
        "--seed-run",
        action="append",
        default=[],
        type=Path,
        help="a run of the same variant and recipe with another seed: its metrics ship along",
    )
    args = parser.parse_args(argv)
    if args.name and len(args.runs) > 1:
        parser.error("--name names one model: export one run at a time with it")
    try:
        # Read and match every seed run (each once) before writing anything, so a mistake
        # exports nothing.
        candidates = {path: read_seed_run(path) for path in args.seed_run}
        matches: dict[Path, list[Path]] = {}
        for run_dir in args.runs:
            payload = _completed_training(run_dir)[1]
            variant, seed = _variant(payload), payload["config"].get("seed")
            matches[run_dir] = [
                path
                for path, (other_variant, record) in candidates.items()
                if other_variant == variant and record["seed"] != seed
            ]
        unmatched = set(candidates).difference(*matches.values())
        if unmatched:
            names = ", ".join(sorted(str(path) for path in unmatched))
            parser.exit(1, f"error: no exported run shares variant, recipe and data with {names}\n")
        for run_dir, paths in matches.items():
            records = sorted((candidates[path][1] for path in paths), key=lambda r: r["seed"])
            path = export_run(
                run_dir,
                zoo_dir(),
                name=args.name,
                hardware=args.hardware,
                extra_seeds=records,
            )
            others = f"{len(records)} other seed{'' if len(records) == 1 else 's'}"
            print(f"{path} (+ metrics of {others})")
    except (CheckpointError, OSError) as error:
        parser.exit(1, f"error: {error}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
