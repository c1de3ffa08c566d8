"""Sentences of a section's Markdown text, as character spans: what a mark is anchored on, what ``drop``
removes and what a Word comment covers.

Rules (:func:`sentence_spans`):

- a sentence never crosses a line: a list item, a heading or a paragraph line ends any sentence in it;
- the line's Markdown lead (``- ``, ``* ``, ``1. ``, ``#``, ``>``) and surrounding spaces are not part of the
  sentence; emphasis markers (``**``) are, so ``text[start:end]`` stays valid Markdown;
- inside a line, a sentence ends after ``.``, ``!`` or ``?`` (and closing quotes, brackets or emphasis) that is
  followed by a space or the line end, except after a decimal point (``2.5``), a single capital (``J. Smith``)
  or a common abbreviation (``e.g.``, ``approx.``, ``Inc.``, ``Dr.``, ``vs.``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LEAD = re.compile(r"^[ \t]*(?:(?:[-*+]|\d{1,3}[.)])[ \t]+|#{1,6}[ \t]+|>[ \t]*)*")
_BARE_LEAD = re.compile(r"[ \t]*(?:(?:[-*+]|\d{1,3}[.)])[ \t]*|#{1,6}[ \t]*|>[ \t]*)+")
_END = re.compile(r"[.!?]+[\"'”’)\]*_]*(?=\s|$)")
_ABBREV = {"e.g", "i.e", "etc", "approx", "inc", "ltd", "co", "corp", "dr", "mr", "mrs", "ms", "vs", "no", "st",
           "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "fig"}


@dataclass(frozen=True)
class Sentence:
    """A sentence of ``text``: ``text[start:end] == self.text``; ``line`` is its 0-based line number."""

    text: str
    start: int
    end: int
    line: int


def sentence_spans(text: str) -> list[Sentence]:
    """The sentences of Markdown ``text`` in order (rules in the module docstring); blank lines and lines of
    only Markdown markup give none."""
    out: list[Sentence] = []
    pos = 0
    for number, line in enumerate(text.split("\n")):
        lead = _LEAD.match(line)
        start = lead.end() if lead else 0
        cursor = start
        for m in _END.finditer(line, start):
            word = re.search(r"([\w.]+)[.!?]*$", line[cursor:m.start() + 1])
            stem = word.group(1).rstrip(".").lower() if word else ""
            if m.group(0).startswith(".") and len(m.group(0).rstrip("\"'”’)]*_")) == 1:
                if stem in _ABBREV or (len(stem) == 1 and stem.isalpha() and line[m.start() - 1].isupper()):
                    continue
            _add(out, line, cursor, m.end(), pos, number)
            cursor = m.end()
        _add(out, line, cursor, len(line), pos, number)
        pos += len(line) + 1
    return out


def _add(out: list[Sentence], line: str, a: int, b: int, offset: int, number: int) -> None:
    while a < b and line[a] in " \t":
        a += 1
    while b > a and line[b - 1] in " \t":
        b -= 1
    piece = line[a:b]
    if piece and re.search(r"\w", piece):
        out.append(Sentence(piece, offset + a, offset + b, number))


def sentence_at(text: str, pos: int) -> Sentence | None:
    """The sentence of ``text`` containing character ``pos`` (None when ``pos`` is in none, e.g. a list lead)."""
    for s in sentence_spans(text):
        if s.start <= pos < s.end:
            return s
    return None


def remove_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the sentences at ``spans`` (start, end): the space after each goes too; a line left
    with only its Markdown lead (an emptied list item) is removed, and runs of blank lines are collapsed."""
    out = text
    for a, b in sorted(set(spans), reverse=True):
        while b < len(out) and out[b] in " \t":
            b += 1
        out = out[:a] + out[b:]
    lines = [ln.rstrip() for ln in out.split("\n")]
    kept = [ln for ln in lines if not (ln.strip() and _BARE_LEAD.fullmatch(ln))]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


__all__ = ["Sentence", "sentence_spans", "sentence_at", "remove_spans"]
