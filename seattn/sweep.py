"""Sweeps: one run per (reduction ratio, seed) with one recipe."""

from __future__ import annotations

from seattn.ratios import ratio_label
from seattn.recipes import ADAM_PLATEAU, COURSE


def sweep_run_name(
    ratio: int | None,
    seed: int,
    epochs: int,
    *,
    optimizer: str = ADAM_PLATEAU,
    augment: str = COURSE,
) -> str:
    """ "sweep-r16-seed0-e30"; a recipe other than the course's adds its names to the end.

    So sweeps of two recipes never meet in one folder, and the course's keep the names they had.
    """
    label = ratio_label(ratio).replace("=", "").replace(" ", "-")
    name = f"sweep-{label}-seed{seed}-e{epochs}"
    for chosen, course in ((optimizer, ADAM_PLATEAU), (augment, COURSE)):
        if chosen != course:
            name += f"-{chosen}"
    return name
