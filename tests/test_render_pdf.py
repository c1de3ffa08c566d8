"""PDF export through LibreOffice: availability, clear errors, timeout, a real conversion (slow)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from docgen.errors import RenderError
from docgen.render import convert_to_pdf, pdf_available, render_document
from docgen.render import pdf as pdf_mod

HAS_SOFFICE = pdf_mod.find_soffice() is not None
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="uses a shell script as a fake soffice")


def a_docx(tmp_path: Path) -> Path:
    d = docx.Document()
    d.add_paragraph("{{p sections.body }}")
    d.save(str(tmp_path / "t.docx"))
    md = "# Hello\n\nPDF *test* 中文 مرحبا 🎉"
    return render_document(tmp_path / "t.docx", {}, {"body": ("markdown", md)}, tmp_path / "out" / "Report 1.docx")


def fake_soffice(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "soffice"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.fixture
def no_office(monkeypatch):
    monkeypatch.setattr(pdf_mod, "find_soffice", lambda: None)
    monkeypatch.setattr(pdf_mod, "word_available", lambda: False)


def test_unavailable_gives_reason_and_clear_error(tmp_path, no_office):
    reason = pdf_available()
    assert reason and "LibreOffice or Microsoft Word" in reason and "libreoffice.org" in reason
    src = a_docx(tmp_path)
    with pytest.raises(RenderError, match="PDF export needs LibreOffice or Microsoft Word"):
        convert_to_pdf(src)
    assert src.is_file() and not list(src.parent.glob("*.pdf"))


@posix_only
def test_failed_conversion_keeps_docx_and_leaves_no_pdf(tmp_path, monkeypatch):
    script = fake_soffice(tmp_path, "echo 'Error: source file could not be loaded' >&2; exit 1")
    monkeypatch.setattr(pdf_mod, "find_soffice", lambda: script)
    src = a_docx(tmp_path)
    with pytest.raises(RenderError, match="could not convert Report 1.docx.*source file could not be loaded"):
        convert_to_pdf(src)
    assert src.is_file() and sorted(p.name for p in src.parent.iterdir()) == ["Report 1.docx"]


@posix_only
def test_timeout_kills_the_converter(tmp_path, monkeypatch):
    marker = tmp_path / "still-running"
    script = fake_soffice(tmp_path, f"sleep 30; touch '{marker}'")
    monkeypatch.setattr(pdf_mod, "find_soffice", lambda: script)
    src = a_docx(tmp_path)
    with pytest.raises(RenderError, match="took longer than 1 s"):
        convert_to_pdf(src, timeout=1)
    assert sorted(p.name for p in src.parent.iterdir()) == ["Report 1.docx"]


@posix_only
def test_profile_is_isolated(tmp_path, monkeypatch):
    """The command line carries a fresh -env:UserInstallation (works while the user has LibreOffice open)."""
    log = tmp_path / "args.txt"
    # a fake soffice that records its arguments and writes the PDF where --outdir says
    script = fake_soffice(tmp_path, f"""printf '%s\\n' "$@" > '{log}'
out=""; prev=""; for a in "$@"; do [ "$prev" = "--outdir" ] && out="$a"; prev="$a"; last="$a"; done
name=$(basename "$last" .docx); printf '%%PDF-1.4 fake' > "$out/$name.pdf\"""")
    monkeypatch.setattr(pdf_mod, "find_soffice", lambda: script)
    src = a_docx(tmp_path)
    pdf = convert_to_pdf(src, tmp_path / "pdfs")
    assert pdf == tmp_path / "pdfs" / "Report 1.pdf" and pdf.read_bytes().startswith(b"%PDF")
    args = log.read_text().splitlines()
    profile = next(a for a in args if a.startswith("-env:UserInstallation=file:///"))
    assert "docgen-lo-profile-" in profile
    assert not Path(profile.split("file://", 1)[1]).exists()  # removed afterwards
    assert "--headless" in args and args[args.index("--convert-to") + 1] == "pdf"


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) is not installed")
def test_real_conversion(tmp_path):
    assert pdf_available() is None
    src = a_docx(tmp_path)
    pdf = convert_to_pdf(src)
    assert pdf == src.with_suffix(".pdf") and pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "Hello" in text and "PDF test" in text
    assert os.path.getsize(src) > 0


# -- docgen --pdf (batch mode) ----------------------------------------------------------------------------------

def _cli(tmp_path: Path, capsys, *extra: str) -> tuple[int, str, str]:
    from docgen.cli import main

    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,comment\nT1,printer broken\nT2,screen dark\n", encoding="utf-8")
    code = main(["--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "out"),
                 "--backend", "fake", "--quiet", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_pdf_without_office_is_a_usage_error(tmp_path, capsys, no_office):
    code, _, err = _cli(tmp_path, capsys, "--pdf")
    assert code == 2 and "PDF export needs LibreOffice or Microsoft Word" in err
    assert not list((tmp_path / "out").glob("*.docx"))


@posix_only
def test_cli_pdf_failure_is_reported_per_document_and_docx_kept(tmp_path, capsys, monkeypatch):
    import json

    script = fake_soffice(tmp_path, 'for a in "$@"; do last="$a"; done\n'
                          'case "$last" in *T2*) echo "Error: broken" >&2; exit 1;; esac\n'
                          'prev=""; for a in "$@"; do [ "$prev" = "--outdir" ] && out="$a"; prev="$a"; done\n'
                          'name=$(basename "$last" .docx); printf "%%PDF-1.4" > "$out/$name.pdf"')
    monkeypatch.setattr(pdf_mod, "find_soffice", lambda: script)
    code, out, err = _cli(tmp_path, capsys, "--pdf")
    assert code == 1 and "1 PDF conversion(s) failed" in err and "broken" in err
    docs = sorted(p.name for p in (tmp_path / "out").glob("*.docx"))
    pdfs = sorted(p.name for p in (tmp_path / "out").glob("*.pdf"))
    assert len(docs) == 2 and len(pdfs) == 1
    report = json.loads((tmp_path / "out" / "docgen-report.json").read_text(encoding="utf-8"))
    by_ok = {d["file"]: (d["pdf"], d["pdf_error"]) for d in report["documents"]}
    assert sorted(v[0] for v in by_ok.values() if v[0]) == pdfs
    assert sum(1 for v in by_ok.values() if v[1] and "broken" in v[1]) == 1


# -- GUI option -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("available", [False, True])
def test_gui_pdf_checkbox_follows_availability(qtbot, tmp_path, monkeypatch, available):
    pytest.importorskip("PySide6")
    from docgen.gui import export_controller, main_window
    from docgen.llm.fake import FakeGenerator
    from docgen.settings import Settings

    reason = None if available else pdf_mod.INSTALL_HINT
    monkeypatch.setattr(export_controller, "pdf_available", lambda: reason)
    window = main_window.MainWindow(Settings(output_dir=str(tmp_path / "out")),
                                    generator_factory=lambda _s: FakeGenerator())
    qtbot.addWidget(window)
    assert window.pdf_check.text() == "&Also save as PDF"
    assert window.pdf_check.isEnabled() is available
    if not available:
        assert "PDF export needs LibreOffice or Microsoft Word" in window.pdf_check.toolTip()
