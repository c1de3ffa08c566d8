"""Structural read-back of a written .docx: what a reader sees, for tests and the GUI preview.

:func:`read_back` returns a :class:`ReadBack`: a list of body blocks in order, each one of

- :class:`Heading` (level, text, style) - paragraphs in a "Heading N" style;
- :class:`ListItem` (kind "bullet"|"number", level 0-based, number shown or None, text, style, runs) -
  paragraphs with numbering (direct ``w:numPr`` or through their style);
- :class:`Paragraph` (style, text, runs) - every other paragraph;
- :class:`Table` (rows of cell texts as shown: "" for the continuation of a vertically merged cell; style);

plus ``.headers`` / ``.footers`` (text of each header/footer part, paragraphs joined by "\\n"),
``.custom_properties`` (docProps/custom.xml, where docgen writes its provenance: name -> text) and
``.properties`` (the custom properties, then the core properties as str - a core name wins over a custom
property of the same name). Content controls (``w:sdt``) are read through.

The number of a numbered item is computed like Word does for the common cases: counters per abstractNum and
level, a deeper level restarts after a shallower item, ``w:startOverride`` restarts when a ``w:num`` is first
used. Text contains "\\n" for line breaks and "\\t" for tabs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import docx
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph as _DocxParagraph
from docx.text.run import Run as _DocxRun

from docgen.render.parts import part_element, tag_parts
from docgen.render.properties import custom_properties

_MONO = ("courier", "consolas", "mono", "menlo", "lucida console")


@dataclass(frozen=True)
class Run:
    """A run of text with its direct formatting."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    style: str = ""


@dataclass(frozen=True)
class Paragraph:
    style: str
    text: str
    runs: tuple[Run, ...] = ()


@dataclass(frozen=True)
class ListItem:
    kind: str  # "bullet" | "number"
    level: int
    number: int | None
    text: str
    style: str = ""
    runs: tuple[Run, ...] = ()


@dataclass(frozen=True)
class Table:
    rows: tuple[tuple[str, ...], ...]
    style: str = ""


Block = Heading | Paragraph | ListItem | Table


class ReadBack(list):
    """``list[Block]`` of the body, with ``headers``, ``footers`` (list[str]), ``properties`` (custom + core)
    and ``custom_properties`` (dict)."""

    headers: list[str]
    footers: list[str]
    properties: dict[str, str]
    custom_properties: dict[str, str]

    @property
    def text(self) -> str:
        """All body text (tables cell by cell), one block per line."""
        out = []
        for b in self:
            if isinstance(b, Table):
                out.extend(" | ".join(r) for r in b.rows)
            else:
                out.append(b.text)
        return "\n".join(out)


@dataclass
class _Numbering:
    nums: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict)  # numId -> (abstractId, overrides)
    levels: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)  # (abs, ilvl) -> (fmt, start)
    counters: dict[str, dict[int, int | None]] = field(default_factory=dict)
    pending: dict[tuple[str, int], int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, document) -> _Numbering:
        n = cls()
        try:
            root = document.part.numbering_part.element
        except Exception:
            return n
        for a in root.findall(qn("w:abstractNum")):
            aid = a.get(qn("w:abstractNumId"))
            for lvl in a.findall(qn("w:lvl")):
                fmt_el, start_el = lvl.find(qn("w:numFmt")), lvl.find(qn("w:start"))
                fmt = fmt_el.get(qn("w:val")) if fmt_el is not None else "decimal"
                start = int(start_el.get(qn("w:val"))) if start_el is not None else 0
                n.levels[(aid, int(lvl.get(qn("w:ilvl"))))] = (fmt, start)
        for num in root.findall(qn("w:num")):
            aid_el = num.find(qn("w:abstractNumId"))
            overrides = {}
            for o in num.findall(qn("w:lvlOverride")):
                so = o.find(qn("w:startOverride"))
                if so is not None:
                    overrides[int(o.get(qn("w:ilvl")))] = int(so.get(qn("w:val")))
            if aid_el is not None:
                n.nums[num.get(qn("w:numId"))] = (aid_el.get(qn("w:val")), overrides)
        return n

    def item(self, num_id: str, ilvl: int) -> tuple[str, int | None]:
        """(kind, number shown) of the next paragraph numbered with (num_id, ilvl)."""
        if num_id not in self.nums:
            return "bullet", None
        aid, overrides = self.nums[num_id]
        if num_id not in self.seen:
            self.seen.add(num_id)
            for lvl, start in overrides.items():
                self.pending[(aid, lvl)] = start
                self.counters.setdefault(aid, {})[lvl] = None
        fmt, start = self.levels.get((aid, ilvl), ("decimal", 1))
        counters = self.counters.setdefault(aid, {})
        cur = counters.get(ilvl)
        value = self.pending.pop((aid, ilvl), start) if cur is None else cur + 1
        counters[ilvl] = value
        for deeper in list(counters):
            if deeper > ilvl:
                counters[deeper] = None
        if fmt in ("bullet", "none"):
            return "bullet", None
        return "number", value


def _num_pr(paragraph: _DocxParagraph) -> tuple[str, int] | None:
    ppr = paragraph._p.pPr
    num_pr = ppr.numPr if ppr is not None else None
    style = paragraph.style
    while num_pr is None and style is not None:
        sppr = style.element.pPr
        num_pr = sppr.numPr if sppr is not None else None
        style = style.base_style
    if num_pr is None or num_pr.numId is None:
        return None
    num_id = str(num_pr.numId.val)
    if num_id == "0":
        return None
    ilvl = num_pr.ilvl.val if num_pr.ilvl is not None else 0
    return num_id, int(ilvl)


def _runs(paragraph: _DocxParagraph) -> tuple[Run, ...]:
    out = []
    for r in paragraph._p.iter(qn("w:r")):
        run = _DocxRun(r, paragraph)
        if not run.text:
            continue
        font = (run.font.name or "").lower()
        out.append(Run(run.text, bool(run.bold), bool(run.italic), any(m in font for m in _MONO)))
    return tuple(out)


def _para_block(p_el, parent, numbering: _Numbering) -> Heading | Paragraph | ListItem:
    p = _DocxParagraph(p_el, parent)
    style = p.style.name if p.style is not None else ""
    text = p.text
    m = re.match(r"(?i)heading (\d)$", style or "")
    if m:
        return Heading(int(m.group(1)), text, style)
    num = _num_pr(p)
    if num:
        kind, number = numbering.item(*num)
        return ListItem(kind, num[1], number, text, style, _runs(p))
    return Paragraph(style, text, _runs(p))


def _table_block(tbl_el, parent) -> Table:
    rows = []
    for tr in tbl_el.findall(qn("w:tr")):
        cells = []
        for tc in tr.findall(qn("w:tc")):
            vmerge = tc.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
            if vmerge is not None and vmerge.get(qn("w:val"), "continue") == "continue":
                cells.append("")  # continuation of a vertically merged cell: Word shows the first one only
                continue
            paras = [_DocxParagraph(p, parent).text for p in tc.findall(qn("w:p"))]
            cells.append("\n".join(paras))
        rows.append(tuple(cells))
    style_el = tbl_el.find(f"{qn('w:tblPr')}/{qn('w:tblStyle')}")
    style = ""
    if style_el is not None:
        sid = style_el.get(qn("w:val"))
        try:
            style = parent.part.styles.get_by_id(sid, 3).name  # WD_STYLE_TYPE.TABLE
        except Exception:
            style = sid
    return Table(tuple(rows), style)


def _walk(container, parent, numbering, out: list) -> None:
    for child in container:
        if child.tag == qn("w:p"):
            out.append(_para_block(child, parent, numbering))
        elif child.tag == qn("w:tbl"):
            out.append(_table_block(child, parent))
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                _walk(content, parent, numbering, out)


def read_back(docx_path: Path) -> ReadBack:
    """Read the structure of the .docx at ``docx_path`` (see the module docstring). python-docx errors
    propagate (this is for documents docgen wrote)."""
    document = docx.Document(str(docx_path))
    out = ReadBack()
    _walk(document.element.body, document._body, _Numbering.of(document), out)
    out.headers, out.footers = [], []
    for ref in tag_parts(document):
        if ref.kind in ("header", "footer"):
            texts = []
            for p in part_element(ref.part).iter(qn("w:p")):
                texts.append("".join(t.text or "" for t in p.iter(qn("w:t"))))
            (out.headers if ref.kind == "header" else out.footers).append("\n".join(texts))
    cp = document.core_properties
    out.custom_properties = custom_properties(document)
    out.properties = dict(out.custom_properties)
    out.properties.update(
        (k, str(getattr(cp, k) or ""))
        for k in ("title", "subject", "comments", "keywords", "author", "last_modified_by", "category")
    )
    return out
