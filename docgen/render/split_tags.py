"""Join Jinja tags that Word split over several runs, before docxtpl and Jinja see the XML.

Word splits what the author typed as ``{{ customer_name }}`` into several ``w:r`` runs whenever the runs'
properties or revision ids differ: spell-check marks (``w:proofErr``), a part typed in another editing session
(different ``w:rsidR``), a bookmark, a change of formatting in the middle. docxtpl joins such tags by deleting
all markup between the ``w:t`` pieces of a tag. That is right for run boundaries, but when the pieces are in
different *structures* - one half inside a hyperlink, a tracked insertion (``w:ins``), a smart tag, a simple
field or a content control - deleting the markup leaves unbalanced XML and the paragraph is lost or the file
breaks.

:func:`join_split_tags` therefore moves the text of the tag's later pieces in front of each gap and keeps the
gap whole - a run boundary (``</w:t></w:r><w:r><w:rPr>...</w:rPr><w:t>``, proofing marks, bookmarks) as much as
a structure (``</w:t></w:r><w:hyperlink r:id="rId5"><w:r><w:t>``). The tag then renders in its first run (with that
run's formatting); what follows the tag in a later run stays in that run with *its* formatting (deleting a run
boundary, as docxtpl does, would pull the text after a bold tag - "{{ name }}, welcome" - into the bold run),
and structures stay valid, with an empty run where the rest of the tag was. (:func:`is_run_gap` still tells
the two kinds apart for callers that need it.)

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
        return "{" + c + gap

    def close(m: re.Match) -> str:
        c, gap = m.group(1), m.group(2)
        if _crosses_paragraph(gap):
            return m.group(0)
        return c + "}" + gap

    return _CLOSE_BRACE.sub(close, _OPEN_BRACE.sub(open_, xml))


def _join_tag(m: re.Match) -> str:
    tag = m.group(0)
    if "</w:t>" not in tag or _crosses_paragraph(tag):
        return tag
    pieces = _T_GAP.split(tag)
    return "".join(pieces[0::2]) + "".join(pieces[1::2])


def join_split_tags(xml: str) -> str:
    """``xml`` with every tag's text in one ``w:t`` (see the module docstring). Idempotent."""
    return _TAG.sub(_join_tag, _join_braces(xml))
