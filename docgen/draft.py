"""A document under review, Qt-free: what the desktop app edits, autosave stores and export renders.

A :class:`Draft` is one document being made from one template: the template (id and package folder), the data
file (and worksheet), the record (rows mode), the field values as typed, and one :class:`SectionDraft` per
section the model writes (per-row sections, which give one label per data row, are results, not drafts, and are
not kept here). Each section has its Markdown text, a state (:data:`STATES`), a lock, the seed it was written
with, the warnings and the claim-check marks (:class:`docgen.model.Mark`) of that text, and which marks the
reviewer chose to keep. Every change bumps :attr:`Draft.revision`; :meth:`Draft.mark_exported` records the
revision that was written, so "work not exported" is a comparison, not a guess.

Rules (the issue's "never lose work, never export a problem unasked"):

- a user edit locks the section (Generate keeps it) and re-anchors its marks on the new text: a mark whose
  sentence is gone is dropped, the others follow their sentence;
- a run that stops (cancel, error) while a section is being written puts back the text the section had before;
  a section that had none keeps what was streamed, in state ``cancelled`` or ``failed``, so it is not lost but
  the export gate (:meth:`Draft.problems`) names it;
- :meth:`Draft.remove_mark` deletes the marked sentence from the Markdown (text surgery, :func:`remove_span`),
  recorded in the history so :meth:`Draft.undo` puts it back; :meth:`Draft.keep_mark` accepts it;
- :meth:`Draft.problems` lists what the export gate asks about: sections empty, cancelled, failed, or with marks
  the reviewer has neither removed nor kept.

:class:`DraftBook` keeps one draft per template while the app runs (switching template and back keeps the
edits) and is what autosave writes (:meth:`DraftBook.to_dict`, JSON-ready) and restores.

Until the claim check (``docgen.claims``) fills :attr:`SectionResult.marks`, :func:`marks_from_figures` anchors
today's grounding result (``SectionResult.ungrounded``: figures the data does not support) on their sentences,
so the reviewer sees the same inline marks either way.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from docgen.errors import DocgenError
from docgen.model import Mark, SectionResult, TemplateSpec

#: Section states: ``empty`` (never written), ``writing`` (a run is writing it now), ``written`` (by the model),
#: ``edited`` (by the user: locked), ``cancelled`` / ``failed`` (a run stopped while writing it and it had no
#: earlier text: what was streamed is kept, unfinished).
STATES = ("empty", "writing", "written", "edited", "cancelled", "failed")
#: States the export gate asks about (with a section that has no text and open marks).
UNFINISHED = {"writing": "is still being written", "cancelled": "was cancelled before it was finished",
              "failed": "stopped with an error before it was finished"}
VERSION = 2
#: Edits of one section less than this many seconds apart are one history entry (one Undo undoes the burst).
TYPING_SECONDS = 2.0

MarkKey = tuple[str, str, str]


class DraftError(DocgenError):
    """A draft operation cannot be done as asked (unknown section, a mark whose sentence is gone)."""


def mark_key(mark: Mark) -> MarkKey:
    """What identifies a mark across re-checks of the same text: (kind, claim, sentence). Offsets are not part
    of it, so a kept mark stays kept after the text around it changes."""
    return (mark.kind, mark.claim, mark.sentence)


@dataclass(frozen=True)
class Problem:
    """One reason the export gate asks: ``kind`` is ``empty``, ``cancelled``, ``failed``, ``writing`` or
    ``marked``; ``detail`` is the sentence shown to the user ("was cancelled before it was finished", or the
    marks' messages)."""

    section_id: str
    title: str
    kind: str
    detail: str

    def describe(self) -> str:
        """``"Executive summary: was cancelled before it was finished"``."""
        return f"{self.title}: {self.detail}"


@dataclass(frozen=True)
class Change:
    """One entry of a draft's history: ``action`` (``edit``, ``remove``, ``generate``, ``undo``) on a section,
    with the text before and after, and the marks before (so undoing a removal brings its mark back)."""

    section_id: str
    action: str
    before: str
    after: str
    marks_before: tuple[Mark, ...] = ()
    at: float = field(default_factory=time.time)


@dataclass
class SectionDraft:
    """One model-written section of a draft. ``text`` is Markdown (or plain text for ``format = "text"``);
    ``seed`` is the seed it was last generated with (None before); ``kept`` holds :func:`mark_key` of marks the
    reviewer accepted."""

    id: str
    title: str
    format: str = "markdown"
    text: str = ""
    state: str = "empty"
    locked: bool = False
    edited: bool = False
    seed: int | None = None
    tokens: int = 0
    seconds: float = 0.0
    #: the text came from the section cache (:mod:`docgen.cache`): same prompt, model and seed as before
    cached: bool = False
    warnings: tuple[str, ...] = ()
    marks: tuple[Mark, ...] = ()
    kept: frozenset[MarkKey] = frozenset()
    before_run: tuple[str, str, bool] | None = None  # (text, state, edited) when a run began writing it

    @property
    def open_marks(self) -> tuple[Mark, ...]:
        """Marks neither removed nor kept, in text order."""
        return tuple(m for m in self.marks if mark_key(m) not in self.kept)

    def problem(self) -> Problem | None:
        """Why the export gate asks about this section, or None."""
        if self.state in UNFINISHED:
            return Problem(self.id, self.title, self.state, UNFINISHED[self.state])
        if not self.text.strip():
            return Problem(self.id, self.title, "empty", "has no text")
        marks = self.open_marks
        if marks:
            n = len({(m.start, m.end, m.sentence) for m in marks})
            listed = "; ".join(m.message for m in marks[:3]) + ("; …" if len(marks) > 3 else "")
            return Problem(self.id, self.title, "marked", f"{n} marked sentence{'s' if n > 1 else ''} ({listed})")
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (marks as dicts, kept as lists)."""
        return {"id": self.id, "title": self.title, "format": self.format, "text": self.text, "state": self.state,
                "locked": self.locked, "edited": self.edited, "seed": self.seed, "tokens": self.tokens,
                "seconds": self.seconds, "cached": self.cached, "warnings": list(self.warnings),
                "marks": [dataclasses.asdict(m) for m in self.marks], "kept": [list(k) for k in sorted(self.kept)]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, title: str = "", fmt: str = "markdown") -> SectionDraft:
        """Inverse of :meth:`to_dict`; tolerant of missing keys (older autosaves). A section saved while it was
        being written comes back ``cancelled`` (the run is gone)."""
        text = str(data.get("text") or "")
        state = str(data.get("state") or ("written" if text else "empty"))
        if state not in STATES:
            state = "written" if text else "empty"
        if state == "writing":
            state = "cancelled"
        marks = []
        for m in data.get("marks") or ():
            try:
                marks.append(Mark(**{k: m[k] for k in ("kind", "sentence", "start", "end", "claim", "message")},
                                  evidence=m.get("evidence", "")))
            except (KeyError, TypeError):
                continue
        seed = data.get("seed")
        return cls(id=str(data.get("id") or ""), title=str(data.get("title") or title), format=str(
            data.get("format") or fmt), text=text, state=state, locked=bool(data.get("locked")),
            edited=bool(data.get("edited")), seed=seed if isinstance(seed, int) else None,
            tokens=int(data.get("tokens") or 0), seconds=float(data.get("seconds") or 0.0),
            cached=bool(data.get("cached")), warnings=tuple(str(w) for w in data.get("warnings") or ()), marks=reanchor(text, marks),
            kept=frozenset(tuple(k) for k in data.get("kept") or () if len(k) == 3))


@dataclass
class Draft:
    """A document under review (see the module docstring). ``row`` is the 0-based record (rows mode) or None;
    ``values`` maps field name -> the text typed in; ``sections`` maps section id -> :class:`SectionDraft` in
    the template's order."""

    template_id: str
    template_root: str = ""
    data_path: str | None = None
    sheet: str | None = None
    row: int | None = None
    values: dict[str, str] = field(default_factory=dict)
    sections: dict[str, SectionDraft] = field(default_factory=dict)
    revision: int = 0
    exported_revision: int | None = None
    exported_path: str | None = None
    history: list[Change] = field(default_factory=list)

    # -- making -----------------------------------------------------------------------------------------------
    @classmethod
    def new(cls, template: TemplateSpec) -> Draft:
        """An empty draft for ``template``: one section per section that is not per-row."""
        sections = {s.id: SectionDraft(s.id, s.title, s.format) for s in template.sections if not s.per_row}
        return cls(template.id, str(template.root), sections=sections)

    def section(self, section_id: str) -> SectionDraft:
        """The section ``section_id``; DraftError naming the known ids when there is none."""
        try:
            return self.sections[section_id]
        except KeyError:
            raise DraftError(f"Template '{self.template_id}' has no section '{section_id}' (its sections: "
                             f"{', '.join(self.sections) or 'none'}).") from None

    def _changed(self) -> None:
        self.revision += 1

    # -- what runs need -----------------------------------------------------------------------------------------
    def texts(self) -> dict[str, str]:
        """Section id -> text, every section (export fixes them all)."""
        return {sid: s.text for sid, s in self.sections.items()}

    def locked_texts(self) -> dict[str, str]:
        """Section id -> text of locked sections, which Generate keeps (``DocumentJob.fixed_sections``)."""
        return {sid: s.text for sid, s in self.sections.items() if s.locked}

    def has_text(self) -> bool:
        """True when some section has text (worth autosaving and offering back)."""
        return any(s.text.strip() for s in self.sections.values())

    @property
    def unexported(self) -> bool:
        """True when some section has text and this revision was not exported."""
        return self.has_text() and self.exported_revision != self.revision

    def mark_exported(self, path: str) -> None:
        """The current revision was written to ``path``."""
        self.exported_revision = self.revision
        self.exported_path = path

    # -- runs -------------------------------------------------------------------------------------------------
    def begin(self, section_id: str) -> None:
        """A run starts writing ``section_id``: remember its text so a stopped run can put it back."""
        s = self.section(section_id)
        if s.before_run is None:
            s.before_run = (s.text, s.state, s.edited)
        s.state = "writing"

    def finish(self, result: SectionResult) -> None:
        """The model wrote ``result`` for its section: text, seed, cost, warnings and marks (the claim check's,
        else :func:`marks_from_figures` of the grounding check's figures). An edit lock is kept."""
        s = self.section(result.id)
        before = s.text
        s.text, s.state, s.edited, s.before_run = result.text, "written", False, None
        s.seed, s.tokens, s.seconds, s.cached = result.params.seed, result.tokens, result.seconds, result.cached
        self.apply_check(result)
        self.history.append(Change(s.id, "generate", before, s.text))
        self._changed()

    def apply_check(self, result: SectionResult) -> None:
        """New warnings and marks for a section's current text (a check run over the reviewed text, e.g. before
        export). Kept marks stay kept. Ignored when the result is for other text (the section changed since)."""
        s = self.section(result.id)
        if result.text != s.text:
            return
        s.warnings = tuple(result.warnings)
        marks = result.marks or marks_from_figures(s.text, result.ungrounded)
        s.marks = reanchor(s.text, marks)

    def stopped(self, section_id: str, streamed: str, reason: str) -> None:
        """A run ended (``reason``: ``cancelled`` or ``failed``) while ``section_id`` was being written, with
        ``streamed`` text so far. Puts the earlier text back; without one, keeps ``streamed`` unfinished."""
        s = self.section(section_id)
        if s.state != "writing":
            return
        text, state, edited = s.before_run or ("", "empty", False)
        s.before_run = None
        if text.strip():
            s.text, s.state, s.edited = text, state, edited
        else:
            s.text, s.state, s.edited, s.marks, s.warnings = streamed, (reason if streamed.strip() else "empty"), \
                False, (), ()
        self._changed()

    def end_run(self) -> None:
        """A run is over: any section still ``writing`` (the run never reached it) gets its earlier state."""
        for s in self.sections.values():
            if s.state == "writing":
                self.stopped(s.id, "", "cancelled")

    # -- user actions -------------------------------------------------------------------------------------------
    def edit(self, section_id: str, text: str) -> None:
        """The user changed the text: it is locked (Generate keeps it) and its marks follow their sentences."""
        s = self.section(section_id)
        if text == s.text:
            return
        last = self.history[-1] if self.history else None
        if last is not None and last.section_id == s.id and last.action == "edit" and last.after == s.text \
                and time.time() - last.at < TYPING_SECONDS:  # one history entry per burst of typing
            self.history[-1] = dataclasses.replace(last, after=text, at=time.time())
        else:
            self.history.append(Change(s.id, "edit", s.text, text, s.marks))
        s.text, s.edited, s.locked = text, True, True
        if s.state not in UNFINISHED or not text.strip():
            s.state = "edited" if text.strip() else "empty"
        s.marks = reanchor(text, s.marks)
        self._changed()

    def set_locked(self, section_id: str, locked: bool) -> None:
        """Lock (Generate keeps the text) or unlock a section."""
        s = self.section(section_id)
        if s.locked != locked:
            s.locked = locked
            self._changed()

    def set_values(self, values: Mapping[str, str]) -> None:
        """The field values as typed (name -> text)."""
        values = {str(k): str(v) for k, v in values.items()}
        if values != self.values:
            self.values = values
            self._changed()

    def set_data(self, path: str | None, sheet: str | None = None, row: int | None = None) -> None:
        """The data file (and worksheet) and the record this draft is for."""
        if (path, sheet, row) != (self.data_path, self.sheet, self.row):
            self.data_path, self.sheet, self.row = path, sheet, row
            self._changed()

    def remove_mark(self, section_id: str, mark: Mark) -> str:
        """Delete ``mark``'s sentence from the section's Markdown (:func:`remove_span`), lock the section and
        return the new text. Raises DraftError when the sentence is no longer in the text."""
        s = self.section(section_id)
        anchored = anchor(s.text, mark)
        if anchored is None:
            raise DraftError(f"The sentence \"{mark.sentence[:80]}\" is no longer in section '{s.title}'; it was "
                             "changed after the check. Generate or export again to check the new text.")
        new = remove_span(s.text, anchored.start, anchored.end)
        self.history.append(Change(s.id, "remove", s.text, new, s.marks))
        rest = [m for m in s.marks if mark_key(m) != mark_key(mark)]
        s.text, s.edited, s.locked = new, True, True
        s.state = "edited" if new.strip() else "empty"
        s.marks = reanchor(new, rest)
        self._changed()
        return new

    def keep_mark(self, section_id: str, mark: Mark) -> None:
        """The reviewer keeps ``mark``'s sentence as it is: the gate no longer asks about it."""
        s = self.section(section_id)
        s.kept = s.kept | {mark_key(mark)}
        self._changed()

    def undo(self, section_id: str) -> bool:
        """Put back the text (and marks) before the last edit or removal of ``section_id``; False if none."""
        s = self.section(section_id)
        for i in range(len(self.history) - 1, -1, -1):
            change = self.history[i]
            if change.section_id == section_id and change.action in ("edit", "remove"):
                if change.after != s.text:
                    return False  # the text moved on since; undoing would lose the later change
                del self.history[i]
                s.text, s.marks = change.before, reanchor(change.before, change.marks_before)
                s.state = "edited" if s.text.strip() else "empty"
                self._changed()
                return True
        return False

    # -- the export gate ----------------------------------------------------------------------------------------
    def problems(self) -> list[Problem]:
        """What the export gate asks about, in section order (empty list: nothing to ask)."""
        return [p for s in self.sections.values() if (p := s.problem()) is not None]

    # -- storage -------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (history is not stored: it is for this session's undo)."""
        return {"template_id": self.template_id, "template_root": self.template_root, "data_path": self.data_path,
                "sheet": self.sheet, "row": self.row, "values": dict(self.values),
                "sections": {sid: s.to_dict() for sid, s in self.sections.items()}, "revision": self.revision,
                "exported_revision": self.exported_revision, "exported_path": self.exported_path}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], template: TemplateSpec | None = None) -> Draft:
        """Inverse of :meth:`to_dict`. With ``template``, sections follow the template (new ones empty, ones it
        no longer has dropped) and titles come from it."""
        saved = data.get("sections") or {}
        if template is not None:
            draft = cls.new(template)
            for sid, s in draft.sections.items():
                if isinstance(saved.get(sid), Mapping):
                    draft.sections[sid] = SectionDraft.from_dict({**saved[sid], "id": sid, "title": s.title,
                                                                  "format": s.format})
        else:
            draft = cls(str(data.get("template_id") or ""))
            draft.sections = {sid: SectionDraft.from_dict({**s, "id": sid}) for sid, s in saved.items()
                              if isinstance(s, Mapping)}
        draft.template_id = str(data.get("template_id") or draft.template_id)
        draft.template_root = str(data.get("template_root") or draft.template_root)
        draft.data_path = data.get("data_path") or None
        draft.sheet = data.get("sheet") or None
        row = data.get("row")
        draft.row = row if isinstance(row, int) and row >= 0 else None
        draft.values = {str(k): "" if v is None else str(v) for k, v in (data.get("values") or {}).items()}
        revision = data.get("revision")
        draft.revision = revision if isinstance(revision, int) else 0
        exported = data.get("exported_revision")
        draft.exported_revision = exported if isinstance(exported, int) else None
        draft.exported_path = data.get("exported_path") or None
        return draft


class DraftBook:
    """One :class:`Draft` per template (by id and package folder) for the app's session, and the current one."""

    def __init__(self) -> None:
        self.drafts: dict[str, Draft] = {}
        self.current_key: str | None = None

    @staticmethod
    def key(template_id: str, root: str) -> str:
        """The book's key of a template: ``"<id>@<package folder>"``."""
        return f"{template_id}@{root}"

    def open(self, template: TemplateSpec) -> Draft:
        """The draft of ``template`` (a new empty one the first time), made current."""
        key = self.key(template.id, str(template.root))
        if key not in self.drafts:
            self.drafts[key] = Draft.new(template)
        self.current_key = key
        return self.drafts[key]

    @property
    def current(self) -> Draft | None:
        """The current draft, or None before a template is chosen."""
        return self.drafts.get(self.current_key) if self.current_key else None

    def unexported(self) -> list[Draft]:
        """Drafts with text that was never exported as it is now."""
        return [d for d in self.drafts.values() if d.unexported]

    def to_dict(self) -> dict[str, Any]:
        """What autosave writes: ``{"version", "current", "drafts": [...]}`` (drafts with text only, plus the
        current one)."""
        keep = [d for k, d in self.drafts.items() if d.has_text() or k == self.current_key]
        current = self.current
        return {"version": VERSION, "current": current.template_id if current else None,
                "current_root": current.template_root if current else None,
                "drafts": [d.to_dict() for d in keep]}

    @staticmethod
    def saved_drafts(state: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        """The drafts stored in an autosave ``state`` (this version's, or version 1's single document)."""
        if not state:
            return []
        if state.get("version") == 1:  # one window's work: template, data, fields, sections
            return [dict(state)]
        return [d for d in state.get("drafts") or () if isinstance(d, Mapping)]


# -- marks and text surgery ---------------------------------------------------------------------------------------
_LINE_PREFIX = re.compile(r"[ \t]*(?:(?:[-*+]|\d{1,9}[.)]|#{1,6}|>)(?:[ \t]+|$))*", re.M)
_EMPHASIS = ("**", "__", "~~", "*", "_")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*(?=\s)|\n")


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence of ``text`` around ``text[start:end]``: from after the previous sentence end (``.``, ``!``,
    ``?`` followed by a space, or a line break) to its own end; list markers and heading hashes at a line start
    are not part of it. Character offsets, ``text[a:b]`` is the sentence."""
    a = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        a = m.end()
    line_start = text.rfind("\n", 0, start) + 1
    if a <= line_start:
        a = line_start + len(_LINE_PREFIX.match(text, line_start).group(0))
    while a < start and text[a].isspace():
        a += 1
    m = _SENTENCE_END.search(text, end)
    b = m.end() if m and text[m.start():m.end()] != "\n" else (m.start() if m else len(text))
    return a, max(b, end)


def marks_from_figures(text: str, figures: Iterable[str], kind: str = "unsupported") -> tuple[Mark, ...]:
    """Marks for figures the data does not support (``SectionResult.ungrounded``), each anchored on the sentence
    that has it (:func:`sentence_bounds`). A figure not found in ``text`` gives no mark."""
    marks: list[Mark] = []
    seen: set[MarkKey] = set()
    pos: dict[str, int] = {}
    for figure in figures:
        i = text.find(figure, pos.get(figure, 0))
        if i < 0:
            i = text.find(figure)
        if i < 0:
            continue
        pos[figure] = i + len(figure)
        a, b = sentence_bounds(text, i, i + len(figure))
        mark = Mark(kind, text[a:b], a, b, figure, f"'{figure}' is not in the data")
        if mark_key(mark) not in seen:
            seen.add(mark_key(mark))
            marks.append(mark)
    return tuple(marks)


def anchor(text: str, mark: Mark) -> Mark | None:
    """``mark`` with offsets that point at its sentence in ``text`` (the same mark if they still do; else the
    occurrence nearest the old offset), or None when the sentence is not in ``text``."""
    if mark.sentence and text[mark.start:mark.end] == mark.sentence:
        return mark
    if not mark.sentence:
        return None
    hits = [m.start() for m in re.finditer(re.escape(mark.sentence), text)]
    if not hits:
        return None
    start = min(hits, key=lambda h: abs(h - mark.start))
    return dataclasses.replace(mark, start=start, end=start + len(mark.sentence))


def reanchor(text: str, marks: Sequence[Mark]) -> tuple[Mark, ...]:
    """Every mark of ``marks`` still found in ``text``, re-anchored (:func:`anchor`), in text order."""
    out = [m for m in (anchor(text, m) for m in marks) if m is not None]
    return tuple(sorted(out, key=lambda m: (m.start, m.end)))




def remove_span(text: str, start: int, end: int) -> str:
    """``text`` (Markdown) without ``text[start:end]`` (a sentence), tidied so the Markdown stays well formed:

    - the space before or after the sentence goes with it (one space stays between its neighbours);
    - a line left with nothing but a list marker, heading hashes or a quote marker is removed with its line
      break (a list item that was only that sentence disappears; the list keeps its other items);
    - runs of blank lines are cut to one, leading and trailing blank lines removed;
    - emphasis left empty (``****``, ``**  **``) by removing its only sentence is removed.

    Raises ValueError for offsets outside ``text``.
    """
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"span {start}:{end} is outside the text ({len(text)} characters)")
    before, after = text[:start], text[end:]
    for marker in _EMPHASIS:  # "**Sentence.**" removed whole: no empty "****" left behind
        if before.endswith(marker) and after.startswith(marker):
            before, after = before[:-len(marker)], after[len(marker):]
            break
    if before.endswith((" ", "\t")) and (not after or after[0] in " \t\n"):
        before = before.rstrip(" \t")
    elif after.startswith((" ", "\t")) and (not before or before.endswith("\n") or _LINE_PREFIX.fullmatch(
            before[before.rfind("\n") + 1:])):
        after = after.lstrip(" \t")
    joined = before + after
    lines = [line for line in joined.split("\n") if not (line.strip() and _LINE_PREFIX.fullmatch(line))]
    out = "\n".join(line.rstrip(" \t") if not line.endswith("  ") else line for line in lines)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip("\n")


__all__ = ["Draft", "DraftBook", "DraftError", "SectionDraft", "Problem", "Change", "STATES", "mark_key",
           "marks_from_figures", "sentence_bounds", "anchor", "reanchor", "remove_span"]
