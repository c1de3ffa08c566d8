"""Rendering a batch: each template part compiled once per batch, the package compressed once, the rehearsal in
memory - and the documents exactly what the slower path wrote before (read back from the .docx, and byte
for byte)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import docx
import pytest
from docxtpl import DocxTemplate

from docgen import jinja
from docgen.batch import run_batch
from docgen.errors import MissingValues
from docgen.llm.fake import FakeGenerator
from docgen.pipeline import DocumentJob, rehearse
from docgen.render import read_back, render_document
from docgen.render import docx_template
from docgen.render.reproducible import normalized_zip
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve


def tickets(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["ticket_id", "comment"])
        for i in range(n):
            out.writerow([f"T-{i:03d}", f"Order {i} arrived broken."])
    return path


def body_text(path: Path) -> str:
    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def slow_path(monkeypatch) -> None:
    """How docgen rendered before: every part compiled for every document, python-docx's save and then
    normalized_zip."""
    monkeypatch.setattr(docx_template, "compiled", lambda env, source: env.from_string(source))

    def save(self, fh, *args, **kwargs):
        buffer = io.BytesIO()
        DocxTemplate.save(self, buffer)
        fh.write(normalized_zip(buffer.getvalue()))

    monkeypatch.setattr(docx_template.DocgenTemplate, "save", save)


def test_a_batch_writes_the_same_documents_as_the_slower_path(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    template = resolve("service-reply")
    data = load_dataset(tickets(tmp_path / "t.csv", 3))
    reply = "We are sorry the order arrived broken. We will replace it.\n\nPlease write to us quoting your ticket."
    fast = run_batch(template, data, FakeGenerator(reply), tmp_path / "fast")
    with monkeypatch.context() as m:
        slow_path(m)
        slow = run_batch(template, data, FakeGenerator(reply), tmp_path / "slow")
    assert [d.ok for d in fast.documents] == [True] * 3
    for a, b in zip(fast.documents, slow.documents, strict=True):
        assert a.path.name == b.path.name
        assert a.path.read_bytes() == b.path.read_bytes()
    letters = [body_text(d.path) for d in fast.documents]
    for i, text in enumerate(letters):  # each letter its own row's values: nothing leaks through the cache
        assert f"T-{i:03d}" in text and "arrived broken" in text
        assert all(f"T-{j:03d}" not in text for j in range(3) if j != i)


def test_a_batch_compiles_each_part_once(tmp_path, monkeypatch):
    sources: list[str] = []
    real = jinja.BoundedSandbox.from_string

    def counting(self, source, *args, **kwargs):
        sources.append(source)
        return real(self, source, *args, **kwargs)

    monkeypatch.setattr(jinja.BoundedSandbox, "from_string", counting)
    template = resolve("service-reply")
    few = run_batch(template, load_dataset(tickets(tmp_path / "a.csv", 2)), FakeGenerator(), tmp_path / "a")
    after_two = len(sources)
    many = run_batch(template, load_dataset(tickets(tmp_path / "b.csv", 6)), FakeGenerator(), tmp_path / "b")
    assert all(d.ok for d in (*few.documents, *many.documents))
    assert after_two > 0
    assert len(sources) == after_two  # four more documents (and their rehearsals): nothing compiled again
    assert len(set(sources)) == len(sources)


def run_template(path: Path, bold: bool) -> Path:
    d = docx.Document()
    p = d.add_paragraph("Name: ")
    p.add_run("{{r name }}").bold = bold
    p.add_run(" and {{r sections.s }}").italic = not bold
    d.save(str(path))
    return path


def test_run_tags_keep_their_own_formatting_when_two_templates_alternate(tmp_path):
    bold, italic = run_template(tmp_path / "bold.docx", True), run_template(tmp_path / "italic.docx", False)
    for i in range(2):  # both templates' parts are compiled into the one shared environment
        for tpl, is_bold in ((bold, True), (italic, False)):
            out = render_document(tpl, {"name": f"Ada {i}"}, {"s": ("text", "done")}, tmp_path / f"{tpl.stem}{i}.docx")
            runs = {r.text: r for r in docx.Document(str(out)).paragraphs[0].runs}
            assert bool(runs[f"Ada {i}"].bold) is is_bold
            assert bool(runs["done"].italic) is not is_bold


def test_a_value_named_like_a_tag_function_wins(tmp_path):
    d = docx.Document()
    d.add_paragraph("Chart: {{ chart }} / Image: {{ image }}")
    d.save(str(tmp_path / "t.docx"))
    out = render_document(tmp_path / "t.docx", {"chart": "pie", "image": "logo.png"}, {}, tmp_path / "o.docx")
    assert read_back(out)[0].text == "Chart: pie / Image: logo.png"


def test_the_rehearsal_writes_nothing_and_still_finds_a_missing_value(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    data = load_dataset(tickets(tmp_path / "t.csv", 1))
    job = DocumentJob(resolve("service-reply"), data, row_index=0)
    assert rehearse(job) == "reply-T-000.docx"
    assert list((tmp_path / "tmp").iterdir()) == []
    d = docx.Document()
    d.add_paragraph("Order {{ row.order_no }}")
    d.save(str(tmp_path / "t.docx"))
    with pytest.raises(MissingValues, match="order_no"):
        render_document(tmp_path / "t.docx", {"row": {"ticket_id": "T1"}}, {}, None)


def test_the_package_is_written_in_one_pass_with_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    from docgen.pipeline import generate

    template = resolve("sales-report")  # tables, two bound charts with their workbooks, footer
    job = DocumentJob(template, load_dataset(template.sample_data), {"period": "FY2014-17"})
    out = generate(job, FakeGenerator("Sales grew.\n\n- West led."), tmp_path / "a.docx").path
    with monkeypatch.context() as m:
        slow_path(m)
        old = generate(job, FakeGenerator("Sales grew.\n\n- West led."), tmp_path / "b.docx").path
    assert out.read_bytes() == old.read_bytes()
    with zipfile.ZipFile(out) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert zf.testzip() is None
        assert any(n.startswith("word/charts/") for n in zf.namelist())
    assert "West led." in body_text(out)


def test_a_batch_builds_each_document_once(tmp_path, monkeypatch):
    from docgen.render import rehearsal

    opened: list[Path] = []
    real = docx_template.open_template

    def counting(path):
        opened.append(Path(path))
        return real(path)

    monkeypatch.setattr(docx_template, "open_template", counting)
    monkeypatch.setattr(rehearsal, "open_template", counting)
    rehearsal._cache.clear()
    report = run_batch(resolve("service-reply"), load_dataset(tickets(tmp_path / "t.csv", 5)), FakeGenerator(),
                       tmp_path / "out")
    assert [d.ok for d in report.documents] == [True] * 5
    assert len(opened) == 1 + 5  # the template's parts read once for the rehearsals, then one per written letter


def footer_template(path: Path, footer: str) -> Path:
    d = docx.Document()
    d.add_paragraph("Dear {{ row.name }},")
    d.add_paragraph("{{p sections.body }}")
    d.sections[0].footer.paragraphs[0].text = footer
    d.save(str(path))
    return path


@pytest.mark.parametrize("footer", ["Ref {{ row.order_no }}", "Total {{ row.name / 2 }}",
                                    "{{ sections.body.nothing }}"])
def test_the_rehearsal_fails_with_the_full_renders_message(tmp_path, footer):
    from docgen.errors import DocgenError
    from docgen.render import rehearse_document

    tpl = footer_template(tmp_path / f"t{abs(hash(footer))}.docx", footer)
    ctx, sections = {"row": {"name": "Ada"}}, {"body": ("markdown", "[Letter body]")}
    with pytest.raises(DocgenError) as full:
        render_document(tpl, ctx, sections, None, record="row 2 of t.csv")
    with pytest.raises(DocgenError) as quick:
        rehearse_document(tpl, ctx, sections, record="row 2 of t.csv")
    assert type(quick.value) is type(full.value) and str(quick.value) == str(full.value)
    assert "footer" in str(quick.value)


def test_the_rehearsal_passes_what_the_full_render_passes(tmp_path):
    from docgen.render import rehearse_document

    tpl = footer_template(tmp_path / "t.docx", "{{ row.name|upper }} {% if sections.body %}with a body{% endif %}")
    rehearse_document(tpl, {"row": {"name": "Ada"}}, {"body": ("markdown", "[Letter body]")})
    out = render_document(tpl, {"row": {"name": "Ada"}}, {"body": ("markdown", "Hello **Ada**.")}, tmp_path / "o.docx")
    assert "ADA with a body" in read_back(out).footers


def test_a_written_documents_xml_is_freed_at_once(tmp_path):
    """Batch memory stays flat: nothing of a rendered document waits for Python's cycle collector (python-docx's
    package and parts refer to each other; before, each document's XML trees stayed until a full collection)."""
    import gc

    from lxml import etree

    template = resolve("service-reply").docx
    ctx = {"company": "Northwind", "customer_name": "Ada", "signer": "Bo", "support_contact": "x@example.com",
           "today": None, "row": {"ticket_id": "T-1", "comment": "Broken."}}
    render_document(template, ctx, {"body": ("markdown", "Sorry.")}, tmp_path / "warm.docx")
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        out = render_document(template, ctx, {"body": ("markdown", "We are **sorry**.")}, tmp_path / "a.docx")
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, etree._Element)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []
    assert "We are sorry." in body_text(out)
