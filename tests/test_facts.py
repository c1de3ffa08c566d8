"""Fact sheets and insights (docgen.facts): what the prose may say, computed before the model writes; the
prompt shows it, the claim check judges by it, and ``fallback = "facts"`` writes a section from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docgen.batch import run_batch
from docgen.context import add_aggregates
from docgen.llm.fake import FakeGenerator
from docgen.model import RunOptions
from docgen.pipeline import DocumentJob, base_context
from docgen.render import read_back
from docgen.sections.checks import add_facts
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sales():
    template = resolve("sales-report")
    data = load_dataset(template.root / "sample.csv")
    job = DocumentJob(template, data)
    context = base_context(job)
    add_aggregates(job, context)
    sheet = add_facts(job, context)
    return template, data, context, sheet


def test_every_fact_has_an_id_label_value_and_entity(sales):
    _t, _d, _c, sheet = sales
    by_id = {f.id: f for f in sheet.facts}
    west = by_id["by_region.West.Sales"]
    assert (west.label, west.value, west.entity, west.dimension) == ("West's sales", "$725,457.82", "West", "Region")
    assert by_id["by_region.Central.Profit_per_Sales"].value == "7.9%"  # the margin, derived
    assert by_id["totals.Sales"].entity is None and by_id["totals.Sales"].value == "$2,297,200.86"
    # groups past an aggregate's limit are evidence, not on the prompt's sheet
    assert not by_id["top_subcategories.Chairs.Profit"].shown
    assert sheet.dimensions["Region"] == ("South", "West", "Central", "East") or set(sheet.dimensions["Region"]) == {
        "South", "West", "Central", "East"}


def test_insights_have_their_own_true_sentences(sales):
    _t, _d, context, _sheet = sales
    assert context["insights"]["top_region"] == "West had the highest sales, $725,457.82, 31.6% of the total."
    assert context["insights"]["region_gap"] == "West's sales were $46,676.58 (6.9%) higher than East's."
    assert context["insights"]["losses"].startswith("The bottom 3 sub-categories by profit: Tables (-$17,725.48)")


def test_the_prompt_shows_the_fact_sheet(sales):
    template, _d, context, _sheet = sales
    from docgen.llm.prompt import render_text

    text = render_text(template.context, context, what="context")
    assert "- Central's sales: $501,239.89\n- Central's profit: $39,706.36\n- Central's share of sales: 21.8%\n" \
           "- Central's profit as a share of sales: 7.9%" in text
    assert "- West had the highest sales, $725,457.82, 31.6% of the total." in text


def test_trend_and_change_over_periods():
    import datetime as dt

    from docgen.facts import FactSheet
    from docgen.facts.insights import add_insights
    from docgen.model import AggregateSpec, InsightSpec

    rows = [{"date": dt.date(2014 + i // 2, 1 + i % 2, 1), "Sales": 100.0 * (1 + i)} for i in range(6)]
    sheet = FactSheet()
    add_insights(sheet, [InsightSpec("trend", "trend", date="date", value="Sales", by="year")], {"rows": rows}, {})
    (trend,) = [f for f in sheet.facts if f.id == "trend"]
    assert trend.sentence == "Sales rose (up in 2 of 2 years): 2014 $300.00, 2015 $700.00, 2016 $1,100.00."
    by_year = [{"year": y, "Sales": s, "count": 1} for y, s in (("2014", 300.0), ("2016", 1100.0))]
    add_insights(sheet, [InsightSpec("growth", "change", of="by_year")], {"by_year": by_year},
                 {"by_year": AggregateSpec("by_year", group_by="year", sum=("Sales",))})
    growth = {f.id: f for f in sheet.facts}["growth"]
    assert growth.sentence == "Sales rose from $300.00 (2014) to $1,100.00 (2016), a change of +266.7%."


def test_a_change_the_sheet_holds_is_not_marked_but_an_invented_one_is():
    import dataclasses

    from docgen.model import InsightSpec
    from docgen.pipeline import generate

    template = resolve("sales-report")
    data = load_dataset(template.root / "sample.csv")
    text = "West's sales were 6.9% higher than East's, while Central's sales rose by 21.8% last year."
    result = generate(DocumentJob(template, data, only_sections=["summary"]), FakeGenerator(text))
    assert [(m.kind, m.claim) for m in result.sections[0].marks] == [("derived", "21.8%")]


def test_fallback_writes_the_section_from_its_facts_when_the_model_gives_nothing_usable(tmp_path):
    template = resolve("sales-report")
    data = load_dataset(template.root / "sample.csv")
    report = run_batch(template, data, FakeGenerator("<|im_end|><|im_start|>user"), tmp_path,
                       options=RunOptions(candidates=2))
    (doc,) = report.documents
    assert doc.ok, doc.error
    body = read_back(doc.path).text
    assert "West had the highest sales, $725,457.82, 31.6% of the total." in body
    assert "Technology had the highest profit, $145,454.95, 50.8% of the total." in body
    assert "<|" not in body
    summary = {s.id: s for s in doc.sections}["summary"]
    assert summary.marks == () and any("written from the fact sheet" in w for w in summary.warnings)
    data = json.loads((tmp_path / "docgen-report.json").read_text(encoding="utf-8"))
    assert any("written from the fact sheet" in w for w in data["documents"][0]["sections"][0]["warnings"])


def test_insights_are_validated_with_the_key_and_line(tmp_path):
    import shutil

    from docgen.errors import ManifestError
    from docgen.templates.manifest import load_manifest

    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "templates" / "sales-report", pkg)
    manifest = pkg / "docgen.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('of = "by_category"', 'of = "by_categry"'),
                        encoding="utf-8")
    with pytest.raises(ManifestError) as err:
        load_manifest(pkg)
    assert "by_categry" in str(err.value) and "insights[3].of" in str(err.value)
