"""List numbering in the main document's numbering part (word/numbering.xml).

Word numbers paragraphs through ``w:numPr`` (``w:numId`` + ``w:ilvl``); ``w:num`` instances point at a
``w:abstractNum`` (the formats and indents per level). Paragraphs of *different* ``w:num`` instances that share
an abstractNum continue one count unless the ``w:num`` has ``w:lvlOverride/w:startOverride`` (ECMA-376 part 1,
17.9.8). python-docx does not create either, so this module does:

- two abstractNums of docgen's own per document (bullets: bullet / circle / square; numbers: ``1.`` / ``a.`` /
  ``i.``; 9 levels, 0.5" indent per level), created once and reused;
- bullet lists share one ``w:num``;
- every numbered list gets a fresh ``w:num`` with a ``startOverride`` on every level, so each list restarts
  at 1 (or at the list's own start number).

If the document has no numbering part, one is created and related to the document part.
"""

from __future__ import annotations

from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.parts.numbering import NumberingPart

_BULLETS = ("\u2022", "\u25e6", "\u25aa")
_NUMBER_FORMATS = ("decimal", "lowerLetter", "lowerRoman")


def _numbering_part(document_part) -> NumberingPart:
    try:
        return document_part.part_related_by(RT.NUMBERING)
    except KeyError:
        pass
    existing = {str(p.partname) for p in document_part.package.iter_parts()}
    name, i = "/word/numbering.xml", 1
    while name in existing:
        i += 1
        name = f"/word/numbering{i}.xml"
    element = parse_xml(f"<w:numbering {nsdecls('w')}/>")
    part = NumberingPart(PackURI(name), CT.WML_NUMBERING, element, document_part.package)
    document_part.relate_to(part, RT.NUMBERING)
    return part


def _level_xml(kind: str, ilvl: int) -> str:
    indent = 720 * (ilvl + 1)
    if kind == "bullet":
        fmt, text = "bullet", _BULLETS[ilvl % 3]
    else:
        fmt, text = _NUMBER_FORMATS[ilvl % 3], f"%{ilvl + 1}."
    return (
        f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
        f'<w:pPr><w:ind w:left="{indent}" w:hanging="360"/></w:pPr></w:lvl>'
    )


class ListNumbering:
    """Creates numbering definitions in one document's numbering part. One instance per rendered document.

    ``bullet_num_id()`` returns the shared numId for bullet lists; ``new_number_list(start)`` returns a new numId
    whose every level restarts at ``start`` (level 0) / 1 (deeper levels).
    """

    def __init__(self, document_part):
        self._part = _numbering_part(document_part)
        self._root = self._part.element
        self._abstract: dict[str, int] = {}
        self._bullet_num: int | None = None

    def _next_id(self, tag: str, attr: str) -> int:
        ids = [int(e.get(qn(attr))) for e in self._root.findall(qn(tag)) if e.get(qn(attr), "").isdigit()]
        return max(ids, default=0) + 1

    def _abstract_id(self, kind: str) -> int:
        if kind not in self._abstract:
            aid = self._next_id("w:abstractNum", "w:abstractNumId")
            levels = "".join(_level_xml(kind, i) for i in range(9))
            el = parse_xml(
                f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{aid}">'
                f'<w:multiLevelType w:val="hybridMultilevel"/>{levels}</w:abstractNum>'
            )
            # schema order: all abstractNum elements before the first num
            first_num = self._root.find(qn("w:num"))
            if first_num is not None:
                first_num.addprevious(el)
            else:
                self._root.append(el)
            self._abstract[kind] = aid
        return self._abstract[kind]

    def _add_num(self, kind: str, start: int | None) -> int:
        aid = self._abstract_id(kind)
        nid = self._next_id("w:num", "w:numId")
        overrides = ""
        if start is not None:
            overrides = "".join(
                f'<w:lvlOverride w:ilvl="{i}"><w:startOverride w:val="{start if i == 0 else 1}"/></w:lvlOverride>'
                for i in range(9)
            )
        el = parse_xml(f'<w:num {nsdecls("w")} w:numId="{nid}"><w:abstractNumId w:val="{aid}"/>{overrides}</w:num>')
        # w:numIdMacAtCleanup (if any) must stay last
        cleanup = self._root.find(qn("w:numIdMacAtCleanup"))
        if cleanup is not None:
            cleanup.addprevious(el)
        else:
            self._root.append(el)
        return nid

    def bullet_num_id(self) -> int:
        """The numId shared by all bullet lists of the document."""
        if self._bullet_num is None:
            self._bullet_num = self._add_num("bullet", None)
        return self._bullet_num

    def new_number_list(self, start: int = 1) -> int:
        """A fresh numId for one numbered list, restarting at ``start``."""
        return self._add_num("number", max(0, int(start)))
