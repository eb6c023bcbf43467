"""``python -m seattn.zoo RUN_DIR...``: finished runs into the bundled-model folder.

Each run's checkpoint becomes float16 weights without optimiser state, beside a metadata file
(see seattn.zoo); ``--seed-run`` adds the metrics of other seeds of the same variant and recipe.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from seattn.atomic import write_json_atomic
from seattn.model.attention import config_attention
from seattn.model.checkpoints import CheckpointError, read_checkpoint, save_checkpoint
from seattn.settings import zoo_dir
from seattn.training.recipes import Recipe
from seattn.training.runfiles import Run
from seattn.zoo import model_name


def _completed_training(run_dir: Path | str) -> tuple[Run, dict[str, Any], list[dict[str, Any]]]:
    run = Run(run_dir)
    payload = read_checkpoint(run.checkpoint_path)
    history = list(payload.get("history", []))
    if not history:
        raise CheckpointError(f"{run.checkpoint_path}: no completed epoch to export")
    return run, payload, history


def _checkpoint_recipe(payload: dict[str, Any]) -> Recipe:
    return Recipe.from_record(payload["config"].get("recipe") or {}).as_trained(payload["epoch"])


def _variant(payload: dict[str, Any]) -> tuple[Any, ...]:
    """What must match for two runs to count as seeds of one model: attention and ratio,
    recipe, data, split."""
    config = payload["config"]
    data = config.get("data_description") or {}
    return (
        *config_attention(config),
        _checkpoint_recipe(payload),
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
    name = name or model_name(*reversed(config_attention(config)))
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
            "attention": str(config_attention(config)[0]),
            "reduction_ratio": config.get("reduction_ratio"),
            "label": config.get("model", {}).get("label"),
            "parameters": config.get("model", {}).get("parameters"),
            "se_hidden_widths": config.get("model", {}).get("se_hidden_widths"),
            "classes": config.get("classes"),
            "epochs": payload["epoch"],
            "seed": config.get("seed"),
            "recipe": _checkpoint_recipe(payload).to_dict(),
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
