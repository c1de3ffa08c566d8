"""The only package that touches .docx files (python-docx, docxtpl).

Public API (imported lazily, so ``import docgen.render`` does not load python-docx/docxtpl/lxml until used):

- :func:`render_document` - fill a template.docx with values and model-written sections, write it atomically
  (:mod:`.docx_template`; Markdown -> Word in :mod:`.markdown`, lists in :mod:`.numbering`, errors in
  :mod:`.errors_map`, temp file + rename in :mod:`.atomic`, provenance in :mod:`.properties`);
- :func:`inspect_template` -> :class:`TemplateInspection` - tags, variables and problems of a template.docx
  (backs ``docgen templates check``);
- :func:`read_back` -> :class:`ReadBack` (a list of :data:`Block` plus header/footer texts and properties) -
  the structure of a written .docx, for tests and the GUI preview;
- :func:`read_provenance` - the custom document properties (docgen's provenance) of a written .docx;
- :func:`sanitize_text` / :func:`sanitize_value` - remove characters XML 1.0 forbids;
- :func:`convert_to_pdf` / :func:`pdf_available` - PDF through an installed LibreOffice or Word (:mod:`.pdf`).

Rendering also: joins tags Word split over runs (:mod:`.split_tags`), renders headers, footers, footnotes
and endnotes, turns Markdown links into hyperlinks (:mod:`.hyperlinks`), adds right-to-left / East-Asian
properties (:mod:`.scripts`), asks Word to update TOC/page fields (:mod:`.fields`) - see :mod:`.finish` -
and writes byte-identical files for identical inputs (:mod:`.reproducible`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from docgen.render.docx_template import render_document
    from docgen.render.inspect import TemplateInspection, inspect_template
    from docgen.render.pdf import convert_to_pdf, pdf_available
    from docgen.render.properties import read_provenance
    from docgen.render.readback import Block, Heading, ListItem, Paragraph, ReadBack, Run, Table, read_back
    from docgen.render.sanitize import sanitize_text, sanitize_value

_WHERE = {
    "render_document": "docx_template",
    "convert_to_pdf": "pdf",
    "pdf_available": "pdf",
    "TemplateInspection": "inspect",
    "inspect_template": "inspect",
    "Block": "readback",
    "Heading": "readback",
    "ListItem": "readback",
    "Paragraph": "readback",
    "ReadBack": "readback",
    "Run": "readback",
    "Table": "readback",
    "read_back": "readback",
    "read_provenance": "properties",
    "sanitize_text": "sanitize",
    "sanitize_value": "sanitize",
}

__all__ = [
    "Block",
    "Heading",
    "ListItem",
    "Paragraph",
    "ReadBack",
    "Run",
    "Table",
    "TemplateInspection",
    "convert_to_pdf",
    "inspect_template",
    "pdf_available",
    "read_back",
    "read_provenance",
    "render_document",
    "sanitize_text",
    "sanitize_value",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"docgen.render.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'docgen.render' has no attribute {name!r}")
