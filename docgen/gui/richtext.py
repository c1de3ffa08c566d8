"""The section editor: Markdown in, Markdown out, shown as Word will show it.

Qt's own Markdown support (``QTextDocument.setMarkdown``/``toMarkdown``, md4c inside) does not round-trip what
docgen's renderer (:mod:`docgen.render.markdown`) writes into Word. Measured with PySide6 6.12 (the cases are
in tests/gui/test_richtext.py):

- reading: a list that restarts ("1. 2." blank line "1. 2.") is merged into one list numbered 1-4; a hard line
  break becomes a new paragraph; raw HTML (``<b>``) is interpreted, where the renderer shows it as text;
- writing: table column alignment is lost; a numbered list nested in a bullet is indented into a code block;
  paragraphs are wrapped at 80 columns.

So the editor does its own two halves, each over a well-kept parser: **in**, the Markdown is parsed by
markdown-it-py (the renderer's parser, same options: CommonMark + tables + strikethrough, raw HTML off) and
rendered to HTML, which ``QTextDocument.setHtml`` reads faithfully (separate lists keep their start numbers,
``<br>`` is a line break, table cells keep their alignment, code and quotes keep their block properties);
**out**, :func:`document_to_markdown` walks the QTextDocument (blocks, lists, tables, character formats) and
writes Markdown that the renderer reads back as the same structure. Images show as their alt text, which is
what the renderer puts in the document.

And :class:`MarkdownEditor` returns the very text it was given until the user changes something, so text the
user never touched is never rewritten.
"""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token
from PySide6.QtGui import QFont, QTextBlock, QTextCharFormat, QTextCursor, QTextDocument, \
    QTextFormat, QTextList, QTextListFormat, QTextTable
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTextEdit

_INLINE = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough"])
LINE_BREAK = "\u2028"  # how QTextDocument holds <br> inside a block


def _html_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

    def image(_self, tokens, idx, _options, _env):  # the renderer writes an image's alt text
        return html.escape("".join(c.content for c in tokens[idx].children or ()))

    md.add_render_rule("image", image)
    return md


_HTML = _html_parser()


def markdown_to_html(text: str) -> str:
    """The HTML QTextDocument is given for ``text`` (Markdown, parsed as the renderer parses it). Like the
    renderer, an item numbered lower than the one before ("1. 2." blank line "1. 2.", one list for CommonMark)
    starts a new numbered list."""
    tokens = _HTML.parse(text)
    out = []
    lasts: list[int | None] = []  # per open list: the number written before the previous item (None: bullets)
    for tok in tokens:
        if tok.type == "ordered_list_open":
            lasts.append(0)
        elif tok.type == "bullet_list_open":
            lasts.append(None)
        elif tok.type in ("ordered_list_close", "bullet_list_close"):
            lasts.pop()
        elif tok.type == "list_item_open" and lasts and lasts[-1] is not None:
            info = (tok.info or "").strip()
            written = int(info) if info.isdigit() else None
            if written is not None:
                if lasts[-1] and written < lasts[-1]:
                    out.append(Token("ordered_list_close", "ol", -1))
                    out.append(Token("ordered_list_open", "ol", 1, attrs={"start": str(written)}))
                lasts[-1] = written
        out.append(tok)
    # no newline after a tag: QTextDocument would keep it as a trailing space in the paragraph (text content has
    # its ">" escaped, so this touches tags only, and code lines keep their own line breaks)
    return re.sub(r">\n", ">", _HTML.renderer.render(out, _HTML.options, {}))


def plain_sentence(markdown: str) -> str:
    """The text a sentence written in Markdown shows (``**Tables** lost $17,725.`` -> ``Tables lost
    $17,725.``): emphasis, code and link markup removed, link text kept."""
    parts: list[str] = []
    for tok in _INLINE.parseInline(markdown):
        for child in tok.children or ():
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
            elif child.type == "image":
                parts.append("".join(c.content for c in child.children or ()))
    return "".join(parts)


# -- QTextDocument -> Markdown ------------------------------------------------------------------------------------
_ESCAPE = re.compile(r"([\\`*\[\]<>~|])")
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d{1,9}(?=[.)]))")
_BULLETS = "-*"
_DELIMS = ".)"


def _escape(text: str, *, in_table: bool = False) -> str:
    text = _ESCAPE.sub(r"\\\1", text)
    if not in_table:
        text = text.replace(r"\|", "|")
    # underscores only where they could start or end emphasis (not inside words: snake_case stays as is)
    return re.sub(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])", r"\\_", text)


def _fmt_key(fmt: QTextCharFormat) -> tuple:
    fixed = fmt.fontFixedPitch() or any(f.lower() in ("monospace", "courier new", "courier")
                                        for f in (fmt.fontFamilies() or []))
    return (fmt.fontWeight() >= QFont.Weight.DemiBold.value, fmt.fontItalic(), fmt.fontStrikeOut(), fixed,
            fmt.anchorHref() if fmt.isAnchor() else "")


def _inline(block: QTextBlock, *, in_table: bool = False, plain_bold: bool = False) -> str:
    runs: list[list] = []  # [key, text]
    it = block.begin()
    while not it.atEnd():
        fragment = it.fragment()
        if fragment.isValid() and fragment.text():
            key = _fmt_key(fragment.charFormat())
            if plain_bold:
                key = (False, *key[1:])
            if runs and runs[-1][0] == key:
                runs[-1][1] += fragment.text()
            else:
                runs.append([key, fragment.text()])
        it += 1
    out: list[str] = []
    for (bold, italic, strike, code, href), text in runs:
        pieces = text.split(LINE_BREAK)
        written = []
        for piece in pieces:
            core = piece.strip(" ")
            lead, trail = piece[:len(piece) - len(piece.lstrip(" "))], piece[len(piece.rstrip(" ")):]
            if not core:
                written.append(piece)
                continue
            if code:
                ticks = "``" if "`" in core else "`"
                body = f"{ticks}{' ' if ticks == '``' else ''}{core}{' ' if ticks == '``' else ''}{ticks}"
            else:
                body = _escape(core, in_table=in_table)
                if strike:
                    body = f"~~{body}~~"
                if italic:
                    body = f"*{body}*"
                if bold:
                    body = f"**{body}**"
            if href:
                body = f"[{body}]({href.replace(' ', '%20').replace(')', '%29')})"
            written.append(lead + body + trail)
        out.append("\\\n".join(written))
    text = "".join(out)
    if not in_table:
        text = _LINE_START.sub(lambda m: m.group(1) + (m.group(2) if m.group(2)[0].isdigit() else "\\" + m.group(2)),
                               text)
        text = re.sub(r"^(\s*\d{1,9})([.)])", r"\1\\\2", text)
    return text


#: Table format property holding the column alignments the Markdown gave ("left,right,center,"): Qt reads an
#: explicit ``text-align:left`` and no alignment alike, so :meth:`MarkdownEditor.set_markdown` records them here.
ALIGN_PROPERTY = int(QTextFormat.Property.UserProperty) + 1
_ALIGN_MARK = {"left": ":---", "right": "---:", "center": ":---:", "": "---"}


def table_alignments(markdown: str) -> list[list[str]]:
    """Column alignments ("left", "right", "center" or "") of every GFM table in ``markdown``, in order."""
    out: list[list[str]] = []
    for tok in _HTML.parse(markdown):
        if tok.type == "table_open":
            out.append([])
        elif tok.type == "th_open" and out:
            m = re.search(r"text-align:(\w+)", tok.attrGet("style") or "")
            out[-1].append(m.group(1) if m else "")
    return out


def _table_markdown(table: QTextTable) -> str:
    rows, cols = table.rows(), table.columns()
    cells: list[list[str]] = []
    for r in range(rows):
        row = []
        for c in range(cols):
            cell = table.cellAt(r, c)
            first, last = cell.firstCursorPosition().block(), cell.lastCursorPosition().block()
            parts, block = [], first
            while block.isValid():
                parts.append(_inline(block, in_table=True, plain_bold=r == 0).replace("\\\n", " "))
                if block == last:
                    break
                block = block.next()
            row.append(" ".join(p for p in parts if p) or " ")
        cells.append(row)
    recorded = table.format().property(ALIGN_PROPERTY)
    aligns = str(recorded).split(",") if isinstance(recorded, str) else []
    for c in range(len(aligns), cols):  # a column the Markdown did not describe: as its first body cell shows
        align = table.cellAt(1, c).firstCursorPosition().block().blockFormat().alignment() if rows > 1 else 0
        aligns.append("center" if align & Qt.AlignmentFlag.AlignHCenter else
                      "right" if align & Qt.AlignmentFlag.AlignRight else "")
    lines = ["| " + " | ".join(cells[0]) + " |", "| " + " | ".join(_ALIGN_MARK.get(a, "---") for a in aligns[:cols])
             + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
    return "\n".join(lines)


_ORDERED = {QTextListFormat.Style.ListDecimal, QTextListFormat.Style.ListLowerAlpha,
            QTextListFormat.Style.ListUpperAlpha, QTextListFormat.Style.ListLowerRoman,
            QTextListFormat.Style.ListUpperRoman}


class _Writer:
    """Collects Markdown blocks while the document is walked in order."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.code: list[str] = []
        self.stack: list[list] = []  # open list per level: [list object index, lead column, marker, content column]
        self.in_list = False

    def flush_code(self) -> None:
        if self.code:
            while self.code and not self.code[-1].strip():
                self.code.pop()
            fence = "````" if any(line.startswith("```") for line in self.code) else "```"
            self.blocks.append(fence + "\n" + "\n".join(self.code) + "\n" + fence)
            self.code = []

    def _leave_list(self) -> None:
        self.stack, self.in_list = [], False

    def list_item(self, block: QTextBlock, lst: QTextList) -> None:
        fmt = lst.format()
        level = max(fmt.indent(), 1)
        ordered = fmt.style() in _ORDERED
        ident = lst.objectIndex()
        del self.stack[level:]
        if not (len(self.stack) == level and self.stack[level - 1][0] == ident):
            # a new list at this level; right after another one at the same level it takes the other marker,
            # which is what makes CommonMark (and so the renderer) start a new list there
            previous = self.stack[level - 1][2] if self.in_list and len(self.stack) == level else None
            del self.stack[level - 1:]
            lead = self.stack[-1][3] if self.stack else 0
            choices = _DELIMS if ordered else _BULLETS
            marker = choices[1 - choices.index(previous)] if previous is not None and previous in choices \
                else choices[0]
            self.stack.append([ident, lead, marker, lead])
        entry = self.stack[level - 1]
        prefix = f"{fmt.start() + lst.itemNumber(block)}{entry[2]} " if ordered else f"{entry[2]} "
        entry[3] = entry[1] + len(prefix)
        body = _inline(block).strip(" ").replace("\\\n", "\\\n" + " " * entry[3])
        line = " " * entry[1] + prefix + body
        if self.in_list:
            self.blocks[-1] += "\n" + line
        else:
            self.blocks.append(line)
        self.in_list = True

    def block(self, block: QTextBlock) -> None:
        fmt = block.blockFormat()
        lst = block.textList()
        if fmt.nonBreakableLines() and lst is None:
            self._leave_list()
            self.code.append(block.text().replace(LINE_BREAK, "\n"))
            return
        self.flush_code()
        if lst is not None:
            self.list_item(block, lst)
            return
        text = _inline(block).strip(" ")
        if not text.strip():
            return
        self._leave_list()
        heading = fmt.headingLevel()
        quote = fmt.property(QTextFormat.Property.BlockQuoteLevel)
        if heading:
            text = "#" * min(heading, 6) + " " + text.replace("\\\n", " ")
        if isinstance(quote, int) and quote > 0:
            text = "\n".join("> " * quote + line for line in text.split("\n"))
        self.blocks.append(text)

    def table(self, table: QTextTable) -> None:
        self.flush_code()
        self._leave_list()
        self.blocks.append(_table_markdown(table))

    def text(self) -> str:
        self.flush_code()
        return "\n\n".join(self.blocks)


def document_to_markdown(document: QTextDocument) -> str:
    """Markdown for ``document`` (see the module docstring) that :mod:`docgen.render.markdown` reads as the same
    structure: paragraphs, headings 1-6, bold/italic/strike/code runs, links, hard line breaks, bulleted and
    numbered lists (nesting, start numbers, a list that restarts stays a separate list), tables with column
    alignment, code blocks and quotes."""
    writer = _Writer()
    root = document.rootFrame()
    it = root.begin()
    while not it.atEnd():
        frame = it.currentFrame()
        if frame is not None:
            if isinstance(frame, QTextTable):
                writer.table(frame)
        else:
            block = it.currentBlock()
            if block.isValid():
                writer.block(block)
        it += 1
    return writer.text()


class MarkdownEditor(QTextEdit):
    """A QTextEdit over one section's Markdown. ``rich`` shows it formatted (headings, bold, lists, tables as
    Word shows them) and writes edits back as Markdown; otherwise it shows the source. :meth:`markdown` gives
    back the very text given until the user edits. Ctrl+B / Ctrl+I toggle bold / italic in the rich editor."""

    def __init__(self, *, rich: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.rich = rich
        self.setAcceptRichText(False)
        self._source = ""
        self._clean = True
        self._setting = False
        self.textChanged.connect(self._changed)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Ctrl+B / Ctrl+I in the rich editor
        if self.rich and not self.isReadOnly() and event.modifiers() == Qt.KeyboardModifier.ControlModifier \
                and event.key() in (Qt.Key.Key_B, Qt.Key.Key_I):
            (self._toggle_bold if event.key() == Qt.Key.Key_B else self._toggle_italic)()
            event.accept()
            return
        super().keyPressEvent(event)

    def _changed(self) -> None:
        if not self._setting:
            self._clean = False

    def set_markdown(self, text: str) -> None:
        """Show ``text`` (Markdown)."""
        self._setting = True
        try:
            if self.rich and text:
                self.document().setHtml(markdown_to_html(text))
                tables = [f for f in self.document().rootFrame().childFrames() if isinstance(f, QTextTable)]
                for table, aligns in zip(tables, table_alignments(text), strict=False):
                    fmt = table.format()
                    fmt.setProperty(ALIGN_PROPERTY, ",".join(aligns))
                    table.setFormat(fmt)
            else:
                self.setPlainText(text)
        finally:
            self._setting = False
        self._source, self._clean = text, True

    def markdown(self) -> str:
        """The section's Markdown: the text last given if the user did not change it, else the editor's."""
        if self._clean:
            return self._source
        if not self.rich:
            return self.toPlainText()
        return document_to_markdown(self.document())

    def find_sentence(self, sentence: str) -> QTextCursor | None:
        """A cursor selecting ``sentence`` (Markdown) as the editor shows it, or None if it is not shown."""
        for needle in dict.fromkeys((plain_sentence(sentence), sentence)):
            if needle:
                cursor = self.document().find(needle, 0, QTextDocument.FindFlag.FindCaseSensitively)
                if not cursor.isNull():
                    return cursor
        return None

    def _toggle_bold(self) -> None:
        fmt = QTextCharFormat()
        bold = self.fontWeight() < QFont.Weight.DemiBold.value
        fmt.setFontWeight(QFont.Weight.Bold.value if bold else QFont.Weight.Normal.value)
        self.mergeCurrentCharFormat(fmt)

    def _toggle_italic(self) -> None:
        fmt = QTextCharFormat()
        fmt.setFontItalic(not self.fontItalic())
        self.mergeCurrentCharFormat(fmt)
