"""Provenance: every section's sampling parameters, n_ctx and backend in the document properties; the
``<stem>.provenance.json`` sidecar; ``docgen inspect``; identical sidecars for identical runs.

Determinism rule: two runs with the same inputs and seed give identical sidecars except the wall-clock
``seconds`` fields (document and per section), which :func:`docgen.provenance.comparable` drops."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import docx
import pytest

from docgen import pipeline
from docgen.batch import run_batch
from docgen.cli import main
from docgen.errors import RenderError
from docgen.llm.fake import FakeGenerator
from docgen.model import GenerationParams
from docgen.pipeline import DocumentJob, generate
from docgen.provenance import TIMING_FIELDS, comparable, sidecar_path
from docgen.render import read_provenance
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve

PARAM_KEYS = {f.name for f in fields(GenerationParams)}


def sales_job(**kw) -> DocumentJob:
    template = resolve("sales-report")
    return DocumentJob(template, load_dataset(template.sample_data), {"period": "Q1 2024"}, **kw)


def write(tmp_path: Path, name: str = "a", **kw) -> Path:
    out = tmp_path / name / "report.docx"
    generate(sales_job(**kw), FakeGenerator(), out)
    return out


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_properties_hold_every_sections_parameters_n_ctx_and_backend(tmp_path):
    props = read_provenance(write(tmp_path))
    assert props["backend"] == "fake" and props["n_ctx"] == "4096"
    params = json.loads(props["section_params"])
    assert set(params) == {s.id for s in resolve("sales-report").sections}
    for p in params.values():
        assert set(p) == PARAM_KEYS
    assert params["summary"]["max_tokens"] == 160 and params["summary"]["seed"] == 42


def test_sidecar_is_written_beside_the_document_and_matches_the_properties(tmp_path):
    out = write(tmp_path)
    side = sidecar_path(out)
    assert side == out.parent / "report.provenance.json"
    data = load(side)
    props = read_provenance(out)
    assert data["document"] == "report.docx"
    assert data["properties"] == {k: props[k] for k in data["properties"]}
    assert set(data["properties"]) >= {"docgen_version", "template_id", "model_sha256", "seed", "section_params",
                                       "data_sha256", "row", "n_ctx", "backend"}
    by_id = {s["id"]: s for s in data["sections"]}
    params = json.loads(props["section_params"])
    for sid, s in by_id.items():
        assert s["params"] == params[sid]
        assert s["tokens"] > 0 and s["seconds"] >= 0
        assert isinstance(s["warnings"], list) and isinstance(s["ungrounded"], list)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp files left


def test_locked_sections_are_marked_not_given_fake_parameters(tmp_path):
    out = write(tmp_path, fixed_sections={"summary": "Sales were flat."})
    assert json.loads(read_provenance(out)["section_params"])["summary"] == {"locked": True}
    summary = next(s for s in load(sidecar_path(out))["sections"] if s["id"] == "summary")
    assert summary["locked"] and summary["params"] is None


def test_same_seed_gives_the_same_sidecar_except_timing(tmp_path):
    a, b = load(sidecar_path(write(tmp_path, "a"))), load(sidecar_path(write(tmp_path, "b")))
    assert TIMING_FIELDS == {"seconds"}
    assert comparable(a) == comparable(b)
    assert "seconds" in a and all("seconds" in s for s in a["sections"])
    c = tmp_path / "c" / "report.docx"
    generate(sales_job(seeds={"summary": 7}), FakeGenerator(), c)
    assert comparable(load(sidecar_path(c))) != comparable(a)


def test_failed_sidecar_write_removes_the_document(tmp_path, monkeypatch):
    def broken(path, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pipeline, "write_sidecar", broken)
    out = tmp_path / "a" / "report.docx"
    with pytest.raises(RenderError, match="provenance file"):
        generate(sales_job(), FakeGenerator(), out)
    assert not out.exists()


def test_failed_document_has_no_sidecar(tmp_path):
    template = resolve("service-reply")
    data = tmp_path / "t.csv"
    data.write_text("ticket_id,comment\nT1,fine\nT2,XYZZY broke\n", encoding="utf-8")
    report = run_batch(template, load_dataset(data), FakeGenerator(fail_on="XYZZY"), tmp_path / "out")
    assert [d.ok for d in report.documents] == [True, False]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "docgen-report.json", "reply-T1.docx", "reply-T1.provenance.json"]


def test_inspect_prints_a_table(tmp_path, capsys):
    out = write(tmp_path)
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "template_id" in text and "sales-report" in text and "backend" in text
    assert "Sections:" in text and "summary" in text and "repeat" in text
    assert "section_params" not in text  # shown as the table instead
    assert str(sidecar_path(out)) in text


def test_inspect_json(tmp_path, capsys):
    out = write(tmp_path)
    assert main(["inspect", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["properties"]["template_id"] == "sales-report"
    assert {s["id"] for s in info["sections"]} == {"summary", "commentary"}
    assert all(set(s["params"]) == PARAM_KEYS and "tokens" in s for s in info["sections"])


def test_inspect_without_sidecar_uses_the_properties(tmp_path, capsys):
    out = write(tmp_path)
    sidecar_path(out).unlink()
    assert main(["inspect", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["sidecar"] is None and all(set(s["params"]) == PARAM_KEYS for s in info["sections"])
    assert main(["inspect", str(out)]) == 0
    assert "No sidecar" in capsys.readouterr().out


def test_inspect_errors(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "missing.docx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    fake = tmp_path / "notes.docx"
    fake.write_text("not a zip", encoding="utf-8")
    assert main(["inspect", str(fake)]) == 2
    assert "not a Word document" in capsys.readouterr().err
    plain = tmp_path / "plain.docx"
    docx.Document().save(str(plain))
    assert main(["inspect", str(plain)]) == 2
    assert "this document was not written by docgen" in capsys.readouterr().err
