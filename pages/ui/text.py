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
from seattn.data.cifar10 import class_label
from seattn.data.datasets import DataAvailability, DataCheck, ImageSet
from seattn.data.examples import ExamplePool
from seattn.data.images import ModelCrop
from seattn.i18n import N_, _, ngettext, pgettext
from seattn.model.attention import AttentionKind
from seattn.model.cnn import BlockRecord
from seattn.model.ratios import ratio_label
from seattn.training.recipes import DEFAULT_LEARNING_RATES, Augmentation, Optimizer, Recipe
from seattn.training.runfiles import FailureKind, Phase, RunState
from seattn.training.sweep import SweepOutcome

# -- recipes ------------------------------------------------------------------------------------

# Marked with N_ (evaluated at import, before a language is chosen): show them through _(...).
AUGMENTATION_DESCRIPTIONS = {
    Augmentation.COURSE: N_("the course's: crop (padding 4), flip, colour jitter, rotation (15°)"),
    Augmentation.CROP_FLIP: N_("crop (padding 4) and flip only, the usual CIFAR-10 recipe"),
    Augmentation.NONE: N_("none: every epoch sees the images as they are"),
}
OPTIMIZER_DESCRIPTIONS = {
    Optimizer.ADAM_PLATEAU: N_(
        "the course's: Adam, the rate halved when the validation loss stalls"
    ),
    Optimizer.SGD_COSINE: N_(
        "SGD (Nesterov momentum 0.9, weight decay 5e-4), the rate on a cosine to zero"
    ),
}
OPTIMIZER_LABELS = {
    Optimizer.ADAM_PLATEAU: N_("Adam + plateau"),
    Optimizer.SGD_COSINE: N_("SGD + cosine"),
}
OPTIMIZER_HELP = N_(
    "How the weights are updated and the learning rate scheduled. SGD on a cosine fits this "
    "network further than the course's Adam; models are compared within one recipe."
)
AUGMENTATION_HELP = N_(
    "How the training images are varied each epoch. The course's full set fits this network "
    "less well than crop and flip alone; models are compared within one recipe."
)
# How each augmentation is named in a model's label, a whole phrase each.
AUGMENTATION_NAMES = {
    Augmentation.COURSE: N_("course augmentation"),
    Augmentation.CROP_FLIP: N_("crop-flip augmentation"),
    Augmentation.NONE: N_("no augmentation"),
}


def optimizer_label(optimizer: Optimizer) -> str:
    """An optimiser's short name in the active language: "SGD + cosine"."""
    return _(OPTIMIZER_LABELS[optimizer])


def list_text(parts: Sequence[str]) -> str:
    """Items of a list in one line, with the active language's separator (", " / "，")."""
    return _(", ").join(part for part in parts if part)


def learning_rate_help() -> str:
    """The learning-rate field's help: each optimiser's own starting rate."""
    rates = list_text(
        [
            _("{rate} for {optimizer}").format(rate=f"{rate:g}", optimizer=optimizer_label(name))
            for name, rate in DEFAULT_LEARNING_RATES.items()
        ]
    )
    return _("Empty: each optimiser's own starting rate ({rates}).").format(rates=rates)


def augmentation_text(augment: Augmentation) -> str:
    """How a model's label says its augmentation: "crop-flip augmentation", "no augmentation"."""
    if augment in AUGMENTATION_NAMES:
        return _(AUGMENTATION_NAMES[augment])
    return _("{name} augmentation").format(name=augment)


def recipe_label(optimizer: Optimizer, augment: Augmentation) -> str:
    """The named recipes, e.g. "SGD + cosine, crop-flip augmentation"."""
    return list_text([optimizer_label(optimizer), augmentation_text(augment)])


def unusual_recipe(recipe: Recipe | None) -> list[str]:
    """Augmentation and optimiser, each named only when it is not the course's (most models')."""
    if recipe is None:
        return []
    parts = []
    if recipe.augment is not None and recipe.augment != Augmentation.COURSE:
        parts.append(augmentation_text(recipe.augment))
    if recipe.optimizer != Optimizer.ADAM_PLATEAU:
        parts.append(optimizer_label(recipe.optimizer))
    return parts


def epochs_text(epochs: int | None) -> str:
    if epochs is None:
        return ""
    return ngettext("{n} epoch", "{n} epochs", epochs).format(n=epochs)


def recipe_text(recipe: Recipe) -> str:
    """A comparison group's recipe: "100 epochs, batch 128, lr 0.05, crop-flip augmentation"."""
    parts = [epochs_text(recipe.epochs)]
    if recipe.batch_size is not None:
        parts.append(_("batch {batch_size}").format(batch_size=recipe.batch_size))
    if recipe.lr is not None:
        parts.append(_("lr {lr}").format(lr=f"{recipe.lr:g}"))
    if recipe.augment is not None:
        parts.append(augmentation_text(recipe.augment))
    if recipe.optimizer != Optimizer.ADAM_PLATEAU:  # the course's goes unsaid: most models use it
        parts.append(optimizer_label(recipe.optimizer))
    if recipe.limit:
        parts.append(ngettext("{n} image", "{n} images", recipe.limit).format(n=recipe.limit))
    return list_text(parts)


# -- models -------------------------------------------------------------------------------------


def attention_choice(kind: str) -> str:
    """An attention module as the training forms offer it."""
    choices = {
        AttentionKind.SE: _("SE (Squeeze-and-Excitation)"),
        AttentionKind.ECA: _("ECA (Efficient Channel Attention)"),
        AttentionKind.CBAM: _("CBAM (channel and spatial attention)"),
        AttentionKind.NONE: _("No attention (baseline)"),
    }
    return choices.get(kind, str(kind))


def attention_word(kind: str) -> str:
    """An attention module's name in a table: SE, ECA, CBAM as papers write them, or "none"."""
    if kind == AttentionKind.NONE:
        return _("no attention")
    return kind.upper() if kind in set(AttentionKind) else str(kind)


def attention_intro(kind: AttentionKind) -> str:
    """What one block of this kind does to a picture, in the lesson's three steps."""
    if kind is AttentionKind.ECA:
        return _(
            "Each ECA block looks at all its channels at once (**squeeze**: one average per "
            "channel), lets every channel's weight depend on its few neighbours through one "
            "small 1-D convolution, with no shrinking in between (**excitation**: a weight from 0 "
            "to 1), and multiplies every feature map by its weight (**scale**). Tall bars are "
            "channels the block keeps; short bars are channels it turns down."
        )
    if kind is AttentionKind.CBAM:
        return _(
            "Each CBAM block first weighs its channels like SE, from both the average and the "
            "strongest response of every channel (**channel attention**: a weight from 0 to 1 per "
            "channel), then weighs the positions of the maps (**spatial attention**: one weight "
            "per position, shown below the maps). Tall bars are channels the block keeps; short "
            "bars are channels it turns down."
        )
    return _(
        "Each SE block looks at all its channels at once (**squeeze**: one average per "
        "channel), decides how much each one matters for *this* picture (**excitation**: a "
        "weight from 0 to 1) and multiplies every feature map by its weight (**scale**). Tall "
        "bars are channels the block keeps; short bars are channels it turns down."
    )


def se_text(entry: ModelEntry) -> str:
    """'SE r=16', 'ECA', 'CBAM r=16' / 'no SE'; '' when the model's record does not say."""
    if not entry.ratio_known:
        return ""
    kind = entry.attention or (AttentionKind.SE if entry.reduction_ratio else AttentionKind.NONE)
    if kind is AttentionKind.NONE:
        return _("no SE")
    if kind is AttentionKind.ECA:
        return kind.label
    return f"{kind.label} {ratio_label(entry.reduction_ratio)}"


def percent(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1%}" if value <= 1 else f"{value:.1f}%"


def run_state_text(state: str) -> str:
    """A run's state in words: "stopped", "failed"; an unknown one as it is."""
    words = {
        RunState.QUEUED: _("queued"),
        RunState.RUNNING: _("running"),
        RunState.COMPLETED: _("completed"),
        RunState.STOPPED: _("stopped"),
        RunState.FAILED: _("failed"),
        RunState.INTERRUPTED: _("interrupted"),
    }
    return words.get(state, str(state))


def model_label(entry: ModelEntry) -> str:
    """What the picker shows, e.g. "se-r16 (bundled) · 86.1% right": the accuracy of the weights
    the picker opens (a run's last epoch) on pictures it did not train on."""
    accuracy = percent(entry.val_accuracy)
    se = se_text(entry)
    if entry.source == ModelSource.BUNDLED:
        label = _("{name} (bundled)").format(name=entry.name)
    elif entry.source == ModelSource.RUN:
        label = (_("{name} (run, {se})") if se else _("{name} (run)")).format(
            name=entry.name, se=se
        )
        if entry.state != RunState.COMPLETED:
            label = _("{label} [{state}]").format(label=label, state=run_state_text(entry.state))
    else:
        label = (_("{name} (uploaded, {se})") if se else _("{name} (uploaded)")).format(
            name=entry.name, se=se
        )
    if not accuracy:
        return label
    return _("{label} · {accuracy} right").format(label=label, accuracy=accuracy)


def model_details(entry: ModelEntry) -> str:
    """One line for the sidebar: ratio, epochs, recipe, data, accuracy."""
    if entry.source == ModelSource.UPLOAD:
        se = se_text(entry)
        if not se:
            return ""
        return ngettext("{se}, {n} class", "{se}, {n} classes", entry.classes).format(
            se=se, n=entry.classes
        )
    return list_text(
        [
            se_text(entry),
            epochs_text(entry.epochs),
            *unusual_recipe(entry.recipe),
            _("trained on {data}").format(data=entry.data_name) if entry.data_name else "",
            accuracy_text(entry),
        ]
    )


def accuracy_text(entry: ModelEntry) -> str:
    """The accuracy of the weights the picker opens, and the best epoch's when that was higher."""
    accuracy = percent(entry.val_accuracy)
    if not accuracy:
        return ""
    best = percent(entry.best_val_accuracy)
    if best and best != accuracy:
        return _(
            "right on {accuracy} of the pictures held out from training (these weights are its "
            "last epoch's; its best epoch reached {best})"
        ).format(accuracy=accuracy, best=best)
    return _("right on {accuracy} of the pictures held out from training").format(accuracy=accuracy)


# -- Home ---------------------------------------------------------------------------------------

TOY_SCHEMATIC_CAPTION = N_(
    "These weights are chosen to show the arithmetic. Trained networks rarely switch a channel "
    "fully on or off: most of their weights sit near the middle."
)


def schematic_caption(model_label: str, class_name: str, weights: Sequence[float]) -> str:
    """Say whose numbers the schematic shows, and what they mean."""
    kept, damped = weights[:2], weights[-2:]
    return _(
        "Drawn from **{model}**, its first SE block, for one of the sample pictures (a "
        "{class_name}): the two channels it keeps most get {kept_1:.2f} and {kept_2:.2f}, the "
        "two it turns down most {damped_1:.2f} and {damped_2:.2f}. A trained SE block rarely "
        "switches a channel fully on or off: it turns most of them down a little, some more."
    ).format(
        model=model_label,
        class_name=class_label(class_name),
        kept_1=kept[0],
        kept_2=kept[1],
        damped_1=damped[0],
        damped_2=damped[1],
    )


# -- Explore ------------------------------------------------------------------------------------

STATISTIC_LABELS = {  # seattn.analysis.statistics keys -> (short label, plain-words help)
    "mean": (N_("Mean"), N_("Average weight over the block's channels.")),
    "std": (
        N_("Spread (std)"),
        N_("How different the channel weights are; 0 means all alike."),
    ),
    "min": (N_("Min"), N_("The most turned-down channel's weight.")),
    "max": (N_("Max"), N_("The most kept channel's weight.")),
    "entropy": (
        N_("Evenness"),
        N_(
            "Entropy of the weights, 1.0 when every channel is weighted alike, lower when SE "
            "concentrates on a few channels."
        ),
    ),
    "share_above_0_9": (N_("Kept (> 0.9)"), N_("Share of channels passed on almost unchanged.")),
    "share_below_0_1": (N_("Silenced (< 0.1)"), N_("Share of channels almost switched off.")),
}


def block_title(record: BlockRecord) -> str:
    """'Block 1 · 32 channels, 32×32 maps' for a record of block1."""
    _images, channels, height, width = record.before.shape
    number = record.name.removeprefix("block")
    return _("Block {number} · {channels} channels, {height}×{width} maps").format(
        number=number, channels=channels, height=height, width=width
    )


def examples_caption(pool: ExamplePool) -> str:
    if pool.is_samples:
        return _(
            "Sample pictures that come with seattn: CIFAR-10 images the bundled networks did not "
            "train on (two per class). Set SEATTN_DATA to a folder of class sub-folders for more."
        )
    if pool.held_out_folder is not None:
        return _(
            "Pictures the network did not train on: held-out images from {folder}/ of `{root}`."
        ).format(folder=pool.held_out_folder.name, root=pool.root)
    return _(
        "Pictures the network did not train on: the {share:.0%} validation split (seed {seed}) "
        "of `{root}`."
    ).format(share=pool.val_fraction, seed=pool.split_seed, root=pool.root)


def _share_words(share: float) -> str:
    return _("less than 1%") if share < 0.01 else f"{share:.0%}"


def model_crop_remark(crop: ModelCrop) -> str:
    """What the network was given of a picture, when that is little of it; "" otherwise."""
    width, height = crop.original_size
    side = crop.side
    sentences = []
    if crop.far_too_small:
        if side == 1:
            sentence = _(
                "This picture is only {width}×{height} pixels, far smaller than the 32×32 the "
                "network works on: it sees a single pixel enlarged, so its answer says little "
                "about what the picture shows."
            )
        elif width == height:
            sentence = _(
                "This picture is only {width}×{height} pixels, far smaller than the 32×32 the "
                "network works on: it sees its {side}×{side} pixels enlarged, so its answer says "
                "little about what the picture shows."
            )
        else:
            sentence = _(
                "This picture is only {width}×{height} pixels, far smaller than the 32×32 the "
                "network works on: it sees the centre {side}×{side} pixels enlarged, so its "
                "answer says little about what the picture shows."
            )
        sentences.append(sentence.format(width=width, height=height, side=side))
    if crop.mostly_cut_away:
        sentences.append(
            _(
                "Only {share} of this picture is used: the network sees the centre {side}×{side} "
                "square of its {width}×{height} pixels and nothing else. Crop the part you care "
                "about to a square to have it seen."
            ).format(share=_share_words(crop.used_share), side=side, width=width, height=height)
        )
    return " ".join(sentences)


def model_crop_tag(crop: ModelCrop) -> str:
    """The remark in a few words, for the gallery's captions; "" when there is none."""
    if crop.far_too_small:
        return _("only {width}×{height} px").format(
            width=crop.original_size[0], height=crop.original_size[1]
        )
    if crop.mostly_cut_away:
        return _("{share} used").format(share=_share_words(crop.used_share))
    return ""


# -- Train --------------------------------------------------------------------------------------

STARTING_PHASES = {  # what a person should read while a job has not reached its first batch
    Phase.STARTING: N_("starting the training process"),
    Phase.LOADING_DATA: N_("loading the images"),
    Phase.DECODING: N_("decoding the images (once; later runs reuse them)"),
}

PHASE_WORDS = {  # a run's phase, as the progress bar's caption says it
    Phase.QUEUED: N_("queued"),
    Phase.STARTING: N_("starting"),
    Phase.LOADING_DATA: N_("loading data"),
    Phase.DECODING: N_("decoding images"),
    Phase.TRAINING: N_("training"),
    Phase.VALIDATING: N_("validating"),
    Phase.EPOCH_DONE: N_("epoch done"),
    Phase.COMPLETED: N_("completed"),
    Phase.STOPPED: N_("stopped"),
    Phase.STOPPED_BEFORE_START: N_("stopped before it started"),
    Phase.FAILED: N_("failed"),
}


def phase_text(phase: str | None) -> str:
    """A run's phase in the session's language (an unknown phase as it was recorded)."""
    return _(PHASE_WORDS[Phase(phase)]) if phase in PHASE_WORDS else str(phase)


def format_duration(seconds: float | None) -> str:
    """'45 s', '3 min 05 s', '2 h 07 min'; an em dash when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return _("{seconds} s").format(seconds=seconds)
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return _("{minutes} min {seconds:02d} s").format(minutes=minutes, seconds=seconds)
    hours, minutes = divmod(minutes, 60)
    return _("{hours} h {minutes:02d} min").format(hours=hours, minutes=minutes)


def progress_lines(progress: Progress) -> tuple[str, str]:
    """Captions of the two progress bars: within the epoch, and over the whole run."""
    if progress.state == RunState.QUEUED:
        return _("waiting for a free core"), _("{done} of {epochs} epochs").format(
            done=progress.epochs_done, epochs=progress.epochs
        )
    running = progress.state == RunState.RUNNING
    if running and progress.phase == Phase.TRAINING and progress.batches:
        within = _("epoch {epoch}: batch {batch} of {batches}").format(
            epoch=progress.epoch, batch=progress.batch, batches=progress.batches
        )
    elif running and progress.phase in STARTING_PHASES:
        within = _(STARTING_PHASES[Phase(progress.phase)])
    elif running and progress.phase == Phase.EPOCH_DONE:
        within = _("epoch {epoch} done, the next one is starting").format(
            epoch=progress.epochs_done
        )
    elif running:
        within = _("epoch {epoch}: {phase}").format(
            epoch=progress.epoch, phase=phase_text(progress.phase)
        )
    else:
        within = phase_text(progress.phase)
    if progress.seconds_left is None:
        overall = _("{done} of {epochs} epochs done").format(
            done=progress.epochs_done, epochs=progress.epochs
        )
    else:
        overall = _("{done} of {epochs} epochs done, about {time_left} left").format(
            done=progress.epochs_done,
            epochs=progress.epochs,
            time_left=format_duration(progress.seconds_left),
        )
    return within, overall


def runs_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """seattn.training.overview's runs table as people read it: recipes named, times worded, its
    states in the session's language. The column names stay the table's own: the page labels
    them (pages/train.py), and the table's CSV keeps them as they are."""
    if "state" in table:
        table = table.assign(state=[run_state_text(state) for state in table["state"]])
    return table.assign(
        model=[
            _("no SE") if model == ratio_label(None) else model if isinstance(model, str) else "?"
            for model in table["model"]
        ],
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
    # Two counts in one sentence: whole sentences, chosen by both.
    if max_jobs == 1:
        sentence = ngettext(
            "Each run trains on {threads} CPU thread, and up to {max_jobs} run train at once, "
            "side by side: a sweep keeps the cores busy while the dashboard stays quick. One run "
            "alone is slower than `python -m seattn train`, which uses every core.",
            "Each run trains on {threads} CPU threads, and up to {max_jobs} run train at once, "
            "side by side: a sweep keeps the cores busy while the dashboard stays quick. One run "
            "alone is slower than `python -m seattn train`, which uses every core.",
            threads,
        )
    else:
        sentence = ngettext(
            "Each run trains on {threads} CPU thread, and up to {max_jobs} runs train at once, "
            "side by side: a sweep keeps the cores busy while the dashboard stays quick. One run "
            "alone is slower than `python -m seattn train`, which uses every core.",
            "Each run trains on {threads} CPU threads, and up to {max_jobs} runs train at once, "
            "side by side: a sweep keeps the cores busy while the dashboard stays quick. One run "
            "alone is slower than `python -m seattn train`, which uses every core.",
            threads,
        )
    return sentence.format(threads=threads, max_jobs=max_jobs)


# The training forms' Data choices (pages/ui/forms.py): the radio's values, shown translated
# (data_choice_text); the problems below name them.
DATA_CIFAR10_CHOICE = "CIFAR-10"
DATA_FOLDER_CHOICE = N_("An image folder")


def data_choice_text(choice: str) -> str:
    """A Data choice as the training forms show it."""
    return _(DATA_FOLDER_CHOICE) if choice == DATA_FOLDER_CHOICE else choice


DATA_CAUSES = {  # why data cannot be trained on here, as the end of "... because ..."
    DataAvailability.OFFLINE: N_(
        "CIFAR-10 is not on this machine and cannot be downloaded (offline)"
    ),
    DataAvailability.NO_SUCH_FOLDER: N_("there is no folder `{location}`"),
    DataAvailability.NO_CLASS_IMAGES: N_("`{location}` holds no images in class sub-folders"),
}
DATA_REMEDIES = {  # what to do about it, in the training forms' own terms
    DataAvailability.OFFLINE: N_(
        "Choose '{folder_choice}' in the Data box and type a folder with one sub-folder per "
        "class in the Image folder box, or copy torchvision's CIFAR-10 batches into `{location}`."
    ),
    DataAvailability.NO_SUCH_FOLDER: N_(
        "Type, in the Image folder box, the path of a folder on this machine with one "
        "sub-folder per class."
    ),
    DataAvailability.NO_CLASS_IMAGES: N_(
        "Give a folder with one sub-folder per class (such as cat/ and dog/), each holding that "
        "class's images (.png, .jpg...)."
    ),
}


def _data_cause(check: DataCheck) -> str:
    return _(DATA_CAUSES[check.availability]).format(location=check.location)


def _data_remedy(check: DataCheck) -> str:
    return _(DATA_REMEDIES[check.availability]).format(
        location=check.location, folder_choice=_(DATA_FOLDER_CHOICE)
    )


def data_problem(check: DataCheck) -> str | None:
    """What is wrong with the data chosen and what to do, on a training form; None when the data
    can be trained on."""
    if check.usable:
        return None
    cause = _data_cause(check)
    return _("{cause}. {remedy}").format(
        cause=f"{cause[0].upper()}{cause[1:]}", remedy=_data_remedy(check)
    )


def _error_message(error: str | None) -> str:
    """The first line of a recorded error, without the exception's name."""
    lines = (error or "").strip().splitlines()
    if not lines:
        return ""
    name, _separator, message = lines[0].partition(": ")
    return message if message and name.isidentifier() else lines[0]


def failure_sentence(
    kind: FailureKind | None, error: str | None, data_check: DataCheck | None
) -> str:
    """A failed run's cause in one sentence (its error in full goes below, folded away).

    ``data_check`` is what the data check finds for a data failure: its cause when the data
    cannot be trained on, else the error's own message (an image that cannot be read...).
    """
    if kind == FailureKind.DATA and data_check is not None and not data_check.usable:
        return _("Training failed because {cause}.").format(cause=_data_cause(data_check))
    message = _error_message(error)
    if kind == FailureKind.DATA:
        return _("Training failed because its data could not be loaded: {error}").format(
            error=message
        )
    if message:
        return _("Training failed: {error}").format(error=message)
    return _("Training failed; see the log below.")


def failure_remedy(kind: FailureKind | None, data_check: DataCheck | None) -> str:
    """What can work after a failure: an edited fresh start when a resume would fail again."""
    if kind == FailureKind.DATA:
        remedy = _("give it data this machine has")
        if data_check is not None and not data_check.usable:
            remedy = _data_remedy(data_check)
            remedy = remedy[0].lower() + remedy[1:]
        return _(
            "Edit and start again opens the form above with this run's settings: {remedy}"
        ).format(remedy=remedy)
    if kind == FailureKind.SETTINGS:
        return _(
            "Resuming would repeat this failure: Edit and start again opens the form above with "
            "this run's settings, to change them."
        )
    return _("Resume continues from the last complete epoch, with the same settings.")


EDITING_NOTE = N_(  # shown translated: _(EDITING_NOTE).format(run=...)
    "These are the settings of {run}, which failed; change what failed and start a new run."
)
EDITING_TOAST = N_("The form at the top of the page now holds the settings of {run}.")


# -- Compare ------------------------------------------------------------------------------------


ONE_IMAGE_FROM_SAMPLES = N_(  # shown through _()
    "The images these models were validated on are not on this machine, so the pictures here "
    "are the sample pictures that come with seattn."
)


def group_labels(groups: Sequence[ComparisonGroup]) -> dict[str, str]:
    """Group key -> "CIFAR-10 · 100 epochs, ..."; data sets of one name but other images are
    numbered ("image set 2"), not named by their fingerprint hash."""
    unknown_data, unknown_recipe = _("unknown data"), _("unknown recipe")
    labels = {
        group.key: f"{group.data.get('name') or unknown_data} · "
        f"{recipe_text(group.recipe) or unknown_recipe}"
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
            image_set = _("image set {number}").format(number=seen.index(fingerprint) + 1)
            labels[group.key] += f" · {image_set}"
    return labels


# The columns a reader looks for first, in that order; the rest follow as the table has them.
VARIANT_COLUMNS_FIRST = ("variant", "best val accuracy", "best val accuracy std", "seeds")
WIDTHS_COLUMN = N_("hidden widths (blocks 1 · 2 · 3)")  # shown through compare_header
NO_WIDTH = "–"  # a variant without a channel MLP (ECA, no attention): nothing to widen
NO_SE = "no SE"  # the variant id of the network without SE (seattn.model.ratios.ratio_label)

# The comparison tables' column names (seattn.analysis.compare and this module), as the page's
# headers say them; the tables themselves, and their CSV, keep the English names.
COMPARE_HEADERS = frozenset(
    (
        N_("group"),
        N_("data"),
        N_("split"),
        N_("epochs"),
        N_("batch size"),
        N_("optimizer"),
        N_("lr"),
        N_("augment"),
        N_("limit"),
        N_("variants"),
        N_("models"),
        N_("left out"),
        N_("sources"),
        N_("variant"),
        N_("attention"),
        N_("reduction ratio"),
        N_("seed"),
        N_("seeds"),
        N_("seed list"),
        N_("source"),
        N_("model"),
        N_("block"),
        WIDTHS_COLUMN,
        N_("parameters"),
        N_("attention parameters"),
        N_("FLOPs per image"),
        N_("attention FLOPs per image"),
        N_("threads"),
        N_("ms per step"),
        N_("best val accuracy"),
        N_("final val accuracy"),
        N_("final val loss"),
        N_("training seconds"),
        N_("images per second"),
        N_("checkpoint MB"),
        N_("mean"),
        N_("std"),
        N_("min"),
        N_("max"),
        N_("entropy"),
        N_("share_above_0_9"),
        N_("share_below_0_1"),
        N_("prediction"),
        N_("probability"),
    )
)


def compare_header(column: str) -> str:
    """A comparison table's column as its header says it: "best val accuracy std" -> the
    translated "best val accuracy", then std; a column not known here as it is."""
    if column in COMPARE_HEADERS:
        return _(column)
    base = column.removesuffix(" std")
    if base != column and base in COMPARE_HEADERS:
        return _("{column} std").format(column=_(base))
    return column


def variant_label(variant: str) -> str:
    """A variant as a person reads it: "no SE" in the active language, "r=16" as it is."""
    return _("no SE") if variant == NO_SE else variant


def model_source_word(source: str) -> str:
    """Where a compared model comes from, in a word: a run, a bundled model, an upload."""
    words = {
        ModelSource.RUN: pgettext("where a model comes from", "run"),
        ModelSource.BUNDLED: pgettext("where a model comes from", "bundled"),
        ModelSource.UPLOAD: pgettext("where a model comes from", "uploaded"),
    }
    return words.get(source, str(source))


def _block_label(block: str) -> str:
    number = block.removeprefix("block")
    return _("block{number}").format(number=number) if number.isdigit() else block


def _listed(words: object, say) -> str:
    return ", ".join(say(word) for word in str(words).split(", "))


def compare_values_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """A comparison table's words in the active language, the headers aside (the page gives
    those, compare_header): "no SE" among the variants and ratios, the models' sources, block
    names, CIFAR-10's class names."""
    shown = table.copy()
    words = {
        "variant": variant_label,
        "variants": lambda variants: _listed(variants, variant_label),
        "attention": attention_word,
        "source": model_source_word,
        "sources": lambda sources: _listed(sources, model_source_word),
        "block": _block_label,
    }
    for column, say in words.items():
        if column in shown.columns:
            shown[column] = shown[column].map(lambda value, say=say: say(str(value)))
    if "prediction" in shown.columns:
        shown["prediction"] = shown["prediction"].map(
            lambda name: class_label(name) if isinstance(name, str) else name
        )
    return shown


def variants_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """The variants table as the page shows it: the best accuracy beside the variant, one
    "2 · 4 · 8" column for the channel MLP's hidden widths ("–" for ECA and no attention, which
    have none), the variant alone naming the module and ratio, and no std column that is empty in
    every row (every variant trained once). The CSV keeps every column, and its English words;
    the page translates the rest at the edge (compare_header, compare_values_for_display)."""
    width_columns = [c for c in table.columns if c.startswith("hidden width ")]
    shown = table.drop(columns=["attention", "reduction ratio", *width_columns], errors="ignore")
    widths = table[width_columns].apply(
        lambda row: " · ".join(str(int(w)) for w in row) if row.notna().all() else NO_WIDTH,
        axis=1,
    )
    shown.insert(1, WIDTHS_COLUMN, widths)
    empty_std = [c for c in shown.columns if c.endswith(" std") and shown[c].isna().all()]
    shown = shown.drop(columns=empty_std)
    first = [c for c in VARIANT_COLUMNS_FIRST if c in shown.columns]
    return shown[first + [c for c in shown.columns if c not in first]]


def left_out_reason(model: TrainedModel, first: TrainedModel) -> str:
    return _("repeats {first} ({variant}, seed {seed}) in this group").format(
        first=first.name, variant=variant_label(model.variant), seed=model.seed
    )


def sweep_summary(outcome: SweepOutcome) -> str:
    # Each part is a clause of its own, listed; "Sweep: {parts}." holds them.
    parts = []
    if outcome.started:
        parts.append(_("started {count}").format(count=len(outcome.started)))
    if outcome.queued:
        parts.append(
            _("queued {count} (they start as cores free up)").format(count=len(outcome.queued))
        )
    if outcome.skipped:
        parts.append(
            _("skipped {count} already trained or on the way").format(count=len(outcome.skipped))
        )
    if outcome.refused:
        parts.append(_("{count} refused").format(count=len(outcome.refused)))
    if not parts:
        return _("Sweep: nothing to do.")
    return _("Sweep: {parts}.").format(parts=_(", ").join(parts))


def image_caption(images: ImageSet, index: int) -> str:
    label = class_label(images.classes[int(images.labels[index])])
    name = images.files[index] if images.files else _("image {number}").format(number=index)
    return _("{name} (class: {label})").format(name=name, label=label)


# -- Explore: the data set behind the bars, and what-if ------------------------------------------

MEASURE_BUTTON = N_("Measure this model over its evaluation images")
NO_ATLAS_NOTE = N_(
    "No data-set measurements for this model yet: measure it once to see, behind every bar, the "
    "weight that channel usually gets."
)
MEASURE_HELP = N_(
    "Runs the model over images it did not train on (CIFAR-10's test split, or its own held-out "
    "validation images) and keeps every channel's weights; about a minute for 10,000 images. "
    "The result is kept, so each model is measured once."
)
BAR_VIEWS = {  # shown through format_func=lambda view: _(BAR_VIEWS[view])
    "weight": N_("The picture's weights"),
    "deviation": N_("Difference from the data-set mean"),
}
SPLIT_WORDS = {  # an atlas's split -> its images, as dataset_context_caption says them
    "test": N_("{images:,} test images of {data}"),
    "val": N_("{images:,} held-out validation images of {data}"),
    "all": N_("{images:,} images of {data}"),
}
WHAT_IF_VIEWS = {  # shown through format_func=lambda view: _(WHAT_IF_VIEWS[view])
    "weight": N_("Changed weights"),
    "deviation": N_("Change (changed − as trained)"),
}


def atlas_progress(stage: str, done: int, total: int) -> str:
    """The measuring progress bar's caption, e.g. "Measuring: reading the images (30 of 120)"."""
    return _("Measuring: {stage} ({done:,} of {total:,})").format(
        stage=stage, done=done, total=total
    )


def dataset_context_caption(images: int, data_name: str, split: str) -> str:
    """What the ticks behind Explore's weight bars are."""
    if split in SPLIT_WORDS:
        images_words = _(SPLIT_WORDS[split]).format(images=images, data=data_name)
    else:
        images_words = _("{images:,} {split} images of {data}").format(
            images=images, split=split, data=data_name
        )
    return _(
        "Black ticks: each channel's mean weight over {images_words}; whiskers: ± one standard "
        "deviation. A bar far from its tick is what is special about this picture."
    ).format(images_words=images_words)


def what_if_mode_label(mode: str) -> str:
    """A what-if block mode (seattn.analysis.whatif.BlockMode) in words."""
    return {
        "trained": _("As trained"),
        "off": _("SE off (every weight 1)"),
        "frozen": _("Frozen to the data-set mean"),
    }[str(mode)]


def what_if_verdict(before: tuple[str, float], after: tuple[str, float]) -> str:
    """One line comparing the top class as trained and changed."""
    (old, old_p), (new, new_p) = before, after
    if old == new:
        return _(
            "The network still says **{label}**: {probability:.0%}, as trained {was:.0%}."
        ).format(label=class_label(new), probability=new_p, was=old_p)
    return _(
        "The network changes its mind: **{label}** ({probability:.0%}) instead of **{was_label}** "
        "({was:.0%} as trained)."
    ).format(label=class_label(new), probability=new_p, was_label=class_label(old), was=old_p)


def what_if_setting(mode: str, muted: int, boosted: int) -> str:
    """What the what-if set in one block, e.g. "SE off, 2 muted"; "" when nothing."""
    modes = {"trained": None, "off": _("SE off"), "frozen": _("Frozen to the data-set mean")}
    parts = [] if modes[str(mode)] is None else [modes[str(mode)]]
    if muted:
        parts.append(_("{count} muted").format(count=muted))
    if boosted:
        parts.append(_("{count} boosted").format(count=boosted))
    return _(", ").join(parts)


def what_if_changes_table(changes: Sequence, moved_by: float) -> pd.DataFrame:
    """seattn.analysis.whatif.BlockChange rows as the page shows them, one row per block.

    The columns are named in the active language: the page names "mean change" and "largest
    change" through ``_()`` too, to format them.
    """
    rows, reached = [], False
    for change in changes:
        setting = what_if_setting(change.mode, change.muted, change.boosted)
        reached = reached or bool(setting)
        if not setting:
            setting = _("nothing: it reacts to what it receives") if reached else _("nothing")
        rows.append(
            {
                _("block"): _("Block {number}").format(number=change.name.removeprefix("block")),
                _("you set"): setting,
                _("mean change"): change.mean_abs,
                _("largest change"): change.max_abs,
                _("at channel"): change.largest if change.max_abs > 0 else None,
                _("channels moved > {moved_by:g}").format(moved_by=moved_by): change.moved,
            }
        )
    return pd.DataFrame(rows)
