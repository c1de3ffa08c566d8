"""Document-level sections: one section's text from its prompt (the "candidates" stage of the pipeline).

Markdown/text sections are drawn as k candidates (verified generation, :func:`section_steps`): each is cleaned
(:func:`docgen.llm.cleanup.clean_text`) and checked, and the one with the fewest claim-check marks is kept. A
candidate that cleaning leaves empty (all echo, repeats or chat markup) or shorter than the section's
``min_words`` never wins over a usable one; with k = 1 it is retried once with seed + 1. A section with no
usable candidate carries an ``empty`` :class:`~docgen.model.Mark` (its text, if any, is kept for the reviewer)
and fails its document when it is written (:mod:`docgen.sections.checks`): never a silent blank. Choice
replies are used as given (the backend constrains them); json replies go through
:mod:`docgen.sections.jsonreply`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from docgen.facts import FactSheet
from docgen.llm.base import Generation, Request
from docgen.llm.cleanup import MIN_WORDS, Cleaned, clean_text, too_short
from docgen.llm.prompt import SectionPrompt, without_sources
from docgen.llm.schedule import Steps, ask
from docgen.model import DocumentJob, GenerationParams, Mark, RunOptions, SectionResult, SectionSpec
from docgen.sections.choice import pick_choice
from docgen.sections.jsonreply import json_steps
from docgen.sections.progress import Progress


#: Candidates per markdown/text section when neither the run nor the manifest says (verified generation).
DEFAULT_CANDIDATES = 3
#: ``judge(section, text)`` -> the number of claim-check marks of ``text`` (:mod:`docgen.sections.checks`).
Judge = Callable[[SectionSpec, str], int]


@dataclass(frozen=True)
class Candidate:
    """One drawn candidate of a section: its ``index`` (0-based; seed = section seed + index), the raw
    generation, the cleaned text, whether it is long enough to use and its ``score`` (marks; lower wins)."""

    index: int
    gen: Generation
    params: GenerationParams
    cleaned: Cleaned
    usable: bool
    score: int


def params_for(section: SectionSpec, options: RunOptions, seed: int | None = None) -> GenerationParams:
    """Sampling parameters for ``section``: its own temperature, else 0 for choices, else the run default;
    ``seed`` (the GUI's per-section seed) else the run's."""
    temperature = section.temperature
    if temperature is None:
        temperature = 0.0 if section.format == "choice" else options.temperature
    return GenerationParams(max_tokens=section.max_tokens, temperature=temperature,
                            seed=options.seed if seed is None else seed)


def candidates_for(job: DocumentJob, options: RunOptions) -> int:
    """How many candidates to draw per markdown/text section: the run's ``RunOptions.candidates``, else the
    manifest's ``[checks] candidates``, else :data:`DEFAULT_CANDIDATES`."""
    return max(1, options.candidates or getattr(job.template, "candidates", 0) or DEFAULT_CANDIDATES)


def section_steps(job: DocumentJob, prompt: SectionPrompt, options: RunOptions, progress: Progress,
                  index: int, count: int, *, judge: Judge | None = None, together: bool = False,
                  facts: FactSheet | None = None) -> Steps[SectionResult]:
    """Write one document-level section (``index`` of ``count``), streaming ``token`` events; returns its
    :class:`SectionResult` with the cleanup's notes and a max_tokens warning in ``warnings``. Backend failures
    arrive as DocgenError naming the section and the record (:mod:`docgen.llm.schedule`).

    Markdown/text sections are *verified generation*: k candidates (:func:`candidates_for`; seeds ``seed``,
    ``seed + 1``, ...) are cleaned and scored by ``judge`` (the number of claim-check marks of a text), and the
    one with the fewest wins (ties: the first; a candidate too short to use never wins over a usable one).
    With ``together`` (the backend decodes several sequences at once) all k are asked in one yield; else one
    after the other, stopping at the first candidate without marks (it would win anyway). The result's
    ``params`` are the section's own (its seed is the one asked for): the same seed and k give the same text,
    whichever candidate won. Only the first
    candidate streams. With k = 1 an unusable reply is retried once with seed + 1. A section with no usable
    candidate and ``fallback = "facts"`` is written from ``facts`` (:func:`facts_text`), said so in its
    warnings."""
    section = prompt.section
    params = params_for(section, options, job.seeds.get(section.id))
    progress.emit("section_started", section_id=section.id, section=index, sections=count)
    on_token = progress.streamer(section.id, index, count)
    what = f"section '{section.id}' ({job.record})"
    min_words = section.min_words or MIN_WORDS
    if section.format == "json" or section.format not in ("markdown", "text"):
        if section.format == "json":
            [(gen, params, _value)] = yield from json_steps([(section, prompt.messages, params, job.record)],
                                                            on_token)
        else:
            gen = yield from ask(Request(prompt.messages, params, choices=section.choices, on_token=on_token,
                                         what=what))
        text = pick_choice(section, gen) if section.format == "choice" else gen.text.strip()
        warnings = ("The model stopped at max_tokens; the text may end mid-sentence.",) \
            if gen.finish_reason == "length" else ()
        progress.emit("section_done", section_id=section.id, section=index, sections=count, text=text,
                      tokens=gen.tokens, tokens_per_second=gen.tokens / gen.seconds if gen.seconds else 0.0)
        return SectionResult(section.id, text, gen.tokens, gen.prompt_tokens, gen.seconds, params,
                             warnings=warnings, cached=gen.cached)

    k = candidates_for(job, options)
    source = without_sources("\n".join(m.content for m in prompt.messages))  # a cited clause is not an echo
    drawn: list[Candidate] = []

    def request(i: int) -> Request:
        return Request(prompt.messages, dataclasses.replace(params, seed=params.seed + i),
                       on_token=on_token if i == 0 else None, what=what)

    def consider(i: int, gen: Generation) -> Candidate:
        cleaned = clean_text(gen.text, prompt=source, title=section.title, finish_reason=gen.finish_reason)
        usable = not too_short(cleaned.text, min_words)
        score = (judge(section, cleaned.text) if judge and usable else 0) if usable else 10 ** 6
        c = Candidate(i, gen, dataclasses.replace(params, seed=params.seed + i), cleaned, usable, score)
        drawn.append(c)
        return c

    if together and k > 1:
        gens = yield [request(i) for i in range(k)]
        for i, gen in enumerate(gens):
            consider(i, gen)
    else:
        for i in range(k):
            c = consider(i, (yield from ask(request(i))))
            if c.usable and c.score == 0:
                break
        if k == 1 and not drawn[0].usable:
            consider(1, (yield from ask(request(1))))
    best = min(drawn, key=lambda c: (not c.usable, c.score, c.index))
    gen, cleaned = best.gen, best.cleaned
    text = cleaned.text
    warnings: tuple[str, ...] = ()
    if gen.finish_reason == "length":
        warnings = ("The model stopped at max_tokens; the text may end mid-sentence.",)
    warnings += cleaned.notes
    marks: tuple[Mark, ...] = ()
    if not best.usable:
        removed = sorted({n for c in drawn for n in c.cleaned.notes})
        written = facts_text(section, facts) if section.fallback == "facts" else ""
        if written:
            text = written
            warnings += (f"written from the fact sheet: the model wrote no usable text in {len(drawn)} attempts"
                         + (f" (docgen {', '.join(removed)})" if removed else ""),)
        else:
            marks = (empty_mark(section, text, min_words, removed, len(drawn)),)
    tokens = sum(c.gen.tokens for c in drawn)
    # drawn together, the candidates were decoded at the same time: the section took as long as the slowest;
    # drawn in turn, one after another
    seconds = (max if together and k > 1 else sum)(c.gen.seconds for c in drawn)
    progress.emit("section_done", section_id=section.id, section=index, sections=count, text=text,
                  tokens=tokens, tokens_per_second=tokens / seconds if seconds else 0.0)
    return SectionResult(section.id, text, tokens, gen.prompt_tokens, seconds, params, warnings=warnings,
                         marks=marks, cached=all(c.gen.cached for c in drawn))


def facts_text(section: SectionSpec, facts: FactSheet | None) -> str:
    """``fallback = "facts"``: the section as plain true sentences, one paragraph per insight the section names
    (``insights``, default every declared insight), each in the insight's own phrasing; "" when there are
    none."""
    if facts is None:
        return ""
    return "\n\n".join(f.sentence for f in facts.insight_facts(section.insights or None))


def empty_mark(section: SectionSpec, text: str, min_words: int, removed: list[str], attempts: int = 2) -> Mark:
    """The ``empty`` mark of a section the model left empty (or shorter than ``min_words`` words) in all its
    ``attempts``; ``removed`` are the cleanup's notes (what was taken out), named in the message."""
    what = "nothing" if not text.strip() else f"only {text.strip()[:60]!r}"
    why = f" (docgen {', '.join(removed)})" if removed else ""
    return Mark("empty", text, 0, len(text), text,
                f"The model wrote {what} for section '{section.title}' in {attempts} attempts{why}; a section needs at "
                f"least {min_words} words. Use an instruct (chat) model, regenerate the section or write it yourself.")


__all__ = ["params_for", "section_steps", "empty_mark", "candidates_for", "facts_text", "Candidate", "Judge", "DEFAULT_CANDIDATES"]
