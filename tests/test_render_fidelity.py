"""What a value means survives rendering: a blank line starts a paragraph, text after a bold tag keeps its own
formatting, right-to-left text in a LibreOffice-saved template gets a right-to-left paragraph."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from docx.oxml.ns import qn
from docx_strict import assert_valid_docx

from docgen.render import read_back, render_document

DATA = Path(__file__).resolve().parent / "data" / "templates"


def paragraphs(path: Path) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in docx.Document(str(path)).paragraphs]


def test_a_blank_line_in_a_value_starts_a_new_paragraph_with_the_same_style(tmp_path):
    d = docx.Document()
    d.add_paragraph("Note: {{ note }}", style="Quote")
    d.add_paragraph("[{{ items|join('\\n\\n') }}]")
    d.save(tmp_path / "t.docx")
    out = render_document(tmp_path / "t.docx", {"note": "First\nstill first\n \n\nSecond", "items": ["a", "b"]}, {},
                          tmp_path / "o.docx")
    assert_valid_docx(out)
    assert paragraphs(out) == [("Quote", "Note: First\nstill first"), ("Quote", "Second"), ("Normal", "[a"),
                               ("Normal", "b]")]


def test_a_blank_line_inside_a_hyperlink_stays_two_line_breaks(tmp_path):
    d = docx.Document()
    p = d.add_paragraph("See ")
    link = p._p.makeelement(qn("w:hyperlink"), {qn("w:anchor"): "top"})
    run = p.add_run("{{ note }}")._r
    link.append(run)
    p._p.append(link)
    d.save(tmp_path / "t.docx")
    out = render_document(tmp_path / "t.docx", {"note": "a\n\nb"}, {}, tmp_path / "o.docx")
    assert_valid_docx(out)
    assert paragraphs(out) == [("Normal", "See a\n\nb")]  # one paragraph: the hyperlink is not cut in two
    xml = zipfile.ZipFile(out).read("word/document.xml").decode()
    assert xml.count("<w:br/>") == 2 and "<w:hyperlink" in xml


def test_text_after_a_bold_tag_split_by_word_keeps_its_own_formatting(tmp_path):
    d = docx.Document()
    p = d.add_paragraph()
    p.add_run("{{ name }").bold = True  # Word split the tag: the last brace went into the next, plain run
    p.add_run("}, welcome")
    d.save(tmp_path / "t.docx")
    out = render_document(tmp_path / "t.docx", {"name": "Ann"}, {}, tmp_path / "o.docx")
    runs = [(r.text, bool(r.bold)) for r in docx.Document(str(out)).paragraphs[0].runs if r.text]
    assert runs == [("Ann", True), (", welcome", False)]


def test_right_to_left_value_in_a_libreoffice_template_gets_a_right_to_left_paragraph(tmp_path):
    # LibreOffice writes <w:bidi w:val="0"/> on every paragraph it saves
    assert b'<w:bidi w:val="0"/>' in zipfile.ZipFile(DATA / "libreoffice-saved.docx").read("word/document.xml")
    context = {"company": "شركة الشمال", "today": "2024-05-01", "customer_name": "Ann", "signer": "Bo",
               "support_contact": "help@example.com", "row": {"ticket_id": "T-1", "comment": "Broken."},
               "template": {"id": "service-reply", "name": "Reply", "version": "1"}}
    out = render_document(DATA / "libreoffice-saved.docx", context, {"body": ("markdown", "Sorry.")},
                          tmp_path / "o.docx")
    first = docx.Document(str(out)).paragraphs[0]
    assert first.text == "شركة الشمال"
    bidi = first._p.pPr.find(qn("w:bidi"))
    assert bidi is not None and bidi.get(qn("w:val")) in (None, "1", "true", "on")
    # a left-to-right paragraph is left as the template has it
    dear = next(p for p in docx.Document(str(out)).paragraphs if p.text.startswith("Dear"))
    lr = dear._p.pPr.find(qn("w:bidi")) if dear._p.pPr is not None else None
    assert lr is None or lr.get(qn("w:val")) == "0"
    assert "Sorry." in [b.text for b in read_back(out)]
