"""Markdown links as real Word hyperlinks (``w:hyperlink`` + an external relationship of the part).

A section is built before docxtpl decides where it goes (body, a header, a footnote...), and a hyperlink's
``r:id`` must name a relationship of the part it ends up in. So :func:`wrap_hyperlink` marks the link with a
temporary ``docgen-href`` attribute holding the address, and :func:`resolve_hyperlinks`, run on each rendered
part, adds the relationship to that part (python-docx reuses one per address) and sets ``r:id``.

Link text gets the template's "Hyperlink" character style when it has one, else blue (0563C1, Word's
default) single underline as direct formatting. Only ``http``, ``https``, ``mailto`` and ``ftp`` addresses
become links (markdown-it already refuses ``javascript:`` and the like); others stay text.
"""

from __future__ import annotations

import re

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree

from docgen.render.scripts import RPR_ORDER, reorder

HREF_ATTR = "docgen-href"
LINK_COLOR = "0563C1"
_SCHEMES = re.compile(r"(?i)^(https?|mailto|ftp):")


def linkable(href: str | None) -> bool:
    """True when ``href`` becomes a Word hyperlink (an absolute http/https/mailto/ftp address)."""
    return bool(href) and bool(_SCHEMES.match(href or ""))


def wrap_hyperlink(runs, href: str, char_style_id: str | None) -> None:
    """Move ``runs`` (consecutive ``w:r`` siblings in a paragraph) into a new ``w:hyperlink`` for ``href``."""
    if not runs:
        return
    link = etree.Element(qn("w:hyperlink"))
    link.set(HREF_ATTR, href)
    link.set(qn("w:history"), "1")
    runs[0].addprevious(link)
    for r in runs:
        link.append(r)
        rpr = r.find(qn("w:rPr"))
        if rpr is None:
            rpr = etree.Element(qn("w:rPr"))
            r.insert(0, rpr)
        if char_style_id:
            style = etree.SubElement(rpr, qn("w:rStyle"))
            style.set(qn("w:val"), char_style_id)
        else:
            color = rpr.find(qn("w:color")) if rpr.find(qn("w:color")) is not None else etree.SubElement(
                rpr, qn("w:color"))
            color.set(qn("w:val"), LINK_COLOR)
            u = rpr.find(qn("w:u")) if rpr.find(qn("w:u")) is not None else etree.SubElement(rpr, qn("w:u"))
            u.set(qn("w:val"), "single")
        reorder(rpr, RPR_ORDER)


def resolve_hyperlinks(part, element) -> int:
    """Give every marked ``w:hyperlink`` under ``element`` a relationship of ``part``; returns how many."""
    links = [e for e in element.iter(qn("w:hyperlink")) if e.get(HREF_ATTR) is not None]
    for link in links:
        href = link.attrib.pop(HREF_ATTR)
        link.set(qn("r:id"), part.relate_to(href, RT.HYPERLINK, is_external=True))
    return len(links)
