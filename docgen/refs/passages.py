"""Passages: the pieces of a reference document that retrieval ranks and the prompt quotes.

A reader (:mod:`docgen.refs.readers`) turns a file into :class:`Block` s (a paragraph, a list item, a table row,
a data row) that know their heading path and location; :func:`passages_from_blocks` packs consecutive blocks
under the same heading into passages of at most :data:`PASSAGE_WORDS` words (a longer block is split at sentence
ends). A passage never spans two headings, so its heading path and location stay exact for the citation
("Returns policy.docx, §3 Refunds, p. 2").

Why :data:`PASSAGE_WORDS` = 120: a passage must be small enough that several fit beside a letter's prompt in a
small model's context (about 160 tokens each) and large enough to hold one policy clause with its conditions;
the bundled policies' clauses are 40-110 words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Most words in one passage (see the module docstring for why).
PASSAGE_WORDS = 120

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@dataclass(frozen=True)
class Block:
    """One piece of a file as read: ``text``, the ``headings`` above it (outermost first), and where it is:
    ``page`` (PDF pages, and .docx pages when Word recorded page breaks), ``paragraph`` (1-based paragraph
    number in a .docx), ``line`` (1-based line in a text/Markdown/HTML file) or ``row`` (the row number a user
    sees in a CSV/XLSX file, header = row 1). Unknown parts are None."""

    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None
    paragraph: int | None = None
    line: int | None = None
    row: int | None = None


@dataclass(frozen=True)
class Passage:
    """A passage of a reference file: ``ordinal`` (0-based position in the file), ``text``, ``headings`` (the
    heading path, outermost first) and the location of its first block (see :class:`Block`)."""

    ordinal: int
    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None
    paragraph: int | None = None
    line: int | None = None
    row: int | None = None

    @property
    def section(self) -> str:
        """The innermost heading as a citation shows it: ``§3 Refunds`` for a heading "3. Refunds" or
        "3 Refunds", else the heading text; "" without a heading."""
        return section_label(self.headings[-1]) if self.headings else ""

    @property
    def location(self) -> str:
        """``p. 2``, ``row 5``, ``line 12`` or ``para. 14`` (in that preference), or ""."""
        if self.page is not None:
            return f"p. {self.page}"
        if self.row is not None:
            return f"row {self.row}"
        if self.line is not None:
            return f"line {self.line}"
        if self.paragraph is not None:
            return f"para. {self.paragraph}"
        return ""


def section_label(heading: str) -> str:
    """``"3. Refunds"`` -> ``"§3 Refunds"``; ``"2.1 Exclusions"`` -> ``"§2.1 Exclusions"``; other headings as
    they are (whitespace collapsed)."""
    heading = " ".join(heading.split())
    m = re.match(r"^(?:§\s*)?(\d+(?:\.\d+)*)\.?\s+(\S.*)$", heading)
    return f"§{m.group(1)} {m.group(2)}" if m else heading


def words(text: str) -> int:
    """Whitespace-separated words in ``text``."""
    return len(text.split())


def split_long(text: str, limit: int = PASSAGE_WORDS) -> list[str]:
    """``text`` cut at sentence ends into pieces of at most ``limit`` words (a single longer sentence is cut
    between words)."""
    if words(text) <= limit:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        tokens = sentence.split()
        while len(tokens) > limit:  # one endless sentence (a PDF without full stops)
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.append(" ".join(tokens[:limit]))
            tokens = tokens[limit:]
        if current and len(current) + len(tokens) > limit:
            pieces.append(" ".join(current))
            current = []
        current.extend(tokens)
    if current:
        pieces.append(" ".join(current))
    return pieces


def passages_from_blocks(blocks: Iterable[Block], limit: int = PASSAGE_WORDS) -> list[Passage]:
    """Pack ``blocks`` into passages (module docstring): consecutive blocks with the same heading path join
    until the next would pass ``limit`` words; blocks keep their order; empty blocks are dropped. Data rows
    (``row`` set) stay one passage each, so a citation names its row."""
    out: list[Passage] = []
    group: list[Block] = []

    def flush() -> None:
        if not group:
            return
        first = group[0]
        text = "\n".join(b.text for b in group)
        for piece in split_long(text, limit) if len(group) == 1 else [text]:
            out.append(Passage(len(out), piece, first.headings, first.page, first.paragraph, first.line, first.row))
        group.clear()

    for block in blocks:
        text = " ".join(block.text.split()) if block.row is None else block.text.strip()
        if not text:
            continue
        block = Block(text, block.headings, block.page, block.paragraph, block.line, block.row)
        if group and (block.headings != group[0].headings or block.row is not None or group[0].row is not None
                      or sum(words(b.text) for b in group) + words(text) > limit):
            flush()
        group.append(block)
    flush()
    return out


def heading_path(stack: Sequence[tuple[int, str]]) -> tuple[str, ...]:
    """The texts of a heading stack of ``(level, text)`` pairs, outermost first."""
    return tuple(text for _level, text in stack)


def push_heading(stack: list[tuple[int, str]], level: int, text: str) -> None:
    """Put heading ``text`` of ``level`` (1 = outermost) on ``stack``, closing deeper or equal levels."""
    while stack and stack[-1][0] >= level:
        stack.pop()
    stack.append((level, " ".join(text.split())))


__all__ = ["Block", "Passage", "PASSAGE_WORDS", "passages_from_blocks", "section_label", "split_long", "words",
           "heading_path", "push_heading"]
