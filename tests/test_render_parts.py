"""Tags in every part of a document: headers and footers (default, first-page, even-page), footnotes, endnotes,
text boxes, table cells and row loops; tags Word split across runs; tags where docgen cannot render them.

The template is built with python-docx plus raw WordprocessingML (python-docx has no footnote, endnote or
text-box API); results are read back from the written .docx's XML parts, never compared as bytes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from lxml import etree

from docgen.render import inspect_template, read_back, render_document

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CT_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
CT_ENDNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.endnotes+xml"

# a tag split the way Word splits them: spell-check marks and a second editing session (other rsid)
SPLIT_PROOF = (
    f'<w:p {nsdecls("w")}><w:r><w:t xml:space="preserve">Dear </w:t></w:r>'
    '<w:r w:rsidR="00A1"><w:t>{</w:t></w:r><w:r w:rsidR="00B2"><w:t>{ </w:t></w:r>'
    '<w:proofErr w:type="spellStart"/><w:r w:rsidR="00B2"><w:rPr><w:b/></w:rPr><w:t>cust</w:t></w:r>'
    '<w:r w:rsidR="00C3"><w:rPr><w:lang w:val="en-GB"/></w:rPr><w:t>omer</w:t></w:r>'
    '<w:proofErr w:type="spellEnd"/><w:bookmarkStart w:id="0" w:name="x"/><w:bookmarkEnd w:id="0"/>'
    '<w:r><w:t xml:space="preserve"> }</w:t></w:r><w:r><w:t>},</w:t></w:r></w:p>'
)
# half of a tag inside a hyperlink, half inside a tracked insertion: structural splits
SPLIT_STRUCT = (
    f'<w:p {nsdecls("w", "r")}><w:r><w:t xml:space="preserve">See {{{{ li</w:t></w:r>'
    '<w:hyperlink r:id="rIdNone" w:history="1"><w:r><w:t>nk }}</w:t></w:r></w:hyperlink>'
    '<w:r><w:t xml:space="preserve"> and {{ tr</w:t></w:r>'
    '<w:ins w:id="1" w:author="A" w:date="2024-01-01T00:00:00Z"><w:r><w:t>ack }}</w:t></w:r></w:ins>'
    '<w:r><w:t>.</w:t></w:r></w:p>'
)
TEXTBOX = (
    f'<w:p {nsdecls("w")} xmlns:v="urn:schemas-microsoft-com:vml"><w:r><w:pict>'
    '<v:shape id="tb1" style="width:200pt;height:40pt">'
    '<v:textbox><w:txbxContent><w:p><w:r><w:t>Box: {{ box }}</w:t></w:r></w:p></w:txbxContent>'
    '</v:textbox></v:shape></w:pict></w:r></w:p>'
)


def _notes_part(document, kind: str, text: str) -> None:
    tag, ct, rt = ("footnote", CT_FOOTNOTES, RT.FOOTNOTES) if kind == "footnote" else \
        ("endnote", CT_ENDNOTES, RT.ENDNOTES)
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:{tag}s {nsdecls("w")}>'
        f'<w:{tag} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{tag}>'
        f'<w:{tag} w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
        f'</w:{tag}><w:{tag} w:id="1"><w:p><w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
        f'<w:{tag}Ref/></w:r><w:r><w:t xml:space="preserve"> {text}</w:t></w:r></w:p></w:{tag}></w:{tag}s>'
    )
    part = Part(PackURI(f"/word/{tag}s.xml"), ct, xml.encode("utf-8"), document.part.package)
    document.part.relate_to(part, rt)
    ref = parse_xml(f'<w:r {nsdecls("w")}><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                    f'<w:{tag}Reference w:id="1"/></w:r>')
    document.paragraphs[0]._p.append(ref)


def make_parts_template(path: Path) -> Path:
    d = docx.Document()
    d.add_paragraph("Report for {{ name }}")
    body = d.element.body
    for xml in (SPLIT_PROOF, SPLIT_STRUCT, TEXTBOX):
        body.insert(len(body) - 1, parse_xml(xml))
    t = d.add_table(rows=3, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "Item {{ label }}", "Qty"
    t.cell(1, 0).text = "{%tr for r in items %}"
    t.cell(2, 0).text, t.cell(2, 1).text = "{{ r.name }}", "{{ r.qty }}"
    # a closing row for the loop
    row = d.tables[0].add_row()
    row.cells[0].text = "{%tr endfor %}"
    s = d.sections[0]
    s.different_first_page_header_footer = True
    d.settings.odd_and_even_pages_header_footer = True
    s.header.paragraphs[0].text = "Header {{ name }}"
    s.footer.paragraphs[0].text = "Footer {{ company }}"
    s.first_page_header.paragraphs[0].text = "First header {{ name }}"
    s.first_page_footer.paragraphs[0].text = "First footer {{ company }}"
    s.even_page_header.paragraphs[0].text = "Even header {{ name }}"
    s.even_page_footer.paragraphs[0].text = "Even footer {{ company }}"
    _notes_part(d, "footnote", "Source: {{ source }}")
    _notes_part(d, "endnote", "Endnote {{ company }}")
    d.save(str(path))
    return path


VALUES = {"name": "Acme", "customer": "Jane", "link": "L1", "track": "T1", "box": "B1", "label": "X",
          "company": "ACME Ltd", "source": "FY report",
          "items": [{"name": "bolt", "qty": 3}, {"name": "nut", "qty": 5}]}


def part_text(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read(name))
    return "\n".join("".join(t.text or "" for t in p.iter(f"{{{W}}}t")) for p in root.iter(f"{{{W}}}p"))


def all_parts_text(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.startswith("word/") and n.endswith(".xml")]
    return {n: part_text(path, n) for n in names}


@pytest.fixture
def parts_doc(tmp_path) -> Path:
    tpl = make_parts_template(tmp_path / "parts.docx")
    return render_document(tpl, VALUES, {}, tmp_path / "out.docx")


def test_every_part_renders(parts_doc):
    texts = all_parts_text(parts_doc)
    joined = "\n".join(texts.values())
    assert "{{" not in joined and "{%" not in joined and "}}" not in joined
    headers = "\n".join(v for k, v in texts.items() if "header" in k)
    footers = "\n".join(v for k, v in texts.items() if "footer" in k)
    for want in ("Header Acme", "First header Acme", "Even header Acme"):
        assert want in headers
    for want in ("Footer ACME Ltd", "First footer ACME Ltd", "Even footer ACME Ltd"):
        assert want in footers
    assert "Source: FY report" in texts["word/footnotes.xml"]
    assert "Endnote ACME Ltd" in texts["word/endnotes.xml"]
    body = texts["word/document.xml"]
    assert "Report for Acme" in body and "Box: B1" in body


def test_table_cells_and_row_loop(parts_doc):
    rb = read_back(parts_doc)
    table = next(b for b in rb if hasattr(b, "rows"))
    assert table.rows == (("Item X", "Qty"), ("bolt", "3"), ("nut", "5"))


def test_split_tags_render(parts_doc):
    body = part_text(parts_doc, "word/document.xml")
    assert "Dear Jane," in body
    # structural splits: the value lands before the hyperlink / insertion, which stay valid (and empty)
    assert "See L1 and T1." in body
    doc = docx.Document(str(parts_doc))
    assert len(doc.element.body.findall(f".//{qn('w:hyperlink')}")) == 1
    assert len(doc.element.body.findall(f".//{qn('w:ins')}")) == 1


def test_footnotes_rendered_once_with_two_sections(tmp_path):
    from docx.enum.section import WD_SECTION

    d = docx.Document()
    d.add_paragraph("A {{ name }}")
    d.add_section(WD_SECTION.NEW_PAGE)
    d.add_paragraph("B")
    _notes_part(d, "footnote", "Note {{ source }}")
    d.save(str(tmp_path / "t.docx"))
    # a value that looks like a tag must stay text, even in footnotes (docxtpl would render the part twice)
    out = render_document(tmp_path / "t.docx", {"name": "x", "source": "{{ name }}"}, {}, tmp_path / "o.docx")
    assert "Note {{ name }}" in part_text(out, "word/footnotes.xml")


def test_inspect_lists_tags_of_every_renderable_part(tmp_path):
    i = inspect_template(make_parts_template(tmp_path / "parts.docx"))
    assert i.ok, i.problems
    assert {"first-page header", "even-page header", "first-page footer", "even-page footer", "header", "footer",
            "footnotes", "endnotes", "body"} <= set(i.tags)
    assert {"name", "company", "source", "box", "items", "customer", "link", "track"} <= set(i.variables)


def test_inspect_reports_tags_it_cannot_render(tmp_path):
    d = docx.Document()
    p = d.add_paragraph("Hello {{ name }}")
    d.add_comment(p.runs, text="Check {{ reviewer }} please")
    d.core_properties.keywords = "{{ kw }}"
    d.save(str(tmp_path / "t.docx"))
    i = inspect_template(tmp_path / "t.docx")
    comment = [m for m in i.problems if "'{{ reviewer }}' in a comment (word/comments.xml)" in m]
    assert comment and "will not be filled" in comment[0]
    assert any("'{{ kw }}' in the document property 'keywords'" in m for m in i.problems)


def test_header_section_with_link_gets_header_relationship(tmp_path):
    d = docx.Document()
    d.add_paragraph("Body")
    d.sections[0].header.paragraphs[0].text = "{{p sections.note }}"
    d.save(str(tmp_path / "t.docx"))
    out = render_document(tmp_path / "t.docx", {}, {"note": ("markdown", "See [site](https://example.com/h).")},
                          tmp_path / "o.docx")
    doc = docx.Document(str(out))
    header = doc.sections[0].header
    link = header._element.find(f".//{qn('w:hyperlink')}")
    rel = header.part.rels[link.get(qn("r:id"))]
    assert rel.is_external and rel.target_ref == "https://example.com/h"
    assert "docgen-href" not in etree.tostring(header._element).decode()
