"""A blank line in a value starts a new paragraph.

docxtpl turns a line break (``\\n``) inside a value into a Word line break (``w:br``), so a value with a blank
line between two paragraphs of text came out as one paragraph with two line breaks. Before docxtpl resolves
line breaks, :func:`blank_lines_to_paragraphs` turns every blank line (``\\n``, optional spaces or tabs, ``\\n``,
and any further blank lines) inside a text run into docxtpl's paragraph mark (``\\a``), which docxtpl replaces
by ending the paragraph and starting a new one *with the same paragraph and run properties* (style, alignment,
bold...). A single line break stays a line break. Word itself never stores line breaks inside ``w:t``, so
every such newline came from a value (a data cell, a field, a filter such as ``|join("\\n\\n")``).

Only runs directly inside a paragraph are split: a run inside a hyperlink, a tracked change, a content control
or a field keeps its two line breaks (splitting the paragraph there would break the structure around it).
"""

from __future__ import annotations

import re

from lxml import etree

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: a blank line: newline, spaces/tabs, newline, then any further whitespace
BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")
_T_WITH_BLANK = re.compile(r"<w:t(?:\s[^>]*)?>[^<]*\n[ \t]*\n[^<]*</w:t>")
PARAGRAPH_MARK = "\a"
#: stands for the mark inside lxml (which refuses control characters); two private-use characters in a row
_STAND_IN = "\ue0d0\ue0c6"


def blank_lines_to_paragraphs(xml: str) -> str:
    """``xml`` (a rendered part, before docxtpl's line-break handling) with the blank lines of text runs that sit
    directly in a paragraph turned into :data:`PARAGRAPH_MARK`. Returns ``xml`` unchanged when it has none or
    does not parse."""
    if "\n" not in xml or not _T_WITH_BLANK.search(xml):
        return xml
    try:
        root = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        return xml
    changed = False
    for t in root.iter(f"{_W}t"):
        if not t.text or not BLANK_LINE.search(t.text):
            continue
        run = t.getparent()
        if run is None or run.tag != f"{_W}r" or run.getparent() is None or run.getparent().tag != f"{_W}p":
            continue
        t.text = BLANK_LINE.sub(_STAND_IN, t.text.strip("\n"))
        changed = True
    if not changed:
        return xml
    if xml.startswith("<?xml"):
        out = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True).decode("utf-8")
    else:
        out = etree.tostring(root, encoding="unicode")
    return out.replace(_STAND_IN, PARAGRAPH_MARK)
