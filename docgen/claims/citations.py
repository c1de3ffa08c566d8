"""The citation markers a section's text carries: ``[1]``, ``[1, 3]``, ``[2-4]``, ``[2][3]`` (each bracket
separately) (numbers of the sources the
section was given, see :mod:`docgen.refs`). One definition for the renderer, which turns them into footnotes
(:mod:`docgen.render.citations`), and the reference check, which reads what a sentence cites
(:mod:`docgen.refs.evidence`)."""

from __future__ import annotations

import re

#: One marker: up to 3-digit numbers separated by commas, semicolons or a (en) dash, in square brackets.
CITATION = re.compile(r"\[(\d{1,3}(?:\s*[,;\u2013-]\s*\d{1,3})*)\]")


def cited_numbers(marker: str) -> list[int]:
    """The numbers inside one ``[...]`` marker's brackets: "1, 3" -> [1, 3]; "1-3" -> [1, 2, 3] (ranges up to
    10 wide, else the two ends)."""
    out: list[int] = []
    for part in re.split(r"\s*[,;]\s*", marker):
        ends = [int(x) for x in re.split(r"\s*[\u2013-]\s*", part) if x]
        if len(ends) == 2 and 0 < ends[1] - ends[0] <= 10:
            out.extend(range(ends[0], ends[1] + 1))
        else:
            out.extend(ends)
    return out


__all__ = ["CITATION", "cited_numbers"]
