"""Per-row sections (``per_row = true``, table mode): one answer per data row, stored in the row under the
section id (``row.sentiment``) before aggregates are computed.

Rows are asked in rounds of :data:`ROUND_ROWS` requests, so a backend that decodes many sequences at once gets
them together while progress still streams row by row and a cancel is seen between rounds.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from docgen.llm.base import Generator, Request
from docgen.llm.prompt import build_row_prompt
from docgen.llm.schedule import Steps
from docgen.model import DocumentJob, RunOptions, SectionResult
from docgen.refs.retrieve import RowSources
from docgen.sections.choice import pick_choice
from docgen.sections.document import params_for
from docgen.sections.jsonreply import json_steps
from docgen.sections.progress import Progress

#: Rows per round of requests (bounded so progress and memory stay even on 100k-row files).
ROUND_ROWS = 32


def row_section_steps(job: DocumentJob, context: MutableMapping[str, Any], generator: Generator,
                      options: RunOptions, progress: Progress) -> Steps[list[SectionResult]]:
    """Run the per-row sections over ``context["rows"]`` in place; one SectionResult per section (totals of
    tokens and seconds). Raises DocgenError naming the section and the row for a backend failure or an invalid
    json reply; MissingValues/ContextOverflow from prompt assembly."""
    results = []
    specs = [s for s in job.template.sections if s.per_row]
    rows = context["rows"]
    refs = RowSources.for_job(job, specs, generator, options)  # per-row sections written from references
    for si, section in enumerate(specs):
        start = time.perf_counter()
        tokens = prompt_tokens = 0
        cached = True
        params = params_for(section, options)
        progress.emit("section_started", section_id=section.id, section=si, sections=len(specs))
        for first in range(0, len(rows), ROUND_ROWS):
            batch = []
            for ri in range(first, min(first + ROUND_ROWS, len(rows))):
                row_ctx = {**context, "row": rows[ri], "row_number": job.dataset.row_numbers[ri]}
                record = f"row {job.dataset.row_numbers[ri]} of {job.dataset.path.name}"
                prompt = build_row_prompt(job.template, section, row_ctx, generator, record=record)
                if refs is not None and refs.applies_to(section):
                    chosen = refs.select(section, row_ctx, record, prompt.prompt_tokens)
                    prompt = build_row_prompt(job.template, section, row_ctx, generator, record=record,
                                              sources=chosen.block)
                batch.append((ri, record, prompt))
            if section.format == "json":
                replies = yield from json_steps([(section, p.messages, params, rec) for _ri, rec, p in batch])
                answers = [(gen, value) for gen, _params, value in replies]
            else:
                gens = yield [Request(p.messages, params, choices=section.choices,
                                      what=f"section '{section.id}' ({rec})") for _ri, rec, p in batch]
                answers = [(gen, pick_choice(section, gen) if section.format == "choice" else gen.text.strip())
                           for gen in gens]
            for (ri, record, _p), (gen, value) in zip(batch, answers, strict=True):
                rows[ri][section.id] = value
                tokens += gen.tokens
                cached = cached and gen.cached
                prompt_tokens += gen.prompt_tokens
                progress.emit("token", section_id=section.id, section=ri, sections=len(rows),
                              text=f"{record}: {value}\n", tokens=tokens)
        written_from = refs is not None and refs.applies_to(section)
        results.append(SectionResult(section.id, "", tokens, prompt_tokens, time.perf_counter() - start, params,
                                     cached=cached and bool(rows),
                                     sources_note=refs.note(section) if written_from else "",
                                     warnings=refs.scope.problems if written_from else ()))
    return results


__all__ = ["row_section_steps", "ROUND_ROWS"]
