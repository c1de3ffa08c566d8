"""docgen.render: values, sections (Markdown -> Word), sanitizing, errors, atomic write, provenance.

Templates are built with python-docx in fixtures; results are checked through read_back / python-docx,
never bytes."""

from __future__ import annotations

import os
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Pt

from docgen.errors import MissingValues, RenderError, TemplateError, TemplateNotFound, TemplateSyntaxError
from docgen.render import Heading, ListItem, Paragraph, Table, read_back, render_document, sanitize_text
from docgen.render.atomic import TEMP_PREFIX


def make_template(path: Path, body: list[str], *, header: str | None = None, footer: str | None = None,
                  drop_styles: tuple[str, ...] = (), heading1_size: int | None = None) -> Path:
    """A .docx with one paragraph per ``body`` string (python-docx default template)."""
    d = docx.Document()
    for text in body:
        d.add_paragraph(text)
    if header is not None:
        d.sections[0].header.paragraphs[0].text = header
    if footer is not None:
        d.sections[0].footer.paragraphs[0].text = footer
    if heading1_size:
        d.styles["Heading 1"].font.size = Pt(heading1_size)
    for name in drop_styles:
        el = d.styles[name].element
        el.getparent().remove(el)
    d.save(str(path))
    return path


def texts(rb) -> list[str]:
    return [b.text for b in rb if not isinstance(b, Table)]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX))


MD = """# Quarterly summary

Revenue grew **12%** in *Q3*, led by `EMEA`.
This line is a soft break.  
And this follows a hard break.

1. First point
2. Second point

Some text in between.

1. Again first
2. Again second
3. Again third

- Bullet one
  - Nested one
  - Nested two
- Bullet two
  1. Nested number one
  2. Nested number two

| Region | Revenue |
|:-------|--------:|
| EMEA | 1,200 |
| APAC | 950 |

## Outlook

### Risks

**Unbalanced bold at the end
"""


@pytest.fixture
def section_tpl(tmp_path) -> Path:
    return make_template(tmp_path / "t.docx", ["Report for {{ period }}", "{{p sections.summary }}", "End."],
                         heading1_size=31)


@pytest.fixture
def rendered(section_tpl, tmp_path):
    out = render_document(section_tpl, {"period": "Q3"}, {"summary": ("markdown", MD)}, tmp_path / "out" / "r.docx")
    return out, read_back(out)


# -- Markdown -> Word ---------------------------------------------------------------------------------------------

def test_headings_use_template_styles(rendered):
    out, rb = rendered
    heads = [b for b in rb if isinstance(b, Heading)]
    assert [(h.level, h.text, h.style) for h in heads] == [
        (1, "Quarterly summary", "Heading 1"), (2, "Outlook", "Heading 2"), (3, "Risks", "Heading 3")]
    # the style is the template's own definition (31 pt was set on the template's Heading 1)
    assert docx.Document(str(out)).styles["Heading 1"].font.size == Pt(31)


def test_bold_italic_code_runs_and_breaks(rendered):
    _, rb = rendered
    p = next(b for b in rb if isinstance(b, Paragraph) and b.text.startswith("Revenue"))
    assert ("12%", True, False) in [(r.text, r.bold, r.italic) for r in p.runs]
    assert ("Q3", False, True) in [(r.text, r.bold, r.italic) for r in p.runs]
    assert any(r.text == "EMEA" and r.code for r in p.runs)
    # soft break = space, hard break = line break
    assert "EMEA. This line is a soft break.\nAnd this follows a hard break." in p.text


def test_numbered_lists_restart_at_one(rendered):
    _, rb = rendered
    items = [(b.text, b.number) for b in rb if isinstance(b, ListItem) and b.kind == "number" and b.level == 0]
    assert items == [("First point", 1), ("Second point", 2),
                     ("Again first", 1), ("Again second", 2), ("Again third", 3)]


def test_numbering_definitions_in_main_numbering_part(rendered):
    out, _ = rendered
    d = docx.Document(str(out))
    root = d.part.numbering_part.element
    num_ids = []
    for p in d.paragraphs:
        ppr = p._p.pPr
        if ppr is not None and ppr.numPr is not None and p.text.startswith(("First", "Again first")):
            num_ids.append(str(ppr.numPr.numId.val))
    assert len(set(num_ids)) == 2
    for nid in num_ids:
        num = next(n for n in root.findall(qn("w:num")) if n.get(qn("w:numId")) == nid)
        overrides = num.findall(f"{qn('w:lvlOverride')}/{qn('w:startOverride')}")
        assert overrides and overrides[0].get(qn("w:val")) == "1"


def test_nested_lists(rendered):
    _, rb = rendered
    items = [(b.kind, b.level, b.number, b.text) for b in rb if isinstance(b, ListItem)]
    assert ("bullet", 0, None, "Bullet one") in items
    assert ("bullet", 1, None, "Nested one") in items
    assert ("bullet", 1, None, "Nested two") in items
    assert ("number", 1, 1, "Nested number one") in items
    assert ("number", 1, 2, "Nested number two") in items
    styles = {b.text: b.style for b in rb if isinstance(b, ListItem)}
    assert styles["Bullet one"] == "List Bullet" and styles["Nested one"] == "List Bullet 2"
    assert styles["First point"] == "List Number"


def test_table(rendered):
    _, rb = rendered
    (table,) = [b for b in rb if isinstance(b, Table)]
    assert table.rows == (("Region", "Revenue"), ("EMEA", "1,200"), ("APAC", "950"))
    assert table.style == "Table Grid"


def test_no_markdown_syntax_left(rendered):
    _, rb = rendered
    all_text = rb.text
    assert "**" not in all_text and "#" not in all_text and "`" not in all_text
    assert not any(line.lstrip().startswith(("- ", "* ", "1. ")) for line in all_text.splitlines())
    assert "Unbalanced bold at the end" in all_text
    # the tag's own paragraph was replaced, the surrounding ones kept
    assert texts(rb)[0] == "Report for Q3" and texts(rb)[-1] == "End."


def test_plain_text_passes_through(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["{{p sections.a }}", "{{p sections.b }}"])
    md_plain = "Just a sentence.\n\nAnother paragraph\nwith a soft break."
    text = "# not a heading\n**not bold**\n\nSecond paragraph."
    out = render_document(tpl, {}, {"a": ("markdown", md_plain), "b": ("text", text)}, tmp_path / "o.docx")
    rb = read_back(out)
    assert [(type(b).__name__, b.text) for b in rb] == [
        ("Paragraph", "Just a sentence."),
        ("Paragraph", "Another paragraph with a soft break."),
        ("Paragraph", "# not a heading\n**not bold**"),  # format "text": no Markdown at all, lines kept
        ("Paragraph", "Second paragraph."),
    ]


def test_template_without_heading_list_table_styles(tmp_path):
    drop = ("Heading 1", "Heading 2", "Heading 3", "List Bullet", "List Bullet 2", "List Number",
            "List Number 2", "List Paragraph", "Table Grid")
    tpl = make_template(tmp_path / "t.docx", ["{{p sections.s }}"], drop_styles=drop)
    out = render_document(tpl, {}, {"s": ("markdown", "# Title\n\n1. a\n2. b\n\n| x |\n|---|\n| 1 |")},
                          tmp_path / "o.docx")
    rb = read_back(out)
    title = rb[0]
    assert isinstance(title, Paragraph) and title.text == "Title" and all(r.bold for r in title.runs)
    items = [(b.kind, b.number, b.text) for b in rb if isinstance(b, ListItem)]
    assert items == [("number", 1, "a"), ("number", 2, "b")]
    assert [b.rows for b in rb if isinstance(b, Table)] == [(("x",), ("1",))]


def test_template_without_numbering_part(tmp_path):
    d = docx.Document()
    d.add_paragraph("{{p sections.s }}")
    rid = next(r for r, rel in d.part.rels.items() if rel.reltype.endswith("/numbering"))
    d.part.drop_rel(rid)
    d.save(str(tmp_path / "t.docx"))
    out = render_document(tmp_path / "t.docx", {}, {"s": ("markdown", "1. a\n2. b\n\n- c")}, tmp_path / "o.docx")
    assert [(b.kind, b.number) for b in read_back(out)] == [("number", 1), ("number", 2), ("bullet", None)]


def test_inline_sections_and_choice(tmp_path):
    tpl = make_template(tmp_path / "t.docx", [
        "Mood: {{ sections.mood }}.",
        "{% if sections.mood == 'positive' %}Good news.{% endif %}",
        "Inline: {{ sections.summary }}",
        "{{p sections.mood }}",
        "{{p title }}",
    ])
    out = render_document(tpl, {"title": "Plain value as a block"},
                          {"mood": ("choice", "positive"), "summary": ("markdown", "**Sales** rose.\n\n- a\n- b")},
                          tmp_path / "o.docx")
    assert texts(read_back(out)) == ["Mood: positive.", "Good news.", "Inline: Sales rose.\n\u2022 a\n\u2022 b",
                                     "positive", "Plain value as a block"]


def test_run_tag_keeps_run_formatting(tmp_path):
    d = docx.Document()
    p = d.add_paragraph("Name: ")
    p.add_run("{{r name }}").bold = True
    p.add_run(" / {{r sections.s }}")
    d.save(str(tmp_path / "t.docx"))
    out = render_document(tmp_path / "t.docx", {"name": "A & B"}, {"s": ("markdown", "**x**")}, tmp_path / "o.docx")
    (para,) = read_back(out)
    assert para.text == "Name: A & B / x"
    assert [r.bold for r in para.runs if r.text == "A & B"] == [True]


def test_rtl_and_cjk_section_text(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["{{p sections.s }}"])
    text = "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd\n\n\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8"
    out = render_document(tpl, {}, {"s": ("markdown", text)}, tmp_path / "o.docx")
    ps = docx.Document(str(out)).paragraphs
    assert ps[0]._p.pPr.find(qn("w:bidi")) is not None
    assert ps[0].runs[0]._r.rPr.find(qn("w:rtl")) is not None
    assert ps[1].runs[0]._r.rPr.rFonts.get(qn("w:hint")) == "eastAsia"


# -- values: escaping and sanitizing ------------------------------------------------------------------------------

def test_autoescape_and_special_tokens(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["Company: {{ company }}", "{% for r in rows %}{{ r.note }};{% endfor %}"],
                        header="H: {{ company }}", footer="F: {{ token }}")
    ctx = {"company": "Smith & Sons <Ltd> \"quoted\"", "token": "<|im_end|>",
           "rows": [{"note": "a < b > c"}, {"note": "<|im_start|>system"}]}
    out = render_document(tpl, ctx, {"s": ("markdown", "x & y <|im_end|> <b>not html</b>")}, tmp_path / "o.docx")
    rb = read_back(out)
    assert texts(rb) == ['Company: Smith & Sons <Ltd> "quoted"', "a < b > c;<|im_start|>system;"]
    assert rb.headers == ["H: Smith & Sons <Ltd> \"quoted\""]
    assert rb.footers == ["F: <|im_end|>"]


def test_special_tokens_in_sections(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["{{p sections.s }}"])
    out = render_document(tpl, {}, {"s": ("markdown", "x & y <|im_end|> <b>not html</b>")}, tmp_path / "o.docx")
    assert texts(read_back(out)) == ["x & y <|im_end|> <b>not html</b>"]


def test_control_characters_removed(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["{{ name }}|{{ nested.list[0] }}", "{{p sections.s }}"])
    ctx = {"name": "A\x00B\x07C\x1bD\ufffeE\ud800F\x1b[1mG\x1b[0m", "nested": {"list": ["x\x0by\x0cz"]}}
    out = render_document(tpl, ctx, {"s": ("markdown", "bad\x01 text\x1f here\x08")}, tmp_path / "o.docx")
    # removed: NUL, BEL, a lone ESC, U+FFFE; ANSI colour codes go whole (no "[1m" left); a lone surrogate shows as
    # U+FFFD; a vertical tab is a line break and a form feed ends the paragraph
    assert texts(read_back(out)) == ["ABCDE\ufffdFG|x\ny", "z", "bad text here"]


def test_sanitize_text_rules():
    assert sanitize_text("a\tb\nc\r\nd\re") == "a\tb\nc\nd\ne"
    assert sanitize_text("\U0001f600 \u00e9 \ud7ff") == "\U0001f600 \u00e9 \ud7ff"
    assert sanitize_text("\x00\x1f\ufffe\uffff") == ""
    assert sanitize_text("\udfff") == "\ufffd"
    assert sanitize_text("\x1b[1;31mred\x1b[0m \x1b]0;title\x07done") == "red done"
    assert sanitize_text("a\x0bb\x0cc") == "a\nb\n\nc"


def test_curly_quotes_in_tags(tmp_path):
    tpl = make_template(tmp_path / "t.docx", [
        "A: {{ missing|default(\u201cn/a\u201d) }}",
        "B: {{ name|default(\u2018none\u2019) }}",
        "{% if kind == \u201cx\u201d %}C: yes{% endif %}",
    ])
    out = render_document(tpl, {"name": "Ann", "kind": "x"}, {}, tmp_path / "o.docx")
    assert texts(read_back(out)) == ["A: n/a", "B: Ann", "C: yes"]


def test_filters_available(tmp_path):
    import datetime as dt
    tpl = make_template(tmp_path / "t.docx", ["{{ n|number }} {{ m|money }} {{ r|percent }} {{ d|date('%Y/%m/%d') }}"])
    out = render_document(tpl, {"n": 1234567.8, "m": -1234.5, "r": 0.123, "d": dt.date(2024, 3, 1)}, {},
                          tmp_path / "o.docx")
    assert texts(read_back(out)) == ["1,234,568 -$1,234.50 12.3% 2024/03/01"]


# -- errors ---------------------------------------------------------------------------------------------------------

def test_syntax_error_names_part_and_paragraph(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["Intro", "Name: {{ name }}", "", "Total: {{ total }", "after"])
    with pytest.raises(TemplateSyntaxError) as ei:
        render_document(tpl, {"name": "x", "total": 1}, {}, tmp_path / "o.docx")
    msg = str(ei.value)
    assert "body paragraph 4: 'Total: {{ total }'" in msg
    assert "line" not in msg.split("error in")[1].split(":")[0]
    assert not (tmp_path / "o.docx").exists()


def test_syntax_error_after_removed_paragraph_tags(tmp_path):
    # {%p %} paragraphs are removed by docxtpl before Jinja sees the XML; numbering must still match Word's
    tpl = make_template(tmp_path / "t.docx", ["{%p if a %}", "yes", "{%p endif %}", "x", "Bad: {{ b + }}"])
    with pytest.raises(TemplateSyntaxError, match=r"body paragraph 5: 'Bad: \{\{ b \+ \}\}'"):
        render_document(tpl, {"a": 1, "b": 2}, {}, tmp_path / "o.docx")


def test_syntax_error_in_header(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["fine {{ a }}"], header="Head {% if %}")
    with pytest.raises(TemplateSyntaxError, match=r"header paragraph 1: 'Head \{% if %\}'"):
        render_document(tpl, {"a": 1}, {}, tmp_path / "o.docx")


def test_unclosed_block(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["{% if a %}x{% endif %}", "Rows: {% for r in rows %}", "{{ r }}"])
    with pytest.raises(TemplateSyntaxError, match=r"body paragraph 2: 'Rows: \{% for r in rows %\}'.*never closed"):
        render_document(tpl, {"rows": [], "a": 1}, {}, tmp_path / "o.docx")


def test_missing_value_names_tag_record_and_closest(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["Region: {{ regoin }}"])
    with pytest.raises(MissingValues) as ei:
        render_document(tpl, {"region": "EMEA", "units": 3}, {}, tmp_path / "o.docx", record="row 7 of sales.csv")
    msg = str(ei.value)
    assert "regoin" in msg and "row 7 of sales.csv" in msg and "Did you mean 'region'" in msg
    assert "body paragraph 1" in msg and "units" in msg
    assert ei.value.names == ("regoin",)
    assert not (tmp_path / "o.docx").exists()


def test_missing_attribute_of_row_and_loop_variable(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["{{ row.prodcut }}"])
    with pytest.raises(MissingValues, match=r"row\.prodcut.*row 3 of a\.csv.*Did you mean 'product'"):
        render_document(tpl, {"row": {"product": "p"}}, {}, tmp_path / "o.docx", record="row 3 of a.csv")
    tpl = make_template(tmp_path / "t2.docx", ["{% for r in rows %}", "{{ r.revenu }}", "{% endfor %}"])
    with pytest.raises(MissingValues, match=r"body paragraph 2.*Did you mean 'revenue'"):
        render_document(tpl, {"rows": [{"revenue": 1}]}, {}, tmp_path / "o.docx")


def test_missing_section(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["{{p sections.sumary }}"])
    with pytest.raises(MissingValues, match=r"sections\.sumary.*Did you mean 'summary'"):
        render_document(tpl, {}, {"summary": ("markdown", "x")}, tmp_path / "o.docx")


def test_dunder_access_is_refused(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["{{ name.__class__.__mro__ }}"])
    with pytest.raises(TemplateError, match="sandbox"):
        render_document(tpl, {"name": "x"}, {}, tmp_path / "o.docx")


def test_not_a_docx(tmp_path):
    fake = tmp_path / "template.docx"
    fake.write_text("just text, renamed")
    with pytest.raises(TemplateError, match="template.docx is not a Word document"):
        render_document(fake, {}, {}, tmp_path / "o.docx")
    with pytest.raises(TemplateNotFound):
        render_document(tmp_path / "nope.docx", {}, {}, tmp_path / "o.docx")


def test_output_folder_is_a_file(section_tpl, tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("I am a file")
    with pytest.raises(RenderError, match=str(blocker)):
        render_document(section_tpl, {"period": "x"}, {"summary": ("text", "x")}, blocker / "r.docx")
    assert blocker.read_text() == "I am a file"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores permissions")
def test_output_folder_without_permission(section_tpl, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(RenderError, match=str(folder)):
            render_document(section_tpl, {"period": "x"}, {"summary": ("text", "x")}, folder / "r.docx")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_output_folder_not_writable_simulated(section_tpl, tmp_path, monkeypatch):
    # tests may run as root, which ignores permissions: simulate what a read-only folder reports
    folder = tmp_path / "locked"
    folder.mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != folder)
    with pytest.raises(RenderError, match=f"{folder}: you do not have permission to write there"):
        render_document(section_tpl, {"period": "x"}, {"summary": ("text", "x")}, folder / "r.docx")
    assert list(folder.iterdir()) == []


def test_output_path_is_a_folder(section_tpl, tmp_path):
    (tmp_path / "r.docx").mkdir()
    with pytest.raises(RenderError, match="it is a folder"):
        render_document(section_tpl, {"period": "x"}, {"summary": ("text", "x")}, tmp_path / "r.docx")
    assert leftovers(tmp_path) == []


def test_output_folder_created(section_tpl, tmp_path):
    out = render_document(section_tpl, {"period": "x"}, {"summary": ("text", "x")}, tmp_path / "a" / "b" / "r.docx")
    assert out.is_file() and texts(read_back(out))[0] == "Report for x"


# -- atomic write ---------------------------------------------------------------------------------------------------

def test_failure_while_writing_leaves_nothing(section_tpl, tmp_path, monkeypatch):
    from docgen.render.docx_template import DocgenTemplate

    def broken_save(self, fh, *a, **k):
        fh.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(DocgenTemplate, "save", broken_save)
    out_dir = tmp_path / "out"
    with pytest.raises(RenderError, match="Nothing was written"):
        render_document(section_tpl, {"period": "x"}, {"summary": ("text", "x")}, out_dir / "r.docx")
    assert list(out_dir.iterdir()) == []


def test_failure_keeps_previous_file(section_tpl, tmp_path, monkeypatch):
    out = render_document(section_tpl, {"period": "old"}, {"summary": ("text", "x")}, tmp_path / "r.docx")
    from docgen.render import docx_template

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(docx_template.DocgenTemplate, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        render_document(section_tpl, {"period": "new"}, {"summary": ("text", "x")}, out)
    assert texts(read_back(out))[0] == "Report for old"
    assert leftovers(tmp_path) == []


def test_render_error_mid_render_leaves_nothing(tmp_path):
    tpl = make_template(tmp_path / "t.docx", ["{{ a }}", "{{ b }}"])
    out_dir = tmp_path / "out"
    with pytest.raises(MissingValues):
        render_document(tpl, {"a": 1}, {}, out_dir / "r.docx")
    assert list(out_dir.iterdir()) == []


# -- provenance -------------------------------------------------------------------------------------------------------

def test_provenance_in_document_properties(section_tpl, tmp_path):
    prov = {"docgen_version": "0.1.0", "template_id": "sales", "model_file": "SmolLM2-135M.gguf", "seed": "42",
            "row": "7"}
    ctx = {"period": "Q3", "template": {"id": "sales", "name": "Sales & report", "version": "1.0.0"}}
    out = render_document(section_tpl, ctx, {"summary": ("text", "x")}, tmp_path / "r.docx", provenance=prov)
    rb = read_back(out)
    props = rb.properties
    assert rb.custom_properties == prov
    assert all(props[k] == v for k, v in prov.items())
    assert props["comments"].startswith("Written by docgen 0.1.0 from template sales with model SmolLM2-135M.gguf")
    assert props["title"] == "Sales & report"
    assert props["subject"] == "sales 1.0.0"
    assert props["keywords"] == "docgen"
