"""Markdown corpus -> Word, read back structurally: headings, emphasis, nested lists, numbered lists that
restart, tables in the template's table style, hard breaks, hyperlinks, CJK, RTL, emoji; scripts in values."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from lxml import etree

from docgen.render import Heading, ListItem, Paragraph, Table, read_back, render_document

CORPUS = """# Quarterly report
## Highlights

Revenue grew **12 %**, *margins* held, ***both*** and `EMEA-01` led.
First line  
second line after a hard break.
Soft break joins this line.

- Europe
  - Germany
    - Berlin
  - France
- Asia

1. Plan
2. Build

1. Review
2. Ship
   1. Nested restarts
   2. Second nested

Between lists.

3. Starts at three
4. Four

| Region | Revenue | Share |
|:-------|--------:|:-----:|
| EMEA   | 1.2M    | 40 %  |
| 亚太    | 800K    | 27 %  |

Visit [our site](https://example.com/report?q=1&x=2) or <mailto:team@example.com>; see [notes](notes.md).

中文段落：收入增长了百分之十二。

日本語のテキストです。

한국어 문장입니다.

مرحبا بالعالم، هذا تقرير الربع.

שלום עולם, זה דוח.

Emoji 🎉👍🏽 family 👨‍👩‍👧 and combining e\u0301 / a\u0308 stay.

Plain text line with no Markdown at all
"""


def make_template(path: Path, *, drop: tuple[str, ...] = (), table_style: str | None = None) -> Path:
    d = docx.Document()
    d.add_paragraph("{{p sections.body }}")
    d.add_paragraph("Customer: {{ customer }}")
    if table_style:
        t = d.add_table(rows=1, cols=1)
        t.style = table_style
    for name in drop:
        el = d.styles[name].element
        el.getparent().remove(el)
    d.save(str(path))
    return path


def render(tmp_path: Path, md: str = CORPUS, **kw) -> Path:
    tpl = make_template(tmp_path / "t.docx", **kw)
    return render_document(tpl, {"customer": "x"}, {"body": ("markdown", md)}, tmp_path / "out.docx")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpus")
    out = render(tmp)
    return out, read_back(out), docx.Document(str(out))


def test_headings_use_template_heading_styles(corpus):
    _, rb, _ = corpus
    heads = [b for b in rb if isinstance(b, Heading)]
    assert [(h.level, h.text, h.style) for h in heads] == [
        (1, "Quarterly report", "Heading 1"), (2, "Highlights", "Heading 2")]


def test_emphasis_code_and_breaks(corpus):
    _, rb, _ = corpus
    p = next(b for b in rb if isinstance(b, Paragraph) and b.text.startswith("Revenue"))
    runs = {r.text: r for r in p.runs}
    assert runs["12 %"].bold and not runs["12 %"].italic
    assert runs["margins"].italic and not runs["margins"].bold
    assert runs["both"].bold and runs["both"].italic
    assert runs["EMEA-01"].code
    assert "**" not in p.text and "`" not in p.text
    # a hard break is a line break in the same paragraph; a soft break is a space
    assert "First line\nsecond line after a hard break. Soft break joins this line." in p.text


def test_nested_bullets(corpus):
    _, rb, _ = corpus
    bullets = [(b.level, b.text) for b in rb if isinstance(b, ListItem) and b.kind == "bullet"]
    assert bullets == [(0, "Europe"), (1, "Germany"), (2, "Berlin"), (1, "France"), (0, "Asia")]


def test_every_numbered_list_restarts(corpus):
    _, rb, _ = corpus
    numbers = [(b.level, b.number, b.text) for b in rb if isinstance(b, ListItem) and b.kind == "number"]
    assert numbers == [
        (0, 1, "Plan"), (0, 2, "Build"),
        (0, 1, "Review"), (0, 2, "Ship"), (1, 1, "Nested restarts"), (1, 2, "Second nested"),
        (0, 3, "Starts at three"), (0, 4, "Four"),
    ]
    styles = {b.style for b in rb if isinstance(b, ListItem)}
    assert {"List Bullet", "List Bullet 2", "List Bullet 3", "List Number", "List Number 2"} <= styles


def test_table_in_template_style(corpus):
    _, rb, document = corpus
    table = next(b for b in rb if isinstance(b, Table))
    assert table.rows == (("Region", "Revenue", "Share"), ("EMEA", "1.2M", "40 %"), ("亚太", "800K", "27 %"))
    assert table.style == "Table Grid"
    cells = document.tables[0].rows
    assert all(r.bold for r in cells[0].cells[0].paragraphs[0].runs)  # header row bold
    assert cells[1].cells[1].paragraphs[0].alignment == 2  # right-aligned column (RIGHT)


def test_links_are_real_hyperlinks(corpus):
    out, rb, document = corpus
    body = document.element.body
    links = body.findall(f".//{qn('w:hyperlink')}")
    assert len(links) == 2
    targets = [document.part.rels[link.get(qn("r:id"))] for link in links]
    assert all(t.is_external for t in targets)
    assert [t.target_ref for t in targets] == ["https://example.com/report?q=1&x=2", "mailto:team@example.com"]
    texts = ["".join(t.text for t in link.iter(qn("w:t"))) for link in links]
    assert texts == ["our site", "mailto:team@example.com"]  # CommonMark shows an autolink as written
    # python-docx's default template has no "Hyperlink" style: blue + underline as direct formatting
    rpr = links[0].find(f"{qn('w:r')}/{qn('w:rPr')}")
    assert rpr.find(qn("w:color")).get(qn("w:val")) == "0563C1"
    assert rpr.find(qn("w:u")).get(qn("w:val")) == "single"
    # a relative address is not a web link: kept as text
    p = next(b for b in rb if isinstance(b, Paragraph) and b.text.startswith("Visit"))
    assert "notes (notes.md)" in p.text
    with zipfile.ZipFile(out) as z:
        assert b"docgen-href" not in z.read("word/document.xml")


def test_hyperlink_character_style_used_when_present(tmp_path):
    tpl = tmp_path / "t.docx"
    d = docx.Document()
    d.styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
    d.add_paragraph("{{p sections.body }}")
    d.save(str(tpl))
    out = render_document(tpl, {}, {"body": ("markdown", "[a](https://a.example)")}, tmp_path / "o.docx")
    doc = docx.Document(str(out))
    link = doc.element.body.find(f".//{qn('w:hyperlink')}")
    assert link.find(f".//{qn('w:rStyle')}").get(qn("w:val")) == doc.styles["Hyperlink"].style_id


def test_table_style_falls_back_to_the_templates_own(tmp_path):
    out = render(tmp_path, "| a | b |\n|---|---|\n| 1 | 2 |", drop=("Table Grid",),
                 table_style="Light List Accent 1")
    tables = [b for b in read_back(out) if isinstance(b, Table)]
    assert tables[0].style == "Light List Accent 1"  # the section's table, in the style the template uses


def _paragraph_with(document, start: str):
    return next(p for p in document.element.body.iter(qn("w:p"))
                if "".join(t.text or "" for t in p.iter(qn("w:t"))).startswith(start))


@pytest.mark.parametrize("start,font", [("中文", "SimSun"), ("日本語", "MS Mincho"), ("한국어", "Malgun Gothic")])
def test_cjk_gets_east_asian_fonts(corpus, start, font):
    _, _, document = corpus
    p = _paragraph_with(document, start)
    fonts = p.find(f".//{qn('w:rFonts')}")
    assert fonts.get(qn("w:hint")) == "eastAsia" and fonts.get(qn("w:eastAsia")) == font
    assert p.find(f"{qn('w:pPr')}/{qn('w:bidi')}") is None


@pytest.mark.parametrize("start", ["مرحبا", "שלום"])
def test_rtl_paragraphs_get_bidi(corpus, start):
    _, _, document = corpus
    p = _paragraph_with(document, start)
    assert p.find(f"{qn('w:pPr')}/{qn('w:bidi')}") is not None
    assert all(r.find(f"{qn('w:rPr')}/{qn('w:rtl')}") is not None for r in p.iter(qn("w:r")))


def test_ltr_paragraphs_untouched(corpus):
    _, _, document = corpus
    p = _paragraph_with(document, "Revenue")
    assert p.find(f".//{qn('w:bidi')}") is None and p.find(f".//{qn('w:rtl')}") is None


def test_emoji_and_combining_characters_survive(corpus):
    _, rb, _ = corpus
    text = rb.text
    assert "🎉👍🏽 family 👨‍👩‍👧" in text
    assert "e\u0301 / a\u0308" in text  # not normalized to é / ä


def test_plain_text_passes_through(corpus):
    _, rb, _ = corpus
    last = [b for b in rb if isinstance(b, Paragraph) and b.text.startswith("Plain text")]
    assert last and last[0].text == "Plain text line with no Markdown at all" and last[0].style == "Normal"


def test_scripts_in_values_and_text_sections(tmp_path):
    d = docx.Document()
    d.add_paragraph("{{ name }}")
    d.add_paragraph("Customer: {{ name2 }}")
    d.add_paragraph("{{p sections.note }}")
    d.sections[0].header.paragraphs[0].text = "{{ company }}"
    d.save(str(tmp_path / "t.docx"))
    out = render_document(tmp_path / "t.docx",
                          {"name": "محمد علي", "name2": "山田太郎 😀", "company": "שלום בע״מ"},
                          {"note": ("text", "Hello\n\nمرحبا بكم 👋🏽")}, tmp_path / "o.docx")
    doc = docx.Document(str(out))
    arabic = _paragraph_with(doc, "محمد")
    assert arabic.find(f"{qn('w:pPr')}/{qn('w:bidi')}") is not None
    assert arabic.find(f".//{qn('w:rtl')}") is not None
    mixed = _paragraph_with(doc, "Customer")
    assert mixed.find(f".//{qn('w:bidi')}") is None  # starts with Latin: stays left-to-right
    assert mixed.find(f".//{qn('w:rFonts')}").get(qn("w:eastAsia")) == "SimSun"  # Han only: Chinese default
    assert "山田太郎 😀" in "".join(t.text for t in mixed.iter(qn("w:t")))
    section = _paragraph_with(doc, "مرحبا")
    assert section.find(f"{qn('w:pPr')}/{qn('w:bidi')}") is not None
    assert "👋🏽" in "".join(t.text for t in section.iter(qn("w:t")))
    header = doc.sections[0].header._element
    assert header.find(f".//{qn('w:bidi')}") is not None and header.find(f".//{qn('w:rtl')}") is not None


def test_template_east_asian_font_is_respected(tmp_path):
    d = docx.Document()
    rpr = d.styles.element.find(f".//{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    rpr.set(qn("w:eastAsia"), "Yu Gothic")
    d.add_paragraph("{{ name }}")
    d.save(str(tmp_path / "t.docx"))
    out = render_document(tmp_path / "t.docx", {"name": "中文"}, {}, tmp_path / "o.docx")
    fonts = docx.Document(str(out)).element.body.find(f".//{qn('w:rFonts')}")
    assert fonts.get(qn("w:hint")) == "eastAsia" and fonts.get(qn("w:eastAsia")) is None


def test_run_properties_in_schema_order(corpus):
    """Word refuses a document whose w:rPr children are out of order; check the ones docgen adds."""
    _, _, document = corpus
    from docgen.render.scripts import RPR_ORDER

    rank = {qn(f"w:{n}"): i for i, n in enumerate(RPR_ORDER)}
    for rpr in document.element.body.iter(qn("w:rPr")):
        if rpr.getparent().tag != qn("w:r"):
            continue
        order = [rank.get(c.tag, -1) for c in rpr]
        assert order == sorted(order), etree.tostring(rpr)
