"""The bundled wildlife-survey template (written from docs/ alone over the Palmer penguins data, CC0): its
document's figures, read back from the .docx, equal the same figures computed here with the csv module: group
by two columns, a computed column, a `where` filter and a change between periods (years)."""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from pathlib import Path

import docx

from docgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "templates" / "wildlife-survey"


def _expected():
    with (PACKAGE / "sample.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    mass: dict[tuple[str, str], list[float]] = defaultdict(list)
    count: dict[tuple[str, str], int] = defaultdict(int)
    by_sex: dict[tuple[str, str], list[float]] = defaultdict(list)
    by_year: dict[tuple[str, int], int] = defaultdict(int)
    for r in rows:
        key = (r["species"], r["island"])
        count[key] += 1
        if r["body_mass_g"] != "NA":
            kg = float(r["body_mass_g"]) / 1000  # the computed column body_mass_kg
            mass[key].append(kg)
            if r["sex"] != "NA":  # the where filter: sex IS NOT NULL
                by_sex[(r["species"], r["sex"])].append(kg)
        by_year[(r["species"], int(r["year"]))] += 1
    return rows, count, mass, by_sex, by_year


def _tables(path: Path) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in docx.Document(str(path)).tables]


def test_the_document_shows_the_figures_computed_from_the_data(tmp_path):
    out = tmp_path / "out"
    code = main(["--template", "wildlife-survey", "--data", str(PACKAGE / "sample.csv"), "--out", str(out),
                 "--backend", "fake", "--set", "station=Palmer Station"])
    assert code == 0
    written = out / "field-survey-Palmer Station.docx"
    text = "\n".join(p.text for p in docx.Document(str(written)).paragraphs)
    rows, count, mass, by_sex, by_year = _expected()
    all_kg = [kg for values in mass.values() for kg in values]
    assert f"Animals measured: {len(rows)} of 3 species on 3 islands" in text
    assert f"Mean body mass: {statistics.mean(all_kg):.2f} kg" in text
    assert "2007–2009" in text
    assert f"Animals whose sex was recorded ({sum(len(v) for v in by_sex.values())} of {len(rows)})" in text
    assert "None" not in text and "nan" not in text.lower()

    island, sex, year = _tables(written)
    # group by two columns, species then island (A to Z), with the computed column's mean
    assert island[0] == ["Species", "Island", "Animals", "Body mass (kg)", "Flipper (mm)"]
    assert [r[:4] for r in island[1:]] == [
        [s, i, str(count[(s, i)]), f"{statistics.mean(mass[(s, i)]):.2f}"] for s, i in sorted(count)]
    # the where filter leaves out the animals without a recorded sex
    assert [r[:4] for r in sex[1:]] == [
        [s, x, str(len(by_sex[(s, x)])), f"{statistics.mean(by_sex[(s, x)]):.2f}"] for s, x in sorted(by_sex)]
    # change between periods: each species' count against its previous year; the first year has none
    expected = []
    for s, y in sorted(by_year):
        before = by_year.get((s, y - 1))
        change = "" if before is None else str(by_year[(s, y)] - before)
        growth = "" if before is None else f"{(by_year[(s, y)] / before - 1) * 100:.1f}%"
        expected.append([s, str(y), str(by_year[(s, y)]), change, growth])
    assert year[1:] == expected
    assert ["Chinstrap", "2008", "18", "-8", "-30.8%"] in year  # as computed by hand from the file
