"""What a template.docx contains and what is wrong with it, without rendering it (``docgen templates check``).

Problems reported (as messages, never raised), each saying what/where/how to fix:

- Jinja syntax errors, per part, with paragraph number and text (same wording as rendering's
  TemplateSyntaxError);
- no ``{{ }}`` / ``{% %}`` tags at all (e.g. a plain Word document or a content-control template);
- other tools' syntax: docxtemplater ``{name}`` / ``{#loop}``, ``${name}`` placeholders, Word mail-merge fields
  (``MERGEFIELD`` field codes or ``«Name»`` as Word shows them);
- tags where docgen cannot fill them (:func:`unrendered_tags`): comments, charts, SmartArt, building blocks,
  custom XML, core properties other than title/subject/author/comments/language/identifier - anything but the
  body, headers, footers (first-page and even-page too), footnotes and endnotes. They would stay as braces;
- unsafe constructs docgen's sandbox refuses at render time: attributes or keys starting with ``_``
  (``__class__``, ``__globals__`` ...) and the template-internal ``self``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from jinja2 import meta, nodes
from lxml import etree

from docgen.render import errors_map
from docgen.render.docx_template import TAG_FUNCTIONS, _PARA_START, _bad_tag, open_template, template_environment
from docgen.render.parts import paragraph_texts, part_element, tag_parts

_SECTION_REF = re.compile(r"sections(?:\.([A-Za-z_]\w*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")
_BLOCK_REF = re.compile(r"^\{\{p\s+sections(?:\.([A-Za-z_]\w*)|\[\s*['\"]([^'\"]+)['\"]\s*\])\s*\}\}$")
NO_TAGS = "this document has no {{ }} tags; docgen can only fill templates with Jinja tags"


@dataclass(frozen=True)
class TemplateInspection:
    """Result of :func:`inspect_template`.

    ``variables``: names the template reads from the context (Jinja's undeclared variables), sorted.
    ``tags``: part label ("body", "header", "footer", "first-page header", ...) -> tag texts as typed, in order.
    ``sections``: section id -> "block" (``{{p sections.x }}``) or "inline" (``{{ sections.x }}`` in text).
    ``problems``: user-facing messages; empty when the template is usable.
    """

    path: Path
    variables: tuple[str, ...] = ()
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no problems were found."""
        return not self.problems

    @property
    def has_tags(self) -> bool:
        """True when any part has at least one Jinja tag."""
        return any(self.tags.values())


def inspect_template(docx_path: Path) -> TemplateInspection:
    """Inspect ``docx_path``. Raises TemplateNotFound / TemplateError only when the file is missing or is not a
    .docx; everything else is reported in ``problems``."""
    docx_path = Path(docx_path)
    tpl = open_template(docx_path)
    env = template_environment()
    problems: list[str] = []
    tags: dict[str, tuple[str, ...]] = {}
    sections: dict[str, str] = {}
    variables: set[str] = set()
    all_text: list[str] = []
    all_xml: list[str] = []
    syntax_ok = True
    sdt_count = 0
    for ref in tag_parts(tpl.docx):
        element = tpl.docx.element.body if ref.kind == "body" else part_element(ref.part)
        sdt_count += sum(1 for _ in element.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}sdt"))
        xml = etree.tostring(element, encoding="unicode")
        texts = paragraph_texts(element)
        all_text.extend(texts)
        all_xml.append(xml)
        found = [t for text in texts for t in errors_map._TAG.findall(text)]
        if found:
            tags[ref.label] = tuple(found)
        unbalanced = _unbalanced(texts, ref.label, docx_path)
        if unbalanced:
            syntax_ok = False
            problems.extend(unbalanced)
            continue
        problems.extend(cell_spanning_blocks(element, ref.label, docx_path))
        for t in found:
            for m in _SECTION_REF.finditer(t):
                sid = m.group(1) or m.group(2)
                kind = "block" if _BLOCK_REF.match(t.strip()) else "inline"
                if sections.get(sid) != "inline":
                    sections[sid] = kind if sid not in sections else ("inline" if kind == "inline" else sections[sid])
        if not found and not any("{" in t for t in texts):
            continue
        source = _PARA_START.sub(r"\n<w:p\1", tpl.patch_xml(xml))
        try:
            ast = env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            syntax_ok = False
            line = source.split("\n")[(exc.lineno or 1) - 1] if exc.lineno else ""
            needle = _bad_tag(errors_map._TAG.findall(re.sub(r"<[^>]+>", "", line)))
            loc = errors_map.locate(source, exc.lineno, ref.label, texts, needle)
            problems.append(str(errors_map.syntax_error(exc, loc, docx_path, texts)))
            continue
        variables |= meta.find_undeclared_variables(ast)
        problems.extend(_unsafe(ast, ref.label, docx_path))
    if syntax_ok and tags:
        try:
            variables |= set(tpl.get_undeclared_template_variables(jinja_env=env))
        except jinja2.TemplateError:  # pragma: no cover - parts parse alone but not together
            pass
    if not tags and syntax_ok:
        msg = f"{docx_path}: {NO_TAGS}"
        if sdt_count:
            msg += f" (it has {sdt_count} Word content controls, which docgen does not fill)"
        problems.append(msg + "; add tags like {{ name }} where values should go.")
    problems.extend(unrendered_tags(tpl.docx, docx_path))
    joined, xml_all = "\n".join(all_text), "".join(all_xml)
    for desc in errors_map.foreign_syntax(joined, xml_all):
        problems.append(f"{docx_path}: {desc}.")
    variables -= set(TAG_FUNCTIONS)  # chart(...) and image(...) are docgen's functions, not values
    return TemplateInspection(docx_path, tuple(sorted(variables)), tags, sections, tuple(dict.fromkeys(problems)))


_PLAIN_OPEN = re.compile(r"^\{%[-+]?\s*(for|if)\b")
_PLAIN_END = re.compile(r"^\{%[-+]?\s*end(for|if)\b")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _cell_of(paragraph, tables: dict) -> tuple[int, int, int] | None:
    """(table number, row number, cell number), 1-based in document order, of the table cell holding
    ``paragraph`` (an lxml ``w:p``), or None outside tables. ``tables`` caches table numbers."""
    cell = next(paragraph.iterancestors(f"{_W}tc"), None)
    if cell is None:
        return None
    row = cell.getparent()
    table = row.getparent()
    number = tables.setdefault(table, len(tables) + 1)
    rows = [r for r in table if r.tag == f"{_W}tr"]
    cells = [c for c in row if c.tag == f"{_W}tc"]
    return number, rows.index(row) + 1, cells.index(cell) + 1


def _where(label: str, number: int, cell: tuple[int, int, int] | None) -> str:
    if cell is None:
        return f"{label} paragraph {number} (outside any table)"
    return f"{label} paragraph {number} (table {cell[0]}, row {cell[1]}, cell {cell[2]})"


def cell_spanning_blocks(element, label: str, path: Path) -> list[str]:
    """Problems for plain ``{% for %}`` / ``{% if %}`` blocks that open in one table cell and close in another
    (or outside the table). Jinja would repeat or drop raw pieces of the table's XML and Word shows a garbled
    table; docxtpl's ``{%tr %}`` (rows) and ``{%tc %}`` (columns) tags are the ones that repeat table parts.
    ``element`` is the part's root (lxml); paragraphs are numbered as in :mod:`.parts`."""
    tables: dict = {}
    stack: list[tuple[str, int, tuple[int, int, int] | None, str]] = []
    out = []
    for number, p in enumerate(element.iter(f"{_W}p"), 1):
        text = errors_map._norm_quotes("".join(t.text or "" for t in p.iter(f"{_W}t")))
        if "{%" not in text:
            continue
        cell = _cell_of(p, tables)
        for tag in errors_map._TAG.findall(text):
            if m := _PLAIN_OPEN.match(tag):
                stack.append((m.group(1), number, cell, tag))
            elif (m := _PLAIN_END.match(tag)) and stack and stack[-1][0] == m.group(1):
                keyword, start, start_cell, opener = stack.pop()
                if start_cell == cell:
                    continue
                tr, tc = ("{%tr for ... %}", "{%tc for ... %}") if keyword == "for" else ("{%tr if ... %}",
                                                                                          "{%tc if ... %}")
                out.append(
                    f"{path}: the {opener} in {_where(label, start, start_cell)} ends with {tag} in "
                    f"{_where(label, number, cell)}: a plain {{% {keyword} %}} cannot span table cells (Word would "
                    f"show a garbled table). To repeat or hide table rows, put {tr} alone in a row above the row(s) "
                    f"it repeats and {{%tr end{keyword} %}} alone in a row below them; for columns use {tc} and "
                    f"{{%tc end{keyword} %}}; or keep the {{% {keyword} %}} and its {{% end{keyword} %}} in one cell."
                )
    return out


def _unbalanced(texts: list[str], label: str, path: Path) -> list[str]:
    """Paragraphs whose ``{{``/``}}`` or ``{%``/``%}`` do not pair up. A tag cannot span paragraphs, and
    docxtpl's paragraph-level tags (``{{p``) would otherwise swallow the unclosed tag silently."""
    out = []
    for number, text in enumerate(texts, 1):
        if text.count("{{") != text.count("}}") or text.count("{%") != text.count("%}"):
            out.append(
                f"{path}: template syntax error in {label} paragraph {number}: '{text.strip()[:120]}': a tag "
                "is opened but not closed in the same paragraph. Check that every {{ has a matching }} and every "
                "{% a matching %}; a tag cannot continue into the next paragraph."
            )
    return out


def _unsafe(ast: nodes.Template, label: str, path: Path) -> list[str]:
    out = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        bad = None
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            bad = f".{node.attr}"
        elif (isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const)
              and str(node.arg.value).startswith("_")):
            bad = f"[{node.arg.value!r}]"
        elif isinstance(node, nodes.Name) and node.name == "self":
            bad = "self"
        if bad:
            out.append(
                f"{path}: a tag in the {label} uses '{bad}', which docgen's sandbox forbids (internal attributes "
                "and objects); remove it and use only your data's names."
            )
    return out


_PART_NAMES = (
    ("comments", "a comment"), ("chart", "a chart"), ("diagram", "a SmartArt diagram"),
    ("glossary", "the building blocks (glossary)"), ("customXml", "custom XML data"),
    ("extended-properties", "the extended document properties"), ("settings", "the document settings"),
)
#: core properties docxtpl renders; tags in the others stay as typed
_RENDERED_CORE = ("title", "subject", "author", "comments", "language", "identifier")
_OTHER_CORE = ("keywords", "category", "content_status", "last_modified_by", "version")


def unrendered_tags(document, path: Path) -> list[str]:
    """Problems for tags in places docgen does not render (see the module docstring), naming the tag and
    the place. The parts :func:`.parts.tag_parts` lists are rendered; so are the core properties
    ``_RENDERED_CORE``."""
    rendered = {id(ref.part) for ref in tag_parts(document)}
    out = []
    core_part = document.core_properties._element
    for part in document.part.package.iter_parts():
        if id(part) in rendered or not part.content_type.endswith("xml"):
            continue
        if getattr(part, "element", None) is core_part:
            continue
        try:
            text = " ".join(etree.fromstring(part.blob).itertext())
        except etree.XMLSyntaxError:
            continue
        found = list(dict.fromkeys(errors_map._TAG.findall(text)))
        if not found:
            continue
        ct = part.content_type + str(part.partname)
        name = next((label for key, label in _PART_NAMES if key in ct), f"the part {part.partname}")
        out.append(_unrendered(path, found, f"{name} ({str(part.partname).lstrip('/')})"))
    props = document.core_properties
    for attr in _OTHER_CORE:
        found = errors_map._TAG.findall(str(getattr(props, attr, "") or ""))
        if found:
            out.append(_unrendered(path, found, f"the document property '{attr.replace('_', ' ')}'"))
    return out


def _unrendered(path: Path, tags: list[str], where: str) -> str:
    shown = ", ".join(f"'{t}'" for t in tags[:3]) + (" ..." if len(tags) > 3 else "")
    return (f"{path}: {shown} in {where} will not be filled: docgen fills tags in the body (tables and text boxes "
            "included), headers, footers, footnotes and endnotes, and the title, subject, author and comments "
            "properties. Move the tag there, or remove it.")
