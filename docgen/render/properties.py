"""Provenance in the written document's properties, as Word keeps them.

Where things go (readable in Word under File > Info > Properties > Advanced Properties, and by
:func:`read_provenance` / :func:`docgen.render.read_back`):

- custom properties (``docProps/custom.xml``): one text property (``vt:lpwstr``) per provenance key, named
  exactly as the key (``docgen_version``, ``template_id``, ``model_sha256``, ``seed``, ``row``...). A template's
  own custom properties are kept; one with the same name (compared case-insensitively, like Word) gets our value;
  new ones get the next free ``pid`` (from 2 upward). Names and values are sanitized (:mod:`.sanitize`); the XML
  is built with lxml, so ``&``, ``<``... are escaped;
- core properties (``docProps/core.xml``; python-docx limits each string to 255 characters, so they stay short):
  ``title``: the template's name, when the context has ``template.name`` and the .docx has no title of its own;
  ``subject``: ``"<template id> <template version>"`` when known; ``comments``: one human sentence ("Written by
  docgen 0.1.0 from template X 1.0.0 with model Y (seed 42), row 7 of data.csv."), cut to 255 characters;
  ``keywords``: ``"docgen"``; ``last_modified_by``: ``"docgen"``; ``revision``: 1; ``created``/``modified``:
  not "now" - for byte-identical output they come from ``SOURCE_DATE_EPOCH``, else the provenance's
  ``modified`` value, else they are left out (:mod:`.reproducible`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from docgen.render.reproducible import document_date, set_core_dates
from docgen.render.sanitize import sanitize_text

CT_CUSTOM_PROPERTIES = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
RT_CUSTOM_PROPERTIES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
FMTID_USER = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the format id Word uses for user-defined properties
CUSTOM_PARTNAME = "/docProps/custom.xml"

CORE_LIMIT = 255  # python-docx raises ValueError above this for core string properties
_PROP = f"{{{NS_CUSTOM}}}property"
_NSMAP = {None: NS_CUSTOM, "vt": NS_VT}


def set_provenance(document, provenance: Mapping[str, str] | None, template: Mapping[str, Any] | None) -> None:
    """Write ``provenance`` as custom properties and the template's identity + a short summary into the core
    properties of ``document`` (a python-docx Document). See the module docstring."""
    props = document.core_properties
    if template:
        name = sanitize_text(str(template.get("name") or "")).strip()
        if name and not (props.title or "").strip():
            props.title = _short(name)
        tid, ver = template.get("id"), template.get("version")
        if tid:
            props.subject = _short(sanitize_text(f"{tid} {ver}" if ver else str(tid)))
    if provenance:
        clean = {sanitize_text(str(k)).strip(): sanitize_text(str(v)) for k, v in provenance.items()}
        clean = {k: v for k, v in clean.items() if k}
        set_custom_properties(document, clean)
        props.comments = _short(summary(clean))
    props.keywords = "docgen"
    props.last_modified_by = "docgen"
    set_core_dates(props, document_date(provenance))
    props.revision = 1


def summary(provenance: Mapping[str, str]) -> str:
    """One sentence for the ``comments`` core property, from the usual provenance keys (any may be missing)."""
    p = {k: v.strip() for k, v in provenance.items()}
    text = "Written by docgen"
    if p.get("docgen_version"):
        text += f" {p['docgen_version']}"
    if p.get("template_id"):
        text += f" from template {p['template_id']}"
        if p.get("template_version"):
            text += f" {p['template_version']}"
    if p.get("model_file"):
        text += f" with model {p['model_file']}"
        if p.get("seed"):
            text += f" (seed {p['seed']})"
    if p.get("row"):
        text += f", row {p['row']}"
        if p.get("data_file"):
            text += f" of {p['data_file']}"
    elif p.get("data_file"):
        text += f", data {p['data_file']}"
    text = " ".join(text.split())  # no line breaks in a one-line summary
    return text + ". Details in the custom document properties."


def _short(text: str, limit: int = CORE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (code points, so never half a character), ending in "…" if cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- custom properties (docProps/custom.xml) -------------------------------------------------------------------------

def set_custom_properties(document, values: Mapping[str, str]) -> None:
    """Add or update text custom properties ``values`` (already sanitized) in ``document``'s package, keeping
    every other custom property the package already has."""
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    package = document.part.package
    rel = next((r for r in package.rels.values() if r.reltype == RT_CUSTOM_PROPERTIES and not r.is_external), None)
    root = _parse(rel.target_part.blob) if rel is not None else None
    if root is None:
        root = etree.Element(f"{{{NS_CUSTOM}}}Properties", nsmap=_NSMAP)
    _update(root, values)
    blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    if rel is not None:
        partname = rel.target_part.partname
    else:
        taken = {str(p.partname) for p in package.iter_parts()}
        partname = CUSTOM_PARTNAME
        if partname in taken:
            partname = str(package.next_partname("/docProps/custom%d.xml"))
    part = Part(PackURI(str(partname)), CT_CUSTOM_PROPERTIES, blob, package)
    if rel is not None:  # same rId, new target: the old part is no longer reachable and is not saved
        package.rels.add_relationship(RT_CUSTOM_PROPERTIES, part, rel.rId)
    else:
        package.relate_to(part, RT_CUSTOM_PROPERTIES)


def _parse(blob: bytes):
    """The ``Properties`` root of a custom.xml, or None if it is not one (then docgen writes a fresh part)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(blob, parser)
    except etree.XMLSyntaxError:
        return None
    return root if root.tag == f"{{{NS_CUSTOM}}}Properties" else None


def _update(root, values: Mapping[str, str]) -> None:
    existing = {}
    pids = [1]
    for prop in root.iter(_PROP):
        existing.setdefault((prop.get("name") or "").casefold(), prop)
        try:
            pids.append(int(prop.get("pid") or 0))
        except ValueError:
            pass
    next_pid = max(pids) + 1
    for name, value in values.items():
        prop = existing.get(name.casefold())
        if prop is None:
            prop = etree.SubElement(root, _PROP, fmtid=FMTID_USER, pid=str(next_pid), name=name)
            existing[name.casefold()] = prop
            next_pid += 1
        for child in list(prop):  # a property holds exactly one value element: replace whatever type it had
            prop.remove(child)
        etree.SubElement(prop, f"{{{NS_VT}}}lpwstr").text = value


def custom_properties(document) -> dict[str, str]:
    """All custom properties of ``document`` (a python-docx Document), name -> value as text (numbers, booleans
    and dates as written in the XML); {} when there are none or the part is not readable."""
    package = document.part.package
    rel = next((r for r in package.rels.values() if r.reltype == RT_CUSTOM_PROPERTIES and not r.is_external), None)
    root = _parse(rel.target_part.blob) if rel is not None else None
    if root is None:
        return {}
    out: dict[str, str] = {}
    for prop in root.iter(_PROP):
        name = prop.get("name")
        if name and name not in out:
            out[name] = "".join(prop.itertext())
    return out


def read_provenance(docx_path: Path | str) -> dict[str, str]:
    """The custom properties of the .docx at ``docx_path`` - docgen's provenance (``docgen_version``,
    ``template_id``, ``model_sha256``, ``seed``, ``row``...) plus any the template had of its own.
    TemplateError when it is not a Word file or a part passes the bounds of :mod:`docgen.limits`
    (:func:`.package.word_package`); other python-docx errors propagate."""
    import docx

    from docgen.render.package import word_package

    return custom_properties(docx.Document(word_package(Path(docx_path))))
