"""The training forms' widgets (Train and Compare): one recipe, one set of defaults.

Every default comes from seattn.training.spec.TrainSpec, so runs started from either page, or
from the command line, compare as equals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from streamlit.delta_generator import DeltaGenerator

from pages.ui import text
from seattn.data.cifar10 import CIFAR10, is_cifar10
from seattn.i18n import _
from seattn.model.attention import AttentionKind
from seattn.model.ratios import DEFAULT_REDUCTION_RATIO, STANDARD_RATIOS, ratio_label
from seattn.settings import default_data_spec
from seattn.training.recipes import DEFAULT_LEARNING_RATES, Augmentation, Optimizer
from seattn.training.spec import TrainSpec

DEFAULTS = {field.name: field.default for field in dataclasses.fields(TrainSpec)}
# The ratios the ratio box offers: the network without attention is a choice of the Attention box.
RATIO_CHOICES = tuple(ratio for ratio in STANDARD_RATIOS if ratio is not None)


def _configured_default_choice(default: str) -> str:
    return f"Configured default ({default})"


def _data_choices() -> dict[str, str]:
    """Values of the data radio (English: they are the widget's state) -> data spec ('' = the
    folder typed below); shown translated by :func:`_data_choice_text`."""
    default = default_data_spec()
    choices = {text.DATA_CIFAR10_CHOICE: CIFAR10, text.DATA_FOLDER_CHOICE: ""}
    if not is_cifar10(default):
        choices = {_configured_default_choice(default): default, **choices}
    return choices


def _data_choice_text(choice: str) -> str:
    default = default_data_spec()
    if not is_cifar10(default) and choice == _configured_default_choice(default):
        return _("Configured default ({data})").format(data=default)
    return text.data_choice_text(choice)


def data_input(container: DeltaGenerator, key_prefix: str, folder_help: str) -> str:
    """Draw the Data radio and the Image folder box; the data spec chosen ('' = no folder typed).

    Widget keys: ``<key_prefix>_data`` and ``<key_prefix>_folder``.
    """
    choices = _data_choices()
    label = container.radio(
        _("Data"), list(choices), format_func=_data_choice_text, key=f"{key_prefix}_data"
    )
    folder = container.text_input(
        _("Image folder"),
        key=f"{key_prefix}_folder",
        placeholder=_("/path/to/images (one sub-folder per class)"),
        help=folder_help,
    )
    return choices[label] or folder.strip()


def _same_data(first: str, second: str) -> bool:
    if is_cifar10(first) or is_cifar10(second):
        return is_cifar10(first) and is_cifar10(second)
    return Path(first).expanduser().resolve() == Path(second).expanduser().resolve()


def data_values(key_prefix: str, data: str) -> dict[str, str]:
    """The session-state values that make :func:`data_input` show ``data`` (a form refilled)."""
    for label, spec in _data_choices().items():
        if spec and _same_data(spec, data):
            return {f"{key_prefix}_data": label, f"{key_prefix}_folder": ""}
    return {f"{key_prefix}_data": text.DATA_FOLDER_CHOICE, f"{key_prefix}_folder": data}


def recipe_inputs(columns: Sequence[DeltaGenerator], key_prefix: str) -> dict[str, Any]:
    """Draw the recipe's boxes in four columns: epochs, batch size, learning rate, images.

    Returns them as ``TrainSpec`` fields (``limit`` None: every image, ``lr`` None: the
    optimiser's own). Widget keys: ``<key_prefix>_epochs``, ``_batch``, ``_lr`` and ``_limit``.
    """
    epochs_column, batch_column, lr_column, limit_column = columns
    epochs = epochs_column.number_input(
        _("Epochs"), 1, 500, DEFAULTS["epochs"], key=f"{key_prefix}_epochs"
    )
    batch_size = batch_column.number_input(
        _("Batch size"), 1, 1024, DEFAULTS["batch_size"], key=f"{key_prefix}_batch"
    )
    lr = lr_column.number_input(
        _("Learning rate"),
        1e-5,
        1.0,
        None,
        step=1e-4,
        format="%.4f",
        key=f"{key_prefix}_lr",
        placeholder=_("default"),
        help=text.learning_rate_help(),
    )
    limit = limit_column.number_input(
        _("Images (0 = all)"),
        0,
        None,
        0,
        key=f"{key_prefix}_limit",
        help=_("Train on a subset, to try."),
    )
    return {
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "lr": None if lr is None else float(lr),
        "limit": int(limit) or None,
    }


def recipe_values(key_prefix: str, spec: TrainSpec) -> dict[str, Any]:
    """The session-state values that make :func:`recipe_inputs` show ``spec``'s recipe."""
    own_rate = spec.lr == DEFAULT_LEARNING_RATES[spec.optimizer]
    return {
        f"{key_prefix}_epochs": spec.epochs,
        f"{key_prefix}_batch": spec.batch_size,
        f"{key_prefix}_lr": None if own_rate else spec.lr,  # empty: the optimiser's own
        f"{key_prefix}_limit": spec.limit or 0,
    }


def attention_inputs(
    attention_container: DeltaGenerator, ratio_container: DeltaGenerator, key_prefix: str
) -> dict[str, Any]:
    """Draw the Attention box (SE, ECA, CBAM, no attention) and the Reduction ratio box beside it.

    Returns them as ``TrainSpec`` fields: the ratio only for SE and CBAM, None for ECA and no
    attention (a form's widgets cannot change one another before it is sent, so the ratio box
    stays, and its help says when it is ignored). Widget keys: ``<key_prefix>_attention`` and
    ``<key_prefix>_ratio``.
    """
    kinds = list(AttentionKind)
    attention = attention_container.selectbox(
        _("Attention"),
        kinds,
        index=kinds.index(AttentionKind.SE),
        format_func=text.attention_choice,
        key=f"{key_prefix}_attention",
        help=_(
            "The attention module in every block: SE, ECA (no reduction ratio), CBAM (channel "
            "then spatial attention), or none, the baseline."
        ),
    )
    ratio = ratio_container.selectbox(
        _("Reduction ratio"),
        RATIO_CHOICES,
        index=RATIO_CHOICES.index(DEFAULT_REDUCTION_RATIO),
        format_func=ratio_label,
        key=f"{key_prefix}_ratio",
        help=_(
            "For SE and CBAM: their channel bottleneck has channels / r hidden units. ECA and "
            "the network without attention have no ratio, and ignore it."
        ),
    )
    kind = AttentionKind(attention)
    return {"attention": kind, "reduction_ratio": ratio if kind.uses_ratio else None}


def attention_values(key_prefix: str, spec: TrainSpec) -> dict[str, Any]:
    """The session-state values that make :func:`attention_inputs` show ``spec``'s module."""
    values: dict[str, Any] = {f"{key_prefix}_attention": spec.attention_kind}
    if spec.reduction_ratio in RATIO_CHOICES:
        values[f"{key_prefix}_ratio"] = spec.reduction_ratio
    return values


def optimizer_input(container: DeltaGenerator, key: str) -> Optimizer:
    """The optimiser recipe, by name; the spec's default is preselected."""
    return _named_choice(
        container,
        _("Optimiser"),
        text.OPTIMIZER_DESCRIPTIONS,
        DEFAULTS["optimizer"],
        key,
        text.OPTIMIZER_HELP,
    )


def augmentation_input(container: DeltaGenerator, key: str) -> Augmentation:
    """The augmentation recipe, by name; the spec's default is preselected."""
    return _named_choice(
        container,
        _("Augmentation"),
        text.AUGMENTATION_DESCRIPTIONS,
        DEFAULTS["augment"],
        key,
        text.AUGMENTATION_HELP,
    )


def _named_choice(
    container: DeltaGenerator,
    label: str,
    choices: dict[Any, str],
    default: Any,
    key: str,
    help_text: str,
) -> Any:
    """A selectbox of recipe names, each shown by its description (in the session's language)."""
    names = list(choices)
    return container.selectbox(
        label,
        names,
        index=names.index(default),
        format_func=lambda name: _(choices[name]),
        key=key,
        help=_(help_text),
    )


def spec_from_form(data: str, **fields: Any) -> TrainSpec | str:
    """The spec the form describes, or the sentence saying what to change."""
    if not data:
        return _("Type the path of an image folder, or choose CIFAR-10.")
    try:
        return TrainSpec(data=data, **fields)
    except ValueError as error:
        return str(error)
