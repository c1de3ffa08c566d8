"""Prompt assembly: what the model reads for each section.

Layout (DESIGN.md section 3): what sections share comes first, what only one section (or one row) uses last,
so llama.cpp keeps the KV cache of the longest common token prefix between calls and a section cache keyed on
the exact messages (:mod:`docgen.cache`) is invalidated only by what a section really reads.

- Table mode: ``[system]`` then the user message ``Data:`` + data context, then ``Task: `` + the section's
  instruction + its format line. Every section of a document starts with the identical system
  message + ``Data:`` block, read once per document. (Measured with SmolLM2-135M on the sales-report: with the
  data in the *system* message the model copied the data back verbatim or looped; with the data in the user
  turn and the instruction after it, it wrote prose more often.)
- Rows mode (one document per record): ``[system]`` then ``Format: ...`` and ``Task: `` + the instruction,
  and the record last: ``Record:`` + the row's ``name: value`` lines, left out when the
  instruction names ``row`` itself (it then quotes what the model needs). Everything up to the first value of
  the record is the same for every row, so a batch reads it once (write a row template's instruction with the
  row's values at its end: ``... quoting their ticket number.\n\nTicket {{ row.ticket_id }}: ...``).
- Fields reach the model only where a prompt names them (``{{ offer }}`` in an instruction, ``{{ company }}``
  in the system prompt or the ``[prompt] context``): changing a field regenerates exactly the sections whose
  messages contain it (all of them for the system prompt and the context), and a field no prompt names (a
  signer, an author) re-renders the document but regenerates no section.

Budget rule (stated here, enforced by :func:`build_document_prompts`): for every section,
``prompt_tokens + max_tokens <= n_ctx``. When the full data context does not fit, the context is shortened
*once per document* (so all sections keep the same prefix), by dropping data rows from the end (halving the
count until it fits) or, for a template-written context, dropping lines from the end; a note saying how much
was left out is added so the model does not present partial data as complete. If the prompt cannot fit even
with no data rows, :class:`~docgen.errors.ContextOverflow` says by how many tokens and what to change.

Reference sources (:mod:`docgen.refs`) come as ready text blocks (:func:`sources_block`): a section's own
sources go right before ``Task:`` (after the data, or after the format line in rows mode), so sections whose
sources are equal still share their whole prefix; ``shared_sources`` (the same for every section *and* every
row, e.g. references used whole) go first in the user message, before the data or the format line, so
rows-mode documents share them too. A row's own sources therefore end the part rows share: the instruction
after them is read again for every row. (Tried with SmolLM2-135M on service-reply: with the row's sources
after the instruction and the customer's words, the model copied the source list instead of writing a letter.) The retrieval
stage sizes the blocks to the budget before they come here (what it left out is said in the block); the
rule above then applies to the prompt as a whole.

Per-row sections (``per_row = true``) use ``[system + instruction]`` as the shared prefix and put the row in the
user message, so a classification over thousands of rows reads the instruction once. Their messages come as
:class:`RowMessages`, which also carry ``content_free``: the same prompt rendered with every row value
replaced by ``N/A``, which the llama.cpp backend uses to calibrate choice scores (Zhao et al. 2021). A row's own
sources (a per-row section written from references) start its user message, before the instruction; the
content-free prompt leaves them out, so the calibration is one for all rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
import jinja2.meta

from docgen.errors import ContextOverflow, MissingValues
from docgen.jinja import compiled, make_environment
from docgen.llm.base import Generator, Message
from docgen.model import SectionSpec, Source, TemplateSpec

DEFAULT_SYSTEM = (
    "You are a careful business writer. Write in clear, plain English for office readers. "
    "Use only the facts and figures given in the data below; never invent numbers, names or dates."
)

FORMAT_INSTRUCTIONS = {
    "markdown": "Format: Markdown body text (paragraphs, **bold**, bullet lists where useful); no title heading.",
    "text": "Format: plain text paragraphs, no Markdown.",
    "choice": "Answer with exactly one of: {choices}.",
    "json": "Answer with JSON only, following this schema: {schema}.",
}

_env = make_environment()


class RowMessages(tuple):
    """A per-row prompt's messages (a plain tuple of :class:`Message`) plus ``content_free``: the same
    messages with every row value replaced by ``N/A`` (for contextual calibration of choices)."""

    content_free: tuple[Message, ...] = ()


@dataclass(frozen=True)
class SectionPrompt:
    """The messages for one section and their size in tokens."""

    section: SectionSpec
    messages: tuple[Message, ...]
    prompt_tokens: int


def render_text(source: str, context: Mapping[str, Any], *, what: str, record: str | None = None) -> str:
    """Render a manifest Jinja string (prompt, context, output name) with ``context``.

    Raises MissingValues naming ``what`` (e.g. "section 'summary' prompt"), the missing name and the record.
    """
    try:
        return compiled(_env, source).render(**context)
    except jinja2.UndefinedError as exc:
        where = f" for {record}" if record else ""
        known = ", ".join(sorted(k for k in context if not k.startswith("_")))
        raise MissingValues(f"The {what} uses a value that does not exist{where}: {exc.message}. "
                            f"Known names: {known}.", [str(exc.message)]) from exc
    except jinja2.TemplateError as exc:
        raise MissingValues(f"The {what} could not be rendered: {exc}.") from exc


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\n", " ")


def table_lines(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[str]:
    """Rows as ``|``-separated lines with a header line: compact and easy for small models to read."""
    return [" | ".join(columns)] + [" | ".join(_cell(r.get(c)) for c in columns) for r in rows]


def record_lines(row: Mapping[str, Any]) -> list[str]:
    """One record as ``name: value`` lines."""
    return [f"{k}: {_cell(v)}" for k, v in row.items()]


def format_instruction(section: SectionSpec) -> str:
    """The sentence telling the model which output format the section needs."""
    return FORMAT_INSTRUCTIONS[section.format].format(
        choices=", ".join(section.choices), schema=section.schema
    )


@functools.lru_cache(maxsize=256)
def prompt_names(source: str) -> frozenset[str]:
    """The top-level names a manifest Jinja string reads (``{{ period }}``, ``{% for r in rows %}`` -> ``period``,
    ``rows``), from its parsed source; empty when it does not parse (rendering reports that error)."""
    try:
        return frozenset(jinja2.meta.find_undeclared_variables(_env.parse(source)))
    except jinja2.TemplateSyntaxError:
        return frozenset()


def _rows_mode(template: TemplateSpec, context: Mapping[str, Any]) -> bool:
    return template.mode == "rows" and "row" in context


def _data_lines(template: TemplateSpec, context: Mapping[str, Any], record: str | None) -> list[str]:
    if template.context:
        return render_text(template.context, context, what="[prompt] context", record=record).strip().splitlines()
    if _rows_mode(template, context):
        return ["Record:", *record_lines(context["row"])]
    rows = context.get("rows", [])
    columns = context.get("columns") or (list(rows[0]) if rows else [])
    return [f"Data ({len(rows)} rows):", *table_lines(rows[: template.max_context_rows], columns)]


#: How the sources block starts: the model is told to cite by number.
SOURCES_HEADER = ("Sources (our own documents; use only what they say about our policies, and put the source "
                  "number in brackets after each sentence that uses one, like [1]):")


def sources_block(sources: Sequence[Source], note: str = "") -> str:
    """Numbered sources as the prompt shows them: :data:`SOURCES_HEADER`, one ``[n] label: text`` line per
    source, then ``note`` (what was left out) in brackets. "" for no sources."""
    if not sources:
        return ""
    lines = [SOURCES_HEADER, *(f"[{s.number}] {s.label}: {' '.join(s.text.split())}" for s in sources)]
    if note:
        lines.append(f"({note})")
    return "\n".join(lines)


_SOURCE_LINE = re.compile(r"^\[\d+\] ")


def without_sources(prompt: str) -> str:
    """``prompt`` (messages' text) with the passage text of its sources blocks (:func:`sources_block`) left
    out: the header and each ``[n] label:`` stay, so a reply that copies the numbered list is still a copy of
    the prompt. The cleanup's echo rule compares a reply with this: restating the policy clause a reply cites
    is not copying the prompt's data lines. (A label with a colon of its own is cut at that colon.)"""
    out, inside = [], False
    for line in prompt.splitlines():
        if line.startswith(SOURCES_HEADER):
            inside = True
        elif inside and _SOURCE_LINE.match(line):
            line = line.split(":", 1)[0] + ":"
        else:
            inside = False
        out.append(line)
    return "\n".join(out)


def _user_message(template: TemplateSpec, context: Mapping[str, Any], section: SectionSpec, instruction: str,
                  data: list[str], own_sources: str = "", shared_sources: str = "") -> str:
    """One section's user message in the layout of the module docstring."""
    if _rows_mode(template, context):
        record = "" if not template.context and "row" in prompt_names(section.prompt) else "\n".join(data)
        parts = [shared_sources, format_instruction(section), own_sources, "Task: " + instruction, record]
    else:
        parts = [shared_sources, "Data:\n" + "\n".join(data), own_sources,
                 "Task: " + instruction + "\n\n" + format_instruction(section)]
    return "\n\n".join(p for p in parts if p)


def build_document_prompts(template: TemplateSpec, sections: Sequence[SectionSpec], context: Mapping[str, Any],
                           generator: Generator, *, record: str | None = None,
                           sources: Sequence[str] | None = None, shared_sources: str = "") -> list[SectionPrompt]:
    """Messages for the document-level ``sections``, sharing one system message, within the budget rule.

    ``sources[i]`` is section i's own sources block and ``shared_sources`` the block every section and row
    shares (:func:`sources_block`; placement in the module docstring). Raises MissingValues for a prompt naming
    an unknown value, ContextOverflow when nothing fits.
    """
    users = [render_text(s.prompt, context, what=f"section '{s.id}' prompt", record=record).strip() for s in sections]
    data = _data_lines(template, context, record)
    system = render_text(template.system_prompt, context, what="[prompt] system", record=record).strip()
    kept = len(data)
    while True:
        lines = data[:kept]
        if kept < len(data):
            lines.append(f"[{len(data) - kept} more lines of data left out to fit the model's context window]")
        prompts = []
        worst = 0
        for i, (s, user) in enumerate(zip(sections, users, strict=True)):
            own = sources[i] if sources else ""
            messages = (Message("system", system or DEFAULT_SYSTEM),
                        Message("user", _user_message(template, context, s, user, lines, own, shared_sources)))
            tokens = generator.count_tokens(messages)
            worst = max(worst, tokens + s.max_tokens - generator.n_ctx)
            prompts.append(SectionPrompt(s, messages, tokens))
        if worst <= 0:
            return prompts
        if kept <= 1:
            index, section = max(enumerate(sections),
                                 key=lambda p: prompts[p[0]].prompt_tokens + p[1].max_tokens)
            own = generator.count_tokens((Message("user", users[index]),))
            culprit = (f" The section's own instruction, with the values it quotes{' from ' + record if record else ''}"
                       f", takes {own} tokens: a very long text in the data is the likely cause; shorten it."
                       if own + section.max_tokens > generator.n_ctx // 2 else "")
            raise ContextOverflow(
                f"Section '{section.id}' of template '{template.id}' cannot fit the model's context window of "
                f"{generator.n_ctx} tokens even with the data left out ({worst} tokens too many, "
                f"max_tokens = {section.max_tokens}).{culprit} Otherwise raise the context size in Settings "
                f"(n_ctx), lower max_tokens, or shorten the prompt."
            )
        kept = kept // 2 if kept > 8 else kept - 1


def build_row_prompt(template: TemplateSpec, section: SectionSpec, context: Mapping[str, Any],
                     generator: Generator, *, record: str | None = None, sources: str = "") -> SectionPrompt:
    """Messages for a per-row section: shared ``[system + instruction]``, then the row's prompt, after the
    row's ``sources`` block (:func:`sources_block`, "" for none) when there is one.

    Over-long row text is cut (by characters, keeping the start; the sources are never cut, the retrieval
    stage sized them) so the prompt fits; raises ContextOverflow if the instruction alone does not fit.
    """
    system = "\n\n".join(p for p in (
        render_text(template.system_prompt, context, what="[prompt] system", record=record).strip() or DEFAULT_SYSTEM,
        format_instruction(section),
    ) if p)
    user = render_text(section.prompt, context, what=f"section '{section.id}' prompt", record=record).strip()
    row = context.get("row")
    free_user = render_text(section.prompt, {**context, "row": {k: "N/A" for k in row}} if isinstance(row, Mapping)
                            else context, what=f"section '{section.id}' prompt", record=record).strip()
    while True:
        messages = RowMessages((Message("system", system), Message("user", f"{sources}\n\n{user}" if sources else user)))
        messages.content_free = (Message("system", system), Message("user", free_user))
        tokens = generator.count_tokens(messages)
        if tokens + section.max_tokens <= generator.n_ctx:
            return SectionPrompt(section, messages, tokens)
        if len(user) < 40:
            raise ContextOverflow(
                f"Section '{section.id}' of template '{template.id}' does not fit the context window of "
                f"{generator.n_ctx} tokens. Raise n_ctx in Settings or shorten the system prompt."
            )
        user = user[: len(user) * 3 // 4] + " [...]"
