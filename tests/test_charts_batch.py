"""Charts and pictures through batch mode (the scripted backend; the model is not what is tested here): the
bundled reports' charts hold their aggregates, [[charts]] in a rows-mode template, pictures from the data
with and without --strict-images, and templates check on a chart binding the document lacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import docx
import pytest
from PIL import Image

from docgen.cli import main
from docgen.render import read_charts, read_pictures
from docgen.render.charts import ChartValues, Series, insert_chart
from docgen.sources import load_dataset
from docgen.templates.aggregates import compute
from docgen.templates.catalog import resolve

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_sales_report_charts_are_its_aggregates(tmp_path, capsys):
    code, _, err = run(capsys, "--template", "sales-report", "--data", str(TEMPLATES / "sales-report" / "sample.csv"),
                       "--out", str(tmp_path / "out"), "--backend", "fake", "--quiet")
    assert code == 0, err
    (written,) = (tmp_path / "out").glob("*.docx")
    template = resolve("sales-report")
    data = load_dataset(template.sample_data)
    aggregates = {a.name: compute(a, data) for a in template.aggregates}
    by_alt = {c.alt_text: c for c in read_charts(written)}
    assert set(by_alt) == {"Sales by region", "Sales by category"}
    for alt, name, key in (("Sales by region", "by_region", "Region"), ("Sales by category", "by_category",
                                                                           "Category")):
        chart = by_alt[alt]
        rows = aggregates[name]
        assert chart.title == alt and chart.categories == tuple(r[key] for r in rows)
        for s in chart.series:
            expected = [r[s.name] for r in rows]
            assert s.values == pytest.approx(expected, rel=1e-12)
            assert s.workbook_values == pytest.approx(expected, rel=1e-12)
            assert s.format_code == '"$"#,##0'
    assert by_alt["Sales by region"].categories[0] == "West"  # the strongest region first, as in the table


def test_sentiment_report_chart_counts_the_classified_comments(tmp_path, capsys):
    data = tmp_path / "comments.csv"
    data.write_text("comment\ngreat screen\nbroke in a week\nit is a phone\nlove it\n", encoding="utf-8")
    code, _, err = run(capsys, "--template", "sentiment-report", "--data", str(data), "--out", str(tmp_path / "out"),
                       "--backend", "fake", "--quiet")
    assert code == 0, err
    (chart,) = read_charts(next((tmp_path / "out").glob("*.docx")))
    assert chart.kinds == ("pieChart",) and chart.title == "Comments by sentiment"
    assert sum(chart.series[0].values) == 4 and sum(chart.series[0].workbook_values) == 4


def rows_package(tmp_path: Path, manifest_extra: str = "", *paragraphs: str) -> Path:
    """A rows-mode package (one letter per person) with a placeholder column chart named "Quarterly sales"."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    d = docx.Document()
    d.add_paragraph("Dear {{ row.name }},")
    for p in paragraphs:
        d.add_paragraph(p)
    insert_chart(d.add_paragraph(), ChartValues(("a", "b"), (Series("x", (1, 2)), Series("y", (3, 4)))), "column",
                 title="Placeholder", alt_text="Quarterly sales")
    d.save(str(pkg / "template.docx"))
    (pkg / "docgen.toml").write_text(
        '[template]\nid = "quarterly"\nname = "Quarterly letter"\n\n[data]\nmode = "rows"\n'
        'output_name = "letter-{{ row.name }}.docx"\n' + manifest_extra, encoding="utf-8")
    return pkg


PEOPLE = "name,Q1,Q2,Q3,Q4,photo\nAna,10,20,30,40,photos/ana.png\nBo,5,6,7,8,photos/bo.png\n"
QUARTERLY = """
[[charts]]
name = "Quarterly sales"
data = "row"
series = ["Q1", "Q2", "Q3", "Q4"]
series_names = ["Sales"]
title = "Quarterly sales of {{ row.name }}"
"""


def test_rows_mode_chart_per_document(tmp_path, capsys):
    pkg = rows_package(tmp_path, QUARTERLY)
    data = tmp_path / "people.csv"
    data.write_text(PEOPLE, encoding="utf-8")
    code, _, err = run(capsys, "--template", str(pkg), "--data", str(data), "--out", str(tmp_path / "out"),
                       "--backend", "fake", "--quiet")
    assert code == 0, err
    charts = {p.name: read_charts(p)[0] for p in (tmp_path / "out").glob("*.docx")}
    ana, bo = charts["letter-Ana.docx"], charts["letter-Bo.docx"]
    assert ana.title == "Quarterly sales of Ana" and ana.categories == ("Q1", "Q2", "Q3", "Q4")
    assert [s.name for s in ana.series] == ["Sales"]  # two placeholder series bound to one
    assert ana.series[0].values == (10, 20, 30, 40) and bo.series[0].workbook_values == (5, 6, 7, 8)


def test_chart_binding_errors_before_any_work(tmp_path, capsys):
    pkg = rows_package(tmp_path, QUARTERLY.replace('name = "Quarterly sales"', 'name = "Yearly sales"'))
    data = tmp_path / "people.csv"
    data.write_text(PEOPLE, encoding="utf-8")
    code, out, _ = run(capsys, "templates", "check", str(pkg))
    assert code != 0 and "has no chart named 'Yearly sales'" in out and '"Quarterly sales"' not in out.split(
        "its charts:")[0]
    code, _, err = run(capsys, "--template", str(pkg), "--data", str(data), "--out", str(tmp_path / "out"),
                       "--backend", "fake", "--quiet")
    assert code == 2 and "no chart named 'Yearly sales'" in err and "alt text \"Quarterly sales\"" in err
    pkg2 = tmp_path / "pkg2"
    shutil.copytree(pkg, pkg2)
    (pkg2 / "docgen.toml").write_text((pkg / "docgen.toml").read_text().replace("Yearly", "Quarterly")
                                      .replace('"Q4"]', '"Q5"]'), encoding="utf-8")
    code, _, err = run(capsys, "--template", str(pkg2), "--data", str(data), "--out", str(tmp_path / "out2"),
                       "--backend", "fake", "--quiet")
    assert code == 1 and "series 'Q5' is not in the data. Its columns: name, Q1, Q2, Q3, Q4, photo" in err


def test_pictures_from_data_missing_and_strict(tmp_path, capsys):
    pkg = rows_package(tmp_path, "", "{{ image(row.photo, width='3cm') }}")
    (tmp_path / "photos").mkdir()
    Image.new("RGB", (300, 200), (0, 90, 200)).save(tmp_path / "photos" / "ana.png")
    data = tmp_path / "people.csv"
    data.write_text(PEOPLE, encoding="utf-8")  # bo.png does not exist
    out = tmp_path / "out"
    code, _, err = run(capsys, "--template", str(pkg), "--data", str(data), "--out", str(out), "--backend", "fake",
                       "--quiet")
    assert code == 0 and "1 picture(s) could not be shown" in err
    assert [p.alt_text for p in read_pictures(out / "letter-Ana.docx")] == ["ana"]
    bo_text = "\n".join(p.text for p in docx.Document(str(out / "letter-Bo.docx")).paragraphs)
    assert "[image missing: photos/bo.png]" in bo_text
    report = json.loads((out / "docgen-report.json").read_text(encoding="utf-8"))
    warnings = {d["file"]: d["warnings"] for d in report["documents"]}
    assert warnings["letter-Ana.docx"] == []
    assert "row 3, column 'photo'" in warnings["letter-Bo.docx"][0]

    code, _, err = run(capsys, "--template", str(pkg), "--data", str(data), "--out", str(tmp_path / "strict"),
                       "--backend", "fake", "--quiet", "--strict-images")
    assert code == 1 and "people.csv, row 3, column 'photo': the picture cannot be used" in err
    assert sorted(p.name for p in (tmp_path / "strict").glob("*.docx")) == ["letter-Ana.docx"]
