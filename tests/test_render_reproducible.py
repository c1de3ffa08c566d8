"""Byte-identical documents from identical inputs; fixed zip/core-property dates; fields updated on open."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import zipfile
from pathlib import Path

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from docgen.render import render_document
from docgen.render.reproducible import ZIP_EPOCH

MD = ("# Title\n\nText with a [link](https://example.com) and **bold**.\n\n1. a\n2. b\n\n"
      "| x | y |\n|---|---|\n| 1 | 2 |\n")


def make_template(path: Path, *, toc: bool = False, page_field: bool = False) -> Path:
    d = docx.Document()
    d.add_paragraph("Report for {{ name }}, 中文 and عربي")
    d.add_paragraph("{{p sections.body }}")
    if toc:
        d.element.body.insert(0, parse_xml(
            f'<w:p {nsdecls("w")}><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r>'
            '<w:instrText xml:space="preserve"> TOC \\o "1-3" \\h \\z \\u </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>old toc</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'))
    if page_field:
        d.sections[0].footer.paragraphs[0]._p.append(parse_xml(
            f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    d.save(str(path))
    return path


def render(tpl: Path, out: Path) -> Path:
    return render_document(tpl, {"name": "Acme 🎉"}, {"body": ("markdown", MD)}, out,
                           provenance={"docgen_version": "0.1.0", "seed": "42"},
                           )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_inputs_give_identical_bytes(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    tpl = make_template(tmp_path / "t.docx")
    a = render(tpl, tmp_path / "a.docx")
    time.sleep(1.1)  # zip entry times and "now" would differ by now
    b = render(tpl, tmp_path / "b.docx")
    assert sha(a) == sha(b)
    with zipfile.ZipFile(a) as z:
        infos = z.infolist()
        assert {i.date_time for i in infos} == {ZIP_EPOCH}
        assert infos[0].filename == "[Content_Types].xml"
        assert {i.create_system for i in infos} == {0}
    props = docx.Document(str(a)).core_properties
    assert props.created is None and props.modified is None  # no invented date


def test_source_date_epoch_sets_zip_and_core_dates(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1714564800")  # 2024-05-01 12:00:00 UTC
    tpl = make_template(tmp_path / "t.docx")
    a = render(tpl, tmp_path / "a.docx")
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {(2024, 5, 1, 12, 0, 0)}
    props = docx.Document(str(a)).core_properties
    assert props.created == props.modified == dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def test_modified_from_provenance(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    tpl = make_template(tmp_path / "t.docx")
    out = render_document(tpl, {"name": "x"}, {"body": ("markdown", "x")}, tmp_path / "o.docx",
                          provenance={"modified": "2023-02-03T04:05:06+01:00"})
    props = docx.Document(str(out)).core_properties
    assert props.modified == dt.datetime(2023, 2, 3, 3, 5, 6, tzinfo=dt.timezone.utc)


def test_pipeline_with_fake_generator_is_byte_identical(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    from docgen.llm.fake import FakeGenerator
    from docgen.pipeline import DocumentJob, RunOptions, generate
    from docgen.sources import load_dataset
    from docgen.templates.catalog import resolve

    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,comment\nT1,The printer is broken again\n", encoding="utf-8")
    job = DocumentJob(resolve("service-reply"), load_dataset(data), row_index=0)
    a = generate(job, FakeGenerator(), tmp_path / "a.docx", options=RunOptions(seed=7)).path
    time.sleep(1.1)
    b = generate(job, FakeGenerator(), tmp_path / "b.docx", options=RunOptions(seed=7)).path
    assert a.stat().st_size > 0 and sha(a) == sha(b)


def _settings_update_fields(path: Path):
    return docx.Document(str(path)).settings.element.find(qn("w:updateFields"))


def test_toc_asks_word_to_update_fields(tmp_path):
    out = render(make_template(tmp_path / "t.docx", toc=True), tmp_path / "o.docx")
    el = _settings_update_fields(out)
    assert el is not None and el.get(qn("w:val")) == "true"
    # at its schema place: before w:compat / w:rsids etc. that follow it in CT_Settings
    names = [c.tag.split("}")[1] for c in docx.Document(str(out)).settings.element]
    if "compat" in names:
        assert names.index("updateFields") < names.index("compat")


def test_page_field_in_footer_asks_word_to_update_fields(tmp_path):
    out = render(make_template(tmp_path / "t.docx", page_field=True), tmp_path / "o.docx")
    assert _settings_update_fields(out) is not None


def test_no_fields_no_update_request(tmp_path):
    out = render(make_template(tmp_path / "t.docx"), tmp_path / "o.docx")
    assert _settings_update_fields(out) is None
