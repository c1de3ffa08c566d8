"""Retrieval quality on real files: recall@3 of 38 labelled customer questions against the bundled policy set
(.docx + .md as shipped, and the .docx files turned into PDF by LibreOffice), and the PDF text layer's headings
and pages."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from docgen.refs import Index, read_passages
from docgen.render import convert_to_pdf
from docgen.render import pdf as pdf_mod

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "templates" / "service-reply" / "references"
QUESTIONS = Path(__file__).resolve().parent / "data" / "refs" / "questions.csv"
HAS_SOFFICE = pdf_mod.find_soffice() is not None


def labelled() -> list[tuple[str, list[tuple[str, str]]]]:
    with QUESTIONS.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [(r["question"], [tuple(x.rsplit(" ", 1)) for x in r["expected"].split("|")]) for r in rows]


def recall_at(index: Index, files: list[Path], k: int = 3) -> tuple[float, list[str]]:
    """Share of questions with an expected (file stem, §N) among the top ``k`` hits; and the misses."""
    misses = []
    pairs = labelled()
    for question, expected in pairs:
        hits = index.search(question, files, limit=k)
        got = [(h.file.stem, h.passage.section.split(" ")[0]) for h in hits]
        if not any(e in got for e in expected):
            misses.append(f"{question} -> {got}")
    return 1 - len(misses) / len(pairs), misses


def test_there_are_at_least_30_labelled_pairs():
    assert len(labelled()) >= 30


def test_recall_at_3_on_the_bundled_docx_and_markdown(tmp_path):
    files = sorted(POLICIES.iterdir())
    index = Index(tmp_path / "index.sqlite3")
    index.update(files)
    recall, misses = recall_at(index, files)
    print(f"recall@3 docx+md: {recall:.3f}; misses: {misses}")
    assert recall >= 0.85, misses  # measured 0.868 (33 of 38) when the set was written


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice is not installed")
def test_pdf_made_by_libreoffice_keeps_headings_pages_and_recall(tmp_path):
    for name in ("Returns policy.docx", "Warranty terms.docx"):
        shutil.copy(POLICIES / name, tmp_path / name)
        convert_to_pdf(tmp_path / name, tmp_path)
    pdfs = sorted(tmp_path.glob("*.pdf"))
    warranty = read_passages(tmp_path / "Warranty terms.pdf")
    sections = [p.section for p in warranty]
    assert "§3 What we will do" in sections and "§6 After the warranty" in sections
    assert all(p.page for p in warranty) and max(p.page for p in warranty) >= 1
    after = next(p for p in warranty if p.section == "§6 After the warranty")
    assert "$49" in after.text
    files = pdfs + [POLICIES / "Shipping.md"]
    index = Index(tmp_path / "index.sqlite3")
    assert not index.update(files).failed
    recall, misses = recall_at(index, files)
    print(f"recall@3 pdf+md: {recall:.3f}; misses: {misses}")
    assert recall >= 0.85, misses
