"""The dashboard's words: every sentence the pages build from the library's names and numbers.

The library (seattn) hands out identities (enum names, ratios, states) and numbers; this module
words them, in one place, so that the interface can be translated without touching the logic.
Plain Python, no Streamlit: tests check the wording directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from seattn.analysis.catalog import ModelEntry, ModelSource
from seattn.analysis.compare.grouping import ComparisonGroup
from seattn.analysis.compare.sources import TrainedModel
from seattn.analysis.monitor import Progress
from seattn.data.datasets import DataAvailability, DataCheck, ImageSet
from seattn.data.examples import ExamplePool
from seattn.data.images import ModelCrop
from seattn.model.cnn import BlockRecord
from seattn.model.ratios import ratio_label
from seattn.training.recipes import DEFAULT_LEARNING_RATES, Augmentation, Optimizer, Recipe
from seattn.training.runfiles import FailureKind, Phase, RunState
from seattn.training.sweep import SweepOutcome

# -- recipes ------------------------------------------------------------------------------------

AUGMENTATION_DESCRIPTIONS = {
    Augmentation.COURSE: "the course's: crop (padding 4), flip, colour jitter, rotation (15°)",
    Augmentation.CROP_FLIP: "crop (padding 4) and flip only, the usual CIFAR-10 recipe",
    Augmentation.NONE: "none: every epoch sees the images as they are",
}
OPTIMIZER_DESCRIPTIONS = {
    Optimizer.ADAM_PLATEAU: "the course's: Adam, the rate halved when the validation loss stalls",
    Optimizer.SGD_COSINE: "SGD (Nesterov momentum 0.9, weight decay 5e-4), the rate on a cosine "
    "to zero",
}
OPTIMIZER_LABELS = {Optimizer.ADAM_PLATEAU: "Adam + plateau", Optimizer.SGD_COSINE: "SGD + cosine"}
OPTIMIZER_HELP = (
    "How the weights are updated and the learning rate scheduled. SGD on a cosine fits this "
    "network further than the course's Adam; models are compared within one recipe."
)
AUGMENTATION_HELP = (
    "How the training images are varied each epoch. The course's full set fits this network "
    "less well than crop and flip alone; models are compared within one recipe."
)
LEARNING_RATE_HELP = (
    "Empty: each optimiser's own starting rate ("
    + ", ".join(
        f"{rate:g} for {OPTIMIZER_LABELS[name]}" for name, rate in DEFAULT_LEARNING_RATES.items()
    )
    + ")."
)


def augmentation_text(augment: Augmentation) -> str:
    """How a model's label says its augmentation: "crop-flip augmentation", "no augmentation"."""
    return "no augmentation" if augment == Augmentation.NONE else f"{augment} augmentation"


def recipe_label(optimizer: Optimizer, augment: Augmentation) -> str:
    """The named recipes, e.g. "SGD + cosine, crop-flip augmentation"."""
    return f"{OPTIMIZER_LABELS[optimizer]}, {augmentation_text(augment)}"


def unusual_recipe(recipe: Recipe | None) -> list[str]:
    """Augmentation and optimiser, each named only when it is not the course's (most models')."""
    if recipe is None:
        return []
    parts = []
    if recipe.augment is not None and recipe.augment != Augmentation.COURSE:
        parts.append(augmentation_text(recipe.augment))
    if recipe.optimizer != Optimizer.ADAM_PLATEAU:
        parts.append(OPTIMIZER_LABELS[recipe.optimizer])
    return parts


def epochs_text(epochs: int | None) -> str:
    return "" if epochs is None else f"{epochs} epoch" + ("" if epochs == 1 else "s")


def recipe_text(recipe: Recipe) -> str:
    """A comparison group's recipe: "100 epochs, batch 128, lr 0.05, crop-flip augmentation"."""
    parts = [epochs_text(recipe.epochs)]
    if recipe.batch_size is not None:
        parts.append(f"batch {recipe.batch_size}")
    if recipe.lr is not None:
        parts.append(f"lr {recipe.lr:g}")
    if recipe.augment is not None:
        parts.append(augmentation_text(recipe.augment))
    if recipe.optimizer != Optimizer.ADAM_PLATEAU:  # the course's goes unsaid: most models use it
        parts.append(OPTIMIZER_LABELS[recipe.optimizer])
    if recipe.limit:
        parts.append(f"{recipe.limit} images")
    return ", ".join(part for part in parts if part)


# -- models -------------------------------------------------------------------------------------


def ratio_choice(ratio: int | None) -> str:
    """A ratio as the training forms offer it."""
    return "No SE (baseline)" if ratio is None else f"SE, reduction ratio {ratio}"


def se_text(entry: ModelEntry) -> str:
    """'SE r=16' / 'no SE'; '' when the model's record does not say."""
    if not entry.ratio_known:
        return ""
    label = ratio_label(entry.reduction_ratio)
    return label if entry.reduction_ratio is None else f"SE {label}"


def percent(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1%}" if value <= 1 else f"{value:.1f}%"


def model_label(entry: ModelEntry) -> str:
    """What the picker shows, e.g. "se-r16 (bundled) · 86.1% right": the accuracy of the weights
    the picker opens (a run's last epoch) on pictures it did not train on."""
    accuracy = percent(entry.val_accuracy)
    if entry.source == ModelSource.BUNDLED:
        label = f"{entry.name} (bundled)"
    else:
        se = se_text(entry)
        kind = "run" if entry.source == ModelSource.RUN else "uploaded"
        label = f"{entry.name} ({kind}" + (f", {se}" if se else "") + ")"
        if entry.source == ModelSource.RUN and entry.state != RunState.COMPLETED:
            label += f" [{entry.state}]"
    return label + (f" · {accuracy} right" if accuracy else "")


def model_details(entry: ModelEntry) -> str:
    """One line for the sidebar: ratio, epochs, recipe, data, accuracy."""
    if entry.source == ModelSource.UPLOAD:
        se = se_text(entry)
        return f"{se}, {entry.classes} classes" if se else ""
    parts = [
        se_text(entry),
        epochs_text(entry.epochs),
        *unusual_recipe(entry.recipe),
        f"trained on {entry.data_name}" if entry.data_name else "",
        accuracy_text(entry),
    ]
    return ", ".join(part for part in parts if part)


def accuracy_text(entry: ModelEntry) -> str:
    """The accuracy of the weights the picker opens, and the best epoch's when that was higher."""
    accuracy = percent(entry.val_accuracy)
    if not accuracy:
        return ""
    text = f"right on {accuracy} of the pictures held out from training"
    best = percent(entry.best_val_accuracy)
    if best and best != accuracy:
        text += f" (these weights are its last epoch's; its best epoch reached {best})"
    return text


# -- Home ---------------------------------------------------------------------------------------

TOY_SCHEMATIC_CAPTION = (
    "These weights are chosen to show the arithmetic. Trained networks rarely switch a channel "
    "fully on or off: most of their weights sit near the middle."
)


def schematic_caption(model_label: str, class_name: str, weights: Sequence[float]) -> str:
    """Say whose numbers the schematic shows, and what they mean."""
    kept, damped = weights[:2], weights[-2:]
    return (
        f"Drawn from **{model_label}**, its first SE block, for one of the sample pictures (a "
        f"{class_name}): the two channels it keeps most get {kept[0]:.2f} and {kept[1]:.2f}, the "
        f"two it turns down most {damped[0]:.2f} and {damped[1]:.2f}. A trained SE block rarely "
        "switches a channel fully on or off: it turns most of them down a little, some more."
    )


# -- Explore ------------------------------------------------------------------------------------

STATISTIC_LABELS = {  # seattn.analysis.statistics keys -> (short label, plain-words help)
    "mean": ("Mean", "Average weight over the block's channels."),
    "std": ("Spread (std)", "How different the channel weights are; 0 means all alike."),
    "min": ("Min", "The most turned-down channel's weight."),
    "max": ("Max", "The most kept channel's weight."),
    "entropy": (
        "Evenness",
        "Entropy of the weights, 1.0 when every channel is weighted alike, lower when SE "
        "concentrates on a few channels.",
    ),
    "share_above_0_9": ("Kept (> 0.9)", "Share of channels passed on almost unchanged."),
    "share_below_0_1": ("Silenced (< 0.1)", "Share of channels almost switched off."),
}


def block_title(record: BlockRecord) -> str:
    """'Block 1 · 32 channels, 32×32 maps' for a record of block1."""
    _, channels, height, width = record.before.shape
    number = record.name.removeprefix("block")
    return f"Block {number} · {channels} channels, {height}×{width} maps"


def examples_caption(pool: ExamplePool) -> str:
    if pool.is_samples:
        return (
            "Sample pictures that come with seattn: CIFAR-10 images the bundled networks did not "
            "train on (two per class). Set SEATTN_DATA to a folder of class sub-folders for more."
        )
    if pool.held_out_folder is not None:
        which = f"held-out images from {pool.held_out_folder.name}/"
    else:
        which = f"the {pool.val_fraction:.0%} validation split (seed {pool.split_seed})"
    return f"Pictures the network did not train on: {which} of `{pool.root}`."


def _share_words(share: float) -> str:
    return "less than 1%" if share < 0.01 else f"{share:.0%}"


def model_crop_remark(crop: ModelCrop) -> str:
    """What the network was given of a picture, when that is little of it; "" otherwise."""
    width, height = crop.original_size
    side = crop.side
    sentences = []
    if crop.far_too_small:
        if side == 1:
            seen = "a single pixel"
        else:
            seen = f"{'its' if width == height else 'the centre'} {side}×{side} pixels"
        sentences.append(
            f"This picture is only {width}×{height} pixels, far smaller than the 32×32 the network "
            f"works on: it sees {seen} enlarged, so its answer says little about what the "
            "picture shows."
        )
    if crop.mostly_cut_away:
        sentences.append(
            f"Only {_share_words(crop.used_share)} of this picture is used: the network sees the "
            f"centre {side}×{side} square of its {width}×{height} pixels and nothing else. Crop "
            "the part you care about to a square to have it seen."
        )
    return " ".join(sentences)


def model_crop_tag(crop: ModelCrop) -> str:
    """The remark in a few words, for the gallery's captions; "" when there is none."""
    if crop.far_too_small:
        return f"only {crop.original_size[0]}×{crop.original_size[1]} px"
    if crop.mostly_cut_away:
        return f"{_share_words(crop.used_share)} used"
    return ""


# -- Train --------------------------------------------------------------------------------------

STARTING_PHASES = {  # what a person should read while a job has not reached its first batch
    Phase.STARTING: "starting the training process",
    Phase.LOADING_DATA: "loading the images",
    Phase.DECODING: "decoding the images (once; later runs reuse them)",
}


def format_duration(seconds: float | None) -> str:
    """'45 s', '3 min 05 s', '2 h 07 min'; an em dash when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_lines(progress: Progress) -> tuple[str, str]:
    """Captions of the two progress bars: within the epoch, and over the whole run."""
    if progress.state == RunState.QUEUED:
        return "waiting for a free core", f"{progress.epochs_done} of {progress.epochs} epochs"
    running = progress.state == RunState.RUNNING
    if running and progress.phase == Phase.TRAINING and progress.batches:
        within = f"epoch {progress.epoch}: batch {progress.batch} of {progress.batches}"
    elif running and progress.phase in STARTING_PHASES:
        within = STARTING_PHASES[Phase(progress.phase)]
    elif running and progress.phase == Phase.EPOCH_DONE:
        within = f"epoch {progress.epochs_done} done, the next one is starting"
    elif running:
        within = f"epoch {progress.epoch}: {progress.phase}"
    else:
        within = str(progress.phase)
    overall = f"{progress.epochs_done} of {progress.epochs} epochs done"
    if progress.seconds_left is not None:
        overall += f", about {format_duration(progress.seconds_left)} left"
    return within, overall


def runs_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """seattn.training.overview's runs table as people read it: recipes named, times worded."""
    return table.assign(
        model=table["model"].fillna("?"),
        recipe=[
            recipe_label(Optimizer(o), Augmentation(a)) if isinstance(o, str) else "?"
            for o, a in zip(table["optimizer"], table["augment"], strict=True)
        ],
        epochs=[
            f"{done}/{int(planned)}" if planned == planned and planned else str(done)
            for done, planned in zip(table["epochs done"], table["epochs"], strict=True)
        ],
        duration=[format_duration(s) for s in table["training seconds"]],
        best=[
            percent(a) if a is not None and math.isfinite(a) else "—"
            for a in table.get("best val accuracy", [None] * len(table))
        ],
    )


def job_threads_caption(threads: int, max_jobs: int) -> str:
    """What a run started from the dashboard trains on, said beside the Start button."""
    return (
        f"Each run trains on {threads} CPU thread{'s' if threads != 1 else ''}, and up to "
        f"{max_jobs} run{'s' if max_jobs != 1 else ''} train at once, side by side: a sweep "
        "keeps the cores busy while the dashboard stays quick. One run alone is slower than "
        "`python -m seattn train`, which uses every core."
    )


# The training forms' Data choices (pages/ui/forms.py): the problems below name them.
DATA_CIFAR10_CHOICE = "CIFAR-10"
DATA_FOLDER_CHOICE = "An image folder"

DATA_CAUSES = {  # why data cannot be trained on here, as the end of "... because ..."
    DataAvailability.OFFLINE: "CIFAR-10 is not on this machine and cannot be downloaded (offline)",
    DataAvailability.NO_SUCH_FOLDER: "there is no folder `{location}`",
    DataAvailability.NO_CLASS_IMAGES: "`{location}` holds no images in class sub-folders",
}
DATA_REMEDIES = {  # what to do about it, in the training forms' own terms
    DataAvailability.OFFLINE: f"Choose '{DATA_FOLDER_CHOICE}' in the Data box and type a folder "
    "with one sub-folder per class in the Image folder box, or copy torchvision's CIFAR-10 "
    "batches into `{location}`.",
    DataAvailability.NO_SUCH_FOLDER: "Type, in the Image folder box, the path of a folder on this "
    "machine with one sub-folder per class.",
    DataAvailability.NO_CLASS_IMAGES: "Give a folder with one sub-folder per class (such as cat/ "
    "and dog/), each holding that class's images (.png, .jpg...).",
}


def data_problem(check: DataCheck) -> str | None:
    """What is wrong with the data chosen and what to do, on a training form; None when the data
    can be trained on."""
    if check.usable:
        return None
    cause = DATA_CAUSES[check.availability].format(location=check.location)
    remedy = DATA_REMEDIES[check.availability].format(location=check.location)
    return f"{cause[0].upper()}{cause[1:]}. {remedy}"


def _error_message(error: str | None) -> str:
    """The first line of a recorded error, without the exception's name."""
    lines = (error or "").strip().splitlines()
    if not lines:
        return ""
    name, _, message = lines[0].partition(": ")
    return message if message and name.isidentifier() else lines[0]


def failure_sentence(
    kind: FailureKind | None, error: str | None, data_check: DataCheck | None
) -> str:
    """A failed run's cause in one sentence (its error in full goes below, folded away).

    ``data_check`` is what the data check finds for a data failure: its cause when the data
    cannot be trained on, else the error's own message (an image that cannot be read...).
    """
    if kind == FailureKind.DATA and data_check is not None and not data_check.usable:
        cause = DATA_CAUSES[data_check.availability].format(location=data_check.location)
        return f"Training failed because {cause}."
    message = _error_message(error)
    if kind == FailureKind.DATA:
        return f"Training failed because its data could not be loaded: {message}"
    return f"Training failed: {message}" if message else "Training failed; see the log below."


def failure_remedy(kind: FailureKind | None, data_check: DataCheck | None) -> str:
    """What can work after a failure: an edited fresh start when a resume would fail again."""
    if kind == FailureKind.DATA:
        remedy = "give it data this machine has"
        if data_check is not None and not data_check.usable:
            remedy = DATA_REMEDIES[data_check.availability].format(location=data_check.location)
            remedy = remedy[0].lower() + remedy[1:]
        return f"Edit and start again opens the form above with this run's settings: {remedy}"
    if kind == FailureKind.SETTINGS:
        return (
            "Resuming would repeat this failure: Edit and start again opens the form above with "
            "this run's settings, to change them."
        )
    return "Resume continues from the last complete epoch, with the same settings."


EDITING_NOTE = (
    "These are the settings of {run}, which failed; change what failed and start a new run."
)
EDITING_TOAST = "The form at the top of the page now holds the settings of {run}."


# -- Compare ------------------------------------------------------------------------------------


ONE_IMAGE_FROM_SAMPLES = (
    "The images these models were validated on are not on this machine, so the pictures here "
    "are the sample pictures that come with seattn."
)


def group_labels(groups: Sequence[ComparisonGroup]) -> dict[str, str]:
    """Group key -> "CIFAR-10 · 100 epochs, ..."; data sets of one name but other images are
    numbered ("image set 2"), not named by their fingerprint hash."""
    labels = {
        group.key: f"{group.data.get('name') or 'unknown data'} · "
        f"{recipe_text(group.recipe) or 'unknown recipe'}"
        for group in groups
    }
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    image_sets: dict[str, list[str]] = {}  # data name -> its fingerprints, in order of appearance
    for group in groups:
        if counts[labels[group.key]] > 1:
            seen = image_sets.setdefault(str(group.data.get("name")), [])
            fingerprint = str(group.data.get("fingerprint"))
            if fingerprint not in seen:
                seen.append(fingerprint)
            labels[group.key] += f" · image set {seen.index(fingerprint) + 1}"
    return labels


# The columns a reader looks for first, in that order; the rest follow as the table has them.
VARIANT_COLUMNS_FIRST = ("variant", "best val accuracy", "best val accuracy std", "seeds")
SE_WIDTHS_COLUMN = "SE widths (blocks 1 · 2 · 3)"


def variants_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """The ratio table as the page shows it: the best accuracy beside the variant, one "2 · 4 · 8"
    column for the SE widths ("no SE" instead of empty cells), and no std column that is empty in
    every row (every ratio trained once). The CSV keeps every column."""
    width_columns = [c for c in table.columns if c.startswith("SE width ")]
    shown = table.drop(columns=["reduction ratio", *width_columns], errors="ignore")
    widths = table[width_columns].apply(
        lambda row: " · ".join(str(int(w)) for w in row) if row.notna().all() else "no SE", axis=1
    )
    shown.insert(1, SE_WIDTHS_COLUMN, widths)
    empty_std = [c for c in shown.columns if c.endswith(" std") and shown[c].isna().all()]
    shown = shown.drop(columns=empty_std)
    first = [c for c in VARIANT_COLUMNS_FIRST if c in shown.columns]
    return shown[first + [c for c in shown.columns if c not in first]]


def left_out_reason(model: TrainedModel, first: TrainedModel) -> str:
    return f"repeats {first.name} ({model.variant}, seed {model.seed}) in this group"


def sweep_summary(outcome: SweepOutcome) -> str:
    parts = []
    if outcome.started:
        parts.append(f"started {len(outcome.started)}")
    if outcome.queued:
        parts.append(f"queued {len(outcome.queued)} (they start as cores free up)")
    if outcome.skipped:
        parts.append(f"skipped {len(outcome.skipped)} already trained or on the way")
    if outcome.refused:
        parts.append(f"{len(outcome.refused)} refused")
    return ("Sweep: " + ", ".join(parts) + ".") if parts else "Sweep: nothing to do."


def image_caption(images: ImageSet, index: int) -> str:
    label = images.classes[int(images.labels[index])]
    name = images.files[index] if images.files else f"image {index}"
    return f"{name} (class: {label})"


# -- Explore: the data set behind the bars, and what-if ------------------------------------------

MEASURE_BUTTON = "Measure this model over its evaluation images"
NO_ATLAS_NOTE = (
    "No data-set measurements for this model yet: measure it once to see, behind every bar, the "
    "weight that channel usually gets."
)
MEASURE_HELP = (
    "Runs the model over images it did not train on (CIFAR-10's test split, or its own held-out "
    "validation images) and keeps every channel's weights; about a minute for 10,000 images. "
    "The result is kept, so each model is measured once."
)
BAR_VIEWS = {
    "weight": "The picture's weights",
    "deviation": "Difference from the data-set mean",
}
SPLIT_WORDS = {"test": "test", "val": "held-out validation", "all": ""}
WHAT_IF_VIEWS = {"weight": "Changed weights", "deviation": "Change (changed − as trained)"}


def atlas_progress(stage: str, done: int, total: int) -> str:
    """The measuring progress bar's caption, e.g. "Measuring: reading the images (30 of 120)"."""
    return f"Measuring: {stage} ({done:,} of {total:,})"


def dataset_context_caption(images: int, data_name: str, split: str) -> str:
    """What the ticks behind Explore's weight bars are."""
    split_words = SPLIT_WORDS.get(split, split)
    images_words = f"{images:,} {split_words} images".replace("  ", " ")
    return (
        f"Black ticks: each channel's mean weight over {images_words} of {data_name}; whiskers: "
        "± one standard deviation. A bar far from its tick is what is special about this picture."
    )


def what_if_mode_label(mode: str) -> str:
    """A what-if block mode (seattn.analysis.whatif.BlockMode) in words."""
    return {
        "trained": "As trained",
        "off": "SE off (every weight 1)",
        "frozen": "Frozen to the data-set mean",
    }[str(mode)]


def what_if_verdict(before: tuple[str, float], after: tuple[str, float]) -> str:
    """One line comparing the top class as trained and changed."""
    (old, old_p), (new, new_p) = before, after
    if old == new:
        return f"The network still says **{new}**: {new_p:.0%}, as trained {old_p:.0%}."
    return (
        f"The network changes its mind: **{new}** ({new_p:.0%}) instead of **{old}** "
        f"({old_p:.0%} as trained)."
    )


def what_if_setting(mode: str, muted: int, boosted: int) -> str:
    """What the what-if set in one block, e.g. "SE off, 2 muted"; "" when nothing."""
    parts = [] if str(mode) == "trained" else [what_if_mode_label(mode).split(" (")[0]]
    if muted:
        parts.append(f"{muted} muted")
    if boosted:
        parts.append(f"{boosted} boosted")
    return ", ".join(parts)


def what_if_changes_table(changes: Sequence, moved_by: float) -> pd.DataFrame:
    """seattn.analysis.whatif.BlockChange rows as the page shows them, one row per block."""
    rows, reached = [], False
    for change in changes:
        setting = what_if_setting(change.mode, change.muted, change.boosted)
        reached = reached or bool(setting)
        if not setting:
            setting = "nothing: it reacts to what it receives" if reached else "nothing"
        rows.append(
            {
                "block": f"Block {change.name.removeprefix('block')}",
                "you set": setting,
                "mean change": change.mean_abs,
                "largest change": change.max_abs,
                "at channel": change.largest if change.max_abs > 0 else None,
                f"channels moved > {moved_by:g}": change.moved,
            }
        )
    return pd.DataFrame(rows)
