"""The bundled service-reply template with its policy set and the real embedded model: a reply to "it broke
after 3 months" quotes and cites the warranty clause as a footnote, and keeps no promise the policy lacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document

from docgen.batch import run_batch
from docgen.llm import open_generator
from docgen.refs.evidence import policy_marks
from docgen.render.citations import footnote_texts
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve

pytestmark = [pytest.mark.model, pytest.mark.slow]


def test_reply_to_a_broken_player_cites_the_warranty(tmp_path):
    data = tmp_path / "tickets.csv"
    # a real review sentence (Hutto & Gilbert 2014, id 21_4), as the bundled sample's comments are
    data.write_text('ticket_id,comment\n21-4,"3 months of use and it no longer recognizes anything."\n',
                    encoding="utf-8")
    generator = open_generator("llamacpp", n_ctx=4096, n_threads=2)
    try:
        report = run_batch(resolve("service-reply"), load_dataset(data), generator, tmp_path / "out")
    finally:
        generator.close()
    [doc] = report.documents
    assert doc.ok, doc.error
    body = doc.sections[0]
    assert body.sources and body.sources[0].file == "Warranty terms.docx"
    assert body.sources_note  # what was used is stated
    notes = footnote_texts(Document(doc.path))
    assert any(n.startswith("Warranty terms.docx, §") for n in notes), notes
    # unsupported promises were taken out: what is left states no policy term that no source supports
    assert not [m for m in policy_marks(body.text, body.sources, [data.read_text()]) if m.kind == "policy"]
    saved = json.loads((tmp_path / "out" / "docgen-report.json").read_text())["documents"][0]["sections"][0]
    assert saved["sources"][0]["label"].startswith("Warranty terms.docx")
