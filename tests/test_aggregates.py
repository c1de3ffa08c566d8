"""Declared aggregates: totals and group tables computed from the data, never by the model."""

from __future__ import annotations

import pytest

from docgen.errors import DataError, MissingValues
from docgen.model import AggregateSpec
from docgen.sources import load_dataset
from docgen.templates.aggregates import compute


@pytest.fixture
def sales(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("region,product,revenue\nWest,A,100\nEast,B,50\nWest,C,30.5\nSouth,D,\n", encoding="utf-8")
    return load_dataset(path)


def test_total_without_group(sales):
    assert compute(AggregateSpec("totals", sum=("revenue",)), sales) == {"count": 4, "revenue": 180.5, "share": 1.0}


def test_groups_sorted_by_sum_with_share_and_limit(sales):
    out = compute(AggregateSpec("by_region", group_by="region", sum=("revenue",), limit=2), sales)
    assert [(r["region"], r["revenue"], r["count"]) for r in out] == [("West", 130.5, 2), ("East", 50, 1)]
    assert out[0]["share"] == pytest.approx(130.5 / 180.5)


def test_ascending_sort_and_mean(sales):
    out = compute(AggregateSpec("low", group_by="region", sum=("revenue",), mean=("revenue",), ascending=True), sales)
    assert [r["region"] for r in out] == ["South", "East", "West"]
    assert out[-1]["mean_revenue"] == pytest.approx(65.25)


def test_unknown_column_names_closest(sales):
    with pytest.raises(MissingValues, match="'revenu'.*closest: 'revenue'"):
        compute(AggregateSpec("x", sum=("revenu",)), sales, template_id="t")


def test_text_in_summed_column_names_the_offending_row(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("region,revenue\nWest,100\nEast,50\nWest,n/a\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 4, column 'revenue': 'n/a' is not a number"):
        compute(AggregateSpec("x", sum=("revenue",)), load_dataset(path))
