"""A detached run of body content (paragraphs, tables) built with python-docx against the MAIN document.

This is what docxtpl's ``Subdoc`` does when created without a path (``tpl.new_subdoc()``: a body whose part
is the main document's part, serialized without the ``<w:body>`` wrapper), minus its import of docxcompose,
which docxtpl 0.20 only installs with the ``docxtpl[subdoc]`` extra. Because the fragment's part is the main
document part, ``paragraph.style = "Heading 1"`` resolves against the template's own styles.xml and numbering
goes into the template's numbering part.
"""

from __future__ import annotations

import re

from docx.document import _Body
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from lxml import etree

_BODY_TAGS = re.compile(r"</?w:body[^>]*>")


class Fragment:
    """Paragraphs and tables to be inserted in place of a ``{{p ... }}`` tag of ``document``."""

    def __init__(self, document):
        self._document = document
        self._element = parse_xml(f"<w:body {nsdecls('w')}/>")
        self._body = _Body(self._element, document)

    def add_paragraph(self, text: str = "", style: str | None = None):
        """Append a python-docx Paragraph (style looked up in the main document)."""
        return self._body.add_paragraph(text, style)

    def add_table(self, rows: int, cols: int):
        """Append a python-docx Table as wide as the main document's text column."""
        return self._body.add_table(rows, cols, self._document._block_width)

    def xml(self) -> str:
        """The fragment's children as WordprocessingML text (namespaces declared by the host part)."""
        return _BODY_TAGS.sub("", etree.tostring(self._element, encoding="unicode"))
