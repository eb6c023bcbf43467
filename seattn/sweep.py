"""Sweeps: one run per (reduction ratio, seed) with one recipe."""

from __future__ import annotations

from seattn.ratios import ratio_label


def sweep_run_name(ratio: int | None, seed: int, epochs: int) -> str:
    label = ratio_label(ratio).replace("=", "").replace(" ", "-")
    return f"sweep-{label}-seed{seed}-e{epochs}"
