"""Citations in model text (``[1]``, ``[1, 3]``) as real Word footnotes, in the template's own footnote styles, or
(:class:`SourcesList`, ``[references] citations = "list"``) as document-wide numbers with a Sources list at the end.

A section that was written from numbered sources (:class:`docgen.model.Source`) cites them as ``[n]``.
While the section's paragraphs are built (:mod:`.markdown`), :meth:`Footnotes.cite` turns each marker whose
number is one of the section's sources into a footnote reference run (``w:footnoteReference``, character style
"footnote reference") and records the footnote's text: the source's label ("Returns policy.docx, §3 Refunds,
p. 2"). A number that is not one of the section's sources stays as typed (the claim check reports it).

After docxtpl has rendered the document, :meth:`Footnotes.write` puts the footnotes into ``word/footnotes.xml``:
the template's own part when it has one (its footnotes are kept; new ids follow the highest there), else a new
part with Word's separator and continuation-separator notes. The notes use the template's "footnote text"
paragraph and "footnote reference" character styles; when the template lacks them, they are added with Word's
defaults (10 pt text, superscript reference), so the document's look stays the template's. Footnote text is
added after rendering, so a file name with ``{{`` in it is never read as a tag.

Word numbers the marks 1, 2, 3 ... through the document in order; LibreOffice does the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml.ns import qn
from lxml import etree

from docgen.claims.citations import CITATION, cited_numbers
from docgen.render.sanitize import sanitize_text

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_FOOTNOTES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<w:footnotes xmlns:w="{_W}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'
    '</w:pPr><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
    'w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:footnote></w:footnotes>'
)
_TEXT_STYLE = (
    f'<w:style xmlns:w="{_W}" w:type="paragraph" w:styleId="FootnoteText"><w:name w:val="footnote text"/>'
    '<w:basedOn w:val="Normal"/><w:link w:val="FootnoteTextChar"/><w:uiPriority w:val="99"/><w:unhideWhenUsed/>'
    '<w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr><w:rPr><w:sz w:val="20"/>'
    '<w:szCs w:val="20"/></w:rPr></w:style>'
)
_REF_STYLE = (
    f'<w:style xmlns:w="{_W}" w:type="character" w:styleId="FootnoteReference"><w:name w:val="footnote reference"/>'
    '<w:uiPriority w:val="99"/><w:unhideWhenUsed/><w:rPr><w:vertAlign w:val="superscript"/></w:rPr></w:style>'
)


def _style_id(styles_el, name: str, kind: str) -> str | None:
    for style in styles_el.iterfind(qn("w:style")):
        n = style.find(qn("w:name"))
        if style.get(qn("w:type")) == kind and n is not None and (n.get(qn("w:val")) or "").lower() == name:
            return style.get(qn("w:styleId"))
    return None


class Footnotes:
    """The footnotes one document's citations need. ``document`` is the python-docx Document being rendered;
    ``sources`` maps section id -> its sources (numbered from 1, each with a ``label``)."""

    def __init__(self, document: Any, sources: Mapping[str, Sequence[Any]]) -> None:
        self.document = document
        self.sources = {sid: {s.number: s for s in srcs} for sid, srcs in sources.items()}
        self.notes: list[tuple[int, str]] = []
        self._part = next((rel.target_part for rel in document.part.rels.values() if rel.reltype == RT.FOOTNOTES),
                          None)
        first = 1
        if self._part is not None:
            root = etree.fromstring(self._part.blob)
            first = max([int(n.get(qn("w:id"), "0")) for n in root.iterfind(qn("w:footnote"))] + [0]) + 1
        self._next = first
        styles = document.styles.element
        self.ref_style = _style_id(styles, "footnote reference", "character")
        self.text_style = _style_id(styles, "footnote text", "paragraph")

    def cite(self, section_id: str, text: str) -> list[str | int]:
        """Split ``text`` (one inline text run of section ``section_id``) into pieces: strings (text) and ints
        (footnote ids to reference there). Markers naming no source of the section stay in the text."""
        known = self.sources.get(section_id)
        if not known or "[" not in text:
            return [text]
        out: list[str | int] = []
        at = 0
        for m in CITATION.finditer(text):
            numbers = cited_numbers(m.group(1))
            if not numbers or any(n not in known for n in numbers):
                continue
            before = text[at:m.start()].rstrip(" ") if text[at:m.start()].endswith(" ") else text[at:m.start()]
            if before:
                out.append(before)
            for n in numbers:
                out.append(self._add(known[n].label))
            at = m.end()
        if at < len(text):
            out.append(text[at:])
        return out

    def _add(self, label: str) -> int:
        fid = self._next
        self._next += 1
        self.notes.append((fid, sanitize_text(label)))
        return fid

    def reference_run(self, footnote_id: int):
        """A ``w:r`` with the footnote reference mark for ``footnote_id``."""
        run = etree.Element(qn("w:r"))
        rpr = etree.SubElement(run, qn("w:rPr"))
        style = etree.SubElement(rpr, qn("w:rStyle"))
        style.set(qn("w:val"), self.ref_style or "FootnoteReference")
        ref = etree.SubElement(run, qn("w:footnoteReference"))
        ref.set(qn("w:id"), str(footnote_id))
        return run

    def write(self) -> int:
        """Add the recorded footnotes to the document (module docstring); returns how many."""
        if not self.notes:
            return 0
        self._ensure_styles()
        if self._part is None:
            package = self.document.part.package
            self._part = Part(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, _FOOTNOTES_XML.encode("utf-8"),
                              package)
            self.document.part.relate_to(self._part, RT.FOOTNOTES)
        root = etree.fromstring(self._part.blob)
        for fid, label in self.notes:
            note = etree.SubElement(root, qn("w:footnote"))
            note.set(qn("w:id"), str(fid))
            p = etree.SubElement(note, qn("w:p"))
            ppr = etree.SubElement(p, qn("w:pPr"))
            etree.SubElement(ppr, qn("w:pStyle")).set(qn("w:val"), self.text_style)
            mark = etree.SubElement(p, qn("w:r"))
            etree.SubElement(etree.SubElement(mark, qn("w:rPr")), qn("w:rStyle")).set(qn("w:val"), self.ref_style)
            etree.SubElement(mark, qn("w:footnoteRef"))
            run = etree.SubElement(p, qn("w:r"))
            t = etree.SubElement(run, qn("w:t"))
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            t.text = " " + label
        self._part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        return len(self.notes)

    def _ensure_styles(self) -> None:
        styles = self.document.styles.element
        if self.text_style is None:
            styles.append(etree.fromstring(_TEXT_STYLE))
            self.text_style = "FootnoteText"
        if self.ref_style is None:
            styles.append(etree.fromstring(_REF_STYLE))
            self.ref_style = "FootnoteReference"


class SourcesList:
    """The "list" citation style (``[references] citations = "list"``): the same interface as
    :class:`Footnotes` (``cite``, ``reference_run``, ``write``), but a citation stays a bracketed number in the
    text and the document ends with a "Sources" list naming each cited source once.

    Numbers run through the whole document: the first source cited is [1], the next new one [2], and a source
    cited again (by any section: the same file, heading and location) keeps its number, so a section's own
    ``[2]`` may become ``[3]`` in the document. Sections are numbered in the order they are built (the
    manifest's order), then the quoted passages of ``sources.<id>.quote``. The list is a "Sources" paragraph in
    the template's "Heading 2" style (bold Normal text when it has none), then one "[n] label" paragraph per
    source in the template's "Normal" style, appended at the end of the document body (before its last section
    break). ``sources`` maps section id -> its sources (numbered from 1, each with a ``label``)."""

    #: The list's heading.
    HEADING = "Sources"

    def __init__(self, document: Any, sources: Mapping[str, Sequence[Any]]) -> None:
        self.document = document
        self.sources = {sid: {s.number: s for s in srcs} for sid, srcs in sources.items()}
        self.numbers: dict[str, int] = {}  # label -> document-wide number
        self.notes: list[tuple[int, str]] = []

    def cite(self, section_id: str, text: str) -> list[str | int]:
        """As :meth:`Footnotes.cite`; the ints are document-wide source numbers."""
        known = self.sources.get(section_id)
        if not known or "[" not in text:
            return [text]
        out: list[str | int] = []
        at = 0
        for m in CITATION.finditer(text):
            numbers = cited_numbers(m.group(1))
            if not numbers or any(n not in known for n in numbers):
                continue
            before = text[at:m.start()].rstrip(" ") if text[at:m.start()].endswith(" ") else text[at:m.start()]
            out.append(before + " " if before else "")
            out.extend(self._number(known[n].label) for n in numbers)
            at = m.end()
        if at < len(text):
            out.append(text[at:])
        return [p for p in out if p != ""]

    def _number(self, label: str) -> int:
        label = sanitize_text(label)
        if label not in self.numbers:
            self.numbers[label] = len(self.numbers) + 1
            self.notes.append((self.numbers[label], label))
        return self.numbers[label]

    def reference_run(self, number: int):
        """A ``w:r`` with the text ``[number]``."""
        run = etree.Element(qn("w:r"))
        t = etree.SubElement(run, qn("w:t"))
        t.text = f"[{number}]"
        return run

    def write(self) -> int:
        """Append the Sources list to the document body (class docstring); returns how many sources it names."""
        if not self.notes:
            return 0
        body = self.document.element.body
        last = body[-1] if len(body) and body[-1].tag == qn("w:sectPr") else None
        heading = _style_id(self.document.styles.element, "heading 2", "paragraph")
        normal = _style_id(self.document.styles.element, "normal", "paragraph")
        paragraphs = [self._paragraph(self.HEADING, heading, bold=heading is None)]
        paragraphs += [self._paragraph(f"[{n}] {label}", normal) for n, label in self.notes]
        for p in paragraphs:
            if last is not None:
                last.addprevious(p)
            else:
                body.append(p)
        return len(self.notes)

    @staticmethod
    def _paragraph(text: str, style: str | None, *, bold: bool = False):
        p = etree.Element(qn("w:p"))
        if style:
            etree.SubElement(etree.SubElement(p, qn("w:pPr")), qn("w:pStyle")).set(qn("w:val"), style)
        run = etree.SubElement(p, qn("w:r"))
        if bold:
            etree.SubElement(etree.SubElement(run, qn("w:rPr")), qn("w:b"))
        t = etree.SubElement(run, qn("w:t"))
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        t.text = text
        return p


def footnote_texts(document: Any) -> list[str]:
    """The text of every footnote of a python-docx Document (separators excluded), in id order: for read-back
    and tests."""
    part = next((rel.target_part for rel in document.part.rels.values() if rel.reltype == RT.FOOTNOTES), None)
    if part is None:
        return []
    root = etree.fromstring(part.blob)
    out = []
    for note in root.iterfind(qn("w:footnote")):
        if note.get(qn("w:type")) in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        out.append("".join(t.text or "" for t in note.iter(qn("w:t"))).strip())
    return out


__all__ = ["CITATION", "Footnotes", "SourcesList", "cited_numbers", "footnote_texts"]
