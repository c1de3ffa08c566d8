"""The facts and checks stages: what the prose may say, what it said wrong, and what stops a document.

- :func:`fact_sheet` (the facts stage): the document's :class:`~docgen.facts.FactSheet` from its aggregates,
  with every group of a limited aggregate kept as evidence.
- :func:`check_sections` (the checks stage): the claim check (:func:`docgen.claims.check_text`) on every
  markdown/text section, generated, edited or locked alike. Its problems go to ``SectionResult.marks``; the
  unsupported figures also to ``ungrounded`` and, as messages, ``warnings`` (as the figure check always did).
- :func:`settle` applies the run's choice for what is still marked (``on_unsupported``, from the user, else
  the manifest's ``[checks] on_unsupported``, else ``mark``):

  - ``mark``: the marks stay; the written .docx carries a Word comment on each marked sentence
    (:mod:`docgen.render.comments`);
  - ``drop``: the marked sentences are removed from generated sections (``SectionResult.dropped`` keeps their
    marks, the report lists them); edited or locked text is the user's and is marked, never cut;
  - ``fail``: a document with any mark fails (``--strict-grounding`` does the same, whatever the choice).

  Whatever the choice, echoes and chat markup are cut, and with ``[references] unsupported = "remove"`` so are
  the promises no source or field makes (``commitment`` and ``policy`` marks: an offer, deadline, contact or
  refusal the template does not give).

  A section left empty (an ``empty`` mark: :mod:`docgen.sections.document`, or emptied by ``drop``) fails its
  document when it is written: a reader never gets a silent blank.

All of it only happens when the document is about to be written; without an output path (the GUI's review
step) the results go back to the caller with every mark in place (echoes too), for the reviewer to remove or
keep.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from docgen.claims import Passage, Sources, check_text, evidence_values, unsupported, vocabulary
from docgen.claims.figures import message as figure_message
from docgen.claims.sentences import remove_spans
from docgen.errors import DocgenError
from docgen.facts import FactSheet, build_fact_sheet, sheet_text
from docgen.facts.insights import add_insights
from docgen.llm.cleanup import MIN_WORDS, too_short
from docgen.sections.document import facts_text
from docgen.llm.prompt import DEFAULT_SYSTEM, render_text
from docgen.model import DocumentJob, Mark, RunOptions, SectionResult, SectionSpec
from docgen.templates.aggregates import compute as compute_aggregate

ON_UNSUPPORTED = ("mark", "drop", "fail")
#: Marks whose sentences are removed from generated text whatever ``on_unsupported`` says: a copy of the
#: instruction or chat markup is not prose to correct, and a reader must never get it.
ALWAYS_DROPPED = frozenset({"echo", "markup"})
#: Marks of promises no source or field makes: with ``[references] unsupported = "remove"`` their sentences are
#: removed from generated text too (the reference check's own ``policy`` sentences are removed before the
#: claim check runs, :func:`docgen.refs.retrieve.with_sources`).
PROMISES = frozenset({"commitment", "policy"})


def fact_sheet(job: DocumentJob, context: Mapping[str, Any]) -> FactSheet:
    """The facts stage: the document's fact sheet (after aggregates are in ``context``). Aggregates with a
    ``limit`` are computed once more without it, so the claim check knows every group's figures."""
    rows = context.get("rows") or [context.get("row", {})]
    full: dict[str, Any] = {}
    done: dict[tuple, Any] = {}
    for agg in job.template.aggregates:
        if agg.group_by and agg.limit:
            key = (agg.group_by, agg.sum, agg.mean)
            try:
                if key not in done:  # one pass per grouping: top-5 and bottom-3 of one column share it
                    done[key] = compute_aggregate(dataclasses.replace(agg, limit=0, sort=None, ascending=False),
                                                  job.dataset, rows, template_id=job.template.id)
                full[agg.name] = done[key]
            except DocgenError:
                pass
    template = job.template
    sheet = build_fact_sheet(template, context, dataset=job.dataset, all_groups=full,
                             money_columns=template.money_columns)
    add_insights(sheet, template.insights, context, {a.name: a for a in template.aggregates},
                 template.money_columns)
    return sheet


#: The fact sheet's prompt form: one fact per line with its full label. Measured with the embedded model on
#: the sales-report (bench/prompt_forms.py, 2 seeds x 2 sections): marks per sentence written were
#: facts 0.39, sentences 0.49, grouped 0.64 (the hand-written context it replaced: 0.36).
PROMPT_FORM = "facts"


def add_facts(job: DocumentJob, context: dict[str, Any], form: str = PROMPT_FORM) -> FactSheet:
    """The facts stage: compute the fact sheet and put it in ``context`` as ``fact_sheet`` (the shown facts as
    prompt text, :func:`docgen.facts.sheet_text` in ``form``; a template's ``[prompt] context`` places it with
    ``{{ fact_sheet }}``) and ``insights`` (insight id -> its sentence, for template.docx). Returns the sheet."""
    sheet = fact_sheet(job, context)
    context["fact_sheet"] = sheet_text(sheet, form)
    context["insights"] = {f.id: f.sentence for f in sheet.facts if f.sentence}
    return sheet


def _prompt_text(prompt: Any) -> str:
    """Everything a SectionPrompt's messages say."""
    return "\n".join(m.content for m in prompt.messages)


def template_words(source: str) -> str:
    """A manifest Jinja string with every tag (``{{ }}``, ``{% %}``, ``{# #}``) replaced by a gap: the words
    the template author wrote. Echo is judged against these, so a letter that says the offer a field put in
    the instruction ("a free replacement or a full refund") does not count as copying the instruction."""
    return re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " \u27c2 ", source, flags=re.S)


def _data_texts(job: DocumentJob, context: Mapping[str, Any]) -> list[str]:
    rows = context.get("rows") or ([context["row"]] if "row" in context else [])
    distinct: dict[str, None] = {}
    for r in rows:
        if isinstance(r, Mapping):
            for v in r.values():
                if isinstance(v, str):
                    distinct.setdefault(v, None)
    texts = list(distinct)
    texts += [" ".join(map(str, job.dataset.column_names)), job.template.name, job.template.description]
    for f in job.template.fields:
        texts += [f.label, str(context.get(f.name) or "")]
    return texts


class Checker:
    """The claim check of one document, built once (evidence, vocabulary and fact sheet are per document) and
    used for every candidate and section: :meth:`marks` of a section's text, :meth:`judge` to score a
    candidate. Evidence: the context (fields, aggregates, rows), the prompts the model was shown (or the
    rendered ``[prompt] context`` when no section was generated), the fact sheet and ``passages``
    (reference documents)."""

    def __init__(self, job: DocumentJob, context: Mapping[str, Any], prompts: Sequence[Any],
                 sheet: FactSheet | None = None, passages: Sequence[Passage] = ()) -> None:
        self.job, self.sheet, self.passages = job, sheet, tuple(passages)
        self.prompts = {p.section.id: p for p in prompts}
        texts = [m.content for p in prompts for m in p.messages]
        if not texts and job.template.context:
            try:
                texts = [render_text(job.template.context, context, what="[prompt] context", record=job.record)]
            except DocgenError:
                texts = []
        self.evidence = evidence_values(context, [*texts, *(p.text for p in passages)])
        self.vocab = vocabulary([*_data_texts(job, context), *texts, job.template.system_prompt,
                                 *(p.text + " " + p.title for p in passages)])
        self.offers = None
        if job.template.mode == "rows":
            self.offers = "; ".join(f"{f.label}: {context.get(f.name)}" for f in job.template.fields
                                    if context.get(f.name) not in (None, ""))
        self.whole = "\n".join(texts)
        self.system = template_words(job.template.system_prompt or DEFAULT_SYSTEM)
        # the fields as docgen shows them ("Label: value" lines): a reply made of such a line copies the prompt's
        # scaffolding ("Details: Restaurant: Bryant Bistro"), even where this prompt names the value in prose
        self.field_lines = "\n".join(f"{f.label}: {context.get(f.name)}" for f in job.template.fields
                                      if context.get(f.name) not in (None, ""))

    def sources(self, spec: SectionSpec) -> Sources:
        """What section ``spec``'s text may rely on."""
        prompt = self.prompts.get(spec.id)
        instructions = [spec.prompt] + [s.prompt for s in self.job.template.sections if s.id != spec.id]
        return Sources(evidence=self.evidence, facts=self.sheet,
                       instruction="\n".join(template_words(i) for i in instructions),
                       system=self.system,
                       prompt=(_prompt_text(prompt) if prompt else self.whole) + "\n" + self.field_lines,
                       vocabulary=self.vocab, passages=self.passages, offers=self.offers)

    def marks(self, spec: SectionSpec, text: str) -> list[Mark]:
        """The claim check's marks of ``text`` as section ``spec``."""
        return check_text(text, self.sources(spec))

    def judge(self, spec: SectionSpec, text: str) -> int:
        """A candidate's score: how many marks its text has (fewer is better)."""
        return len(self.marks(spec, text))


def reference_passages(selections: Mapping[str, Any]) -> tuple[Passage, ...]:
    """The reference passages a document's sections were given (``selections``: section id ->
    :class:`docgen.refs.retrieve.Selection`, whose ``sources`` are :class:`docgen.model.Source` s), once each, as
    the claim check's :class:`~docgen.claims.Passage` s: their names, figures and offers are known to the
    check (``id`` "file#number", ``title`` the source's label)."""
    out: dict[tuple[str, str], Passage] = {}
    for selection in selections.values():
        for src in getattr(selection, "sources", ()):
            out.setdefault((src.path, src.text), Passage(f"{src.file}#{src.number}", src.text, src.label))
    return tuple(out.values())


def check_sections(job: DocumentJob, sections: Sequence[SectionSpec], results: dict[str, SectionResult],
                   context: Mapping[str, Any], prompts: Sequence[Any], sheet: FactSheet | None = None,
                   passages: Sequence[Passage] = (), checker: Checker | None = None) -> None:
    """The checks stage, in place on ``results``: marks, ``ungrounded`` and figure ``warnings`` for every
    markdown/text section with text (module docstring; evidence as :class:`Checker`). Marks already on a
    result are kept before the claim check's own: an ``empty`` mark, and the reference check's marks on a
    section written from sources (``policy``/``uncited``/``citation``, :func:`docgen.refs.with_sources`)."""
    todo = [s for s in sections if s.format in ("markdown", "text") and s.id in results and results[s.id].text]
    if not todo:
        return
    checker = checker or Checker(job, context, prompts, sheet, passages)
    for spec in todo:
        r = results[spec.id]
        marks = tuple(dict.fromkeys(r.marks + tuple(checker.marks(spec, r.text))))
        claims = unsupported(r.text, checker.evidence)
        results[spec.id] = dataclasses.replace(
            r, marks=marks, ungrounded=tuple(c.text for c in claims),
            warnings=tuple(w for w in r.warnings if " is not in the data (section " not in w)
            + tuple(figure_message(c, spec.id) for c in claims))


def on_unsupported_for(job: DocumentJob, options: RunOptions) -> str:
    """The run's choice for marked sentences: the user's (``RunOptions.on_unsupported``), else the manifest's
    ``[checks] on_unsupported``, else ``mark``."""
    choice = options.on_unsupported or getattr(job.template, "on_unsupported", "") or "mark"
    return choice if choice in ON_UNSUPPORTED else "mark"


def settle(job: DocumentJob, sections: Sequence[SectionSpec], results: dict[str, SectionResult],
           options: RunOptions, *, writing: bool, facts: FactSheet | None = None) -> None:
    """Apply ``on_unsupported`` in place on ``results`` when ``writing`` (``drop`` cuts marked sentences from
    generated sections; echoes and markup are cut whatever the choice), then :func:`refuse_failed`. Raises
    DocgenError when the document must not be written."""
    choice = on_unsupported_for(job, options)
    specs = {s.id: s for s in sections}
    refs = getattr(job.template, "references", None)
    removed = ALWAYS_DROPPED | (PROMISES if refs is not None and refs.unsupported == "remove" else frozenset())
    for sid, r in list(results.items()) if writing else ():
        cut = [m for m in r.marks if m.end > m.start and m.kind != "empty"
               and (choice == "drop" or m.kind in removed)]
        if not cut or r.locked or sid not in specs:
            continue
        spans = {(m.start, m.end) for m in cut}
        text = remove_spans(r.text, sorted(spans))
        spec = specs[sid]
        rest = reanchor(text, [m for m in r.marks if (m.start, m.end) not in spans and m.kind != "empty"])
        kept = tuple(m for m in r.marks if m.kind == "empty")
        note = f"removed {len(spans)} marked sentence{'s' if len(spans) > 1 else ''}: " + \
            "; ".join(dict.fromkeys(f"{m.sentence[:60]!r} ({m.kind})" for m in cut))
        written = facts_text(spec, facts) if spec.fallback == "facts" else ""
        if too_short(text, spec.min_words or MIN_WORDS) and not kept and written:
            text, rest = written, ()
            note += "; nothing usable was left, so the section was written from the fact sheet"
        elif too_short(text, spec.min_words or MIN_WORDS) and not kept:
            kept = (Mark("empty", text, 0, len(text), text,
                         f"Every sentence of section '{spec.title}' was marked by the check and removed; nothing "
                         "true was left to write. Regenerate it or write it yourself"
                         + (", or use on_unsupported = \"mark\" to keep marked sentences with comments."
                            if choice == "drop" else "."),),)
        # a figure the check found unsupported is gone when every sentence stating it was removed, whatever the
        # mark that removed the sentence
        gone = ({m.claim for m in cut if m.kind == "unsupported"}
                | {u for u in r.ungrounded if any(u in m.sentence for m in cut) and u not in text}) - {m.claim for m in rest}
        results[sid] = dataclasses.replace(
            r, text=text, marks=kept + rest, dropped=r.dropped + tuple(cut),
            ungrounded=tuple(u for u in r.ungrounded if u not in gone),
            warnings=tuple(w for w in r.warnings if not any(f"'{g}' is not in the data" in w for g in gone)) + (note,))
    refuse_failed(job, results, options, writing=writing, fail_marks=choice == "fail")


def reanchor(text: str, marks: Sequence[Mark]) -> tuple[Mark, ...]:
    """``marks`` with their offsets moved to where their sentences now are in ``text`` (in order; a mark whose
    sentence is gone is left out)."""
    out, cursor, last = [], 0, None
    for m in sorted(marks, key=lambda m: m.start):
        if last is not None and (m.start, m.end) == last[0]:
            at = last[1]
        else:
            at = text.find(m.sentence, cursor)
            if at < 0:
                at = text.find(m.sentence)
            if at < 0:
                continue
            last = ((m.start, m.end), at)
            cursor = at + len(m.sentence)
        out.append(dataclasses.replace(m, start=at, end=at + len(m.sentence)))
    return tuple(out)


def refuse_failed(job: DocumentJob, results: Mapping[str, SectionResult], options: RunOptions, *,
                  writing: bool, fail_marks: bool = False) -> None:
    """Raise DocgenError naming the section(s) and the record when a document about to be written has an empty
    section, or any mark with ``fail_marks`` or ``strict_grounding``. Does nothing when ``writing`` is
    False."""
    if not writing:
        return
    empty = [m.message for r in results.values() for m in r.marks if m.kind == "empty"]
    if empty:
        raise DocgenError(f"{job.record}: the document was not written because a section is empty. "
                          + " ".join(empty))
    if not (fail_marks or options.strict_grounding):
        return
    marked = [f"section '{r.id}': " + "; ".join(f"{m.claim!r} ({m.kind}: {m.message})" for m in r.marks)
              for r in results.values() if r.marks]
    if marked:
        why = "--strict-grounding" if options.strict_grounding else 'on_unsupported = "fail"'
        raise DocgenError(f"The claim check marked sentences of {job.record}, so the document was not written "
                          f"({why}): {' | '.join(marked)}. Correct or regenerate those sections, or use "
                          "on_unsupported = \"mark\" to write them with comments.")


__all__ = ["Checker", "add_facts", "fact_sheet", "reference_passages", "check_sections", "settle", "refuse_failed", "on_unsupported_for", "ON_UNSUPPORTED"]
