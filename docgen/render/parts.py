"""The parts of a .docx that hold tags (body, headers, footers, footnotes, endnotes) and their paragraphs'
visible text.

Paragraph numbers everywhere in docgen's messages count every ``w:p`` of the part in document order, table
cells and text boxes included, starting at 1; "visible text" is the paragraph's ``w:t`` texts joined.
"""

from __future__ import annotations

from dataclasses import dataclass

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree

_HDR_TYPES = {"default": "", "first": "first-page ", "even": "even-page "}


@dataclass(frozen=True)
class PartRef:
    """One XML part with tags: ``label`` as shown to users ("body", "header", "first-page footer",
    "header of section 2"), ``kind`` ("body" | "header" | "footer" | "footnotes" | "endnotes"), and the
    python-docx part."""

    label: str
    kind: str
    part: object


def paragraph_texts(element) -> list[str]:
    """Visible text of every ``w:p`` under ``element`` (an lxml element), in document order."""
    out = []
    for p in element.iter(qn("w:p")):
        out.append("".join(t.text or "" for t in p.iter(qn("w:t"))))
    return out


def part_element(part):
    """The lxml root of a part, whether python-docx loaded it as XmlPart or as a plain blob Part."""
    el = getattr(part, "element", None)
    if el is not None:
        return el
    return etree.fromstring(part.blob)


def tag_parts(document) -> list[PartRef]:
    """Body, headers and footers (labelled by type and section), then footnotes and endnotes, of a python-docx
    Document. These are the parts docgen renders."""
    main = document.part
    refs = [PartRef("body", "body", main)]
    sections = list(document.element.body.iter(qn("w:sectPr")))
    seen: set[str] = set()
    for kind, tag in (("header", "w:headerReference"), ("footer", "w:footerReference")):
        for i, sect in enumerate(sections, 1):
            for ref in sect.findall(qn(tag)):
                rid = ref.get(qn("r:id"))
                if rid in seen or rid not in main.rels:
                    continue
                seen.add(rid)
                prefix = _HDR_TYPES.get(ref.get(qn("w:type"), "default"), "")
                where = f" of section {i}" if len(sections) > 1 else ""
                refs.append(PartRef(f"{prefix}{kind}{where}", kind, main.rels[rid].target_part))
        # headers/footers related but not referenced by any section
        reltype = RT.HEADER if kind == "header" else RT.FOOTER
        for rid, rel in main.rels.items():
            if rel.reltype == reltype and rid not in seen:
                seen.add(rid)
                refs.append(PartRef(kind, kind, rel.target_part))
    for rel in main.rels.values():
        if rel.reltype == RT.FOOTNOTES:
            refs.append(PartRef("footnotes", "footnotes", rel.target_part))
    for rel in main.rels.values():
        if rel.reltype == RT.ENDNOTES:
            refs.append(PartRef("endnotes", "endnotes", rel.target_part))
    return refs
