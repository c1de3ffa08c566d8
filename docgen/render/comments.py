"""Word comments on the sentences the claim check marked: what a reader of the .docx sees.

Each :class:`~docgen.model.Mark` of a section becomes one Word comment (python-docx's
``Document.add_comment``, comments part ``word/comments.xml``) by author :data:`AUTHOR` (initials
:data:`INITIALS`), anchored on exactly the marked sentence, whose runs also get a yellow highlight so the
sentence shows on paper and in a PDF too. The comment says what is wrong and, when the data says something
else, what it says ("The data says: Total sales: $2,297,200.86").

How a sentence is found after Markdown became Word runs: before the section is written, the marked spans are
wrapped in two sentinel characters (:data:`OPEN`, :data:`CLOSE`: rare Unicode punctuation, so Markdown's
emphasis rules treat them like any punctuation and ``**bold**`` around them still parses); after writing,
the runs are split at the sentinels, the sentinels removed, and the comment range put around the runs
between them. Sentinel characters the model itself wrote are removed first. Several marks on one sentence
give one comment listing them all.

The comment's date follows the document's (:mod:`.reproducible`): ``SOURCE_DATE_EPOCH`` when set, else none,
so identical inputs still give identical bytes.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from docx.enum.text import WD_COLOR_INDEX
from docx.oxml.ns import qn
from docx.text.run import Run

from docgen.model import Mark
from docgen.render.reproducible import source_date

AUTHOR = "docgen check"
INITIALS = "DC"
OPEN = "\u2e44"   # DOUBLE SUSPENSION MARK
CLOSE = "\u2e45"  # INVERTED LOW KAVYKA
#: Kinds whose evidence is a passage of a reference document, not the data (docgen.refs.evidence).
SOURCE_KINDS = frozenset({"policy", "uncited", "citation"})
_KIND_TITLE = {
    "unsupported": "Figure not in the data", "misattributed": "Figure attached to the wrong thing",
    "derived": "Computed figure not in the data", "entity": "Not a value in the data", "name": "Invented name",
    "echo": "Copied from the instructions", "markup": "Chat markup", "placeholder": "Gap to fill in",
    "commitment": "Promise the template does not make", "empty": "Section empty",
    # the reference check's own kinds (docgen.refs.evidence)
    "policy": "Promise no source supports", "uncited": "Policy term without its source", "citation": "Wrong source cited",
}


def comment_text(marks: Sequence[Mark]) -> str:
    """The comment for the marks of one sentence: per mark its kind in words and its message, then what the
    data says (one paragraph each, separated by newlines)."""
    lines = []
    for m in marks:
        lines.append(f"{_KIND_TITLE.get(m.kind, m.kind.capitalize())}: {m.message}")
        if m.evidence:
            says = "The source says" if m.kind in SOURCE_KINDS else "The data says"
            lines.append(f"{says}: {m.evidence}")
    return "\n".join(lines)


def wrap_marked(text: str, marks: Sequence[Mark]) -> tuple[str, list[list[Mark]]]:
    """``text`` with every marked sentence wrapped in :data:`OPEN` ... :data:`CLOSE` (sentinels already in
    ``text`` removed first, so offsets are taken on the cleaned text), and the marks grouped by sentence in
    text order. Marks whose offsets do not fit the text are skipped."""
    clean = text.replace(OPEN, "").replace(CLOSE, "")
    groups: dict[tuple[int, int], list[Mark]] = {}
    for m in marks:
        if 0 <= m.start < m.end <= len(clean) and clean[m.start:m.end] == m.sentence:
            groups.setdefault((m.start, m.end), []).append(m)
    spans = sorted(groups)
    # overlapping spans cannot nest as comment ranges here: keep the first of any overlap
    kept: list[tuple[int, int]] = []
    for a, b in spans:
        if not kept or a >= kept[-1][1]:
            kept.append((a, b))
    out = clean
    for a, b in reversed(kept):
        out = out[:a] + OPEN + out[a:b] + CLOSE + out[b:]
    return out, [groups[k] for k in kept]


def _split_run(r, at: int):
    """Split run element ``r`` at character ``at`` of its text; returns (left, right) elements."""
    t = r.find(qn("w:t"))
    text = t.text or ""
    right = copy.deepcopy(r)
    t.text = text[:at]
    right.find(qn("w:t")).text = text[at:]
    for el in (t, right.find(qn("w:t"))):
        el.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    r.addnext(right)
    return r, right


def _text_runs(element):
    return [r for r in element.iter(qn("w:r")) if r.find(qn("w:t")) is not None]


def anchor_comments(document, element, groups: Sequence[Sequence[Mark]]) -> int:
    """Turn the sentinel-wrapped spans inside ``element`` (a fragment's body, written from
    :func:`wrap_marked` text) into comments of ``document`` with a highlight, in order, one per group of
    ``groups``. Returns the number of comments added; sentinels without a group are just removed."""
    added = 0
    index = 0
    while True:
        runs = _text_runs(element)
        start = next(((r, r.find(qn("w:t")).text.index(OPEN)) for r in runs if OPEN in (r.find(qn("w:t")).text or "")),
                     None)
        if start is None:
            break
        r0, at = start
        t0 = r0.find(qn("w:t"))
        t0.text = t0.text[:at] + t0.text[at + 1:]
        if at > 0:
            _left, r0 = _split_run(r0, at)
        # find the close sentinel from r0 on, in document order
        runs = _text_runs(element)
        i0 = next(i for i, r in enumerate(runs) if r is r0)
        end_run = None
        for r in runs[i0:]:
            t = r.find(qn("w:t"))
            if CLOSE in (t.text or ""):
                pos = t.text.index(CLOSE)
                t.text = t.text[:pos] + t.text[pos + 1:]
                if pos < len(t.text):
                    r, _right = _split_run(r, pos)
                end_run = r
                break
        if end_run is None:
            break
        covered = []
        started = False
        for r in _text_runs(element):
            if r is r0:
                started = True
            if started:
                covered.append(r)
            if r is end_run:
                break
        if index < len(groups) and covered:
            paragraph = covered[0].getparent()
            first = Run(covered[0], paragraph)
            last = Run(covered[-1], covered[-1].getparent())
            for r in covered:
                Run(r, r.getparent()).font.highlight_color = WD_COLOR_INDEX.YELLOW
            comment = document.add_comment([first, last], text=comment_text(groups[index]), author=AUTHOR,
                                           initials=INITIALS)
            comment._comment_elm.date = source_date()
            added += 1
        index += 1
    for r in _text_runs(element):  # stray sentinels (a span Markdown split oddly) never reach the reader
        t = r.find(qn("w:t"))
        if t.text and (OPEN in t.text or CLOSE in t.text):
            t.text = t.text.replace(OPEN, "").replace(CLOSE, "")
        if not t.text and all(child.tag in (qn("w:rPr"), qn("w:t")) for child in r):
            nxt, prev = r.getnext(), r.getprevious()
            if not (nxt is not None and nxt.tag == qn("w:commentRangeEnd") and prev is not None
                    and prev.tag == qn("w:commentRangeStart")):
                r.getparent().remove(r)  # an empty run left by a split
    return added


__all__ = ["AUTHOR", "INITIALS", "OPEN", "CLOSE", "comment_text", "wrap_marked", "anchor_comments", "read_comments"]


def read_comments(path) -> list[tuple[str, str, str]]:
    """The comments of the .docx at ``path`` as (author, comment text, the document text the comment is
    anchored on), in document order: what a reviewer sees in Word's margin and what it points at."""
    import docx

    document = docx.Document(str(path))
    body = document.element.body
    texts = {c.comment_id: (c.author, c.text) for c in document.comments}
    open_ids: list[int] = []
    anchored: dict[int, list[str]] = {}
    order: list[int] = []
    for el in body.iter():
        if el.tag == qn("w:commentRangeStart"):
            cid = int(el.get(qn("w:id")))
            open_ids.append(cid)
            anchored[cid] = []
            order.append(cid)
        elif el.tag == qn("w:commentRangeEnd"):
            cid = int(el.get(qn("w:id")))
            if cid in open_ids:
                open_ids.remove(cid)
        elif el.tag == qn("w:t") and open_ids:
            for cid in open_ids:
                anchored[cid].append(el.text or "")
    return [(texts.get(cid, ("", ""))[0], texts.get(cid, ("", ""))[1], "".join(anchored[cid])) for cid in order]
