"""Document-level sections: one section's text from its prompt (the "candidates" stage of the pipeline).

Markdown/text replies are cleaned (:func:`docgen.llm.cleanup.clean_text`); when cleaning leaves nothing (all
echo, repeats or chat markup) or fewer words than the section's ``min_words``, the section is generated once
more with seed + 1. A section still empty then carries an ``empty`` :class:`~docgen.model.Mark` (its text, if
any, is kept for the reviewer) and fails its document when it is written (:mod:`docgen.sections.checks`):
never a silent blank. Choice replies are used as given (the backend constrains them); json replies go through
:mod:`docgen.sections.jsonreply`.
"""

from __future__ import annotations

import dataclasses

from docgen.llm.base import Request
from docgen.llm.cleanup import MIN_WORDS, clean_text, too_short
from docgen.llm.prompt import SectionPrompt
from docgen.llm.schedule import Steps, ask
from docgen.model import DocumentJob, GenerationParams, Mark, RunOptions, SectionResult, SectionSpec
from docgen.sections.jsonreply import json_steps
from docgen.sections.progress import Progress


def params_for(section: SectionSpec, options: RunOptions, seed: int | None = None) -> GenerationParams:
    """Sampling parameters for ``section``: its own temperature, else 0 for choices, else the run default;
    ``seed`` (the GUI's per-section seed) else the run's."""
    temperature = section.temperature
    if temperature is None:
        temperature = 0.0 if section.format == "choice" else options.temperature
    return GenerationParams(max_tokens=section.max_tokens, temperature=temperature,
                            seed=options.seed if seed is None else seed)


def section_steps(job: DocumentJob, prompt: SectionPrompt, options: RunOptions, progress: Progress,
                  index: int, count: int) -> Steps[SectionResult]:
    """Write one document-level section (``index`` of ``count``), streaming ``token`` events; returns its
    :class:`SectionResult` with the cleanup's notes and a max_tokens warning in ``warnings``. Backend failures
    arrive as DocgenError naming the section and the record (:mod:`docgen.llm.schedule`)."""
    section = prompt.section
    params = params_for(section, options, job.seeds.get(section.id))
    progress.emit("section_started", section_id=section.id, section=index, sections=count)
    on_token = progress.streamer(section.id, index, count)
    what = f"section '{section.id}' ({job.record})"
    cleaned = None
    min_words = section.min_words or MIN_WORDS
    removed: set[str] = set()
    if section.format == "json":
        [(gen, params, _value)] = yield from json_steps([(section, prompt.messages, params, job.record)], on_token)
    else:
        for attempt in (0, 1):
            if attempt:
                params = dataclasses.replace(params, seed=params.seed + 1)
            gen = yield from ask(Request(prompt.messages, params, choices=section.choices, on_token=on_token,
                                         what=what))
            if section.format not in ("markdown", "text"):
                break
            cleaned = clean_text(gen.text, prompt="\n".join(m.content for m in prompt.messages),
                                 title=section.title, finish_reason=gen.finish_reason)
            removed.update(cleaned.notes)
            if not too_short(cleaned.text, min_words):
                break
    text = cleaned.text if cleaned is not None else gen.text.strip()
    warnings: tuple[str, ...] = ()
    if gen.finish_reason == "length":
        warnings = ("The model stopped at max_tokens; the text may end mid-sentence.",)
    warnings += cleaned.notes if cleaned is not None else ()
    marks: tuple[Mark, ...] = ()
    if cleaned is not None and too_short(text, min_words):
        marks = (empty_mark(section, text, min_words, sorted(removed)),)
    progress.emit("section_done", section_id=section.id, section=index, sections=count, text=text,
                  tokens=gen.tokens, tokens_per_second=gen.tokens / gen.seconds if gen.seconds else 0.0)
    return SectionResult(section.id, text, gen.tokens, gen.prompt_tokens, gen.seconds, params, warnings=warnings,
                         marks=marks)


def empty_mark(section: SectionSpec, text: str, min_words: int, removed: list[str]) -> Mark:
    """The ``empty`` mark of a section the model left empty (or shorter than ``min_words`` words) in both
    attempts; ``removed`` are the cleanup's notes (what was taken out), named in the message."""
    what = "nothing" if not text.strip() else f"only {text.strip()[:60]!r}"
    why = f" (docgen {', '.join(removed)})" if removed else ""
    return Mark("empty", text, 0, len(text), text,
                f"The model wrote {what} for section '{section.title}' in two attempts{why}; a section needs at "
                f"least {min_words} words. Use an instruct (chat) model, regenerate the section or write it yourself.")


__all__ = ["params_for", "section_steps", "empty_mark"]
