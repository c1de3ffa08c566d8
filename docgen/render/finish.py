"""Fix-ups applied to every rendered part after docxtpl has filled the template, before saving.

For the body, each header and footer (first-page and even-page ones too), footnotes and endnotes:

1. marked Markdown links get a hyperlink relationship of the part they landed in (:mod:`.hyperlinks`);
2. right-to-left and East-Asian text gets its properties (:mod:`.scripts`) - section text and values
   inserted by tags alike;
3. if any part has a TOC or page field, settings.xml asks Word to update fields on open (:mod:`.fields`).

Footnotes and endnotes are parts python-docx keeps as bytes: they are parsed here and written back only when
something changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lxml import etree

from docgen.render.fields import needs_field_update, request_field_update
from docgen.render.hyperlinks import resolve_hyperlinks
from docgen.render.parts import part_element, tag_parts
from docgen.render.scripts import apply_script_props, template_names_east_asia_font


def rendered_parts(document) -> Iterator[tuple[object, object, Callable[[], None] | None]]:
    """(part, lxml element, commit) for every part that holds rendered text; ``commit()`` (None for parts
    python-docx serializes itself) writes a bytes-only part's element back."""
    for ref in tag_parts(document):
        if ref.kind == "body":
            yield ref.part, document.element, None
        elif getattr(ref.part, "element", None) is not None:
            yield ref.part, ref.part.element, None
        else:
            element = part_element(ref.part)

            def commit(part=ref.part, el=element) -> None:
                part._blob = etree.tostring(el, xml_declaration=True, encoding="UTF-8", standalone=True)

            yield ref.part, element, commit


def finish_document(document) -> None:
    """Apply the fix-ups of the module docstring to ``document`` (a rendered python-docx Document)."""
    east_asia_font = not template_names_east_asia_font(document)
    elements = []
    for part, element, commit in rendered_parts(document):
        before = etree.tostring(element) if commit else None
        resolve_hyperlinks(part, element)
        apply_script_props(element, set_east_asia_font=east_asia_font)
        if commit and etree.tostring(element) != before:
            commit()
        elements.append(element)
    if needs_field_update(elements):
        request_field_update(document.settings.element)
