"""Join Jinja tags that Word split over several runs, before docxtpl and Jinja see the XML.

Word splits what the author typed as ``{{ customer_name }}`` into several ``w:r`` runs whenever the runs'
properties or revision ids differ: spell-check marks (``w:proofErr``), a part typed in another editing session
(different ``w:rsidR``), a bookmark, a change of formatting in the middle. docxtpl joins such tags by deleting
all markup between the ``w:t`` pieces of a tag. That is right for run boundaries, but when the pieces are in
different *structures* - one half inside a hyperlink, a tracked insertion (``w:ins``), a smart tag, a simple
field or a content control - deleting the markup leaves unbalanced XML and the paragraph is lost or the file
breaks.

:func:`join_split_tags` therefore treats each gap between two pieces of one tag:

- *run-level gap* (only ``</w:t></w:r><w:r><w:rPr>...</w:rPr><w:t>``, proofing marks, bookmarks and other
  empty elements): removed, as docxtpl does;
- *structural gap* (anything else, e.g. ``</w:t></w:r><w:hyperlink r:id="rId5"><w:r><w:t>``): kept whole, and the
  tag's text is moved in front of it. The tag then renders in the first run (with that run's formatting); the
  structure stays, with an empty run where the rest of the tag was.

Tags that span paragraphs are not joined (``docgen templates check`` reports them; rendering raises a syntax
error naming the paragraph).
"""

from __future__ import annotations

import re

_SELF_CLOSING = re.compile(r"<[^<>]*/>")
_PAIR = re.compile(r"<(w:[A-Za-z]+)(?:\s[^<>]*)?>[^<]*</\1>")
_RUN_GAP = re.compile(r"^</w:t>(?:</w:r>)?(?:<w:r(?:\s[^<>]*)?>)?<w:t(?:\s[^<>]*)?>$")
_T_GAP = re.compile(r"(</w:t>.*?<w:t(?:\s[^<>]*)?>)", re.S)
_OPEN_BRACE = re.compile(r"\{((?:<[^<>]*>)+)([\{%#])")
_CLOSE_BRACE = re.compile(r"([%\}#])((?:<[^<>]*>)+)\}")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def is_run_gap(markup: str) -> bool:
    """True when ``markup`` (between two ``w:t`` texts) only closes and opens runs: removable."""
    if "<w:p " in markup or "<w:p>" in markup or "</w:p>" in markup:
        return False
    rest = _SELF_CLOSING.sub("", markup)
    previous = None
    while previous != rest:
        previous, rest = rest, _PAIR.sub("", rest)
    return bool(_RUN_GAP.match(rest)) or rest == ""


def _crosses_paragraph(markup: str) -> bool:
    return "</w:p>" in markup


def _join_braces(xml: str) -> str:
    def open_(m: re.Match) -> str:
        gap, c = m.group(1), m.group(2)
        if _crosses_paragraph(gap):
            return m.group(0)
        return "{" + c if is_run_gap(gap) else "{" + c + gap

    def close(m: re.Match) -> str:
        c, gap = m.group(1), m.group(2)
        if _crosses_paragraph(gap):
            return m.group(0)
        return c + "}" if is_run_gap(gap) else c + "}" + gap

    return _CLOSE_BRACE.sub(close, _OPEN_BRACE.sub(open_, xml))


def _join_tag(m: re.Match) -> str:
    tag = m.group(0)
    if "</w:t>" not in tag or _crosses_paragraph(tag):
        return tag
    pieces = _T_GAP.split(tag)
    texts, kept = [], []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            texts.append(piece)
        elif not is_run_gap(piece):
            kept.append(piece)
    return "".join(texts) + "".join(kept)


def join_split_tags(xml: str) -> str:
    """``xml`` with every tag's text in one ``w:t`` (see the module docstring). Idempotent."""
    return _TAG.sub(_join_tag, _join_braces(xml))
