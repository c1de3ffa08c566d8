"""Readers: a reference file -> :class:`~docgen.refs.passages.Passage` s with heading paths and locations.

============  ==========================================================================================
extension     how it is read
============  ==========================================================================================
.docx         the body's paragraphs and tables (``word/document.xml`` with lxml; python-docx stays inside
              ``docgen.render``). Headings: paragraphs in "Title"/"Heading N" styles or with an outline
              level; table rows become "header: value; ..." blocks. Location: the paragraph number (every
              ``w:p`` of the body in order, table cells included, as in docgen's other messages) and, when
              Word recorded page breaks (``w:lastRenderedPageBreak``, page breaks), the page.
.pdf          the text layer, page by page, with pypdf. Headings: lines set larger than the body text
              (font size at least 1.15 x the most common size) and under 100 characters. A PDF without a
              text layer (a scan) gives no passages, and says so.
.md           markdown-it-py tokens: ATX/setext headings, paragraphs, list items, table rows, code.
.txt          blocks separated by blank lines; a short numbered line ("3. Refunds") or an all-capitals line
              on its own is a heading.
.html .htm    lxml.html: h1-h6 headings; p, li, table rows, pre, blockquote, dt/dd blocks; scripts,
              styles and navigation skipped.
.csv .tsv     :func:`docgen.sources.load_dataset` (the same readers as data files): one passage per row,
.xlsx .xlsm   "column: value; ..." with the row number a user sees.
============  ==========================================================================================

Every reader raises :class:`~docgen.errors.DataError` naming the file and what to do when the file cannot be
read; an unknown extension is refused by :func:`read_passages` before reading.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from docgen.errors import DataError
from docgen.refs.passages import Block, Passage, heading_path, passages_from_blocks, push_heading

#: Extensions docgen reads as references (lower case).
SUPPORTED = (".docx", ".pdf", ".md", ".markdown", ".txt", ".html", ".htm", ".csv", ".tsv", ".xlsx", ".xlsm")

#: Largest reference file read, in bytes (a policy set is kilobytes; this stops a mistaken 2 GB export from
#: filling the index). Also the bound on an inflated .docx part.
MAX_FILE_BYTES = 64 * 1024 * 1024

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": _W}
_HEADING_STYLE = re.compile(r"^(?:heading\s*(\d)|title)$", re.I)


def supported(path: Path) -> bool:
    """True when ``path``'s extension is one docgen reads as a reference."""
    return Path(path).suffix.lower() in SUPPORTED


def read_passages(path: Path) -> list[Passage]:
    """Read ``path`` into passages (module docstring for each format). Raises DataError for an unsupported
    extension, a missing, oversized or unreadable file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise DataError(path, f"docgen cannot read {suffix or 'files without an extension'} as a reference; "
                        f"use one of {', '.join(SUPPORTED)}.")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(path, f"cannot be read: {exc.strerror or exc}. Check that the file exists.") from exc
    if size > MAX_FILE_BYTES:
        raise DataError(path, f"is {size // (1024 * 1024)} MB; references are limited to "
                        f"{MAX_FILE_BYTES // (1024 * 1024)} MB. Split it or leave out what the documents do not need.")
    reader = {".docx": _docx_blocks, ".pdf": _pdf_blocks, ".md": _markdown_blocks, ".markdown": _markdown_blocks,
              ".txt": _text_blocks, ".html": _html_blocks, ".htm": _html_blocks}.get(suffix, _table_blocks)
    try:
        return passages_from_blocks(reader(path))
    except DataError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise DataError(path, f"could not be read as {suffix}: {exc}. Open and save it again in the program that "
                        "made it, or convert it to .docx, .pdf or .txt.") from exc


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise DataError(path, "is not text in any encoding docgen recognises. Save it as UTF-8.") from None
        return str(best)


# -- .docx ------------------------------------------------------------------------------------------------------
def _zip_member(path: Path, name: str) -> bytes | None:
    with zipfile.ZipFile(path) as zf:
        try:
            info = zf.getinfo(name)
        except KeyError:
            return None
        if info.file_size > MAX_FILE_BYTES:
            raise DataError(path, f"its part {name} inflates to {info.file_size // (1024 * 1024)} MB, over the "
                            f"{MAX_FILE_BYTES // (1024 * 1024)} MB limit for references.")
        return zf.read(info)


def _docx_heading_styles(path: Path) -> dict[str, int]:
    """Style id -> heading level (0 = Title) from styles.xml: by name, or by the style's outline level."""
    xml = _zip_member(path, "word/styles.xml")
    out: dict[str, int] = {}
    if not xml:
        return out
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    for style in root.iterfind("w:style", _NS):
        sid = style.get(f"{{{_W}}}styleId")
        name = style.find("w:name", _NS)
        m = _HEADING_STYLE.match(name.get(f"{{{_W}}}val", "") if name is not None else "")
        if m:
            out[sid] = int(m.group(1)) if m.group(1) else 0
            continue
        outline = style.find("w:pPr/w:outlineLvl", _NS)
        if outline is not None and outline.get(f"{{{_W}}}val", "9").isdigit() and int(outline.get(f"{{{_W}}}val")) < 9:
            out[sid] = int(outline.get(f"{{{_W}}}val")) + 1
    return out


def _para_text(p) -> str:
    parts = []
    for el in p.iter(f"{{{_W}}}t", f"{{{_W}}}tab", f"{{{_W}}}br"):
        parts.append(el.text or "" if el.tag == f"{{{_W}}}t" else " ")
    return "".join(parts)


def _docx_blocks(path: Path) -> Iterator[Block]:
    xml = _zip_member(path, "word/document.xml")
    if xml is None:
        raise DataError(path, "is not a Word document (it has no word/document.xml). Save it from Word as .docx.")
    styles = _docx_heading_styles(path)
    body = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True)).find("w:body", _NS)
    if body is None:
        return
    paged = body.find(".//w:lastRenderedPageBreak", _NS) is not None or any(
        br.get(f"{{{_W}}}type") == "page" for br in body.iter(f"{{{_W}}}br"))
    state = {"p": 0, "page": 1}
    stack: list[tuple[int, str]] = []

    def count(p) -> None:
        state["p"] += 1
        if p.find("w:pPr/w:pageBreakBefore", _NS) is not None and state["p"] > 1:
            state["page"] += 1
        for el in p.iter(f"{{{_W}}}lastRenderedPageBreak", f"{{{_W}}}br"):
            if el.tag.endswith("lastRenderedPageBreak") or el.get(f"{{{_W}}}type") == "page":
                state["page"] += 1

    for child in body:
        if child.tag == f"{{{_W}}}p":
            number, page = state["p"] + 1, state["page"]
            count(child)
            text = _para_text(child).strip()
            if not text:
                continue
            style = child.find("w:pPr/w:pStyle", _NS)
            level = styles.get(style.get(f"{{{_W}}}val")) if style is not None else None
            outline = child.find("w:pPr/w:outlineLvl", _NS)
            if level is None and outline is not None and (outline.get(f"{{{_W}}}val") or "9").isdigit():
                lvl = int(outline.get(f"{{{_W}}}val"))
                level = lvl + 1 if lvl < 9 else None
            if level is not None:
                push_heading(stack, level, text)
                continue
            yield Block(text, heading_path(stack), page if paged else None, number)
        elif child.tag == f"{{{_W}}}tbl":
            header: list[str] | None = None
            for tr in child.iterfind("w:tr", _NS):
                number, page = state["p"] + 1, state["page"]
                cells = []
                for tc in tr.iterfind("w:tc", _NS):
                    paras = tc.findall(".//w:p", _NS)
                    for p in paras:
                        count(p)
                    cells.append(" ".join(_para_text(p).strip() for p in paras).strip())
                if header is None:
                    header = cells
                    continue
                pairs = [f"{h}: {c}" if h else c for h, c in zip(header, cells) if c]
                if pairs:
                    yield Block("; ".join(pairs), heading_path(stack), page if paged else None, number)


# -- .pdf -------------------------------------------------------------------------------------------------------
def _pdf_blocks(path: Path) -> Iterator[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise DataError(path, "is an encrypted PDF; save an unprotected copy to use it as a reference.")
        pages: list[list[tuple[float, str]]] = []
        for page in reader.pages:
            lines: list[tuple[float, str]] = []

            def visit(text, cm, tm, _font, size, lines=lines):
                if text.strip():
                    scale = abs(tm[0] * cm[0]) or 1.0
                    lines.append((round((size or 0) * scale, 1), text))
            page.extract_text(visitor_text=visit)
            pages.append(lines)
    except PdfReadError as exc:
        raise DataError(path, f"is not a readable PDF ({exc}). Open it and save or print it to PDF again.") from exc
    sizes = Counter(size for lines in pages for size, text in lines for _ in range(len(text)))
    if not sizes:
        raise DataError(path, "has no text layer (it is probably a scan): docgen reads the text of a PDF, not its "
                        "images. Export it from the original document, or run it through OCR first.")
    body = sizes.most_common(1)[0][0]
    heading_sizes = sorted({s for s in sizes if s >= body * 1.15}, reverse=True)
    stack: list[tuple[int, str]] = []
    for number, lines in enumerate(pages, 1):
        text: list[str] = []
        for size, line in lines:
            line = line.strip("\n")
            if size in heading_sizes and len(line.strip()) < 100:
                if text:
                    yield Block(" ".join(text), heading_path(stack), number)
                    text = []
                push_heading(stack, heading_sizes.index(size) + 1, line)
            elif line.strip():
                text.append(line.strip())
        if text:
            yield Block(" ".join(text), heading_path(stack), number)


# -- .md ------------------------------------------------------------------------------------------------------
def _markdown_blocks(path: Path) -> Iterator[Block]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark", {"html": False}).enable(["table"]).parse(_read_text(path))
    stack: list[tuple[int, str]] = []
    row: list[str] | None = None
    header: list[str] | None = None
    row_line = 0
    for i, tok in enumerate(tokens):
        line = tok.map[0] + 1 if tok.map else None
        if tok.type == "heading_open":
            push_heading(stack, int(tok.tag[1:]), tokens[i + 1].content)
        elif tok.type == "inline" and tokens[i - 1].type == "paragraph_open":
            yield Block(_plain_inline(tok), heading_path(stack), line=tokens[i - 1].map[0] + 1)
        elif tok.type in ("fence", "code_block"):
            yield Block(tok.content, heading_path(stack), line=line)
        elif tok.type == "thead_open":
            header = []
        elif tok.type == "tr_open":
            row, row_line = [], line or 0
        elif tok.type == "inline" and row is not None:
            row.append(_plain_inline(tok))
        elif tok.type == "tr_close" and row is not None:
            if header == []:
                header = row
            else:
                pairs = [f"{h}: {c}" if h else c for h, c in zip(header or [""] * len(row), row) if c]
                yield Block("; ".join(pairs), heading_path(stack), line=row_line)
            row = None


def _plain_inline(tok) -> str:
    return "".join(c.content if c.type in ("text", "code_inline") else " " if c.type in ("softbreak", "hardbreak")
                   else "" for c in tok.children or ())


# -- .txt -------------------------------------------------------------------------------------------------------
_NUMBERED = re.compile(r"^\d+(\.\d+)*\.?\s+\S")


def _text_blocks(path: Path) -> Iterator[Block]:
    stack: list[tuple[int, str]] = []
    lines = _read_text(path).splitlines()
    start = None
    for number, line in enumerate([*lines, ""], 1):
        if line.strip() and start is None:
            start = number
        if not line.strip() and start is not None:
            block = [x.strip() for x in lines[start - 1:number - 1]]
            first = block[0]
            is_heading = len(block) == 1 and len(first) <= 80 and not first.endswith((".", ":", ";", ",")) and (
                _NUMBERED.match(first) or (first.isupper() and any(c.isalpha() for c in first)))
            if is_heading:
                level = first.split()[0].rstrip(".").count(".") + 1 if _NUMBERED.match(first) else 1
                push_heading(stack, level, first)
            else:
                yield Block(" ".join(block), heading_path(stack), line=start)
            start = None


# -- .html ------------------------------------------------------------------------------------------------------
_HTML_BLOCKS = {"p", "li", "pre", "blockquote", "dt", "dd", "caption", "figcaption"}
_HTML_SKIP = {"script", "style", "nav", "noscript", "template", "head"}


def _html_blocks(path: Path) -> Iterator[Block]:
    import lxml.html

    root = lxml.html.document_fromstring(_read_text(path))
    stack: list[tuple[int, str]] = []

    def walk(el) -> Iterator[Block]:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _HTML_SKIP:
            return
        if re.fullmatch(r"h[1-6]", tag):
            push_heading(stack, int(tag[1]), el.text_content())
            return
        if tag == "tr":
            cells = [" ".join(c.text_content().split()) for c in el if isinstance(c.tag, str) and c.tag in ("td", "th")]
            if cells and all(isinstance(c.tag, str) and c.tag == "th" for c in el if isinstance(c.tag, str)):
                walk.header = cells  # type: ignore[attr-defined]
                return
            header = getattr(walk, "header", None) or [""] * len(cells)
            pairs = [f"{h}: {c}" if h else c for h, c in zip(header, cells) if c]
            if pairs:
                yield Block("; ".join(pairs), heading_path(stack), line=el.sourceline)
            return
        if tag == "table":
            walk.header = None  # type: ignore[attr-defined]
        if tag in _HTML_BLOCKS and not any(isinstance(c.tag, str) and (c.tag in _HTML_BLOCKS or c.tag == "table")
                                           for c in el.iterdescendants()):
            yield Block(el.text_content(), heading_path(stack), line=el.sourceline)
            return
        if tag == "div" and el.text and el.text.strip():
            yield Block(el.text, heading_path(stack), line=el.sourceline)
        for child in el:
            yield from walk(child)
            if tag == "div" and child.tail and child.tail.strip():
                yield Block(child.tail, heading_path(stack), line=el.sourceline)

    body = root.find("body")
    yield from walk(body if body is not None else root)


# -- .csv/.xlsx -------------------------------------------------------------------------------------------------
def _table_blocks(path: Path) -> Iterator[Block]:
    from docgen.sources import load_dataset

    data = load_dataset(path)
    for row, number in zip(data.rows, data.row_numbers):
        pairs = [f"{k}: {v}" for k, v in row.items() if v not in (None, "")]
        if pairs:
            yield Block("; ".join(pairs), row=number)


__all__ = ["read_passages", "supported", "SUPPORTED", "MAX_FILE_BYTES"]
