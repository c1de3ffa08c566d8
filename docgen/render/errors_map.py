"""Turn Jinja's errors on docxtpl's patched XML into docgen errors that point at the Word document.

docxtpl renders one XML string per part, with a newline inserted before every ``<w:p``; Jinja's line numbers
refer to that string. Before docxtpl patches the XML, :mod:`.docx_template` stamps every ``<w:p`` with
``docgen-p="N"`` (N counts the part's paragraphs in document order, as :mod:`.parts` does), so a line number
maps back to paragraph N. Paragraphs that docxtpl removes (``{%p %}``, ``{%tr %}`` ...) leave their tags on
the previous line; they are the missing numbers between two stamps and are searched too.

Messages follow errors.py: what, where ("body paragraph 7: 'Total: {{ total }'"), how to fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2

from docgen.errors import MissingValues, RenderError, TemplateError, TemplateSyntaxError

_STAMP = re.compile(r'<w:p docgen-p="(\d+)"')
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
#: docxtemplater-style tags ({name}, {#loop}, {/loop}, {^inverted}) that are not part of a Jinja tag
_FOREIGN_BRACE = re.compile(r"(?<![{%#])\{[#/^@]?\s*[A-Za-z_][\w.\-]*\s*\}(?![}%#])")
_DOLLAR = re.compile(r"\$\{[^{}]+\}")
_GUILLEMET = re.compile(r"«[^«»]+»")


@dataclass(frozen=True)
class Location:
    """Where in the Word document: part label, 1-based paragraph number (None if unknown), visible text."""

    part: str
    paragraph: int | None
    text: str

    def __str__(self) -> str:
        if self.paragraph is None:
            return f"the {self.part}"
        text = self.text if len(self.text) <= 120 else self.text[:117] + "..."
        return f"{self.part} paragraph {self.paragraph}: '{text}'"


def foreign_syntax(text: str, xml: str = "") -> list[str]:
    """Descriptions of template syntax of other tools found in ``text`` (visible text) or ``xml``:
    docxtemplater ``{tag}``/``{#loop}``, ``${x}`` placeholders, Word mail-merge fields."""
    found = []
    jinja_free = _TAG.sub("", text)
    m = _FOREIGN_BRACE.findall(jinja_free)
    if m:
        found.append(
            f"it uses another tool's {{tag}} syntax (docxtemplater), e.g. {_examples(m)}, which docgen does not "
            "support; write values as {{ name }} and loops as {% for item in items %} ... {% endfor %}"
        )
    m = _DOLLAR.findall(jinja_free)
    if m:
        found.append(f"it uses ${{name}} placeholders, e.g. {_examples(m)}, which docgen does not fill; "
                     "write them as {{ name }}")
    if "MERGEFIELD" in xml or _GUILLEMET.search(jinja_free):
        ex = _GUILLEMET.findall(jinja_free)
        found.append(
            "it uses Word mail-merge fields" + (f", e.g. {_examples(ex)}" if ex else " (MERGEFIELD)")
            + ", which docgen does not fill; replace each field with a {{ name }} tag"
        )
    return found


def _examples(items: Sequence[str]) -> str:
    seen = list(dict.fromkeys(items))[:3]
    return ", ".join(f"'{s}'" for s in seen)


def locate(
    source: str, lineno: int | None, label: str, texts: Sequence[str], needle: str | None = None
) -> Location:
    """Map Jinja line ``lineno`` of ``source`` (the stamped, patched XML with newlines before ``<w:p``) to a
    paragraph of the part whose visible paragraph texts are ``texts``. ``needle`` (a name or a piece of a tag)
    chooses among the paragraphs whose tags share that line."""
    if not lineno:
        return Location(label, None, "")
    lines = source.split("\n")
    if lineno > len(lines):
        lineno = len(lines)
    # the stamp of this line or, for text before the first paragraph on it, the closest one above
    first = None
    for back in range(lineno - 1, -1, -1):
        m = _STAMP.search(lines[back])
        if m:
            first = int(m.group(1))
            break
    if first is None:  # before the first stamped paragraph: paragraphs removed by docxtpl, or none
        first = 1
    nxt = None
    for fwd in range(lineno, len(lines)):
        m = _STAMP.search(lines[fwd])
        if m:
            nxt = int(m.group(1))
            break
    last = (nxt - 1) if nxt else len(texts)
    candidates = [n for n in range(first, max(first, last) + 1) if 1 <= n <= len(texts)]
    chosen = first
    hit = []
    if needle is not None:
        norm = _norm(needle)
        hit = [n for n in candidates if norm in _norm(texts[n - 1])]
    if not hit:
        hit = [n for n in candidates if "{" in texts[n - 1]]
    if hit:
        chosen = hit[0]
    text = texts[chosen - 1] if 1 <= chosen <= len(texts) else ""
    return Location(label, chosen, text)


def _norm(s: str) -> str:
    s = s.replace("\u201c", '"').replace("\u201d", '"').replace("\u2018", "'").replace("\u2019", "'")
    return re.sub(r"\s+", "", s)


_BLOCK_OPEN = re.compile(r"\{%[-+]?\s*(?:tr|tc|p|r)?\s*(for|if|macro|call|filter|with|set(?![^%]*=)|raw|block)\b")
_BLOCK_END = re.compile(r"\{%[-+]?\s*(?:tr|tc|p|r)?\s*end(\w+)")


def unclosed_block(texts: Sequence[str]) -> tuple[int, str, str] | None:
    """(paragraph number, its text, keyword) of the innermost block tag that is never closed, or None."""
    stack: list[tuple[int, str, str]] = []
    for n, text in enumerate(texts, 1):
        for tag in _TAG.findall(_norm_quotes(text)):
            m_end = _BLOCK_END.match(tag)
            m_open = _BLOCK_OPEN.match(tag)
            if m_end:
                for i in range(len(stack) - 1, -1, -1):
                    if stack[i][2] == m_end.group(1):
                        del stack[i:]
                        break
            elif m_open:
                stack.append((n, text, m_open.group(1)))
    return stack[-1] if stack else None


def _norm_quotes(s: str) -> str:
    return s.replace("\u201c", '"').replace("\u201d", '"').replace("\u2018", "'").replace("\u2019", "'")


def syntax_error(
    exc: jinja2.TemplateSyntaxError, loc: Location, template: object, texts: Sequence[str] = ()
) -> TemplateSyntaxError:
    """A docgen TemplateSyntaxError for Jinja's ``exc`` at ``loc`` in template file ``template``; ``texts``
    (the part's paragraph texts) lets an unclosed block be traced to the paragraph that opens it."""
    hint = (
        "Check that every {{ has a matching }}, every {% has a matching %}, and blocks like {% for %} / "
        "{% if %} are closed ({% endfor %} / {% endif %})."
    )
    foreign = foreign_syntax(loc.text) if loc.text else []
    if foreign:
        hint = foreign[0][0].upper() + foreign[0][1:] + "."
    msg = (exc.message or str(exc)).rstrip(".")
    if "end of template" in msg:
        opener = unclosed_block(texts)
        if opener:
            n, text, kw = opener
            where = str(Location(loc.part, n, text)) + f" (this {{% {kw} %}} is never closed with {{% end{kw} %}})"
        else:
            where = f"the {loc.part} (a block opened earlier is never closed; Jinja reached the end of the part)"
    else:
        where = str(loc)
    return TemplateSyntaxError(f"{template}: template syntax error in {where}: {msg}. {hint}")


_UNDEF_NAME = re.compile(r"^'([^']+)' is undefined")
_NO_ATTR = re.compile(r"has no (?:attribute|element) '?([^']+?)'?$")


def missing_values(
    exc: jinja2.UndefinedError,
    loc: Location,
    template: object,
    context: Mapping[str, Any],
    record: str | None,
    part_text: str,
) -> MissingValues:
    """A MissingValues error for a tag naming a value that does not exist, with the closest available name."""
    msg = str(exc)
    name, available = None, sorted(k for k in context if not k.startswith("_"))
    tag = None
    m = _UNDEF_NAME.match(msg)
    if m:
        name = m.group(1)
        tag = name
    else:
        m = _NO_ATTR.search(msg)
        if m:
            name = m.group(1)
            parent = _parent_path(loc.text, name) or _parent_path(part_text, name)
            tag = f"{parent}.{name}" if parent else name
            keys = _keys_of(parent, context, part_text) if parent else None
            if keys is not None:
                available = sorted(keys)
    if name is None:
        return MissingValues(f"{template}: {msg} in {loc}.", ())
    where = f" in {loc}" if loc.paragraph is not None or loc.part else ""
    rec = f" for {record}" if record else ""
    close = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
    guess = f" Did you mean '{close[0]}'?" if close else ""
    shown = ", ".join(available[:40]) + (" ..." if len(available) > 40 else "")
    return MissingValues(
        f"{template}: the tag {{{{ {tag} }}}}{where} names a value that does not exist{rec}.{guess} "
        f"Available names: {shown or '(none)'}. Fix the tag in the template, or supply a value named '{name}' "
        "(a data column, a field or a section).",
        (tag,),
    )


def _parent_path(text: str, name: str) -> str | None:
    n = re.escape(name)
    pat = re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[['\"][^'\"]+['\"]\])*)(?:\.%s\b|\[['\"]%s['\"]\])" % (n, n))
    for tag in _TAG.findall(text.replace("\u201c", '"').replace("\u201d", '"')):
        m = pat.search(tag)
        if m:
            return m.group(1)
    return None


def _keys_of(path: str, context: Mapping[str, Any], part_text: str) -> list[str] | None:
    names = re.findall(r"\.?([A-Za-z_]\w*)|\[['\"]([^'\"]+)['\"]\]", path)
    keys = [a or b for a, b in names]
    root = keys[0]
    obj: Any
    if root in context:
        obj = context[root]
    else:  # a loop variable: {% for root in something %}
        m = re.search(r"for\s+%s\s+in\s+([A-Za-z_][\w.]*)" % re.escape(root), part_text)
        if not m:
            return None
        obj = context
        for k in m.group(1).split("."):
            obj = obj.get(k) if isinstance(obj, Mapping) else None
        if isinstance(obj, list | tuple) and obj and isinstance(obj[0], Mapping):
            obj = obj[0]
        else:
            return None
    for k in keys[1:]:
        obj = obj.get(k) if isinstance(obj, Mapping) else None
    return list(obj.keys()) if isinstance(obj, Mapping) else None


def other_error(exc: BaseException, loc: Location | None, template: object) -> TemplateError | RenderError:
    """Unsafe-attribute (sandbox) errors become TemplateError; everything else RenderError, with the place."""
    where = f" in {loc}" if loc else ""
    from docgen.sandbox import LimitExceeded

    if isinstance(exc, LimitExceeded):
        return TemplateError(f"{template}: the tag{where} {exc}.")
    if isinstance(exc, RecursionError):
        return TemplateError(
            f"{template}: the tag{where} calls itself without end (a macro or a recursive loop that never stops). "
            "Give the macro a condition that ends the calls, or remove it."
        )
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return TemplateError(
            f"{template}: a tag{where} uses something docgen's sandbox forbids ({exc}). Remove access to "
            "attributes starting with '_' and to internal objects."
        )
    return RenderError(f"{template}: rendering failed{where}: {type(exc).__name__}: {exc}")
