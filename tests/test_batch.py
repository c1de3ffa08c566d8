"""Batch runner: file names, continue-on-error, the report, cancellation (fake backend)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docgen.batch import run_batch, safe_filename, unique_name
from docgen.cancel import CancelToken
from docgen.llm.fake import FakeGenerator
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve


@pytest.mark.parametrize("raw, expected", [
    ("report.docx", "report.docx"),
    ("Q1/Q2 report", "Q1_Q2 report.docx"),
    ('a:b*c?"d<e>f|g', "a_b_c_d_e_f_g.docx"),
    ("CON", "_CON.docx"),
    ("nul.docx", "_nul.docx"),
    ("com1.tar", "_com1.tar.docx"),
    ("trailing dots...", "trailing dots.docx"),
    ("   ", "document.docx"),
    ("x" * 400, "x" * 150 + ".docx"),
])
def test_safe_filename(raw, expected):
    assert safe_filename(raw) == expected


def test_unique_name_is_case_insensitive():
    used: set[str] = set()
    assert [unique_name(n, used) for n in ("a.docx", "A.docx", "a.docx")] == ["a.docx", "A (2).docx", "a (3).docx"]


def tickets(tmp_path: Path, n: int = 4):
    path = tmp_path / "tickets.csv"
    path.write_text("ticket_id,comment\n" + "".join(f"T{i},problem {i}\n" for i in range(1, n + 1)),
                    encoding="utf-8")
    return load_dataset(path)


def test_backend_failure_on_one_row_does_not_stop_the_batch(tmp_path):
    events = []
    generator = FakeGenerator(fail_on="problem 2")
    report = run_batch(resolve("service-reply"), tickets(tmp_path), generator, tmp_path / "out",
                       on_event=events.append)
    assert [d.ok for d in report.documents] == [True, False, True, True]
    assert "row 3 of tickets.csv" in report.documents[1].error and "scripted failure" in report.documents[1].error
    assert {e.kind for e in events} >= {"run_started", "document_started", "token", "section_done",
                                        "document_done", "document_failed", "run_done"}
    saved = json.loads((tmp_path / "out" / "docgen-report.json").read_text(encoding="utf-8"))
    assert saved["written"] == 3 and saved["failed"] == 1


def test_cancel_between_documents_keeps_written_ones(tmp_path):
    token = CancelToken()

    def on_event(event):
        if event.kind == "document_done" and event.document == 1:
            token.cancel()

    report = run_batch(resolve("service-reply"), tickets(tmp_path), FakeGenerator(), tmp_path / "out",
                       on_event=on_event, cancel=token)
    assert report.cancelled
    assert sorted(p.name for p in (tmp_path / "out").glob("*.docx")) == ["reply-T1.docx", "reply-T2.docx"]


def test_cancel_mid_section_leaves_no_partial_file(tmp_path):
    token = CancelToken()

    def on_event(event):
        if event.kind == "token" and event.tokens == 3:
            token.cancel()

    report = run_batch(resolve("service-reply"), tickets(tmp_path, 1), FakeGenerator(), tmp_path / "out",
                       on_event=on_event, cancel=token)
    assert report.cancelled and not report.documents
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["docgen-report.json"]
