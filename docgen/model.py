"""Plain, frozen data passed between docgen's layers. No I/O and no heavy imports here."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping, Sequence
from typing import Any, Literal

FieldType = Literal["text", "number", "date", "choice"]
SectionFormat = Literal["markdown", "text", "choice", "json"]
ColumnType = Literal["integer", "number", "date", "text"]
DataMode = Literal["table", "rows"]

#: A cell value after typing: int/float for numbers, datetime.date for dates, str for text, None when empty.
Value = int | float | _dt.date | str | None


@dataclass(frozen=True)
class FieldSpec:
    """A value the user supplies (GUI form or ``--set name=value``), declared in ``[[fields]]``."""

    name: str
    label: str
    type: FieldType = "text"
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class SectionSpec:
    """Text the model writes, declared in ``[[sections]]`` and placed in the .docx with
    ``{{p sections.<id> }}`` (markdown/text) or ``{{ sections.<id> }}`` (choice).

    ``prompt`` is a Jinja string rendered with the same context as the document (fields, row, aggregates).
    ``temperature``/``seed`` of None mean "use the settings' default".
    ``per_row = true`` runs the section once per data row (``row`` in the prompt); each row then carries the
    result under the section id (``row.sentiment``), before aggregates are computed, so aggregates and the
    document's own sections can count and quote the results.
    """

    id: str
    title: str
    prompt: str
    format: SectionFormat = "markdown"
    max_tokens: int = 256
    temperature: float | None = None
    choices: tuple[str, ...] = ()
    #: choice sections: (choice, bias) pairs added to the backend's calibrated choice scores before the highest
    #: is taken (docgen.sections.choice.pick_choice); a positive bias on "neutral" is a band on the margin by
    #: which a polar answer must beat it. Ignored when the backend sampled instead of scoring.
    choice_bias: tuple[tuple[str, float], ...] = ()
    schema: dict[str, Any] | None = None
    per_row: bool = False
    #: markdown/text: fewer words than this after cleanup and the generated text counts as empty (None: the
    #: default of :data:`docgen.llm.cleanup.MIN_WORDS`); an empty section fails its document
    min_words: int | None = None
    #: "facts": a section with no usable candidate is written from the fact sheet's insight sentences
    #: (``insights``: which ones, default all) instead of failing its document
    fallback: str = ""
    insights: tuple[str, ...] = ()


@dataclass(frozen=True)
class AggregateSpec:
    """A value computed from the data before rendering, declared in ``[[aggregates]]`` (the user documentation
    of every key is docs/template-language.md, "Aggregates"; :mod:`docgen.data.aggregate` computes it).

    Without ``group_by`` the result is one dict ``{"count": n, <col>: sum, ...}``; with it, a list of such
    dicts, one per group (``group_by`` may name several columns), sorted by ``sort`` (result keys; default: the
    groups in ``order``/period order when ``order``, ``change`` or ``running`` is given, else the first ``sum``
    column, else ``count``; descending unless ``ascending``) and cut to ``limit`` rows (0 = all), the rest
    summed into one ``others`` row when ``others`` names it. ``where`` (SQL condition) filters the rows first.
    Result keys: the group columns, ``count``, ``<col>`` for ``sum``, ``mean_``/``median_``/``min_``/``max_``/
    ``distinct_<col>``, ``share`` (of the first ``sum`` column's total), ``change_<key>``/``growth_<key>``
    (difference and ratio-minus-one to the previous ``period``), ``running_<key>`` (running total along the
    period). ``sql`` instead gives the rows of one SELECT over the table ``data``.
    """

    name: str
    group_by: tuple[str, ...] | str | None = None
    sum: tuple[str, ...] = ()
    mean: tuple[str, ...] = ()
    sort: tuple[str, ...] | str | None = None
    ascending: bool = False
    limit: int = 0
    median: tuple[str, ...] = ()
    min: tuple[str, ...] = ()
    max: tuple[str, ...] = ()
    count_distinct: tuple[str, ...] = ()
    where: str | None = None
    order: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    others: str | None = None
    change: tuple[str, ...] = ()
    running: tuple[str, ...] = ()
    period: str | None = None
    sql: str | None = None
    computed: tuple[tuple[str, str], ...] = ()  # the template's [data] computed columns (name, SQL expression)

    def __post_init__(self) -> None:
        if isinstance(self.group_by, str):
            object.__setattr__(self, "group_by", (self.group_by,))
        if isinstance(self.sort, str):
            object.__setattr__(self, "sort", (self.sort,))

    @property
    def groups(self) -> tuple[str, ...]:
        """The group-by columns (empty without ``group_by``)."""
        return tuple(self.group_by or ())


@dataclass(frozen=True)
class ChartSpec:
    """A chart of template.docx filled from the data, declared in ``[[charts]]`` (see docs/charts.md).

    The chart is the one whose name, alt text or title is ``name`` (or the ``index``-th chart of the document,
    1-based; with both, the ``index``-th must also match ``name``). ``data`` is an expression over the
    document's context (an aggregate's name, ``rows``, ``row``, ``rows[:12]``): a list of records gives one
    category per record (labels from the ``categories`` key) and one chart series per ``series`` key; one
    record (``row``) gives one series whose categories are the ``series`` keys. ``series_names`` label the
    series in the legend (default: the keys); ``number_format`` is an Excel number format for the values
    (``"$"#,##0``; default ``General``); ``title``, when given, is Jinja text that replaces the chart's title.
    """

    data: str
    name: str = ""
    index: int | None = None
    categories: str | None = None
    series: tuple[str, ...] = ()
    series_names: tuple[str, ...] = ()
    number_format: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class ReferencesSpec:
    """How a template uses reference documents, from ``[references]`` in the manifest (:mod:`docgen.refs`).

    ``folder``: the package's folder of reference files (default ``references/``), or None; ``sections``: ids
    of the sections written from sources (empty = every markdown/text section); ``query``: a Jinja string whose
    rendering is the search query (empty = the section's instruction plus the record); ``passages``: most
    matching passages per section; ``max_tokens``: most prompt tokens the sources may take (less when the
    context window is smaller); ``citations``: ``footnotes`` (``[n]`` becomes a Word footnote naming the
    source), ``list`` (``[n]`` numbered through the document, a "Sources" list at its end) or ``none`` (markers
    stay as typed); ``unsupported``: what happens to a sentence stating a policy term that no source supports
    (:mod:`docgen.refs.evidence`), or promising an offer, deadline, contact or refusal that no source or field
    gives (the claim check's ``commitment``): ``mark`` it, or ``remove`` it from generated text (a warning quotes
    it), so a letter never offers what the policy does not allow.
    """

    folder: Path | None = None
    sections: tuple[str, ...] = ()
    query: str = ""
    passages: int = 4
    max_tokens: int = 800
    citations: str = "footnotes"
    unsupported: str = "mark"

    def applies_to(self, section: SectionSpec) -> bool:
        """True when ``section`` is written from sources."""
        if self.sections:
            return section.id in self.sections
        return section.format in ("markdown", "text") and not section.per_row


@dataclass(frozen=True)
class Source:
    """A numbered source a section was written from: a passage of a reference file, shown to the model as
    ``[number] label: text``.

    ``file``: the file's name as shown ("Returns policy.docx"); ``path``: its full path; ``section``: the
    innermost heading as cited ("§3 Refunds", or ""); ``location``: "p. 2", "para. 14", "line 12", "row 5" or
    ""; ``whole``: the passage came in as part of a whole reference file that fitted the prompt budget.
    """

    number: int
    file: str
    path: str
    section: str
    location: str
    text: str
    whole: bool = False
    #: 1 for the best-matching passage of the search, 2 for the next ...; 0 for a passage that came in only
    #: because its whole file did
    rank: int = 0

    @property
    def label(self) -> str:
        """How a footnote names it: "Returns policy.docx, §3 Refunds, p. 2" (empty parts left out)."""
        return ", ".join(p for p in (self.file, self.section, self.location) if p)


@dataclass(frozen=True)
class InsightSpec:
    """A derived fact for the fact sheet, declared in ``[[insights]]`` (:mod:`docgen.facts.insights`):
    ``kind`` (largest, smallest, top, bottom, share, rank, counts, difference, change, trend) over the grouped
    aggregate ``of`` and its column ``value``; ``n`` for top/bottom; ``between`` two group keys for
    difference/change; ``date`` and ``by`` (year, quarter, month) for trend; ``label`` the noun prose uses for
    the value (default: the column name in lower case)."""

    id: str
    kind: str
    of: str = ""
    value: str = ""
    n: int = 0
    between: tuple[str, ...] = ()
    date: str = ""
    by: str = ""
    label: str = ""


@dataclass(frozen=True)
class TemplateSpec:
    """A validated template package: manifest + paths. Built by :mod:`docgen.templates.manifest`."""

    id: str
    name: str
    description: str
    version: str
    language: str
    root: Path
    docx: Path
    manifest_path: Path
    mode: DataMode = "table"
    required_columns: tuple[str, ...] = ()
    output_name: str = "{{ template.id }}.docx"
    system_prompt: str = ""
    context: str = ""
    max_context_rows: int = 50
    fields: tuple[FieldSpec, ...] = ()
    sections: tuple[SectionSpec, ...] = ()
    aggregates: tuple[AggregateSpec, ...] = ()
    charts: tuple[ChartSpec, ...] = ()
    computed: tuple[tuple[str, str], ...] = ()  # [data] computed: (column name, SQL expression)
    missing_values: tuple[str, ...] | None = None  # [data] missing_values; None = the default markers
    sample_data: Path | None = None
    source: str = "bundled"  # bundled | site | user | path
    #: reference documents (``[references]`` or a ``references/`` folder in the package); None = not used
    references: ReferencesSpec | None = None
    #: ``[checks] on_unsupported``: "mark" | "drop" | "fail" ("" = mark); see :mod:`docgen.sections.checks`
    on_unsupported: str = ""
    #: ``[checks] candidates``: candidates per markdown/text section (0 = the default, 3)
    candidates: int = 0
    #: ``[[insights]]``: derived facts for the fact sheet (:mod:`docgen.facts.insights`)
    insights: tuple[InsightSpec, ...] = ()
    #: ``[facts] money``: columns shown as money on the fact sheet (None: guessed from the column names)
    money_columns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Column:
    """One column of a :class:`Dataset`, with the type its values were converted to."""

    name: str
    type: ColumnType = "text"


@dataclass(frozen=True)
class Dataset:
    """Typed tabular input.

    ``rows[i]`` maps column name -> typed :data:`Value` (``None`` = missing). ``row_numbers[i]`` is the number a
    user sees for that record in the original file (the spreadsheet row / CSV line number counting the header as
    row 1; for JSON the 1-based record index), used in every error message about that record.

    Files read by :func:`docgen.sources.load_dataset` keep their values in the table engine: ``table`` is the
    :class:`docgen.data.Table` and ``rows``/``row_numbers`` are lazy sequences over it (``len``, indexing,
    slicing and iteration fetch rows in blocks; each row is a fresh dict), so a million rows are never a million
    Python dicts. A Dataset built from Python rows directly (``table`` None) works everywhere too; aggregates
    then load those rows into the engine when needed.
    """

    path: Path
    columns: tuple[Column, ...]
    rows: Sequence[Mapping[str, Value]]
    row_numbers: Sequence[int]
    sha256: str = ""
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    table: Any = None
    #: What reading changed that the user should know, each naming the file, row and column (a value with
    #: control characters removed, a broken character replaced): :func:`docgen.batch.data_notes` reports them.
    notes: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in file order."""
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters of one section. Defaults follow llama.cpp's for an instruct model, with a low
    temperature because a 135M model drifts quickly at higher ones.

    ``frequency_penalty``/``presence_penalty`` (OpenAI-style, passed to llama.cpp) default to 0.0, llama.cpp's
    own default: the looping seen with SmolLM2-135M on the sales-report was fixed by the prompt layout and by
    removing repeated paragraphs (:mod:`docgen.llm.cleanup`); penalties were not measured to help, so they stay
    off. ``repeat_penalty`` 1.1 is llama.cpp's long-standing CLI default.
    """

    max_tokens: int = 256
    temperature: float = 0.3
    top_p: float = 0.9
    top_k: int = 40
    repeat_penalty: float = 1.1
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    seed: int = 42


@dataclass(frozen=True)
class Mark:
    """A problem the claim check found in a section's text, anchored on the sentence that has it.

    ``kind``: what is wrong (``unsupported`` figure, ``misattributed`` figure, invented ``entity`` or ``name``,
    unsupported ``derived`` figure, ``echo`` of the prompt, chat-template ``markup``, ``placeholder``,
    ``commitment`` the template does not offer; from the reference check, :mod:`docgen.refs.evidence`: a ``policy``
    term no cited source supports, an ``uncited`` policy term, a ``citation`` of a source not given).
    ``start``/``end``: character offsets of the sentence in the
    section's text (``text[start:end] == sentence``); ``claim``: the figure or phrase at fault; ``message``:
    what the reader is told; ``evidence``: what the data says instead, when it says something
    ("Total sales are $2,297,200.86"), else "".
    """

    kind: str
    sentence: str
    start: int
    end: int
    claim: str
    message: str
    evidence: str = ""


@dataclass(frozen=True)
class SectionResult:
    """What the model wrote for one section, with its cost."""

    id: str
    text: str
    tokens: int = 0
    prompt_tokens: int = 0
    seconds: float = 0.0
    params: GenerationParams = field(default_factory=GenerationParams)
    cached: bool = False
    locked: bool = False
    warnings: tuple[str, ...] = ()
    #: figures in the text that the data does not support (:mod:`docgen.grounding`), as written; their
    #: messages are also in ``warnings``
    ungrounded: tuple[str, ...] = ()
    #: problems the claim check found, each anchored on its sentence (shown in Word, the GUI and the report)
    marks: tuple[Mark, ...] = ()
    #: the numbered sources the section was written from (:mod:`docgen.refs`); ``[n]`` in ``text`` cites one
    sources: tuple[Source, ...] = ()
    #: what retrieval used and left out, in words ("2 of 5 matching passages; Warranty terms.docx whole"), or ""
    sources_note: str = ""
    #: marks whose sentences ``on_unsupported = "drop"`` removed (offsets refer to the text before removal)
    dropped: tuple[Mark, ...] = ()


@dataclass(frozen=True)
class DocumentResult:
    """One document of a run: where it went (None if it failed) and how it was made."""

    index: int
    path: Path | None
    row: int | None = None
    sections: tuple[SectionResult, ...] = ()
    seconds: float = 0.0
    error: str | None = None
    #: what rendering noticed but did not stop for (a picture the data names that could not be shown)
    warnings: tuple[str, ...] = ()
    #: already written by an earlier run with the same inputs (batch resume), so not made again
    skipped: bool = False

    @property
    def ok(self) -> bool:
        """True when the document was written (in this run or, when ``skipped``, an earlier one)."""
        return self.error is None and self.path is not None


@dataclass(frozen=True)
class BatchReport:
    """Result of a batch run; serialized as ``docgen-report.json`` in the output folder."""

    template_id: str
    data_path: Path
    out_dir: Path
    documents: tuple[DocumentResult, ...]
    seconds: float
    model: str
    cancelled: bool = False
    replaced: tuple[str, ...] = ()  # names of documents that existed before this run and were overwritten
    notes: tuple[str, ...] = ()  # what the user should know about the run (data encoding guessed, names changed)
    report_error: str = ""  # why docgen-report.json could not be written ("" when it was)
    shard: Any = None  # docgen.journal.Shard when this run was one shard of a batch (--shard K/N)
    total: int = 0  # documents in the full work list (all shards); 0: len(documents)
    stale_removed: int = 0  # temp files of killed runs removed from the output folder
    data_sha256: str = ""  # the data file's sha256 (shard reports are merged only when it matches)

    @property
    def failed(self) -> tuple[DocumentResult, ...]:
        """Documents that were not written."""
        return tuple(d for d in self.documents if not d.ok)


EventKind = Literal[
    "run_started",
    "document_started",
    "section_started",
    "token",
    "section_done",
    "document_done",
    "document_failed",
    "run_done",
    "model_loading",
]


@dataclass(frozen=True)
class ProgressEvent:
    """Progress flowing *up* as plain callbacks; the GUI worker re-emits these as Qt signals.

    ``document``/``documents`` count documents (0-based index, total); ``section``/``sections`` likewise for
    sections of the current document. ``text`` is the streamed delta for ``token`` events, the full text for
    ``section_done``, and a message for ``document_failed``.
    """

    kind: EventKind
    document: int = 0
    documents: int = 1
    section_id: str | None = None
    section: int = 0
    sections: int = 0
    text: str = ""
    tokens: int = 0
    tokens_per_second: float = 0.0
    path: Path | None = None


@dataclass(frozen=True)
class RunOptions:
    """Per-run choices that are not part of the template: sampling defaults and where the model came from.

    ``seed``/``temperature`` apply to sections that do not set their own (choice sections default to 0, greedy).
    ``strict_grounding`` (``--strict-grounding``): a document with any mark of the claim check
    (:mod:`docgen.claims`) fails instead of being written. ``strict_images`` (``--strict-images``): a
    picture the data names that is missing or unreadable fails the document instead of showing a placeholder.
    """

    seed: int = 42
    temperature: float = 0.3
    model_sha256: str = ""
    strict_grounding: bool = False
    strict_images: bool = False
    #: reference files or folders added for this run (``--refs``, the GUI's References pane), besides the
    #: template's own, the site's and the user's (:func:`docgen.refs.reference_files`)
    references: tuple[Path, ...] = ()
    #: what to do with sentences the claim check marks: "mark" | "drop" | "fail"; "" = the template's choice
    #: (``[checks] on_unsupported``), else "mark" (:mod:`docgen.sections.checks`)
    on_unsupported: str = ""
    #: candidates drawn per markdown/text section (the fewest marks wins); 0 = the template's
    #: ``[checks] candidates``, else 3 (:mod:`docgen.sections.document`)
    candidates: int = 0


@dataclass
class DocumentJob:
    """What one document is made of. ``row_index`` is the 0-based record in rows mode (None in table mode).

    ``fixed_sections`` maps section id -> text to use instead of generating (the GUI's edited or locked
    sections); ``only_sections``, when given, limits generation to those ids (regenerating one section);
    ``seeds`` maps section id -> seed for that section (the GUI's "new seed").
    """

    template: TemplateSpec
    dataset: Dataset
    values: Mapping[str, Any] = field(default_factory=dict)
    row_index: int | None = None
    fixed_sections: Mapping[str, str] = field(default_factory=dict)
    only_sections: Sequence[str] | None = None
    seeds: Mapping[str, int] = field(default_factory=dict)

    @property
    def record(self) -> str:
        """How error messages name this document's data: ``row 7 of sales.csv`` or ``sales.csv``."""
        if self.row_index is None:
            return self.dataset.path.name
        return f"row {self.dataset.row_numbers[self.row_index]} of {self.dataset.path.name}"

    @property
    def row_number(self) -> int | None:
        """The file's row number of this document's record (rows mode), else None."""
        return None if self.row_index is None else self.dataset.row_numbers[self.row_index]

    def wants(self, section_id: str) -> bool:
        """True when section ``section_id`` is to be generated in this run (not fixed, and selected)."""
        return section_id not in self.fixed_sections and (self.only_sections is None
                                                          or section_id in self.only_sections)
