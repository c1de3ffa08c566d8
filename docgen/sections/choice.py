"""The answer of a ``choice`` section from the backend's choice scores and the section's ``choice_bias``.

The llama.cpp backend scores a greedy choice request: each choice's first-token log-probability minus the
same for a content-free prompt (contextual calibration, Zhao et al. 2021), returned as
:attr:`docgen.llm.base.Generation.scores`. A small model's calibrated scores still lean to the polar answers
("neutral" was almost never the highest on the sentiment-report sample), so a template can add a per-choice
bias, tuned on labelled rows (bench/sentiment_accuracy.py tunes and measures the bundled one):
``choice_bias = { neutral = 0.3 }`` makes "neutral" the answer unless another choice beats it by more than
0.3 (natural-log units of probability ratio).
"""

from __future__ import annotations

from docgen.llm.base import Generation
from docgen.model import SectionSpec


def pick_choice(section: SectionSpec, gen: Generation) -> str:
    """The section's answer: the choice with the highest score + bias when the backend scored the choices
    (``gen.scores`` has one score per choice) and the section has a ``choice_bias``; otherwise the backend's
    own answer (``gen.text`` stripped). Ties go to the earlier choice in ``section.choices``."""
    if not section.choice_bias or len(gen.scores) != len(section.choices):
        return gen.text.strip()
    bias = dict(section.choice_bias)
    adjusted = [score + bias.get(choice, 0.0) for choice, score in zip(section.choices, gen.scores, strict=True)]
    return section.choices[max(range(len(adjusted)), key=adjusted.__getitem__)]


__all__ = ["pick_choice"]
