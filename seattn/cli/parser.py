"""The command line's options and their help: the CLI's own words for every choice it offers.

Plain Python (no torch): --help and a bad argument answer at once.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from seattn import __version__
from seattn.model.attention import AttentionKind, parse_attention
from seattn.model.ratios import STANDARD_RATIOS, parse_ratio, ratio_slug
from seattn.settings import default_data_spec
from seattn.training.recipes import DEFAULT_LEARNING_RATES, Augmentation, Optimizer
from seattn.training.spec import TrainSpec

DEFAULTS = {field.name: field.default for field in dataclasses.fields(TrainSpec)}
# The command line's own words for the named recipes (the dashboard words them in pages/ui/text).
AUGMENTATION_HELP = {
    Augmentation.COURSE: "RandomCrop(32, 4) + flip + ColorJitter + RandomRotation(15) (course)",
    Augmentation.CROP_FLIP: "RandomCrop(32, 4) + flip",
    Augmentation.NONE: "the images unchanged",
}
OPTIMIZER_HELP = {
    Optimizer.ADAM_PLATEAU: "Adam + ReduceLROnPlateau on the validation loss, as the course",
    Optimizer.SGD_COSINE: "SGD (Nesterov, momentum 0.9, weight decay 5e-4) + cosine to zero",
}
# TrainSpec fields the command line can set as recipe options.
RECIPE_OPTIONS = (
    "data",
    "attention",
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


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (the usage block stays behind --help)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def attention_argument(text: str) -> AttentionKind:
    try:
        return parse_attention(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def ratio_argument(text: str) -> int | None:
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


def _ratio_text(ratio: int | None) -> str:
    return "none" if ratio is None else str(ratio)


def build_parser() -> argparse.ArgumentParser:
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
        type=ratio_argument,
        help="reduction ratio of SE's and CBAM's channel MLP, or 'none' for the network without "
        f"attention (default: {_ratio_text(DEFAULTS['reduction_ratio'])})",
    )
    recipe.add_argument(
        "--attention",
        type=attention_argument,
        choices=list(AttentionKind),
        metavar="{" + ",".join(AttentionKind) + "}",
        help="the attention module in every block: se (the course's Squeeze-and-Excitation), "
        "eca (Efficient Channel Attention, no ratio), cbam (channel then spatial attention) or "
        "none (default: se, or none with --ratio none)",
    )
    recipe.add_argument("--seed", type=int, help=f"training seed (default: {DEFAULTS['seed']})")
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
    evaluate.add_argument(
        "checkpoint",
        nargs="?",
        type=Path,
        help="checkpoint file (default: the bundled r=16 model)",
    )
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

    analyse = commands.add_parser(
        "analyse",
        help="measure what SE does over a whole evaluation set (the atlas)",
        description="One pass over an evaluation set: every SE block's weights, measures per "
        "block and the accuracy under interventions. Cached under the data folder and shared "
        "with the dashboard's Atlas page.",
    )
    analyse.add_argument(
        "model", help="a bundled model's name (e.g. se-r16), a checkpoint file or a run folder"
    )
    analyse.add_argument(
        "--data",
        default=None,
        help="'cifar10' or a folder of class sub-folders (default: the model's own training "
        "data when it is here, else " + default_data_spec() + ")",
    )
    analyse.add_argument(
        "--split",
        choices=["test", "val", "all"],
        default=None,
        help="test: CIFAR-10's test split or the folder's test/; val: the model's held-out "
        "validation images; all: every image (default: test when there is one, else val for "
        "the model's own data, else all)",
    )
    analyse.add_argument("--limit", type=_positive_int, help="a seeded subset of N images")
    analyse.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seeds the subset, the shuffled labels, the halves and the random channels "
        "(default: 0)",
    )
    analyse.add_argument("--json", action="store_true", help="print the result as one JSON object")
    analyse.add_argument("--rebuild", action="store_true", help="recompute even when cached")
    analyse.add_argument("--threads", type=_positive_int, default=None, help="CPU threads")
    analyse.add_argument("--quiet", action="store_true", help="no progress bar")

    sweep = commands.add_parser(
        "sweep",
        help="train several ratios, attention modules and seeds with one recipe",
        description="Train one run per (attention, ratio, seed) into --runs-root, one after "
        "another. Runs are named like sweep-" + ratio_slug(16) + "-seed0-e30 (SE), "
        "sweep-eca-seed0-e30, sweep-cbam-" + ratio_slug(16) + "-seed0-e30; one that exists is "
        "resumed.",
    )
    _add_training_options(sweep, default_data_spec())
    sweep.add_argument(
        "--ratios",
        default=",".join(_ratio_text(r) for r in STANDARD_RATIOS),
        help="comma-separated ratios",
    )
    sweep.add_argument(
        "--attentions",
        default=str(AttentionKind.SE),
        help="comma-separated attention modules, of " + ",".join(AttentionKind) + " (default: "
        "se); the ratios apply to se and cbam, eca and none train once per seed, and a ratio of "
        "none is the network without attention",
    )
    sweep.add_argument("--seeds", default="0", help="comma-separated seeds, or a range like 0-2")
    sweep.add_argument("--runs-root", type=Path, default=None, help="where the run folders go")
    return parser


def _add_training_options(parser: argparse.ArgumentParser, default_data: str) -> Any:
    """Add the recipe options (returned as their group) and --threads, --device, --quiet."""
    # Recipe options not given stay out of the namespace (SUPPRESS), so a resume can tell "not
    # given" (take the run's own) from "given" (must match the run, unless it is --epochs).
    recipe = parser.add_argument_group("recipe", argument_default=argparse.SUPPRESS)
    recipe.add_argument(
        "--data", help=f"'cifar10' or a folder of class sub-folders (default: {default_data})"
    )
    recipe.add_argument(
        "--epochs", type=_positive_int, help=f"epochs to train (default: {DEFAULTS['epochs']})"
    )
    recipe.add_argument(
        "--batch-size",
        type=_positive_int,
        help=f"images per batch (default: {DEFAULTS['batch_size']})",
    )
    _add_named_recipe(
        recipe, "--optimizer", OPTIMIZER_HELP, DEFAULTS["optimizer"], "optimiser and schedule"
    )
    recipe.add_argument(
        "--lr",
        type=_positive_float,
        help="starting learning rate (default: "
        + ", ".join(f"{rate:g} for {name}" for name, rate in DEFAULT_LEARNING_RATES.items())
        + ")",
    )
    _add_named_recipe(
        recipe, "--augment", AUGMENTATION_HELP, DEFAULTS["augment"], "augmentation recipe"
    )
    recipe.add_argument(
        "--no-augment",
        dest="augment",
        action="store_const",
        const=Augmentation.NONE,
        help="the same as --augment none",
    )
    recipe.add_argument(
        "--limit", type=_positive_int, help="use at most this many images (default: all)"
    )
    recipe.add_argument(
        "--split-seed",
        type=int,
        help=f"seed of the validation split (default: {DEFAULTS['split_seed']})",
    )
    parser.add_argument("--threads", type=_positive_int, default=None, help="CPU threads")
    parser.add_argument(
        "--device",
        default=DEFAULTS["device"],
        help="where to train: 'auto' (a CUDA GPU when there is one, else the CPU), 'cpu', 'cuda'",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return recipe


def _add_named_recipe(
    group: Any, flag: str, choices: dict[str, str], default: str, what: str
) -> None:
    descriptions = "; ".join(f"{name}, {text}" for name, text in choices.items())
    group.add_argument(
        flag,
        choices=[str(name) for name in choices],
        help=f"{what}: {descriptions} (default: {default})",
    )


def given_recipe(args: argparse.Namespace) -> dict[str, Any]:
    """The recipe options given on the command line (those not given are absent)."""
    return {name: getattr(args, name) for name in RECIPE_OPTIONS if hasattr(args, name)}
