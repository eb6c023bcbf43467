"""What each command does. Heavy imports wait inside the commands, so --help stays instant."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seattn.cli.parser import attention_argument, given_recipe, ratio_argument
from seattn.settings import default_data_spec
from seattn.training.spec import TrainSpec, spec_to_resume
from seattn.training.states import RunState


class CommandError(Exception):
    """An expected failure: printed as one line, exit status 2."""


def _execution(args: argparse.Namespace) -> dict[str, Any]:
    # Where and how fast it runs, never the run's own: a GPU run may resume on a CPU.
    return {"device": args.device, "threads": args.threads}


def _spec(fields: dict[str, Any]) -> TrainSpec:
    try:
        return TrainSpec.from_dict(fields)
    except (TypeError, ValueError) as error:
        raise CommandError(str(error)) from None


def _run_training(spec: TrainSpec, run_dir: Path, *, resume: bool, quiet: bool) -> str:
    from seattn.cli.progress import TerminalProgress
    from seattn.training.engine import train
    from seattn.training.launcher import stop_event_on_signals

    reporter = TerminalProgress(enabled=not quiet and sys.stderr.isatty())
    try:
        status = train(
            spec, run_dir, resume=resume, stop_event=stop_event_on_signals(), progress=reporter
        )
    finally:
        reporter.close()
    return status.get("state", "")


def command_train(args: argparse.Namespace) -> int:
    from seattn.training.runfiles import Run

    given = {**given_recipe(args), **_execution(args)}
    saved = Run(args.run_dir).read_config() if args.resume else None
    if saved:
        try:
            spec = spec_to_resume(saved, **given)
        except (TypeError, ValueError) as error:
            raise CommandError(str(error)) from None
    else:
        spec = _spec({"data": default_data_spec(), **given})
    state = _run_training(spec, args.run_dir, resume=args.resume, quiet=args.quiet)
    print(f"{args.run_dir}: {state}", file=sys.stderr)
    return 0 if state == RunState.COMPLETED else 3


def command_sweep(args: argparse.Namespace) -> int:
    from seattn.model.attention import variant_label
    from seattn.settings import runs_root
    from seattn.training.sweep import parse_seeds, sweep_specs

    try:
        ratios = [ratio_argument(part) for part in args.ratios.split(",") if part.strip()]
        parts = [part for part in args.attentions.split(",") if part.strip()]
        attentions = [attention_argument(part) for part in parts]
        seeds = parse_seeds(args.seeds)
    except (argparse.ArgumentTypeError, ValueError) as error:
        raise CommandError(f"bad --ratios, --attentions or --seeds: {error}") from None
    base = _spec({"data": default_data_spec(), **given_recipe(args), **_execution(args)})
    root = args.runs_root or runs_root()
    specs = sweep_specs(base, ratios, seeds, attentions)
    if not specs:
        raise CommandError("bad --ratios or --attentions: nothing to train")
    for name, spec in specs:
        run_dir = root / name
        variant = variant_label(spec.attention_kind, spec.reduction_ratio)
        print(f"{variant}, seed {spec.seed} -> {run_dir}", file=sys.stderr)
        state = _run_training(spec, run_dir, resume=run_dir.exists(), quiet=args.quiet)
        if state != RunState.COMPLETED:
            print(f"sweep stopped at {run_dir}: {state}", file=sys.stderr)
            return 3
    return 0


def _load_model(checkpoint: Path | None) -> tuple[Any, dict]:
    from seattn.model.checkpoints import load_model
    from seattn.zoo import default_model_path

    path = default_model_path() if checkpoint in (None, Path("default")) else checkpoint
    return load_model(path)


def command_eval(args: argparse.Namespace) -> int:
    import torch

    from seattn.data.datasets import load_eval_set
    from seattn.training.evaluation import evaluate

    if args.threads:
        torch.set_num_threads(args.threads)
    model, config = _load_model(args.checkpoint)
    image_set = load_eval_set(args.data)
    if image_set.classes != list(config["classes"]):
        raise CommandError(
            f"{args.data}: its classes {image_set.classes} differ from the model's "
            f"{list(config['classes'])}"
        )
    result = evaluate(model, image_set)
    print(json.dumps(result, indent=2))
    return 0


def command_predict(args: argparse.Namespace) -> int:
    from seattn.data.images import open_image, to_model_input
    from seattn.model.probe import probe

    model, config = _load_model(args.checkpoint)
    checked = []
    for path in args.images:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot be read ({error.strerror or error})") from None
        checked.append(open_image(data, str(path)))
    result = probe(model, to_model_input([c.image for c in checked]))
    predictions = [
        {"image": c.name, "top5": [{"class": name, "prob": prob} for name, prob in top]}
        for c, top in zip(checked, result.top_k(list(config["classes"]), 5), strict=True)
    ]
    print(json.dumps(predictions, indent=2))
    return 0


def command_analyse(args: argparse.Namespace) -> int:
    import torch

    from seattn.analysis.atlas import open_atlas
    from seattn.analysis.catalog import resolve_model
    from seattn.cli.progress import StageProgress

    if args.threads:
        torch.set_num_threads(args.threads)
    path, name = resolve_model(args.model)
    reporter = StageProgress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        atlas = open_atlas(
            path,
            model_name=name,
            data=args.data,
            split=args.split,
            limit=args.limit,
            seed=args.seed,
            rebuild=args.rebuild,
            progress=reporter,
        )
    finally:
        reporter.close()
    summary = atlas.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(_atlas_text(summary))
    return 0


def _atlas_text(summary: dict[str, Any]) -> str:
    """The atlas as a few aligned lines for a terminal."""
    data = summary["data"]
    lines = [
        f"{summary['model']} on {data['name']} ({data['split']}, {summary['images']} images): "
        f"accuracy {summary['clean_accuracy']:.2%}"
    ]
    if not summary["blocks"]:
        lines.append("no SE blocks: nothing to measure")
        return "\n".join(lines)
    header = ("block", "mean", "std", "fixed", "eta2", "eta2 shuf", "ncm acc", "chance")
    lines.append("  ".join(f"{h:>9}" for h in header))
    for block in summary["blocks"]:
        values = [block[key] for key in _TEXT_MEASURES]
        lines.append(f"{block['name']:>9}  " + "  ".join(_cell(v) for v in values))
    lines.append("interventions (accuracy):")
    for record in summary["interventions"]:
        k = "" if record["k"] is None else f" k={record['k']:.0%}"
        lines.append(f"  {record['kind']}{k} on {record['blocks']}: {record['accuracy']:.2%}")
    return "\n".join(lines)


_TEXT_MEASURES = (
    "mean",
    "std",
    "fixed_share",
    "eta_squared",
    "eta_squared_shuffled",
    "nearest_class_mean_accuracy",
    "chance",
)


def _cell(value: float | None) -> str:
    return f"{'undefined':>9}" if value is None else f"{value:9.4f}"


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "analyse": command_analyse,
    "train": command_train,
    "eval": command_eval,
    "predict": command_predict,
    "sweep": command_sweep,
}
