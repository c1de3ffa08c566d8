"""docgen.render on real .docx templates made outside the project (../shared/realdata/docx, SOURCES.md s.3)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from docgen.errors import TemplateSyntaxError
from docgen.render import Heading, ListItem, Table, read_back, render_document


@pytest.fixture
def docx_dir(realdata):
    return realdata / "docx"


def cells(rb) -> list[str]:
    return [c for b in rb if isinstance(b, Table) for row in b.rows for c in row]


def test_order_letter(docx_dir, tmp_path):
    ctx = {
        "customer_name": "Zoë & Co <Ltd>",
        "items": [{"desc": "Widget", "qty": 2, "price": "10.00"}, {"desc": "Gadget <XL>", "qty": 1, "price": "99.90"}],
        "total_price": "119.90",
        "in_europe": True,
        "is_paid": False,
        "company_name": "ACME Corp",
    }
    out = render_document(docx_dir / "order_tpl.docx", ctx, {}, tmp_path / "order.docx", record="row 1 of orders.csv")
    rb = read_back(out)
    text = rb.text
    assert "Zoë & Co <Ltd>" in text and "ACME Corp" in text
    assert {"Widget", "Gadget <XL>", "99.90", "119.90"} <= set(cells(rb))
    assert "{{" not in text and "{%" not in text


def test_invoice_with_nonstandard_tr_loop(docx_dir, tmp_path):
    ctx = {
        "name": "Jane Doe", "phone": "+1 555 0100",
        "invoice_list": [["Consulting", 2, 150, 300], ["Travel", 1, 80, 80]],
        "subtotal": 380, "salestax": "10%", "total": 418,
    }
    out = render_document(docx_dir / "invoice_template.docx", ctx, {}, tmp_path / "inv.docx")
    rb = read_back(out)
    assert "Jane Doe" in rb.text and "+1 555 0100" in rb.text
    assert {"Consulting", "Travel", "300", "80", "418"} <= set(cells(rb)) | set(rb.text.split())
    assert "{{" not in rb.text


def test_header_and_footer_tags(docx_dir, tmp_path):
    ctx = {
        "name": "Ann", "age": 41, "email": "ann@example.com", "is_student": False, "has_degree": True,
        "degree_field": "Physics", "skills": ["Python", "Word"],
        "projects": [{"name": "docgen", "year": 2024, "description": "reports"}],
        "company_name": "Initech", "page_number": "1", "generation_date": "2024-05-01", "author": "Bob",
    }
    out = render_document(docx_dir / "get_undeclared_variables.docx", ctx, {}, tmp_path / "cv.docx")
    rb = read_back(out)
    assert "Ann" in rb.text and "Physics" in rb.text and "docgen" in rb.text and "Python" in rb.text
    assert any("Initech" in h for h in rb.headers)
    assert any("2024-05-01" in f and "Bob" in f for f in rb.footers)


def test_korean_header_footer_and_block_value(docx_dir, tmp_path):
    ctx = {"title": "월간 보고서", "company_name": "삼성 & LG", "date": "2024-05-01",
           "mysubdoc": "본문 <텍스트>"}
    out = render_document(docx_dir / "header_footer_tpl_utf8.docx", ctx, {}, tmp_path / "ko.docx")
    rb = read_back(out)
    assert "월간 보고서" in rb.text and "본문 <텍스트>" in rb.text
    assert any("2024-05-01" in h for h in rb.headers)
    assert any("회사이름" in f and "삼성 & LG" in f for f in rb.footers)


def test_vertical_merge(docx_dir, tmp_path):
    ctx = {
        "category": "Fruit",
        "items": [{"desc": "Apple", "qty": 3, "price": 1.5}, {"desc": "Pear", "qty": 2, "price": 2.0}],
        "total_price": 8.5,
    }
    out = render_document(docx_dir / "vertical_merge_tpl.docx", ctx, {}, tmp_path / "vm.docx")
    rb = read_back(out)
    c = cells(rb)
    assert {"Apple", "Pear", "Fruit", "8.5"} <= set(c)
    assert c.count("Fruit") == 1  # merged: shown once


def test_loop_hebrew_docxtemplater_syntax(docx_dir, tmp_path):
    with pytest.raises(TemplateSyntaxError) as ei:
        render_document(docx_dir / "loop-hebrew.docx", {"products": []}, {}, tmp_path / "he.docx")
    msg = str(ei.value)
    assert "body paragraph 1" in msg and "{#products}" in msg
    assert "another tool's {tag} syntax" in msg and "{{ name }}" in msg
    assert not (tmp_path / "he.docx").exists()


@pytest.mark.parametrize("name", ["sample-docx.docx", "arabic_align.docx", "invoice2013.docx"])
def test_markdown_section_into_real_document(docx_dir, tmp_path, name):
    """A section appended to a real document: its heading styles and existing numbering part are used."""
    import docx

    d = docx.Document(str(docx_dir / name))
    has_h1 = any(s.name == "Heading 1" for s in d.styles)
    d.add_paragraph("{{p sections.s }}")
    d.save(str(tmp_path / "t.docx"))
    md = "# Findings\n\n1. one\n2. two\n\nx\n\n1. again\n\n- \u0645\u062f\u064a\u0646\u0629 & <b>"
    out = render_document(tmp_path / "t.docx", {}, {"s": ("markdown", md)}, tmp_path / "o.docx")
    rb = read_back(out)
    heading = [b for b in rb if getattr(b, "text", None) == "Findings"]
    assert heading and (isinstance(heading[0], Heading) == has_h1)
    numbers = [(b.text, b.number) for b in rb if isinstance(b, ListItem) and b.kind == "number"]
    assert numbers[-3:] == [("one", 1), ("two", 2), ("again", 1)]
    bullets = [b.text for b in rb if isinstance(b, ListItem) and b.kind == "bullet"]
    assert bullets[-1] == "\u0645\u062f\u064a\u0646\u0629 & <b>"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_rendered_file_converts_with_libreoffice(tmp_path):
    import docx

    tpl = tmp_path / "t.docx"
    d = docx.Document()
    d.add_paragraph("Hello {{ name }}")
    d.add_paragraph("{{p sections.s }}")
    d.save(str(tpl))
    out = render_document(tpl, {"name": "World & <you>"},
                          {"s": ("markdown", "# H\n\n1. a\n2. b\n\n- c\n  - d\n\n| x | y |\n|---|---|\n| 1 | 2 |")},
                          tmp_path / "o.docx")
    proc = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "txt:Text",
         "--outdir", str(tmp_path), str(out)],
        capture_output=True, text=True, timeout=180,
    )
    txt = tmp_path / "o.txt"
    assert txt.exists(), proc.stderr
    content = txt.read_text(encoding="utf-8-sig")
    assert "Hello World & <you>" in content
    assert "1." in content and "2." in content


def test_rich_text_run_tags_with_plain_values(docx_dir, tmp_path):
    ctx = {"example": "Hello & <b>", "Chinese": "中文测试", "simsun": "宋体"}
    out = render_document(docx_dir / "richtext_eastAsia_tpl.docx", ctx, {}, tmp_path / "rt.docx")
    text = read_back(out).text
    assert "Hello & <b>" in text and "中文测试" in text and "宋体" in text
