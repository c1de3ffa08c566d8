"""Ask Word to update fields on open when the document has a table of contents or page fields.

docgen changes the text, so page numbers, a table of contents (``TOC``), ``PAGEREF``, ``NUMPAGES`` and
``SECTIONPAGES`` computed when the template was saved are stale. If any part has such a field (``w:fldSimple
w:instr`` or a complex field's ``w:instrText``), ``<w:updateFields w:val="true"/>`` goes into
word/settings.xml: Word then updates all fields when the document is opened (it asks the user first, "This
document contains fields that may refer to other files..."; that prompt is Word's and cannot be avoided).
LibreOffice recomputes page fields itself and ignores the setting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from docx.oxml.ns import qn
from lxml import etree

_FIELD = re.compile(r"^\s*(TOC|PAGE|PAGEREF|NUMPAGES|SECTIONPAGES)\b", re.I)

# CT_Settings children that come after w:updateFields (ECMA-376 part 1, 17.15.1.78), in order
_AFTER_UPDATE_FIELDS = (
    "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "mathPr", "attachedSchema",
    "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures",
    "forceUpgrade", "captions", "readModeInkLockDown", "smartTagType", "schemaLibrary", "shapeDefaults",
    "doNotEmbedSmartTags", "decimalSymbol", "listSeparator",
)


def field_instructions(element) -> list[str]:
    """Instructions of the fields under ``element``: ``w:fldSimple/@w:instr`` and ``w:instrText`` texts."""
    out = [f.get(qn("w:instr")) or "" for f in element.iter(qn("w:fldSimple"))]
    out += [t.text or "" for t in element.iter(qn("w:instrText"))]
    return out


def needs_field_update(elements: Iterable) -> bool:
    """True when any of ``elements`` has a TOC or page-number field."""
    return any(_FIELD.match(i) for el in elements for i in field_instructions(el))


def request_field_update(settings_element) -> None:
    """Set ``w:updateFields w:val="true"`` in a ``w:settings`` element, at its schema position."""
    el = settings_element.find(qn("w:updateFields"))
    if el is None:
        el = etree.Element(qn("w:updateFields"))
        after = {qn(f"w:{n}") for n in _AFTER_UPDATE_FIELDS}
        following = next((c for c in settings_element if c.tag in after), None)
        if following is not None:
            following.addprevious(el)
        else:
            settings_element.append(el)
    el.set(qn("w:val"), "true")
