"""Per-row sections written from reference documents: each row's query is the section's instruction plus that
row's record, and its own passages come before the instruction in that row's prompt."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from docgen.llm.fake import FakeGenerator
from docgen.llm.prompt import SOURCES_HEADER
from docgen.model import ReferencesSpec
from docgen.pipeline import DocumentJob, generate
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve

GUIDE = """# Labelling guide

## Battery complaints

A battery that drains within a day or will not charge is a defect: label the comment negative.

## Delivery questions

A question about when a parcel arrives or where it is states no opinion: label it neutral.

## Praise for the screen

Comments that the screen is bright, sharp or easy to read are praise: label them positive.
"""


def sentiment_job(tmp_path: Path, comments: list[str], spec: ReferencesSpec) -> DocumentJob:
    data = tmp_path / "comments.csv"
    data.write_text("id,human_rating,comment\n" + "".join(f'{i},0,"{c}"\n' for i, c in enumerate(comments, 1)),
                    encoding="utf-8")
    template = dataclasses.replace(resolve("sentiment-report"), references=spec)
    return DocumentJob(template, load_dataset(data))


def test_each_row_of_a_per_row_section_gets_the_passages_its_own_record_matches(tmp_path):
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / "Labelling guide.md").write_text(GUIDE, encoding="utf-8")
    # passages = 1 and a small budget: only the best passage per row can come in, so the rows differ
    spec = ReferencesSpec(folder=refs, sections=("sentiment",), passages=1, max_tokens=60)
    comments = ["The battery drains in a day and will not charge.", "When does my parcel arrive?",
                "The screen is so bright and sharp.", "Hmm, okay."]
    job = sentiment_job(tmp_path, comments, spec)
    fake = FakeGenerator("A short summary.")
    result = generate(job, fake)

    rows = [m[-1].content for m in fake.calls if "Label the customer comment" in m[-1].content]
    battery, parcel, screen, vague = (next(p for p in rows if c in p) for c in comments)
    assert SOURCES_HEADER in battery and battery.index(SOURCES_HEADER) < battery.index(comments[0])
    assert "Labelling guide.md, Battery complaints" in battery and "Delivery questions" not in battery
    assert "Labelling guide.md, Delivery questions" in parcel and "Battery complaints" not in parcel
    assert "Labelling guide.md, Praise for the screen" in screen and "Battery complaints" not in screen
    sentiment = next(s for s in result.sections if s.id == "sentiment")
    # a record that matches nothing is searched again with the instruction's words
    assert SOURCES_HEADER in vague and "[1] Labelling guide.md" in vague
    assert sentiment.sources_note == "sources per row: 4 rows, 1 passage each"
    # the document's own (non per-row) sections are not written from sources unless listed
    summary = next(s for s in result.sections if s.id == "summary")
    assert summary.sources == () and summary.sources_note == ""


def test_a_per_row_section_not_listed_in_references_gets_no_sources(tmp_path):
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / "Labelling guide.md").write_text(GUIDE, encoding="utf-8")
    job = sentiment_job(tmp_path, ["The battery drains in a day."], ReferencesSpec(folder=refs))
    fake = FakeGenerator("A short summary.")
    generate(job, fake)
    row_prompts = [m[-1].content for m in fake.calls if "Label the customer comment" in m[-1].content]
    assert row_prompts and not any(SOURCES_HEADER in p for p in row_prompts)
