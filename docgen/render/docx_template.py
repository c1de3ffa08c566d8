"""docxtpl wrapper: open a template.docx, build ``sections``, render with docgen's sandboxed environment,
map errors to docgen errors, save atomically with provenance.

How sections are placed (the rule template authors follow; DESIGN.md section 2):

- ``{{p sections.<id> }}`` (alone in its paragraph) is a *block*: the paragraph is replaced by the section's
  real Word paragraphs (headings, lists, tables for ``markdown``; paragraphs and line breaks for ``text``; one
  paragraph for ``choice``). They are built in a :class:`.fragment.Fragment` - docxtpl's Subdoc
  technique (a body sharing the main document's part) without docxcompose - so styles are looked up in the
  template's own styles part and list definitions land in the template's numbering part; docxtpl's ``{{p }}``
  puts the XML in place of the tag's paragraph. A str cannot be both plain text and XML, so
  :class:`DocgenTemplate` rewrites every ``{{p EXPR }}`` to ``{{p (EXPR)|docgen_block }}`` before docxtpl
  patches the XML; :func:`block_filter` returns a section's paragraphs, and wraps any other value (a field,
  ``{{p mysubdoc }}`` of a docxtpl example given a string) in one plain paragraph instead of breaking the XML.
  Likewise ``{{r EXPR }}`` becomes ``{{r (EXPR)|docgen_run(N) }}``: the value as one run keeping the
  formatting of the run the tag was typed in (docxtpl expects a RichText there and drops plain strings).
- ``{{ sections.<id> }}`` inline (inside a sentence, or ``{{r }}``) is the section as *plain text*: Markdown
  markup removed, blocks separated by line breaks, list items prefixed with "•" or their number. Each section
  is a ``str`` subclass, so ``{% if sections.mood == "positive" %}`` and filters work.
- a ``json`` section is its parsed object (:class:`SectionData`, a dict): ``{{ sections.facts.mood }}``,
  ``{% for t in sections.facts.topics %}``; as a whole it prints as compact JSON.

Charts and pictures (:mod:`.charts`, :mod:`.chart_tag`, :mod:`.images`): ``{{ chart(...) }}`` and
``{{ image(...) }}`` are functions of the environment (:data:`TAG_FUNCTIONS`), and the charts of the template
that ``[[charts]]`` binds are filled after the tags are rendered.

Values: ``context`` is sanitized (:mod:`.sanitize`) and autoescaped, so ``&``, ``<``, ``>`` and strings like
``<|im_end|>`` appear literally. docxtpl itself turns ``\\n`` in a value into a line break and ``\\t`` into a tab;
a blank line in a value starts a new paragraph with the tag paragraph's properties (:mod:`.paragraphs`).
"""

from __future__ import annotations

import io
import json
import re
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from docxtpl import DocxTemplate
from lxml import etree
from markupsafe import Markup

from docgen.errors import DocgenError, RenderError, TemplateError, TemplateNotFound
from docgen.jinja import compiled, make_environment
from docgen.model import ChartSpec, Dataset, Mark
from docgen.render import errors_map
from docgen.render.images import ImageSource, as_block, as_run
from docgen.render.atomic import atomic_write, prepare_folder
from docgen.render.citations import Footnotes, SourcesList
from docgen.render.comments import CLOSE, OPEN, anchor_comments, wrap_marked
from docgen.render.finish import finish_document
from docgen.render.fragment import Fragment
from docgen.render.markdown import MarkdownWriter, StyleMap, _Fmt, markdown_to_plain
from docgen.render.numbering import ListNumbering
from docgen.render.package import word_package
from docgen.render.paragraphs import blank_lines_to_paragraphs
from docgen.render.parts import paragraph_texts, part_element, tag_parts
from docgen.render.properties import set_provenance
from docgen.render.reproducible import package_bytes
from docgen.render.sanitize import sanitize_text, sanitize_value
from docgen.render.split_tags import join_split_tags
from docgen.sandbox import render_budget

_BLOCK_TAG = re.compile(r"\{\{p\s+(.+?)\s*\}\}", re.S)
_RUN = re.compile(r"<w:r(?:\s[^>]*)?>.*?</w:r>", re.S)
_RUN_TAG = re.compile(r"\{\{r\s+(.+?)\s*\}\}", re.S)
_RPR = re.compile(r"<w:rPr>.*?</w:rPr>", re.S)
_PARA_START = re.compile(r"<w:p([ >])")
_PARA_ANY = re.compile(r"<w:p([ >/])")
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_STAMP_ATTR = re.compile(r' docgen-p="\d+"')
#: functions template.docx may call besides its context's values (not "unknown names" for the checks)
TAG_FUNCTIONS = ("chart", "image")


def stamp_paragraphs(xml: str) -> str:
    """Add ``docgen-p="N"`` to every ``<w:p`` (N = 1, 2, ... in document order); see :mod:`.errors_map`."""
    counter = iter(range(1, 1 << 30))
    return _PARA_ANY.sub(lambda m: f'<w:p docgen-p="{next(counter)}"{m.group(1)}', xml)


def jinja_source(patched_xml: str) -> str:
    """The Jinja source docxtpl renders for a patched part: a line break before every paragraph (so Jinja's line
    numbers count paragraphs, which error messages use)."""
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", patched_xml)


class SectionText(str):
    """A section as placed in the context: the ``str`` value is the plain text (inline use); ``.block`` is the
    Word XML of its paragraphs (used by ``{{p sections.x }}``)."""

    block: Markup

    def __new__(cls, plain: str, block: str):
        obj = super().__new__(cls, plain)
        obj.block = Markup(block)
        return obj


class SectionData(dict):
    """A ``json`` section as placed in the context: the parsed object (sanitized), so tags reach its fields
    (``{{ sections.facts.mood }}``, ``{% for t in sections.facts.topics %}``); as text it is compact JSON.
    Fields named like dict methods (``items``, ``keys``...) need ``sections.facts["items"]``."""

    def __str__(self) -> str:
        return json.dumps(self, ensure_ascii=False, default=str)


def json_section(text: str) -> Any:
    """The value of a ``json`` section: :class:`SectionData` for a JSON object, the sanitized value for other
    JSON, or None when ``text`` is not JSON (an edited section; it is then placed as plain text)."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    value = sanitize_value(value)
    return SectionData(value) if isinstance(value, dict) else value


class DocgenTemplate(DocxTemplate):
    """DocxTemplate with docgen's rules: ``{{p X }}`` -> ``{{p (X)|docgen_block }}`` and ``{{r X }}`` ->
    ``{{r (X)|docgen_run(N) }}`` (plain values work in both), paragraph stamps for error locations, core
    properties rendered without XML escaping, tables without ``w:tblGrid`` tolerated, and Jinja errors recorded
    with their part (``self.failure``)."""

    def patch_xml(self, src_xml):  # noqa: D102 - docxtpl hook
        src_xml = join_split_tags(src_xml)
        src_xml = _BLOCK_TAG.sub(r"{{p (\1)|docgen_block }}", src_xml)
        src_xml = _RUN.sub(self._rewrite_run_tags, src_xml)
        return super().patch_xml(stamp_paragraphs(src_xml))

    def _rewrite_run_tags(self, m: re.Match) -> str:
        run = m.group(0)
        if "{{r" not in run:
            return run
        props = getattr(self, "run_props", None)
        if props is None:
            props = self.run_props = []
        rpr = _RPR.search(run)
        props.append(rpr.group(0) if rpr else "")
        index = len(props) - 1
        return _RUN_TAG.sub(lambda t: "{{r (%s)|docgen_run(%d) }}" % (t.group(1), index), run)

    def resolve_listing(self, xml):  # noqa: D102 - docxtpl hook: a blank line in a value starts a new paragraph
        return super().resolve_listing(blank_lines_to_paragraphs(xml))

    def render_init(self):  # noqa: D102 - docxtpl hook
        super().render_init()
        self.failure: tuple[BaseException, errors_map.Location, list[str]] | None = None
        self._labels = {id(r.part): r for r in tag_parts(self.docx)}

    def render_xml_part(self, src_xml, part, context, jinja_env=None):  # noqa: D102 - docxtpl hook
        # docxtpl's render_xml_part, with the part's Jinja template compiled once per batch (docgen.jinja.compiled:
        # every document of a batch has the same parts) instead of once per document
        try:
            self.current_rendering_part = part
            dst = compiled(jinja_env or _shared_env(True), jinja_source(src_xml)).render(context)
        except Exception as exc:
            self.failure = (exc, *self._locate(exc, src_xml, part))
            raise
        dst = re.sub(r"\n<w:p([ >])", r"<w:p\1", dst)
        dst = dst.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        return _STAMP_ATTR.sub("", self.resolve_listing(dst))

    def fix_tables(self, xml):  # noqa: D102 - docxtpl hook
        # docxtpl 0.20.2 crashes on a w:tbl without w:tblGrid (real Word files have them, e.g. invoice2013.docx):
        # give such tables a temporary empty grid for its column fix-up, then take it away again.
        tree = etree.fromstring(xml, etree.XMLParser(recover=True))
        w = tree.nsmap.get("w", _W_NS)
        missing = [t for t in tree.iter(f"{{{w}}}tbl") if t.find(f"{{{w}}}tblGrid") is None]
        if not missing:
            return super().fix_tables(xml)
        for t in missing:
            grid = etree.SubElement(t, f"{{{w}}}tblGrid")
            grid.set("docgen-tmp", "1")
        tree = super().fix_tables(etree.tostring(tree, encoding="unicode"))
        for grid in tree.xpath("//*[@docgen-tmp]"):
            grid.getparent().remove(grid)
        return tree

    def render_footnotes(self, context, jinja_env=None):  # noqa: D102 - docxtpl hook
        # docxtpl renders the footnotes part once per *section* (so twice in a two-section document, re-reading
        # rendered text as a template) and skips endnotes: render each notes part exactly once.
        for ref in tag_parts(self.docx):
            if ref.kind in ("footnotes", "endnotes"):
                part = ref.part
                xml = part.blob.decode("utf-8") if isinstance(part.blob, bytes) else part.blob
                xml = self.render_xml_part(self.patch_xml(xml), part, context, jinja_env)
                part._blob = xml.encode("utf-8")

    def render_properties(self, context, jinja_env=None):  # noqa: D102 - docxtpl hook
        # core properties are plain text: render them without XML autoescaping (docxtpl would give "&amp;");
        # the same string attributes docxtpl renders, each compiled once (docgen.jinja.compiled)
        env = _shared_env(False)
        core = self.docx.core_properties
        for prop in ("author", "comments", "identifier", "language", "subject", "title"):
            setattr(core, prop, compiled(env, getattr(core, prop)).render(context))

    def save(self, filename, *args, **kwargs) -> None:  # noqa: D102 - docxtpl API
        # docxtpl's save (python-docx's zip, with the time of day in every entry) and then normalized_zip would
        # compress every part twice; this writes the reproducible package in one pass (.reproducible)
        self.pre_processing()  # docxtpl's replace_pic; docgen's renders use none of docxtpl's replacements
        data = package_bytes(self.docx.part.package)
        if hasattr(filename, "write"):
            filename.write(data)
        else:
            Path(filename).write_bytes(data)
        self.is_saved = True

    def _locate(self, exc: BaseException, src_xml: str, part) -> tuple[errors_map.Location, list[str]]:
        ref = self._labels.get(id(part))
        label = ref.label if ref else "document"
        try:
            texts = paragraph_texts(part_element(part) if part is not self.docx.part else self.docx.element.body)
        except Exception:  # pragma: no cover - unreadable part
            texts = []
        source = _PARA_START.sub(r"\n<w:p\1", src_xml)
        lineno = getattr(exc, "lineno", None)
        needle = None
        if isinstance(exc, jinja2.UndefinedError):
            lineno = _template_lineno(exc)
            m = re.search(r"'([^']+)' is undefined|has no (?:attribute|element) '?([^']+?)'?$", str(exc))
            needle = (m.group(1) or m.group(2)) if m else None
        elif isinstance(exc, jinja2.TemplateSyntaxError):
            line = source.split("\n")[(lineno or 1) - 1] if lineno else ""
            tags = errors_map._TAG.findall(re.sub(r"<[^>]+>", "", line))
            needle = _bad_tag(tags)
        elif lineno is None:
            lineno = _template_lineno(exc)
        return errors_map.locate(source, lineno, label, texts, needle), texts


def block_filter(value: Any) -> Markup:
    """Jinja filter ``docgen_block`` used by ``{{p ... }}``: a section's Word paragraphs, or any other value as
    one paragraph of (escaped) text. ``None`` gives an empty paragraph; an undefined value raises as usual."""
    if isinstance(value, SectionText):
        return value.block
    drawing = as_block(value)  # {{p chart(...) }} / {{p image(...) }}
    if drawing is not None:
        return drawing
    text = "" if value is None else sanitize_text(str(value))
    return Markup('<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>') % text


def run_filter(value: Any, rpr: str = "") -> Markup:
    """One ``w:r`` holding ``value`` as (escaped) text with run properties ``rpr`` (XML). docxtpl expects a
    RichText for ``{{r }}``; a plain value would otherwise end up outside any run and vanish."""
    text = "" if value is None else sanitize_text(str(value))
    return Markup('<w:r>%s<w:t xml:space="preserve">%s</w:t></w:r>') % (Markup(rpr), text)


#: render-context key holding the rendering template's run properties for ``docgen_run`` (see :func:`_run_in`)
RUN_PROPS = "_docgen_run_props"


@jinja2.pass_context
def _run_in(context, value: Any, index: int = -1) -> Markup:
    """Filter ``docgen_run`` of the shared environment: :func:`run_filter` with the run properties the
    rendering template recorded for tag ``index`` (context key :data:`RUN_PROPS`)."""
    props = context.get(RUN_PROPS) or ()
    return run_filter(value, props[index] if 0 <= index < len(props) else "")


def template_environment():
    """docgen's sandboxed, strict, autoescaping environment (:func:`docgen.jinja.make_environment`) plus the
    ``docgen_block`` filter that ``{{p }}`` tags are rewritten to use and ``docgen_run`` for ``{{r }}`` (its
    run properties come from the render context, :data:`RUN_PROPS`)."""
    env = make_environment(autoescape=True)
    env.filters["docgen_block"] = block_filter
    env.filters["docgen_run"] = _run_in
    return env


_SHARED: dict[bool, Any] = {}


def _shared_env(autoescape: bool):
    """One environment per process for rendering template.docx (autoescape, :func:`template_environment`)
    and its plain-text parts (core properties, chart titles), so its compiled parts are reused across
    documents (:func:`docgen.jinja.compiled`). Nothing per document lives in it: ``chart``, ``image`` and the
    run properties come with each render's context."""
    env = _SHARED.get(autoescape)
    if env is None:
        env = _SHARED[autoescape] = template_environment() if autoescape else make_environment(autoescape=False)
    return env


def _template_lineno(exc: BaseException) -> int | None:
    """Line of the rendered template where ``exc`` happened, from Jinja's rewritten traceback."""
    lineno = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == "<template>":
            lineno = line
    return lineno


def _bad_tag(tags: list[str]) -> str | None:
    """The first tag on a line that does not compile on its own (block tags are tried with a matching end)."""
    env = make_environment()
    for tag in tags:
        try:
            env.parse(tag)
        except jinja2.TemplateSyntaxError as e:
            if "end of template" not in (e.message or ""):
                return tag
    return None


def open_template(docx_path: Path) -> DocgenTemplate:
    """Open ``docx_path`` (a .docx, .dotx, .docm or .dotm) as a template, checked and normalized by
    :func:`.package.word_package` (part size bounds, macros dropped, LibreOffice's core-properties relationship).
    TemplateNotFound if it does not exist, TemplateError if it is not a Word file (e.g. a renamed text file, a
    .doc, an .xlsx) or passes a bound of :mod:`docgen.limits`."""
    docx_path = Path(docx_path)
    if not docx_path.is_file():
        raise TemplateNotFound(f"Template document {docx_path} does not exist. Check the path.")
    tpl = DocgenTemplate(word_package(docx_path))
    try:
        tpl.init_docx()
    except Exception as exc:
        raise TemplateError(
            f"{docx_path} is not a Word document (.docx): {exc}. Save it from Word as 'Word Document (*.docx)'."
        ) from exc
    return tpl


class _SectionCitations:
    """:class:`.citations.Footnotes` bound to one section, as :class:`.markdown.MarkdownWriter` calls it."""

    def __init__(self, footnotes: Footnotes, section_id: str) -> None:
        self.footnotes, self.section_id = footnotes, section_id

    def __call__(self, text: str) -> list[str | int]:
        return self.footnotes.cite(self.section_id, text)

    def reference_run(self, footnote_id: int):
        return self.footnotes.reference_run(footnote_id)


def build_sections(tpl: DocgenTemplate, sections: Mapping[str, tuple[str, str]],
                   footnotes: Footnotes | None = None,
                   marks: Mapping[str, Sequence[Mark]] | None = None) -> dict[str, Any]:
    """Section id -> :class:`SectionText` (plain text + Word XML block), built into ``tpl``'s document.

    ``format`` is "markdown" (parsed by :mod:`.markdown`), "text" (paragraphs/line breaks, no Markdown),
    "choice" (one paragraph of the text as is) or "json": the parsed JSON (:func:`json_section`; one paragraph
    of the text as is when it does not parse). Unknown formats raise RenderError. With ``footnotes``, ``[n]``
    citations in markdown sections become footnote references (:mod:`.citations`). ``marks`` (section id ->
    claim-check marks on that section's text) become Word comments on their sentences (:mod:`.comments`)."""
    doc = tpl.get_docx()
    styles = StyleMap(doc)
    numbering: ListNumbering | None = None
    out: dict[str, Any] = {}
    for sid, (fmt, text) in sections.items():
        data = json_section(text or "") if fmt == "json" else None
        if data is not None:
            out[str(sid)] = data
            continue
        groups: list = []
        section_marks = [m for m in (marks or {}).get(str(sid), ()) if m.end > m.start]
        if section_marks and fmt in ("markdown", "text"):
            text, groups = wrap_marked(text or "", section_marks)
        else:
            text = (text or "").replace(OPEN, "").replace(CLOSE, "")
        text = sanitize_text(text)
        sub = Fragment(doc)
        if fmt == "markdown" and numbering is None:
            numbering = ListNumbering(doc.part)
        cite = _SectionCitations(footnotes, str(sid)) if footnotes is not None and fmt == "markdown" else None
        writer = MarkdownWriter(sub, styles, numbering, cite)  # type: ignore[arg-type]
        if fmt == "markdown":
            writer.write_markdown(text)
            plain = markdown_to_plain(text)
        elif fmt in ("text", "choice", "json"):
            if fmt == "text":
                writer.write_text(text)
            else:
                writer.write_text(text.strip().replace("\n\n", "\n"))
            plain = text.strip()
        else:
            raise RenderError(f"Section '{sid}' has format '{fmt}'; expected markdown, text, choice or json.")
        if groups:
            anchor_comments(doc, sub._element, groups)
            plain = plain.replace(OPEN, "").replace(CLOSE, "")
        out[str(sid)] = SectionText(plain, sub.xml())
    return out


class SourceList(list):
    """A section's sources as placed in the context (``sources.<id>``): a list of dicts (number, label, file,
    section, location, text) in citation order, and ``.quote``: the best-matching source as a quoted paragraph
    (the template's "Quote" style) ending in its footnote, for ``{{p sources.<id>.quote }}``; ``.best`` is
    that source's dict."""

    quote: SectionText
    best: dict[str, Any]


def source_values(tpl: DocgenTemplate, sources: Mapping[str, Sequence[Any]],
                  footnotes: Footnotes | None) -> dict[str, SourceList]:
    """``sources`` for the template context (see :class:`SourceList`); sections without sources are absent,
    so a template guards with ``{%p if 'body' in sources %}``."""
    out: dict[str, SourceList] = {}
    if not sources:
        return out
    doc = tpl.get_docx()
    styles = StyleMap(doc)
    for sid, srcs in sources.items():
        if not srcs:
            continue
        items = SourceList({"number": s.number, "label": s.label, "file": s.file, "section": s.section,
                            "location": s.location, "text": s.text} for s in srcs)
        best = min(srcs, key=lambda s: (s.rank == 0, s.rank, s.number))
        sub = Fragment(doc)
        writer = MarkdownWriter(sub, styles, None, _SectionCitations(footnotes, sid) if footnotes else None)  # type: ignore[arg-type]
        para = writer._list_or_plain_paragraph([], 1)
        lines = [" ".join(line.split()) for line in sanitize_text(best.text).split("\n") if line.strip()]
        text = " ".join(lines)
        for i, line in enumerate(lines):  # a table's rows keep their line breaks
            if i:
                para.add_run().add_break()
            last = i == len(lines) - 1
            if last and footnotes is not None:
                writer._cited(para, f"{line} [{best.number}]", _Fmt())
            else:
                writer._run(para, f"{line} ({best.label})" if last else line, _Fmt())
        items.quote = SectionText(f"{text} ({best.label})", sub.xml())
        items.best = next(i for i in items if i["number"] == best.number)
        out[str(sid)] = items
    return out


def render_document(
    docx_path: Path,
    context: dict[str, Any],
    sections: Mapping[str, tuple[str, str]],
    out_path: Path | None,
    *,
    provenance: Mapping[str, str] | None = None,
    record: str | None = None,
    charts: Sequence[ChartSpec] = (),
    dataset: Dataset | None = None,
    strict_images: bool = False,
    warnings: list[str] | None = None,
    sources: Mapping[str, Sequence[Any]] | None = None,
    marks: Mapping[str, Sequence[Mark]] | None = None,
    citations: str = "footnotes",
) -> Path | None:
    """Render template ``docx_path`` with ``context`` and ``sections`` and write ``out_path`` atomically.

    Shapes: ``context`` holds plain values (str/int/float/date/None, dicts and lists of them: fields, ``rows``,
    ``row``, aggregates, ``template`` = {id, name, version}, ``today``); ``sections`` maps section id ->
    (format, text), format "markdown" | "text" | "choice" | "json"; they become ``context["sections"]`` (see the
    module docstring for block vs inline placement). ``provenance`` goes into custom document properties, with a
    short summary in the core properties (:mod:`.properties`). ``record`` ("row 7 of sales.csv") is named in MissingValues messages.
    ``sources`` maps section id -> the :class:`docgen.model.Source` s it was written from: its ``[n]`` citations
    become footnotes in the template's footnote styles (:mod:`.citations`), and ``context["sources"]`` holds
    them for tags (:class:`SourceList`: ``{{p sources.body.quote }}`` quotes the best-matching passage with its
    footnote). ``citations = "list"`` numbers them through the document instead and ends it with a Sources list
    (:class:`.citations.SourcesList`).
    ``marks`` (section id -> :class:`~docgen.model.Mark` s on that section's text) become Word comments by
    "docgen check" on the marked sentences, with a highlight (:mod:`.comments`).

    Charts and pictures: ``charts`` (the manifest's ``[[charts]]``) are filled from ``context``
    (:func:`.charts.bind_charts`); ``{{ image(...) }}`` paths are relative to ``dataset``'s folder and failures
    name its rows (:class:`.images.ImageSource`); ``strict_images`` makes a missing or unreadable picture an
    error (DataError) instead of a placeholder; messages about placeholders are appended to ``warnings``.

    Errors (docgen.errors): TemplateNotFound / TemplateError (not a .docx, sandbox violation),
    TemplateSyntaxError (part + paragraph + text), MissingValues (tag, record, closest names), RenderError
    (output folder/file not writable, anything else failing while rendering). Nothing is left at
    ``out_path`` or in its folder when an error is raised (except a pre-existing file, untouched).
    Returns ``out_path``. ``out_path=None`` renders in memory only and writes nothing (the rehearsal of
    :func:`docgen.pipeline.rehearse`: the same errors, no folder, no zip, no fsync); it returns None.
    """
    if out_path is not None:
        out_path = Path(out_path)
        prepare_folder(out_path.parent)
    tpl = open_template(docx_path)
    try:
        return _render(tpl, docx_path, context, sections, out_path, provenance, record, charts, dataset,
                       strict_images, warnings, sources, marks, citations)
    finally:
        release(tpl)


def release(tpl: DocgenTemplate) -> None:
    """Free ``tpl``'s document now: python-docx's package and parts refer to each other (relationships, cached
    properties), so without this their XML trees (megabytes per document: styles, numbering, body) wait for
    Python's next full cycle collection, and a batch's resident memory grows by each document's trees until
    then. ``tpl`` cannot be used afterwards."""
    document = getattr(tpl, "docx", None)
    if document is None:
        return
    try:
        package = document.part.package
        parts = list(package.iter_parts())
    except Exception:  # pragma: no cover - a half-opened document: nothing cached yet
        return
    for holder in (package, *parts):
        holder.__dict__.clear()
    document.__dict__.clear()
    tpl.docx = None


def _render(tpl, docx_path, context, sections, out_path, provenance, record, charts, dataset, strict_images,
            warnings, sources, marks, citations) -> Path | None:
    ctx = sanitize_value(dict(context))
    notes: list[str] = [] if warnings is None else warnings
    try:
        footnotes = (SourcesList if citations == "list" else Footnotes)(tpl.get_docx(), sources) if sources else None
        ctx["sections"] = build_sections(tpl, sections, footnotes, marks)
        ctx["sources"] = source_values(tpl, sources or {}, footnotes)
        tpl.run_props = []  # filled while docxtpl patches the parts, read by docgen_run through the context
        chart_tag, image_tag = _media_functions(tpl, ctx, dataset, strict_images, notes, record)
        # a value named chart or image in the data wins over the tag function, as an environment global would
        render_ctx = {"chart": chart_tag, "image": image_tag, **ctx, RUN_PROPS: tpl.run_props}
        with render_budget():  # one time and output budget for all parts (docgen.limits)
            tpl.render(render_ctx, _shared_env(True), autoescape=True)
        if footnotes is not None:
            footnotes.write()
        chart_tag.replace_unsupported(tpl.docx)
        if charts:
            from docgen.render.charts import bind_charts

            bind_charts(tpl.docx, charts, ctx, _shared_env(False))
        finish_document(tpl.docx)
    except DocgenError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        loc, texts = _failure(tpl, exc)
        raise errors_map.syntax_error(exc, loc, docx_path, texts) from exc
    except jinja2.UndefinedError as exc:
        loc, texts = _failure(tpl, exc)
        raise errors_map.missing_values(exc, loc, docx_path, ctx, record, "\n".join(texts)) from exc
    except Exception as exc:
        loc = _failure_loc(tpl, exc, default=None)
        raise errors_map.other_error(exc, loc, docx_path) from exc
    if out_path is None:  # a rehearsal (docgen.pipeline.rehearse): everything that can fail has run
        return None
    try:
        set_provenance(tpl.docx, provenance,
                       ctx.get("template") if isinstance(ctx.get("template"), Mapping) else None)
    except Exception as exc:
        raise RenderError(f"Writing the document properties of {out_path} failed: {type(exc).__name__}: {exc}. "
                          "Nothing was written.") from exc
    try:
        return atomic_write(out_path, lambda fh: fh.write(docx_bytes(tpl)))
    except DocgenError:
        raise
    except Exception as exc:
        raise RenderError(f"Writing {out_path} failed: {type(exc).__name__}: {exc}. Nothing was written.") from exc


def _media_functions(tpl: DocgenTemplate, ctx: Mapping[str, Any], dataset: Dataset | None, strict: bool,
                     warnings: list[str], record: str | None):
    """``chart`` and ``image`` (:data:`TAG_FUNCTIONS`) bound to ``tpl``, for the render context: (chart tag,
    image tag); the chart tag replaces charts Word cannot hold after rendering."""
    from docgen.render.chart_tag import ChartTag
    from docgen.render.images import ImageTag

    source = ImageSource(dataset.path.parent if dataset is not None else None,
                         dataset.path.name if dataset is not None else "",
                         dataset.row_numbers if dataset is not None else (), strict)
    return ChartTag(tpl), ImageTag(tpl, source, ctx, warnings, record=record)


def docx_bytes(tpl: DocgenTemplate) -> bytes:
    """The rendered document as .docx bytes, with fixed zip metadata (:mod:`.reproducible`), compressed once."""
    buffer = io.BytesIO()
    tpl.save(buffer)
    return buffer.getvalue()


def _failure(tpl: DocgenTemplate, exc: BaseException):
    f = getattr(tpl, "failure", None)
    if f and f[0] is exc:
        return f[1], f[2]
    return errors_map.Location("document properties", None, ""), []


def _failure_loc(tpl: DocgenTemplate, exc: BaseException, default: Any = ...):
    f = getattr(tpl, "failure", None)
    if f and f[0] is exc:
        return f[1]
    return errors_map.Location("document properties", None, "") if default is ... else default
