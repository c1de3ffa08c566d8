"""docgen.render.inspect_template: variables, tags per part, problems (backs `docgen templates check`)."""

from __future__ import annotations

import docx
import pytest

from docgen.errors import TemplateError
from docgen.render import inspect_template


def make(path, body, header=None):
    d = docx.Document()
    for t in body:
        d.add_paragraph(t)
    if header is not None:
        d.sections[0].header.paragraphs[0].text = header
    d.save(str(path))
    return path


def test_variables_tags_and_sections(tmp_path):
    tpl = make(tmp_path / "t.docx", ["Hi {{ name }}", "{{p sections.summary }}", "Mood {{ sections.mood }}",
                                     "{% for r in rows %}{{ r.x }}{% endfor %}"], header="{{ company }}")
    i = inspect_template(tpl)
    assert i.ok, i.problems
    assert i.variables == ("company", "name", "rows", "sections")
    assert i.tags["body"][0] == "{{ name }}" and i.tags["header"] == ("{{ company }}",)
    assert i.sections == {"summary": "block", "mood": "inline"}


def test_syntax_error_reported_not_raised(tmp_path):
    i = inspect_template(make(tmp_path / "t.docx", ["ok", "Total: {{ total }"], header="{{ a }}"))
    assert not i.ok
    assert any("body paragraph 2: 'Total: {{ total }'" in p for p in i.problems)


def test_unsafe_constructs(tmp_path):
    i = inspect_template(make(tmp_path / "t.docx", ["{{ x.__class__ }}", "{{ y['_secret'] }}", "{{ self }}"]))
    assert sum("sandbox forbids" in p for p in i.problems) == 3


def test_foreign_syntax(tmp_path):
    i = inspect_template(make(tmp_path / "t.docx", ["Dear ${name},", "Order «OrderNo»", "{{ ok }}"]))
    text = " ".join(i.problems)
    assert "${name}" in text and "mail-merge" in text


def test_mergefield_codes(tmp_path):
    d = docx.Document()
    p = d.add_paragraph()
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    field = f'<w:fldSimple {nsdecls("w")} w:instr=" MERGEFIELD Name "><w:r><w:t>«Name»</w:t></w:r></w:fldSimple>'
    p._p.append(parse_xml(field))
    d.save(str(tmp_path / "m.docx"))
    i = inspect_template(tmp_path / "m.docx")
    assert any("mail-merge" in p for p in i.problems)


def test_not_a_docx_raises(tmp_path):
    bad = tmp_path / "x.docx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(TemplateError, match="x.docx is not a Word document"):
        inspect_template(bad)


@pytest.mark.parametrize("name", ["invoice2013.docx", "sample-docx.docx", "arabic_align.docx"])
def test_real_documents_without_tags(realdata, name):
    i = inspect_template(realdata / "docx" / name)
    assert not i.has_tags and i.variables == ()
    assert any("this document has no {{ }} tags; docgen can only fill templates with Jinja tags" in p
               for p in i.problems)


def test_real_content_controls_mentioned(realdata):
    i = inspect_template(realdata / "docx" / "invoice2013.docx")
    assert any("content controls" in p for p in i.problems)


def test_real_docxtemplater(realdata):
    i = inspect_template(realdata / "docx" / "loop-hebrew.docx")
    assert any("docxtemplater" in p and "{#products}" in p for p in i.problems)
    assert any("body paragraph 1" in p for p in i.problems)


@pytest.mark.parametrize("name,expected", [
    ("order_tpl.docx", {"company_name", "customer_name", "in_europe", "is_paid", "items", "total_price"}),
    ("invoice_template.docx", {"invoice_list", "name", "phone", "salestax", "subtotal", "total"}),
    ("get_undeclared_variables.docx", {"age", "author", "company_name", "degree_field", "email", "generation_date",
                                       "has_degree", "is_student", "name", "page_number", "projects", "skills"}),
    ("header_footer_tpl_utf8.docx", {"company_name", "date", "mysubdoc", "title"}),
])
def test_real_variables(realdata, name, expected):
    i = inspect_template(realdata / "docx" / name)
    assert set(i.variables) == expected and i.ok, i.problems
