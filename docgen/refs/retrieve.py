"""Retrieval inside the prompt budget: which passages a section is written from, and saying so.

For each section that uses references (:meth:`docgen.model.ReferencesSpec.applies_to`), per document (so per
row in rows mode):

1. **query**: the manifest's ``[references] query`` rendered with the document's context, else the section's
   rendered instruction plus the record's values (rows mode) - e.g. the customer's comment;
2. **budget**: ``n_ctx - prompt_tokens - max_tokens - 32`` for that section's prompt without sources (the 32
   tokens absorb tokenizer differences at the joins), capped at ``[references] max_tokens``;
3. **selection** (:func:`select`): if every reference file fits the budget whole, all are used whole, in file
   order. Otherwise the best ``passages`` BM25 hits are taken in rank order; for each, its whole file is used
   when it fits what is left of the budget (and none of it is in yet), else the passage alone when it fits,
   else it is left out;
4. **statement**: :attr:`Selection.note` says what was used and what was left out ("3 of 7 matching passages;
   Warranty terms.docx used whole; 1 passage left out to fit the context window"). It goes into the prompt
   (so the model does not take partial sources for complete ones), the section's ``sources_note`` and the
   report. A reference that cannot be read is named in the section's warnings. Nothing is cut silently.

Sources are numbered from 1 per section, in the order chosen (best first; a whole file's passages in file
order).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docgen.llm.base import Generator, Message
from docgen.llm.prompt import build_document_prompts, render_text, sources_block
from docgen.model import DocumentJob, ReferencesSpec, RunOptions, SectionSpec, Source
from docgen.refs.evidence import policy_marks
from docgen.refs.index import Hit, Index, UpdateReport
from docgen.refs.library import reference_files, spec_for

#: Tokens kept free beside the sources for tokenizer differences where the blocks join (see step 2).
MARGIN_TOKENS = 32


@dataclass(frozen=True)
class Selection:
    """The sources chosen for one section: ``sources`` (numbered from 1), ``note`` (what was used and left
    out), ``problems`` (unreadable references, for the section's warnings), ``query`` as searched and
    ``budget`` in tokens; ``all_whole`` when every reference was used whole (then the block is the same for every
    section and row)."""

    sources: tuple[Source, ...]
    note: str
    problems: tuple[str, ...] = ()
    query: str = ""
    budget: int = 0
    all_whole: bool = False

    @property
    def block(self) -> str:
        """The sources as the prompt shows them (:func:`docgen.llm.prompt.sources_block`)."""
        return sources_block(self.sources, self.note)


def _source(number: int, hit: Hit, whole: bool, rank: int = 0) -> Source:
    p = hit.passage
    return Source(number, hit.file.name, str(hit.file), p.section, p.location, p.text, whole, rank)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "es" if word.endswith("ch") else "s")


def select(hits: Sequence[Hit], whole: Callable[[Path], list[Hit]], files: Sequence[Path], budget: int,
           passages: int, tokens: Callable[[Hit], int]) -> tuple[list[tuple[Hit, bool]], str, bool]:
    """Step 3 of the module docstring. ``hits``: ranked passages; ``whole(path)``: every passage of a file in
    order; ``files``: the reference files in scope; ``tokens(hit)``: prompt tokens of one source line.
    Returns the chosen ``(hit, from_whole_file)`` pairs, the note, and whether every file was used whole."""
    everything = [h for f in files for h in whole(f)]
    if everything and sum(tokens(h) for h in everything) <= budget:
        names = ", ".join(Path(f).name for f in files if whole(f))
        return ([(h, True) for h in everything],
                f"all references used whole: {names}", True)
    chosen: list[tuple[Hit, bool]] = []
    used = 0
    whole_files: list[str] = []
    partial: set[Path] = set()
    left_out = 0
    taken: set[int] = set()
    top = list(hits[:passages])
    for hit in top:
        if hit.file.name in whole_files:
            continue  # already in, whole
        if hit.file not in partial:
            all_of = whole(hit.file)
            cost = sum(tokens(h) for h in all_of)
            if all_of and cost <= budget - used:
                chosen.extend((h, True) for h in all_of)
                used += cost
                whole_files.append(hit.file.name)
                continue
        cost = tokens(hit)
        if cost <= budget - used and hit.passage_id not in taken:
            chosen.append((hit, False))
            taken.add(hit.passage_id)
            partial.add(hit.file)
            used += cost
        else:
            left_out += 1
    single = sum(1 for _h, w in chosen if not w)
    parts = [f"{_plural(single, 'matching passage')} of {_plural(len(hits), 'match')} found" if single else ""]
    if whole_files:
        parts.append(f"{', '.join(whole_files)} used whole")
    if left_out:
        parts.append(f"{_plural(left_out, 'matching passage')} left out to fit the context window")
    more = max(0, len(hits) - len(top))
    if more:
        parts.append(f"{more} lower-ranked {'match' if more == 1 else 'matches'} not used")
    if not chosen:
        parts = ["no passage of the references matches this text"] if not hits else parts
    return chosen, "; ".join(p for p in parts if p), False


_FRESH: dict[tuple[Any, ...], UpdateReport] = {}


def _refresh(index: Index, files: Sequence[Path]) -> UpdateReport:
    """``index.update(files)``, skipped when nothing about the files (size, mtime) changed since the last update
    in this process (a batch of 1,000 letters checks the files once per letter with a stat, not a database
    round trip)."""
    stamp = []
    for f in files:
        try:
            st = f.stat()
            stamp.append((str(f), st.st_size, st.st_mtime_ns))
        except OSError:
            stamp.append((str(f), None, None))
    key = (str(index.path), tuple(stamp))
    if key not in _FRESH:
        _FRESH.clear()
        _FRESH[key] = index.update(files)
    return _FRESH[key]


def section_query(spec: ReferencesSpec, section: SectionSpec, context: Mapping[str, Any], record: str | None) -> str:
    """Step 1 of the module docstring: the search text for ``section``."""
    if spec.query:
        return render_text(spec.query, context, what="[references] query", record=record)
    text = render_text(section.prompt, context, what=f"section '{section.id}' prompt", record=record)
    row = context.get("row")
    if isinstance(row, Mapping):
        text += " " + " ".join(str(v) for v in row.values() if isinstance(v, str))
    return text


class _Scope:
    """The reference files of one document (or one per-row section run) with their index state, and the
    per-file and per-passage caches the selection uses."""

    def __init__(self, template: Any, options: RunOptions, generator: Generator, index: Index | None) -> None:
        self.files = reference_files(template, options.references)
        self.index = index or Index()
        report = _refresh(self.index, self.files) if self.files else UpdateReport()
        self.problems = tuple(f"Reference {Path(p).name} was not used: {msg}" for p, msg in report.failed.items())
        self.usable = [f for f in self.files if f not in report.failed]
        self.generator = generator
        self._overhead = generator.count_tokens((Message("user", ""),))
        self._costs: dict[int, int] = {}
        self._whole: dict[Path, list[Hit]] = {}

    def whole(self, path: Path) -> list[Hit]:
        if path not in self._whole:
            self._whole[path] = self.index.passages(path)
        return self._whole[path]

    def tokens(self, hit: Hit) -> int:
        if hit.passage_id not in self._costs:
            line = f"[10] {_source(10, hit, False).label}: {' '.join(hit.passage.text.split())}"
            self._costs[hit.passage_id] = max(
                1, self.generator.count_tokens((Message("user", line),)) - self._overhead) + 1
        return self._costs[hit.passage_id]

    def choose(self, spec: ReferencesSpec, query: str, room: int, fallback: str = "") -> Selection:
        """Steps 2-4 of the module docstring for one search text ``query`` and ``room`` prompt tokens free;
        ``fallback`` is searched instead when ``query`` matches no passage."""
        budget = max(0, min(spec.max_tokens, room))
        limit = max(spec.passages * 3, 12)
        hits = self.index.search(query, self.usable, limit=limit) if self.usable else []
        if not hits and fallback and self.usable:
            query = fallback
            hits = self.index.search(query, self.usable, limit=limit)
        chosen, note, all_whole = select(hits, self.whole, self.usable, budget, spec.passages, self.tokens)
        if not self.usable:
            note = "no reference file could be read" if self.files else "no reference files were found"
        ranks = {h.passage_id: r for r, h in enumerate(hits, 1)}
        sources = tuple(_source(i, h, w, ranks.get(h.passage_id, 0)) for i, (h, w) in enumerate(chosen, 1))
        return Selection(sources, note, self.problems, query, budget, all_whole)


def document_sources(job: DocumentJob, sections: Sequence[SectionSpec], context: Mapping[str, Any],
                     generator: Generator, options: RunOptions = RunOptions(),
                     index: Index | None = None) -> dict[str, Selection]:
    """The retrieval stage for one document: section id -> :class:`Selection` for each of ``sections`` that
    uses references (module docstring). Empty when the template uses none. Raises MissingValues for a query
    naming an unknown value and ContextOverflow when a section does not fit even without sources."""
    template = job.template
    spec = spec_for(template, options.references)
    if spec is None:
        return {}
    todo = [s for s in sections if spec.applies_to(s) and not s.per_row]
    if not todo:
        return {}
    scope = _Scope(template, options, generator, index)
    base = build_document_prompts(template, todo, context, generator, record=job.record)
    out: dict[str, Selection] = {}
    for section, prompt in zip(todo, base, strict=True):
        query = section_query(spec, section, context, job.record)
        room = generator.n_ctx - prompt.prompt_tokens - section.max_tokens - MARGIN_TOKENS
        out[section.id] = scope.choose(spec, query, room)
    return out


class RowSources:
    """Sources for per-row sections (``per_row = true`` listed in ``[references] sections``): for each row, the
    query is the manifest's ``[references] query`` rendered with that row, else that row's record (its text
    values) and, when the record matches no passage, the section's instruction rendered with the row plus the
    record (step 1 of the module docstring). The instruction comes second because it is the same for every row
    (with few-shot examples, often longer than the row): searched together, its words outrank the row's and
    every row gets the same passages. The passages that fit next to that row's prompt are then chosen as for a
    document section (steps 2-4).

    ``RowSources.for_job(job, sections, generator, options)`` returns None when no per-row section uses
    references. :meth:`select` gives one row's :class:`Selection`; :meth:`note` sums up a section's rows for its
    report entry. The index is brought up to date once per run of the per-row sections, not once per row."""

    def __init__(self, spec: ReferencesSpec, sections: Sequence[SectionSpec], scope: _Scope) -> None:
        self.spec = spec
        self.sections = {s.id for s in sections}
        self.scope = scope
        self._rows: dict[str, list[int]] = {}

    @classmethod
    def for_job(cls, job: DocumentJob, sections: Sequence[SectionSpec], generator: Generator,
                options: RunOptions = RunOptions(), index: Index | None = None) -> RowSources | None:
        spec = spec_for(job.template, options.references)
        todo = [s for s in sections if s.per_row and spec is not None and spec.applies_to(s)]
        if not todo or spec is None:
            return None
        return cls(spec, todo, _Scope(job.template, options, generator, index))

    def applies_to(self, section: SectionSpec) -> bool:
        """True when ``section``'s rows are written from sources."""
        return section.id in self.sections

    def select(self, section: SectionSpec, row_context: Mapping[str, Any], record: str | None,
               prompt_tokens: int) -> Selection:
        """The sources for one row: ``row_context`` has ``row``; ``prompt_tokens`` is that row's prompt without
        sources. Raises MissingValues for a query naming an unknown value."""
        full = section_query(self.spec, section, row_context, record)
        row = row_context.get("row")
        own = " ".join(str(v) for v in row.values() if isinstance(v, str)) if isinstance(row, Mapping) else ""
        room = self.scope.generator.n_ctx - prompt_tokens - section.max_tokens - MARGIN_TOKENS
        if self.spec.query or not own.strip():
            chosen = self.scope.choose(self.spec, full, room)
        else:
            chosen = self.scope.choose(self.spec, own, room, fallback=full)
        self._rows.setdefault(section.id, []).append(len(chosen.sources))
        return chosen

    def note(self, section: SectionSpec) -> str:
        """What a per-row section's rows were written from, e.g. "sources per row: 12 rows, 1-4 passages each
        (2 rows with none)"."""
        counts = self._rows.get(section.id, [])
        if not counts:
            return ""
        none = sum(1 for c in counts if not c)
        some = [c for c in counts if c]
        span = (f"{min(some)}-{max(some)}" if some and min(some) != max(some) else str(some[0]) if some else "0")
        tail = f" ({_plural(none, 'row')} with none)" if none and some else ""
        return f"sources per row: {_plural(len(counts), 'row')}, {span} passage{'' if span == '1' else 's'} each{tail}"


def prompt_sources(selections: Mapping[str, Selection], sections: Sequence[SectionSpec]) -> tuple[list[str], str]:
    """The sources blocks for :func:`docgen.llm.prompt.build_document_prompts`: one per section in
    ``sections`` ("" for a section without sources) and the shared block. When every section that has sources
    used every reference whole, their one block is the shared block (the same for every row, so rows-mode
    documents can share it in their prompt prefix) and the per-section blocks are empty."""
    chosen = [selections[s.id] for s in sections if s.id in selections]
    if chosen and all(c.all_whole for c in chosen) and len({c.block for c in chosen}) == 1:
        return [""] * len(sections), chosen[0].block
    return [selections[s.id].block if s.id in selections else "" for s in sections], ""


def with_sources(result: Any, selection: Selection | None, data_texts: Sequence[str] = (), *,
                 remove: bool = False) -> Any:
    """``result`` (a SectionResult) with the selection's sources, note and problems (as warnings), and the marks
    of :func:`docgen.refs.evidence.policy_marks` for its text (``data_texts``: what the record says, so the
    customer's own figures are not taken for promises). ``remove`` (``[references] unsupported = "remove"``)
    takes the sentences of ``policy`` marks out of a generated (not an edited or locked) text; their marks go to
    ``dropped``."""
    if selection is None:
        return result
    marks = tuple(policy_marks(result.text, selection.sources, data_texts)) if result.text else ()
    text, warnings = result.text, result.warnings + selection.problems
    dropped: tuple = ()
    if remove and not result.locked:
        text, removed = remove_unsupported(text, marks)
        if removed:
            # the removed sentences' marks go to ``dropped``, as on_unsupported = "drop" does, so the report and
            # the CLI summary count them
            dropped = tuple(m for m in marks if m.kind == "policy" and m.sentence in removed)
            marks = tuple(policy_marks(text, selection.sources, data_texts)) if text else ()
            warnings += tuple(f"removed a sentence promising what no source supports: \"{r}\"" for r in removed)
    return dataclasses.replace(result, text=text, sources=selection.sources, sources_note=selection.note,
                               warnings=warnings, marks=result.marks + marks, dropped=result.dropped + dropped)


def remove_unsupported(text: str, marks: Sequence[Any]) -> tuple[str, list[str]]:
    """``text`` without the sentences of ``policy`` marks (empty paragraphs dropped); returns it and the
    removed sentences in text order."""
    spans = sorted({(m.start, m.end) for m in marks if m.kind == "policy"}, reverse=True)
    removed = []
    for start, end in spans:
        removed.append(text[start:end])
        head, tail = text[:start].rstrip(" "), text[end:].lstrip(" ")
        glue = " " if head and tail and not head.endswith("\n") and not tail.startswith("\n") else ""
        text = head + glue + tail
    text = "\n\n".join(p.strip() for p in text.split("\n\n") if p.strip())
    return text, removed[::-1]


def record_texts(context: Mapping[str, Any], sections: Sequence[SectionSpec], record: str | None) -> list[str]:
    """What a document's record and instructions say (the row's text values and each section's rendered
    instruction), for :func:`with_sources`."""
    row = context.get("row")
    out = [str(v) for v in row.values() if isinstance(v, str)] if isinstance(row, Mapping) else []
    for s in sections:
        try:
            out.append(render_text(s.prompt, context, what=f"section '{s.id}' prompt", record=record))
        except Exception:  # noqa: BLE001 - the section's own generation reports a broken prompt
            continue
    return out


__all__ = ["Selection", "document_sources", "RowSources", "select", "section_query", "with_sources", "prompt_sources",
           "record_texts", "remove_unsupported", "MARGIN_TOKENS"]
