"""The only package that touches .docx files (python-docx, docxtpl).

Public API (imported lazily, so ``import docgen.render`` does not load python-docx/docxtpl/lxml until used):

- :func:`render_document` - fill a template.docx with values and model-written sections, write it atomically
  (:mod:`.docx_template`; Markdown -> Word in :mod:`.markdown`, lists in :mod:`.numbering`, errors in
  :mod:`.errors_map`, temp file + rename in :mod:`.atomic`, provenance in :mod:`.properties`);
- :func:`rehearse_document` - evaluate every tag of a template with placeholder sections, writing nothing (the
  rehearsal before the model runs; :mod:`.rehearsal`);
- :func:`inspect_template` -> :class:`TemplateInspection` - tags, variables and problems of a template.docx
  (backs ``docgen templates check``);
- :func:`read_back` -> :class:`ReadBack` (a list of :data:`Block` plus header/footer texts and properties) -
  the structure of a written .docx, for tests and the GUI preview;
- :func:`read_provenance` - the custom document properties (docgen's provenance) of a written .docx;
- :func:`sanitize_text` / :func:`sanitize_value` - remove characters XML 1.0 forbids;
- :func:`convert_to_pdf` / :func:`pdf_available` - PDF through an installed LibreOffice or Word (:mod:`.pdf`);
- :func:`read_charts` -> :class:`ChartReadBack` and :func:`read_pictures` -> :class:`PictureReadBack` - the
  charts (values in the chart XML and in its embedded workbook) and pictures of a written .docx;
  :func:`chart_picture` - a chart as a PNG (the picture fallback) and :func:`chart_pictures` - PNGs of a
  written document's charts, for a preview without an office suite. Charts are filled by ``[[charts]]`` and ``{{ chart(...) }}`` (:mod:`.charts`, :mod:`.chart_tag`),
  pictures placed by ``{{ image(...) }}`` (:mod:`.images`).

Rendering also: joins tags Word split over runs (:mod:`.split_tags`), renders headers, footers, footnotes
and endnotes, turns Markdown links into hyperlinks (:mod:`.hyperlinks`), adds right-to-left / East-Asian
properties (:mod:`.scripts`), asks Word to update TOC/page fields (:mod:`.fields`) - see :mod:`.finish` -
and writes byte-identical files for identical inputs (:mod:`.reproducible`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from docgen.render.charts import ChartReadBack, chart_picture, chart_pictures, chart_problems, read_charts
    from docgen.render.docx_template import render_document
    from docgen.render.images import PictureReadBack, read_pictures
    from docgen.render.inspect import TemplateInspection, inspect_template
    from docgen.render.pdf import convert_to_pdf, pdf_available
    from docgen.render.properties import read_provenance
    from docgen.render.rehearsal import rehearse_document
    from docgen.render.readback import Block, Heading, ListItem, Paragraph, ReadBack, Run, Table, read_back
    from docgen.render.sanitize import sanitize_text, sanitize_value

_WHERE = {
    "ChartReadBack": "charts",
    "chart_problems": "charts",
    "chart_pictures": "charts",
    "chart_picture": "charts",
    "read_charts": "charts",
    "PictureReadBack": "images",
    "read_pictures": "images",
    "render_document": "docx_template",
    "rehearse_document": "rehearsal",
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
    "ChartReadBack",
    "Heading",
    "ListItem",
    "Paragraph",
    "PictureReadBack",
    "ReadBack",
    "Run",
    "Table",
    "TemplateInspection",
    "convert_to_pdf",
    "inspect_template",
    "pdf_available",
    "chart_picture",
    "chart_pictures",
    "chart_problems",
    "read_back",
    "read_charts",
    "read_pictures",
    "read_provenance",
    "rehearse_document",
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
