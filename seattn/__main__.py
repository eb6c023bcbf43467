"""The command line: ``python -m seattn train|eval|predict|sweep``.

Every expected failure (bad arguments, missing or unreadable files, refused checkpoints, data that
cannot be loaded) exits non-zero with one clear line on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from seattn import __version__
from seattn.recipes import (
    ADAM_PLATEAU,
    AUGMENTATIONS,
    COURSE,
    DEFAULT_LEARNING_RATES,
    NO_AUGMENTATION,
    OPTIMIZERS,
)


class CommandError(Exception):
    """An expected failure: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (the usage block stays behind --help)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def _ratio(text: str) -> int | None:
    from seattn.ratios import parse_ratio

    try:
        return parse_ratio(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _default_model_help() -> str:
    return "checkpoint file (default: the bundled r=16 model)"


def build_parser() -> argparse.ArgumentParser:
    from seattn.settings import default_data_spec

    parser = Parser(
        prog="python -m seattn",
        description="Train, evaluate and query SE-CNN models (the library behind the dashboard).",
    )
    parser.add_argument("--version", action="version", version=f"seattn {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )

    train = commands.add_parser(
        "train",
        help="train a model into a run folder",
        description="Train the reference CNN (with or without SE) with the reference recipe.",
    )
    recipe = _add_training_options(train, default_data_spec())
    recipe.description = "with --resume, the options not given are the run's own"
    recipe.add_argument(
        "--ratio",
        dest="reduction_ratio",
        metavar="RATIO",
        type=_ratio,
        help="SE reduction ratio, or 'none' (default: 16)",
    )
    recipe.add_argument("--seed", type=int, help="training seed (default: 0)")
    train.add_argument("--run-dir", type=Path, required=True, help="folder for this run's files")
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --run-dir from its checkpoint (give --epochs to train it longer)",
    )

    evaluate = commands.add_parser(
        "eval",
        help="evaluate a checkpoint on a data set, print JSON",
        description="Accuracy, loss and per-class accuracy over every image of a class-folder "
        "tree (or its test/ split), printed as JSON.",
    )
    evaluate.add_argument("checkpoint", nargs="?", type=Path, help=_default_model_help())
    evaluate.add_argument("--data", default=default_data_spec(), help="cifar10 or a folder")
    evaluate.add_argument("--threads", type=_positive_int, default=None)

    predict = commands.add_parser(
        "predict",
        help="top-5 classes for images, print JSON",
        description="Top-5 classes with probabilities for each image, printed as JSON.",
    )
    predict.add_argument(
        "checkpoint",
        type=Path,
        help="checkpoint file, or 'default' for the bundled r=16 model",
    )
    predict.add_argument("images", type=Path, nargs="+", help="image files")

    sweep = commands.add_parser(
        "sweep",
        help="train several ratios and seeds with one recipe",
        description="Train one run per (ratio, seed) into --runs-root, one after another.",
    )
    _add_training_options(sweep, default_data_spec())
    sweep.add_argument("--ratios", default="none,2,4,8,16,32", help="comma-separated ratios")
    sweep.add_argument("--seeds", default="0", help="comma-separated seeds")
    sweep.add_argument("--runs-root", type=Path, default=None, help="where the run folders go")
    return parser


def _add_training_options(parser: argparse.ArgumentParser, default_data: str) -> Any:
    """Add the recipe options (returned as their group) and --threads, --quiet."""
    # Recipe options not given stay out of the namespace (SUPPRESS), so a resume can tell "not
    # given" (take the run's own) from "given" (must match the run, unless it is --epochs).
    recipe = parser.add_argument_group("recipe", argument_default=argparse.SUPPRESS)
    recipe.add_argument(
        "--data", help=f"'cifar10' or a folder of class sub-folders (default: {default_data})"
    )
    recipe.add_argument("--epochs", type=_positive_int, help="epochs to train (default: 30)")
    recipe.add_argument("--batch-size", type=_positive_int, help="images per batch (default: 128)")
    _add_named_recipe(recipe, "--optimizer", OPTIMIZERS, ADAM_PLATEAU, "optimiser and schedule")
    recipe.add_argument(
        "--lr",
        type=_positive_float,
        help="starting learning rate (default: "
        + ", ".join(f"{rate:g} for {name}" for name, rate in DEFAULT_LEARNING_RATES.items())
        + ")",
    )
    _add_named_recipe(recipe, "--augment", AUGMENTATIONS, COURSE, "augmentation recipe")
    recipe.add_argument(
        "--no-augment",
        dest="augment",
        action="store_const",
        const=NO_AUGMENTATION,
        help="the same as --augment none",
    )
    recipe.add_argument(
        "--limit", type=_positive_int, help="use at most this many images (default: all)"
    )
    recipe.add_argument("--split-seed", type=int, help="seed of the validation split (default: 0)")
    parser.add_argument("--threads", type=_positive_int, default=None, help="CPU threads")
    parser.add_argument(
        "--device",
        default="auto",
        help="where to train: 'auto' (a CUDA GPU when there is one, else the CPU), 'cpu', 'cuda'",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return recipe


def _add_named_recipe(
    group: Any, flag: str, choices: dict[str, str], default: str, what: str
) -> None:
    descriptions = "; ".join(f"{name}, {text}" for name, text in choices.items())
    group.add_argument(
        flag, choices=list(choices), help=f"{what}: {descriptions} (default: {default})"
    )


# TrainConfig fields the command line can set.
RECIPE_OPTIONS = (
    "data",
    "reduction_ratio",
    "epochs",
    "batch_size",
    "lr",
    "seed",
    "split_seed",
    "augment",
    "optimizer",
    "limit",
)


def _train_config(
    args: argparse.Namespace, *, saved: dict[str, Any] | None = None, **fixed: Any
) -> Any:
    """The options given on the command line, else the run's ``saved`` config, else defaults."""
    from seattn.settings import default_data_spec
    from seattn.train import TrainConfig, resume_data_spec

    fields: dict[str, Any] = {"data": default_data_spec()}
    if saved:
        fields.update({name: saved[name] for name in RECIPE_OPTIONS if name in saved})
        if "data" in saved:
            fields["data"] = resume_data_spec(saved)
    fields.update({name: getattr(args, name) for name in RECIPE_OPTIONS if hasattr(args, name)})
    fields["device"] = args.device  # where it runs, never the run's: a GPU run may resume on a CPU
    fields.update(fixed)
    try:
        return TrainConfig(**fields)
    except ValueError as error:
        raise CommandError(str(error)) from None


def _install_stop_signals(stop_event: threading.Event) -> None:
    def request_stop(signum: int, frame: Any) -> None:
        stop_event.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)


def _run_training(config: Any, run_dir: Path, *, resume: bool, args: argparse.Namespace) -> str:
    from seattn.progress import TerminalProgress
    from seattn.train import train

    stop_event = threading.Event()
    _install_stop_signals(stop_event)
    reporter = TerminalProgress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        status = train(
            config,
            run_dir,
            resume=resume,
            threads=args.threads,
            stop_event=stop_event,
            progress=reporter,
        )
    finally:
        reporter.close()
    return status.get("state", "")


def command_train(args: argparse.Namespace) -> int:
    from seattn.runs import Run

    saved = Run(args.run_dir).read_config() if args.resume else None
    config = _train_config(args, saved=saved)
    state = _run_training(config, args.run_dir, resume=args.resume, args=args)
    print(f"{args.run_dir}: {state}", file=sys.stderr)
    return 0 if state == "completed" else 3


def command_sweep(args: argparse.Namespace) -> int:
    from seattn.ratios import ratio_label
    from seattn.settings import runs_root
    from seattn.sweep import sweep_run_name

    try:
        ratios = [_ratio(part) for part in args.ratios.split(",") if part.strip()]
        seeds = [int(part) for part in args.seeds.split(",") if part.strip()]
    except (argparse.ArgumentTypeError, ValueError) as error:
        raise CommandError(f"bad --ratios or --seeds: {error}") from None
    root = args.runs_root or runs_root()
    for ratio in ratios:
        for seed in seeds:
            config = _train_config(args, reduction_ratio=ratio, seed=seed)
            run_dir = root / sweep_run_name(
                ratio, seed, config.epochs, optimizer=config.optimizer, augment=config.augment
            )
            print(f"{ratio_label(ratio)}, seed {seed} -> {run_dir}", file=sys.stderr)
            state = _run_training(config, run_dir, resume=run_dir.exists(), args=args)
            if state != "completed":
                print(f"sweep stopped at {run_dir}: {state}", file=sys.stderr)
                return 3
    return 0


def _load_model(checkpoint: Path | None) -> tuple[Any, dict]:
    from seattn.checkpoints import load_model
    from seattn.zoo import default_model_path

    path = default_model_path() if checkpoint in (None, Path("default")) else checkpoint
    return load_model(path)


def command_eval(args: argparse.Namespace) -> int:
    import torch

    from seattn.data import load_eval_set
    from seattn.train import evaluate

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
    from seattn.images import open_image, to_model_input
    from seattn.probe import probe

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


COMMANDS = {
    "train": command_train,
    "eval": command_eval,
    "predict": command_predict,
    "sweep": command_sweep,
}


def main(argv: list[str] | None = None) -> int:
    # Parse first: --help and bad arguments answer at once, before torch is imported.
    args = build_parser().parse_args(argv)
    from seattn.checkpoints import CheckpointError
    from seattn.data import DataError
    from seattn.images import ImageError

    try:
        return COMMANDS[args.command](args)
    except (CommandError, CheckpointError, DataError, ImageError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"error: {error.filename}: no such file or folder", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
