"""What the bench scripts share for timing on a noisy machine: run variants interleaved, and print a figure's
spread as min / median."""

from __future__ import annotations

import statistics
from collections.abc import Callable


def interleaved(variants: dict[str, Callable[[], object]], reps: int) -> dict[str, list]:
    """Run each variant once per rep, in turn (A B C A B C ...), so a change in the machine's load falls on
    all of them alike; returns each variant's values in run order, as the variants return them."""
    out: dict[str, list] = {name: [] for name in variants}
    for _ in range(reps):
        for name, run in variants.items():
            out[name].append(run())
    return out


def spread(values: list[float], unit: str) -> str:
    """``"min / median unit"`` with two decimals."""
    return f"{min(values):.2f} / {statistics.median(values):.2f} {unit}"
