"""The rehearsal of a document (:func:`docgen.pipeline.rehearse`) without building a second document.

A batch document used to be rendered twice: once with placeholder section text before the model runs (so a tag
naming a value the record lacks fails in a fraction of a second, not after minutes of generation), and once for
real. The rehearsal only has to *evaluate the tags*: :func:`rehearse_document` renders the template's parts -
body, headers, footers, footnotes, endnotes, core properties - as compiled Jinja templates with the record's
context and placeholder sections and throws the text away. No .docx is opened, no section is built into Word
paragraphs, nothing is parsed back or saved; the one real render is the written document's.

The parts' sources are what docxtpl would render: each part patched by :class:`.docx_template.DocgenTemplate`
(split tags joined, ``{{p }}``/``{{r }}`` rewritten, paragraph stamps), read once per template file (path, size,
modification time) and kept for :data:`KEEP` template files; compiled once (:func:`docgen.jinja.compiled`).

Where the tags alone do not tell: a template with ``[[charts]]`` or that calls ``chart(...)`` / ``image(...)``
(they add parts to the document and check pictures and chart bindings) gets the full in-memory render of
:func:`.docx_template.render_document` instead. When evaluating the tags fails, the full render runs too, so the
error is the same message, with the part and paragraph, as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import meta
from markupsafe import Markup

from docgen.jinja import compiled
from docgen.model import ChartSpec, Dataset
from docgen.render.docx_template import (RUN_PROPS, TAG_FUNCTIONS, SectionText, _shared_env, jinja_source,
                                         json_section, open_template, render_document)
from docgen.render.markdown import markdown_to_plain
from docgen.render.parts import tag_parts
from docgen.render.sanitize import sanitize_text, sanitize_value
from docgen.sandbox import render_budget

#: template files whose patched parts are kept (a batch uses one; the GUI switches between a few)
KEEP = 8
_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")


@dataclass(frozen=True)
class PartSources:
    """What docxtpl renders of one template file: the patched XML of each part that holds tags, the core
    properties' text, the ``{{r }}`` tags' run properties, and whether the tags call ``chart``/``image``."""

    xml: tuple[str, ...]
    properties: tuple[str, ...]
    run_props: tuple[str, ...]
    media: bool


_cache: OrderedDict[tuple[str, int, int], PartSources] = OrderedDict()
_lock = threading.Lock()


def part_sources(docx_path: Path) -> PartSources:
    """The :class:`PartSources` of ``docx_path``, read once per (path, size, modification time). Raises what
    :func:`.docx_template.open_template` raises (TemplateNotFound, TemplateError)."""
    path = Path(docx_path)
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    except OSError:
        key = None
    if key is not None:
        with _lock:
            found = _cache.get(key)
            if found is not None:
                _cache.move_to_end(key)
                return found
    tpl = open_template(path)
    tpl.run_props = []
    doc = tpl.get_docx()
    xml = [tpl.patch_xml(tpl.get_xml())]  # as docxtpl's render reads each part
    for ref in tag_parts(doc):
        if ref.kind in ("header", "footer"):
            xml.append(tpl.patch_xml(tpl.get_part_xml(ref.part)))
        elif ref.kind != "body":
            blob = ref.part.blob
            xml.append(tpl.patch_xml(blob.decode("utf-8") if isinstance(blob, bytes) else blob))
    xml = [jinja_source(x) for x in xml]
    core = doc.core_properties
    env = _shared_env(True)
    names: set[str] = set()
    for source in xml:
        names |= meta.find_undeclared_variables(env.parse(source))
    found = PartSources(tuple(xml), tuple(getattr(core, p) or "" for p in _PROPERTIES), tuple(tpl.run_props),
                        bool(names & set(TAG_FUNCTIONS)))
    if key is not None:
        with _lock:
            _cache[key] = found
            while len(_cache) > KEEP:
                _cache.popitem(last=False)
    return found


def placeholder_sections(sections: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """``context["sections"]`` for evaluating tags: each section's plain text (as placed inline) with a one-paragraph
    block, json sections parsed, as :func:`.docx_template.build_sections` gives them minus the Word XML."""
    out: dict[str, Any] = {}
    for sid, (fmt, text) in sections.items():
        data = json_section(text or "") if fmt == "json" else None
        if data is not None:
            out[str(sid)] = data
            continue
        text = sanitize_text(text or "")
        plain = markdown_to_plain(text) if fmt == "markdown" else text.strip()
        out[str(sid)] = SectionText(plain, Markup("<w:p><w:r><w:t>%s</w:t></w:r></w:p>") % plain)
    return out


def rehearse_document(docx_path: Path, context: Mapping[str, Any], sections: Mapping[str, tuple[str, str]], *,
                      record: str | None = None, charts: Sequence[ChartSpec] = (), dataset: Dataset | None = None,
                      strict_images: bool = False) -> None:
    """Evaluate every tag of template ``docx_path`` with ``context`` and ``sections`` (id -> (format, text), the
    placeholders) and write nothing (module docstring). Raises what :func:`.docx_template.render_document`
    raises for the same inputs (MissingValues naming tag, record and closest names; TemplateSyntaxError;
    DataError for a missing picture when ``strict_images``; TemplateError for a chart binding)."""
    full = dict(record=record, charts=charts, dataset=dataset, strict_images=strict_images)
    if charts:
        render_document(docx_path, context, sections, None, **full)
        return
    sources = part_sources(docx_path)
    if sources.media:
        render_document(docx_path, context, sections, None, **full)
        return
    ctx = sanitize_value(dict(context))
    ctx["sections"] = placeholder_sections(sections)
    ctx["sources"] = {}
    ctx[RUN_PROPS] = sources.run_props
    try:
        with render_budget():
            for source in sources.xml:
                compiled(_shared_env(True), source).render(ctx)
            for text in sources.properties:
                compiled(_shared_env(False), text).render(ctx)
    except Exception:  # the full render raises the same error, located (part, paragraph), as before
        render_document(docx_path, context, sections, None, **full)
