"""Sweeps: one run per (variant, seed) with one recipe, from the CLI or the Compare page.

A variant is an attention module and its ratio. The ratios apply to SE and to CBAM's channel MLP;
ECA and the network without attention have none and train once per seed; a ratio of none is the
network without attention whichever module was asked for (as ``--ratio none`` always was). The
default attention is SE alone, so a sweep of ratios is what it was and its runs keep their names.

Both name their runs with :func:`sweep_run_name` and read seeds with :func:`parse_seeds`, so a
sweep started on the page finds (and skips, or resumes) the runs of one started on the command
line, and the other way round.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from seattn import settings
from seattn.i18n import _
from seattn.model.attention import AttentionKind, resolve
from seattn.model.ratios import ratio_slug
from seattn.training import queue
from seattn.training.recipes import Augmentation, Optimizer
from seattn.training.runfiles import ACTIVE_STATES, RESUMABLE_STATES, Run, RunState
from seattn.training.spec import TrainSpec


def variant_slug(attention: AttentionKind | str | None, ratio: int | None) -> str:
    """The variant in a run name: "r16" and "no-SE" for SE and none (the names sweeps always
    gave them), "eca", "cbam-r16"."""
    kind, ratio = resolve(attention, ratio)
    if kind in (AttentionKind.SE, AttentionKind.NONE):
        return ratio_slug(ratio)
    if kind.uses_ratio:
        return f"{kind.value}-{ratio_slug(ratio)}"
    return kind.value


def sweep_run_name(
    ratio: int | None,
    seed: int,
    epochs: int,
    *,
    attention: AttentionKind | str | None = None,
    optimizer: str = Optimizer.ADAM_PLATEAU,
    augment: str = Augmentation.COURSE,
) -> str:
    """ "sweep-r16-seed0-e30", "sweep-eca-seed0-e30", "sweep-cbam-r16-seed0-e30"; a recipe other
    than the course's adds its names to the end. ``attention=None``: SE, or none without a ratio.

    So sweeps of two recipes never meet in one folder, and the course's keep the names they had.
    """
    name = f"sweep-{variant_slug(attention, ratio)}-seed{seed}-e{epochs}"
    for chosen, course in ((optimizer, Optimizer.ADAM_PLATEAU), (augment, Augmentation.COURSE)):
        if chosen != course:
            name += f"-{chosen}"
    return name


def parse_seeds(text: str) -> list[int]:
    """'0, 1, 2' -> [0, 1, 2]; '0-2' -> [0, 1, 2]; repeats dropped; ValueError saying why (in
    the active language: the Compare page shows it)."""
    seeds: list[int] = []
    for part in str(text).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part[1:]:
                first, last = (int(p) for p in part.split("-", 1))
                values = list(range(first, last + 1))
            else:
                values = [int(part)]
        except ValueError:
            message = _("seeds must be whole numbers like 0, 1, 2 or 0-2; got {text}")
            raise ValueError(message.format(text=repr(part))) from None
        if any(v < 0 for v in values) or not values:
            message = _("seeds must be whole numbers >= 0; got {text}")
            raise ValueError(message.format(text=repr(part)))
        seeds += [v for v in values if v not in seeds]
    if not seeds:
        raise ValueError(_("give at least one seed, e.g. 0 or 0, 1, 2"))
    return seeds


def sweep_variants(
    ratios: Sequence[int | None],
    attentions: Sequence[AttentionKind | str] = (AttentionKind.SE,),
) -> list[tuple[AttentionKind, int | None]]:
    """(attention, ratio) to train, modules in the order given, without repeats: each ratio for
    SE and CBAM (none: the network without attention), ECA and none once."""
    variants: list[tuple[AttentionKind, int | None]] = []
    for attention in attentions:
        kind = AttentionKind(attention)
        if kind.uses_ratio:
            chosen = [resolve(kind if r is not None else AttentionKind.NONE, r) for r in ratios]
        else:
            chosen = [resolve(kind, None)]
        for variant in chosen:
            if variant not in variants:
                variants.append(variant)
    return variants


def sweep_specs(
    base: TrainSpec,
    ratios: Sequence[int | None],
    seeds: Sequence[int],
    attentions: Sequence[AttentionKind | str] = (AttentionKind.SE,),
) -> list[tuple[str, TrainSpec]]:
    """(run name, spec) for every (variant, seed), variants outermost (see sweep_variants)."""
    specs = []
    for attention, ratio in sweep_variants(ratios, attentions):
        for seed in seeds:
            spec = base.replace(attention=attention, reduction_ratio=ratio, seed=seed)
            name = sweep_run_name(
                ratio,
                seed,
                spec.epochs,
                attention=attention,
                optimizer=spec.optimizer,
                augment=spec.augment,
            )
            specs.append((name, spec))
    return specs


# -- sweeps through the job queue (the Compare page) ----------------------------------------------


class SweepAction(StrEnum):
    START = "start"
    RESUME = "resume"
    SKIP = "skip"


@dataclass(frozen=True)
class SweepItem:
    name: str
    spec: TrainSpec
    action: SweepAction
    state: RunState | str | None = None  # of the run already there, for RESUME and SKIP


def plan_sweep(
    base: TrainSpec,
    ratios: Sequence[int | None],
    seeds: Sequence[int],
    root: Path | str | None = None,
    attentions: Sequence[AttentionKind | str] = (AttentionKind.SE,),
) -> list[SweepItem]:
    """One item per (variant, seed), named as the CLI's sweep names its runs.

    A run of that name holding the same training is skipped when completed or active, and resumed
    when stopped, failed or interrupted (as the CLI resumes); a run of that name holding another
    (other data or recipe) keeps its name, and the new one gets a free ``-2``, ``-3``... name.
    """
    if not attentions:
        raise queue.JobError(_("choose at least one attention module"))
    if not sweep_variants(ratios, attentions):
        raise queue.JobError(_("choose at least one reduction ratio"))
    if not seeds:
        raise queue.JobError(_("choose at least one seed"))
    base = base.with_absolute_data()
    queue.check_startable(base)
    root_path = Path(settings.runs_root() if root is None else root)
    specs = sweep_specs(base, ratios, seeds, attentions)
    return [_plan_one(spec, name, root_path) for name, spec in specs]


def _plan_one(spec: TrainSpec, base_name: str, root: Path) -> SweepItem:
    name, suffix = base_name, 2
    while (root / name).exists():
        run = Run(root / name)
        try:
            same = queue.same_training(queue.job_spec(run), spec)
        except queue.JobError:
            same = False
        if same:
            state = run.state()
            if state == RunState.COMPLETED or state in ACTIVE_STATES:
                return SweepItem(name, spec, SweepAction.SKIP, state)
            if state in RESUMABLE_STATES:
                return SweepItem(name, spec, SweepAction.RESUME, state)
        name, suffix = f"{base_name}-{suffix}", suffix + 1
    return SweepItem(name, spec, SweepAction.START)


@dataclass
class SweepOutcome:
    started: list[str] = dataclasses.field(default_factory=list)
    queued: list[str] = dataclasses.field(default_factory=list)
    skipped: list[SweepItem] = dataclasses.field(default_factory=list)
    refused: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (name, why)


def launch_sweep(
    plan: Sequence[SweepItem], root: Path | str | None = None, *, max_jobs: int | None = None
) -> SweepOutcome:
    """Hand every item to the job queue; at most ``max_jobs`` train at once."""
    root_path = Path(settings.runs_root() if root is None else root)
    outcome = SweepOutcome()
    for item in plan:
        if item.action == SweepAction.SKIP:
            outcome.skipped.append(item)
            continue
        try:
            if item.action == SweepAction.RESUME:
                run = queue.resume(Run(root_path / item.name), max_jobs=max_jobs)
            else:
                run = queue.start(item.spec, root=root_path, name=item.name, max_jobs=max_jobs)
        except queue.JobError as error:
            outcome.refused.append((item.name, str(error)))
            continue
        if queue.queue_position(run):
            outcome.queued.append(item.name)
        else:
            outcome.started.append(item.name)
    return outcome
