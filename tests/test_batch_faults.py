"""Batch mode tells the truth about what it wrote: no "replaced" for a write that failed, names without
invisible characters (and a note saying so), a note when the data file was not UTF-8, and the documents'
summary even when the report itself cannot be written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docgen.batch import safe_filename
from docgen.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def batch(data: Path, out: Path, capsys, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "--template", "service-reply", "--data", str(data), "--out", str(out), "--backend", "fake",
               "-q", *extra)


@pytest.fixture
def tickets(tmp_path) -> Path:
    data = tmp_path / "t.csv"
    data.write_text("ticket_id,comment\nT-1,Broken.\nT-2,Late.\n", encoding="utf-8")
    return data


@pytest.mark.parametrize("blocker", ["folder", "read-only"])
def test_a_failed_write_is_not_reported_as_replaced(tmp_path, tickets, capsys, blocker):
    out = tmp_path / "out"
    assert batch(tickets, out, capsys)[0] == 0
    target = out / "reply-T-1.docx"
    if blocker == "folder":
        target.unlink()
        target.mkdir()
    else:
        target.chmod(0o444)
    try:
        code, _, err = batch(tickets, out, capsys, "--force")  # without it T-2 is kept (same inputs), not rewritten
    finally:
        if blocker == "read-only":
            target.chmod(0o644)
    assert code == 1
    assert "replaced 1 document(s)" in err and "reply-T-2.docx" in err  # T-2 really was replaced
    assert "reply-T-1.docx" not in err.split("replaced")[1].split("\n")[0]
    assert ("it is a folder" if blocker == "folder" else "the file is read-only") in err
    report = json.loads((out / "docgen-report.json").read_text(encoding="utf-8"))
    assert report["replaced"] == ["reply-T-2.docx"]


def test_invisible_characters_are_left_out_of_file_names_and_noted(tmp_path, capsys):
    data = tmp_path / "t.csv"
    data.write_bytes(b"ticket_id,comment\nT\x001,Broken.\nT\xe2\x80\xae2,Late.\n")
    out = tmp_path / "out"
    code, _, err = batch(data, out, capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.glob("*.docx")) == ["reply-T1.docx", "reply-T2.docx"]
    # the NUL is a control character: it is taken out when the file is read (and said so); the bidi override is
    # text, and only left out of the file name
    assert "t.csv, row 2, column 'ticket_id': the value held characters a Word document cannot show (control " \
           "characters removed)" in err
    assert "row 3 of t.csv: the output name had invisible characters (such as NUL) in it; they were left out: " \
           "reply-T2.docx" in err
    notes = json.loads((out / "docgen-report.json").read_text(encoding="utf-8"))["notes"]
    assert len(notes) == 2


@pytest.mark.parametrize(("raw", "expected"), [
    ("a\x00b", "ab.docx"), ("tab\there", "tab here.docx"), ("line\nbreak", "line break.docx"),
    ("report\u202excod", "reportxcod.docx"), ("zero\u200bwidth", "zerowidth.docx"), ("\x00\x01", "document.docx"),
    ("lone\ud800surrogate", "lone_surrogate.docx"),  # found by tests/test_fuzz.py: it made the write fail
])
def test_safe_filename_drops_invisible_characters(raw, expected):
    assert safe_filename(raw) == expected


def test_a_guessed_encoding_is_reported(tmp_path, capsys):
    data = tmp_path / "t.csv"
    data.write_bytes("ticket_id,comment\nT-1,Très déçu: l'écran est cassé.\n".encode("cp1252"))
    code, _, err = batch(data, tmp_path / "out", capsys)
    assert code == 0, err
    assert "docgen: note: t.csv is not UTF-8 text; docgen read it as Windows-1252 (Western European)" in err
    assert "CSV UTF-8" in err
    report = json.loads((tmp_path / "out" / "docgen-report.json").read_text(encoding="utf-8"))
    assert any("Windows-1252" in n for n in report["notes"])
