"""Model output (Markdown or plain text) -> real Word paragraphs, in the main document's styles.

Parsing is done by markdown-it-py (CommonMark + GFM tables + strikethrough, raw HTML off so ``<tag>`` text
stays literal). The mapping (DESIGN.md section 4):

===========================  =================================================================================
Markdown                     Word
===========================  =================================================================================
paragraph                    paragraph (default style); soft line break = space, hard break = ``w:br``
``#`` .. ``######``          the template's "Heading 1".."Heading 6"; a bold paragraph if it lacks the style
``**b**`` ``*i*`` ``~~s~~``  bold / italic / strike runs; ``code`` = monospace run (Courier New)
``- item`` / ``1. item``     "List Bullet"/"List Number" ("... 2", "... 3" when nested) if the template has
                             them, with direct ``w:numPr`` from :mod:`.numbering` (nesting = ``w:ilvl``); every
                             numbered list restarts at 1 (or at the number the list starts with); an item
                             numbered lower than the one before ("1. 2." blank line "1. 2.", which
                             CommonMark reads as one list) starts a new list, as the writer meant
GFM table                    Word table in "Table Grid", else the first table style the template uses or
                             defines (:meth:`StyleMap.table_style`); header row bold; column alignment kept
code block / fence           monospace paragraph, lines kept as line breaks
block quote                  "Quote" style if present, else indented paragraph
``[text](https://...)``      a real hyperlink (:mod:`.hyperlinks`: ``w:hyperlink`` + external relationship,
                             "Hyperlink" character style if present); other addresses: text plus "(address)"
image                        the image's alt text
===========================  =================================================================================

Stray ``**`` that the parser leaves as text (unbalanced emphasis, common in small-model output) are removed.
Right-to-left and East-Asian properties are added after rendering to every part (:mod:`.scripts`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Twips
from markdown_it import MarkdownIt

from docgen.render.hyperlinks import linkable, wrap_hyperlink
from docgen.render.numbering import ListNumbering
from docgen.render.scripts import PPR_ORDER, reorder

MONOSPACE = "Courier New"
_STRAY_STARS = re.compile(r"\*\*+")


_parsers = threading.local()


def _parser() -> MarkdownIt:
    # one parser per thread (parse keeps its state in its own objects): a new MarkdownIt per section made two
    # reference cycles (the renderer's bound rules) per document for the cycle collector
    md = getattr(_parsers, "md", None)
    if md is None:
        md = _parsers.md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    return md


class StyleMap:
    """Which paragraph/table styles the main document has, looked up by name (python-docx maps "Heading 1" to
    the built-in ``heading 1`` so localized templates work too)."""

    def __init__(self, document):
        self._styles = document.styles
        self._body = document.element.body
        self._cache: dict[tuple[str, int], str | None] = {}

    def get(self, name: str, kind: int = WD_STYLE_TYPE.PARAGRAPH) -> str | None:
        """``name`` if the document has a style of that name and type, else None."""
        key = (name, kind)
        if key not in self._cache:
            try:
                style = self._styles[name]
                self._cache[key] = name if style.type == kind else None
            except KeyError:
                self._cache[key] = None
        return self._cache[key]

    def char_style_id(self, name: str) -> str | None:
        """The style id of character style ``name`` (for ``w:rStyle``), or None if the document lacks it."""
        if not self.get(name, WD_STYLE_TYPE.CHARACTER):
            return None
        return self._styles[name].style_id

    def table_style(self) -> str | None:
        """"Table Grid" if the document has it, else the first table style its body uses, else the first table
        style it defines (other than the default "Normal Table"); None when it has none."""
        if self.get("Table Grid", WD_STYLE_TYPE.TABLE):
            return "Table Grid"
        used = [e.get(qn("w:val")) for e in self._body.iter(qn("w:tblStyle"))]
        defined = [s for s in self._styles if s.type == WD_STYLE_TYPE.TABLE and not s.element.get(qn("w:default"))]
        by_id = {s.style_id: s.name for s in defined}
        for sid in used:
            if sid in by_id:
                return by_id[sid]
        return defined[0].name if defined else None

    def first(self, *names: str) -> str | None:
        """The first of ``names`` the document has."""
        for n in names:
            if self.get(n):
                return n
        return None


@dataclass
class _Fmt:
    bold: int = 0
    italic: int = 0
    strike: int = 0


@dataclass
class _ListCtx:
    kind: str  # "bullet" | "number"
    num_id: int
    first_para_pending: bool = False
    last: int | None = None  # the number written before the previous item (numbered lists)


def _set_num_pr(paragraph, num_id: int, ilvl: int) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    num_pr = ppr.get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = ilvl
    num_pr.get_or_add_numId().val = num_id
    reorder(ppr, PPR_ORDER)


class MarkdownWriter:
    """Writes Markdown or plain text as paragraphs/tables into ``container`` (a :class:`.fragment.Fragment`, or
    anything with ``add_paragraph()`` and ``add_table(rows, cols)`` whose part is the main document's part),
    using ``styles`` and ``numbering`` of the main document."""

    def __init__(self, container, styles: StyleMap, numbering: ListNumbering, citations=None):
        self.doc = container
        self.styles = styles
        self.numbering = numbering
        #: ``(text) -> [str | footnote id]`` and ``.reference_run(id)`` (:mod:`.citations`), or None
        self.citations = citations

    # -- paragraphs and runs -------------------------------------------------------------------------------
    def _paragraph(self, style: str | None = None):
        p = self.doc.add_paragraph()
        if style:
            p.style = style
        return p

    def _run(self, paragraph, text: str, fmt: _Fmt, *, code: bool = False, underline: bool = False):
        if not text:
            return None
        run = paragraph.add_run(text)
        if fmt.bold:
            run.bold = True
        if fmt.italic:
            run.italic = True
        if fmt.strike:
            run.font.strike = True
        if underline:
            run.underline = True
        if code:
            run.font.name = MONOSPACE
        return run

    def _inline(self, paragraph, children, base: _Fmt | None = None) -> None:
        fmt = _Fmt(**vars(base)) if base else _Fmt()
        links: list[tuple[str | None, int]] = []  # (href, index in the paragraph where the link text starts)
        link_text: list[str] = []
        for tok in children or ():
            t = tok.type
            if t == "text":
                text = _STRAY_STARS.sub("", tok.content)
                if links:
                    link_text.append(text)
                if self.citations is not None and not links and "[" in text:
                    self._cited(paragraph, text, fmt)
                else:
                    self._run(paragraph, text, fmt, underline=bool(links) and not linkable(links[-1][0]))
            elif t == "softbreak":
                self._run(paragraph, " ", fmt)
            elif t == "hardbreak":
                paragraph.add_run().add_break()
            elif t == "strong_open":
                fmt.bold += 1
            elif t == "strong_close":
                fmt.bold -= 1
            elif t == "em_open":
                fmt.italic += 1
            elif t == "em_close":
                fmt.italic -= 1
            elif t == "s_open":
                fmt.strike += 1
            elif t == "s_close":
                fmt.strike -= 1
            elif t == "code_inline":
                self._run(paragraph, tok.content, fmt, code=True)
            elif t == "link_open":
                links.append((tok.attrGet("href"), len(paragraph._p)))
                link_text = []
            elif t == "link_close":
                href, start = links.pop() if links else (None, 0)
                shown = "".join(link_text).strip()
                if linkable(href) and not links:
                    runs = [e for e in list(paragraph._p)[start:] if e.tag == qn("w:r")]
                    wrap_hyperlink(runs, href, self.styles.char_style_id("Hyperlink"))
                elif href and href not in (shown, f"mailto:{shown}"):
                    self._run(paragraph, f" ({href})", fmt)
            elif t == "image":
                alt = "".join(c.content for c in tok.children or () if c.type == "text") or tok.content
                self._run(paragraph, alt, fmt)
            else:  # html_inline cannot occur (html off); anything else: keep its text
                self._run(paragraph, tok.content, fmt)

    def _cited(self, paragraph, text: str, fmt: _Fmt) -> None:
        """Text with ``[n]`` citations: footnote reference runs where a marker names a source (:mod:`.citations`)."""
        for piece in self.citations(text):
            if isinstance(piece, int):
                paragraph._p.append(self.citations.reference_run(piece))
            else:
                self._run(paragraph, piece, fmt)

    # -- public -----------------------------------------------------------------------------------------------
    def write_text(self, text: str) -> None:
        """Plain text: blank lines separate paragraphs, single newlines become line breaks. No Markdown."""
        blocks = [b for b in re.split(r"\n\s*\n", text.strip("\n")) if b.strip()]
        for block in blocks or [""]:
            p = self._paragraph()
            for i, line in enumerate(block.split("\n")):
                if i:
                    p.add_run().add_break()
                if line:
                    p.add_run(line)

    def write_markdown(self, text: str) -> None:
        """Markdown as described in the module docstring. Empty text gives one empty paragraph."""
        tokens = _parser().parse(text)
        lists: list[_ListCtx] = []
        quote = 0
        i = 0
        wrote = False
        while i < len(tokens):
            tok = tokens[i]
            t = tok.type
            if t == "heading_open":
                level = int(tok.tag[1:])
                style = self.styles.get(f"Heading {level}")
                p = self._paragraph(style)
                self._inline(p, tokens[i + 1].children, _Fmt(bold=0 if style else 1))
                i += 3
                wrote = True
                continue
            if t == "paragraph_open":
                p = self._list_or_plain_paragraph(lists, quote)
                self._inline(p, tokens[i + 1].children)
                i += 3
                wrote = True
                continue
            if t in ("bullet_list_open", "ordered_list_open"):
                if t == "bullet_list_open":
                    lists.append(_ListCtx("bullet", self.numbering.bullet_num_id()))
                else:
                    start = int(tok.attrGet("start") or 1)
                    lists.append(_ListCtx("number", self.numbering.new_number_list(start), last=None))
            elif t in ("bullet_list_close", "ordered_list_close"):
                lists.pop()
            elif t == "list_item_open":
                ctx = lists[-1]
                ctx.first_para_pending = True
                written = _written_number(tok)
                if ctx.kind == "number" and written is not None:
                    if ctx.last is not None and written < ctx.last:  # "1. 2. (blank) 1. 2.": a new list
                        ctx.num_id = self.numbering.new_number_list(written)
                    ctx.last = written
            elif t == "list_item_close":
                if lists[-1].first_para_pending:  # empty item: still show the bullet/number
                    self._list_or_plain_paragraph(lists, quote)
                    wrote = True
            elif t == "blockquote_open":
                quote += 1
            elif t == "blockquote_close":
                quote -= 1
            elif t in ("fence", "code_block"):
                p = self._list_or_plain_paragraph(lists, quote)
                for j, line in enumerate(tok.content.rstrip("\n").split("\n")):
                    if j:
                        p.add_run().add_break()
                    self._run(p, line, _Fmt(), code=True)
                wrote = True
            elif t == "table_open":
                i = self._table(tokens, i)
                wrote = True
                continue
            i += 1
        if not wrote:
            self._paragraph()

    # -- helpers ----------------------------------------------------------------------------------------------
    def _list_or_plain_paragraph(self, lists: list[_ListCtx], quote: int):
        if lists:
            ctx = lists[-1]
            depth = len(lists)
            suffix = "" if depth == 1 else f" {min(depth, 5)}"
            if ctx.first_para_pending:
                ctx.first_para_pending = False
                base = "List Bullet" if ctx.kind == "bullet" else "List Number"
                style = self.styles.first(base + suffix, base, "List Paragraph")
                p = self._paragraph(style)
                _set_num_pr(p, ctx.num_id, depth - 1)
                return p
            style = self.styles.first("List Continue" + suffix, "List Continue")
            p = self._paragraph(style)
            if not style:
                p.paragraph_format.left_indent = Twips(720 * depth)
            return p
        if quote:
            style = self.styles.first("Quote")
            p = self._paragraph(style)
            if not style:
                p.paragraph_format.left_indent = Twips(720 * quote)
            return p
        return self._paragraph()

    def _table(self, tokens, i: int) -> int:
        rows: list[list[tuple[list, str | None, bool]]] = []
        header = False
        while tokens[i].type != "table_close":
            tok = tokens[i]
            if tok.type == "thead_open":
                header = True
            elif tok.type == "tbody_open":
                header = False
            elif tok.type == "tr_open":
                rows.append([])
            elif tok.type in ("th_open", "td_open"):
                style = tok.attrGet("style") or ""
                m = re.search(r"text-align:(\w+)", style)
                rows[-1].append((tokens[i + 1].children, m.group(1) if m else None, header))
            i += 1
        ncols = max((len(r) for r in rows), default=0)
        if not rows or not ncols:
            return i + 1
        table = self.doc.add_table(len(rows), ncols)
        style = self.styles.table_style()
        if style:
            table.style = style
        align = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
                 "right": WD_ALIGN_PARAGRAPH.RIGHT}
        for r, row in enumerate(rows):
            for c, (children, al, is_head) in enumerate(row):
                p = table.cell(r, c).paragraphs[0]
                if al in align:
                    p.alignment = align[al]
                self._inline(p, children, _Fmt(bold=1 if is_head else 0))
        return i + 1


def _written_number(tok) -> int | None:
    """The number written before an ordered list item ("3." -> 3); None for bullets."""
    info = (tok.info or "").strip()
    return int(info) if info.isdigit() else None


def markdown_to_plain(text: str) -> str:
    """Markdown -> plain text for inline use (``{{ sections.x }}`` inside a sentence): no markup characters;
    blocks separated by ``\\n`` (docxtpl shows it as a line break); list items prefixed with "\u2022 " or
    their number; table cells joined with " | "."""
    lines: list[str] = []
    counters: list[int | None] = []
    lasts: list[int | None] = []  # number written before the previous item of each open list
    prefix = ""
    row: list[str] | None = None
    for tok in _parser().parse(text):
        t = tok.type
        if t == "bullet_list_open":
            counters.append(None)
            lasts.append(None)
        elif t == "ordered_list_open":
            counters.append(int(tok.attrGet("start") or 1))
            lasts.append(None)
        elif t in ("bullet_list_close", "ordered_list_close"):
            counters.pop()
            lasts.pop()
        elif t == "list_item_open":
            written = _written_number(tok)
            if counters[-1] is not None and written is not None:
                if lasts[-1] is not None and written < lasts[-1]:
                    counters[-1] = written
                lasts[-1] = written
            n = counters[-1]
            prefix = "\u2022 " if n is None else f"{n}. "
            if n is not None:
                counters[-1] = n + 1
        elif t == "tr_open":
            row = []
        elif t == "tr_close":
            lines.append(" | ".join(row or []))
            row = None
        elif t == "inline":
            line = _inline_plain(tok.children).strip()
            if row is not None:
                row.append(line)
            else:
                lines.append(prefix + line)
                prefix = ""
        elif t in ("fence", "code_block"):
            lines.extend(tok.content.rstrip("\n").split("\n"))
    return "\n".join(x for x in lines if x.strip())


def _inline_plain(children) -> str:
    parts = []
    for c in children or ():
        if c.type == "text":
            parts.append(_STRAY_STARS.sub("", c.content))
        elif c.type == "code_inline":
            parts.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif c.type == "image":
            parts.append(_inline_plain(c.children))
    return "".join(parts)
