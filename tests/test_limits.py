"""docgen.limits and the bounded sandbox (docgen.sandbox): a template cannot hang docgen or exhaust its memory.

Every bound is tested with a small limit set through its environment variable, never with gigabytes.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import docx
import pytest

from docgen import limits
from docgen.cli import main
from docgen.errors import DocgenError, TemplateError
from docgen.jinja import make_environment
from docgen.render import render_document
from docgen.sandbox import LimitExceeded

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def render(source: str, **context) -> str:
    return make_environment().from_string(source).render(**context)


# --------------------------------------------------------------------------------------------- limits.py


def test_defaults_are_far_above_ordinary_documents():
    lim = limits.current()
    assert lim == limits.DEFAULTS
    assert lim.render_seconds >= 60 and lim.output_chars >= 10_000_000 and lim.cell_bytes >= 16 * limits.MB
    assert lim.nesting_depth >= 50 and lim.package_files >= 1000


def test_environment_overrides_with_suffixes(monkeypatch):
    monkeypatch.setenv("DOCGEN_LIMIT_CELL_BYTES", "64M")
    monkeypatch.setenv("DOCGEN_LIMIT_RENDER_SECONDS", "2.5")
    monkeypatch.setenv("DOCGEN_LIMIT_NESTING_DEPTH", "7")
    lim = limits.current()
    assert (lim.cell_bytes, lim.render_seconds, lim.nesting_depth) == (64 * limits.MB, 2.5, 7)
    assert limits.describe("cell_bytes") == "64 MB; raise it with the environment variable DOCGEN_LIMIT_CELL_BYTES"


@pytest.mark.parametrize("raw", ["lots", "-5", "0", "12X"])
def test_a_bad_override_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("DOCGEN_LIMIT_PART_BYTES", raw)
    with pytest.raises(DocgenError, match=r"DOCGEN_LIMIT_PART_BYTES is set to .*positive number.*e\.g\. "
                                          r"DOCGEN_LIMIT_PART_BYTES=64M"):
        limits.current()


def test_docs_list_every_limit():
    text = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    for name in limits.DEFAULTS.__dataclass_fields__:
        assert limits.env_name(name) in text, name
    assert "limits.md" in (ROOT / "docs" / "index.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------- sizes


@pytest.mark.parametrize("source", [
    "{{ 'x' * 5000 }}",
    "{{ 5000 * 'x' }}",
    "{{ 'x'|center(5000) }}",
    "{{ 'x'.ljust(5000) }}",
    "{{ 'x'.zfill(5000) }}",
    "{{ '%5000d' % 1 }}",
    "{{ '%*d' % (5000, 1) }}",
    "{{ '%5000d'|format(1) }}",
    "{{ '{:>5000}'.format(1) }}",
    "{{ '{:>{w}}'.format(1, w=5000) }}",
    "{{ 'x'|indent(5000) }}",
    "{{ 'abc'.replace('', 'y' * 600) }}",
    "{{ 'abc'|replace('', 'y' * 600) }}",
    "{{ ('y' * 600) + ('y' * 600) }}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s %}{{ ns.s }}{{ ns.s }}{% endset %}"
    "{% endfor %}{{ ns.s }}",
])
def test_text_built_by_a_tag_is_bounded(monkeypatch, source):
    monkeypatch.setenv("DOCGEN_LIMIT_OUTPUT_CHARS", "1000")
    with pytest.raises(LimitExceeded, match=r"more (text )?than the limit of 1,000 characters; raise it with the "
                                            "environment variable DOCGEN_LIMIT_OUTPUT_CHARS") as exc:
        render(source)
    assert exc.value.limit == "output_chars"


@pytest.mark.parametrize("source", [
    "{{ [1] * 5000 }}",
    "{{ (range(3000)|list) + (range(3000)|list) }}",
    "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{{ ns.l.extend(ns.l) }}{% endfor %}",
])
def test_lists_built_by_a_tag_are_bounded(monkeypatch, source):
    monkeypatch.setenv("DOCGEN_LIMIT_LIST_ITEMS", "1000")
    with pytest.raises(LimitExceeded, match="DOCGEN_LIMIT_LIST_ITEMS"):
        render(source)


def test_huge_numbers_are_refused_before_they_are_computed():
    started = time.perf_counter()
    with pytest.raises(LimitExceeded, match="number"):
        render("{{ 7 ** 100000000 }}")
    with pytest.raises(LimitExceeded, match="number"):
        render("{% set ns = namespace(n=3) %}{% for i in range(64) %}{% set ns.n = ns.n * ns.n %}{% endfor %}")
    assert time.perf_counter() - started < 10


def test_total_output_of_a_render_is_bounded(monkeypatch):
    monkeypatch.setenv("DOCGEN_LIMIT_OUTPUT_CHARS", "10000")
    with pytest.raises(LimitExceeded, match="produces more text than the limit of 10,000 characters"):
        render("{% for i in range(20000) %}x{% endfor %}")


def test_lipsum_is_not_available():
    with pytest.raises(Exception, match="lipsum"):
        render("{{ lipsum(1000000000) }}")


def test_ordinary_templates_are_unaffected():
    assert render("{{ 'ab' * 3 }} {{ '%5d' % 3 }} {{ '{:>4}'.format(7) }} {{ 2 ** 10 }} {{ 'x'|center(5) }}") == \
        "ababab     3    7 1024   x  "
    assert render("{{ range(4)|list }} {{ range(4)|reverse|list }} {{ range(10)[2:4]|list }} {{ 3 in range(5) }}"
                  " {{ range(6)|length }}") == "[0, 1, 2, 3] [3, 2, 1, 0] [2, 3] True 6"
    assert render("{% for r in rows %}{{ loop.index }}:{{ r.a }};{% endfor %}", rows=[{"a": 1}, {"a": 2}]) == \
        "1:1;2:2;"
    assert render("{{ x|number }} {{ 'a b'|replace(' ', '-') }} {{ 'a\nb'|indent(2, true) }}", x=1234567) == \
        "1,234,567 a-b   a\n  b"


# --------------------------------------------------------------------------------------------- time


@pytest.mark.parametrize("source", [
    "{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}",
    "{% for i in range(3000) %}{% for j in range(3000) %}.{% endfor %}{% endfor %}",
    "{% for i in rows %}{% for j in rows %}{% for k in rows %}{{ k.a }}{% endfor %}{% endfor %}{% endfor %}",
])
def test_render_time_is_bounded(monkeypatch, source):
    monkeypatch.setenv("DOCGEN_LIMIT_RENDER_SECONDS", "0.3")
    monkeypatch.setenv("DOCGEN_LIMIT_OUTPUT_CHARS", "1G")
    started = time.perf_counter()
    with pytest.raises(LimitExceeded, match=r"took longer than 0.3 s; raise it with the environment variable "
                                            "DOCGEN_LIMIT_RENDER_SECONDS"):
        render(source, rows=[{"a": i} for i in range(400)])
    assert time.perf_counter() - started < 5


# --------------------------------------------------------------------------------------------- documents


def _docx(path: Path, *paragraphs: str, header: str | None = None) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if header is not None:
        document.sections[0].header.paragraphs[0].text = header
    document.save(path)
    return path


def test_a_huge_value_in_template_docx_names_the_paragraph(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCGEN_LIMIT_OUTPUT_CHARS", "20000")  # the template's own XML is a few thousand
    tpl = _docx(tmp_path / "t.docx", "Hello", "Padding: {{ 'x' * 50000 }}")
    with pytest.raises(TemplateError, match=r"t\.docx: the tag in body paragraph 2: 'Padding: \{\{ 'x' \* 50000 \}\}' "
                                            r"would build a text of 50,000 characters.*DOCGEN_LIMIT_OUTPUT_CHARS"):
        render_document(tpl, {}, {}, tmp_path / "out.docx")
    assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob(".~docgen-*"))


def test_one_budget_spans_every_part_of_a_document(tmp_path, monkeypatch):
    # each part alone stays under the bound (about 9,000 characters of value plus its own XML); together they do not
    monkeypatch.setenv("DOCGEN_LIMIT_OUTPUT_CHARS", "16000")
    tpl = _docx(tmp_path / "t.docx", "{{ 'y' * 9000 }}", header="{{ 'z' * 9000 }}")
    with pytest.raises(TemplateError, match="produces more text than the limit of 16,000 characters"):
        render_document(tpl, {}, {}, tmp_path / "out.docx")
    monkeypatch.setenv("DOCGEN_LIMIT_OUTPUT_CHARS", "40000")
    render_document(tpl, {}, {}, tmp_path / "out.docx")


def test_a_macro_calling_itself_forever_is_a_clear_error(tmp_path):
    tpl = _docx(tmp_path / "t.docx", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
    with pytest.raises(TemplateError, match="calls itself without end"):
        render_document(tpl, {}, {}, tmp_path / "out.docx")


def _package(tmp_path: Path, *paragraphs: str) -> Path:
    pkg = tmp_path / "pkg"
    shutil.copytree(TEMPLATES / "service-reply", pkg)
    _docx(pkg / "template.docx", *paragraphs)
    return pkg


def test_cli_refuses_a_template_that_would_exhaust_memory(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DOCGEN_LIMIT_OUTPUT_CHARS", "20000")
    pkg = _package(tmp_path, "{{ row.ticket_id }} {{ 'x' * 50000 }}", "{{p sections.body }}")
    data = tmp_path / "t.csv"
    data.write_text("ticket_id,comment\nT-1,Broken.\n", encoding="utf-8")
    code = main(["--template", str(pkg), "--data", str(data), "--out", str(tmp_path / "out"), "--backend", "fake"])
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert "body paragraph 1" in err and "DOCGEN_LIMIT_OUTPUT_CHARS" in err and "Traceback" not in err
    assert not list((tmp_path / "out").glob("*.docx")) if (tmp_path / "out").exists() else True


def test_cli_refuses_a_prompt_that_would_exhaust_memory(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DOCGEN_LIMIT_OUTPUT_CHARS", "1000")
    pkg = tmp_path / "pkg"
    shutil.copytree(TEMPLATES / "service-reply", pkg)
    manifest = pkg / "docgen.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('prompt = """', 'prompt = """{{ \'x\' * 5000 }}', 1), encoding="utf-8")
    data = tmp_path / "t.csv"
    data.write_text("ticket_id,comment\nT-1,Broken.\n", encoding="utf-8")
    code = main(["--template", str(pkg), "--data", str(data), "--out", str(tmp_path / "out"), "--backend", "fake"])
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert "prompt" in err and "DOCGEN_LIMIT_OUTPUT_CHARS" in err and "Traceback" not in err
