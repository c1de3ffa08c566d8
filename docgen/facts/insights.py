"""Declared insights (``[[insights]]`` in the manifest): derived facts with a sentence of their own.

Each insight reads a grouped aggregate (``of``, a list of dicts) or, for ``trend``, the data rows, and adds
facts to the sheet; every insight's main fact carries ``sentence``, its own phrasing, which the prompt shows
and which ``fallback = "facts"`` writes when the model's text cannot be used. Kinds (``value`` is a column of
the aggregate, default its first summed column; money/number formatting as on the sheet):

``largest`` / ``smallest``
    the group with the highest / lowest ``value``: "West had the highest sales, $725,457.82, 31.6% of the
    total."
``top`` / ``bottom`` (``n``, default 3)
    the ``n`` highest / lowest: "The top 3 regions by sales: West ($725,457.82), East ($678,781.24), Central
    ($501,239.89)."
``share``
    every group's share of the total ``value``: "West: 31.6% of sales."
``rank``
    every group's rank by ``value``: "West ranks 1st of 4 regions by sales."
``counts``
    records per group and their share of all records: "positive: 25 of 60 (41.7%)."
``difference`` (``between = [a, b]``, default the largest and the second)
    ``a`` minus ``b`` in ``value``, as an amount and a percentage of ``b`` (a derived fact the claim check
    accepts for "higher by", "a gap of"): "West's sales were $46,676.58 (6.9%) higher than East's."
``change`` (``between = [from, to]``, groups of a period column, default the first and last in order)
    the change of ``value`` from one group to another: "Sales rose from $484,247.50 (2014) to $733,215.26
    (2017), a change of +51.4%."
``trend`` (``date`` = a date column of the rows, ``by`` = year | quarter | month; ``value`` a numeric column)
    ``value`` summed per period, and the direction of each step: "Sales rose in 3 of 3 years: 2014
    $484,247.50, 2015 $470,532.51, ..." with one fact per period and one per step's change.

An insight whose aggregate or column is missing adds nothing (``templates check`` reports it). Pure Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from docgen.facts.sheet import Fact, FactSheet, fmt, group_column, is_money, noun_of

KINDS = ("largest", "smallest", "top", "bottom", "share", "rank", "counts", "difference", "change", "trend")


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _groups(of: Any, key: str, value: str) -> list[tuple[str, float, Mapping[str, Any]]]:
    out = []
    for g in of if isinstance(of, list) else ():
        if isinstance(g, Mapping) and g.get(key) not in (None, "") and isinstance(g.get(value), int | float):
            out.append((str(g[key]), float(g[value]), g))
    return out


def add_insights(sheet: FactSheet, insights: Sequence[Any], context: Mapping[str, Any],
                 aggregates: Mapping[str, Any], money_columns: Sequence[str] | None = None) -> None:
    """Add the facts of each insight (an :class:`~docgen.model.InsightSpec`) to ``sheet``, in place.
    ``aggregates`` maps aggregate name -> its spec (for ``group_by`` and the summed columns)."""
    for ins in insights:
        sheet.insights.append(ins.id)
        if ins.kind == "trend":
            _trend(sheet, ins, context, money_columns)
            continue
        spec = aggregates.get(ins.of)
        dim = group_column(spec.group_by) if spec is not None else None
        if dim is None:
            continue
        value = ins.value or (spec.sum[0] if spec.sum else "count")
        groups = _groups(context.get(ins.of), dim, value)
        if not groups:
            continue
        kind = "count" if value == "count" else ("money" if is_money(value, money_columns) else "number")
        noun = ins.label or noun_of(value)
        dnoun = noun_of(dim)
        total = sum(v for _k, v, _g in groups)
        ranked = sorted(groups, key=lambda t: t[1], reverse=True)

        def share_of(v: float) -> str:
            return fmt(v / total, "percent") if total else ""

        if ins.kind in ("largest", "smallest"):
            key, v, _g = ranked[0] if ins.kind == "largest" else ranked[-1]
            word = "highest" if ins.kind == "largest" else "lowest"
            tail = f", {share_of(v)} of the total" if total and v >= 0 else ""
            sheet.add(Fact(ins.id, f"{dnoun.capitalize()} with the {word} {noun}", key, None, "text", key, dim,
                           f"{ins.kind} {value}", derived=True,
                           sentence=f"{key} had the {word} {noun}, {fmt(v, kind)}{tail}."))
        elif ins.kind in ("top", "bottom"):
            n = max(1, ins.n or 3)
            part = ranked[:n] if ins.kind == "top" else ranked[::-1][:n]
            listed = ", ".join(f"{k} ({fmt(v, kind)})" for k, v, _g in part)
            sheet.add(Fact(ins.id, f"{ins.kind.capitalize()} {len(part)} {dnoun} by {noun}",
                           ", ".join(k for k, _v, _g in part), None, "text", None, dim, f"{ins.kind} {value}",
                           derived=True, sentence=f"The {ins.kind} {len(part)} {_plural(dnoun)} by {noun}: {listed}."))
        elif ins.kind == "share":
            for key, v, _g in groups:
                sheet.add(Fact(f"{ins.id}.{key}", f"{key}'s share of {noun}", share_of(v), v / total * 100 if total
                               else 0.0, "percent", key, dim, "share", derived=True,
                               sentence=f"{key}: {share_of(v)} of {noun}."))
        elif ins.kind == "rank":
            for r, (key, _v, _g) in enumerate(ranked, 1):
                sheet.add(Fact(f"{ins.id}.{key}", f"{key}'s rank by {noun}", _ordinal(r), float(r), "count", key,
                               dim, "rank", derived=True,
                               sentence=f"{key} ranks {_ordinal(r)} of {len(ranked)} {_plural(dnoun)} by {noun}."))
        elif ins.kind == "counts":
            records = sum(int(g.get("count") or 0) for _k, _v, g in groups) or 1
            for key, _v, g in groups:
                c = int(g.get("count") or 0)
                sheet.add(Fact(f"{ins.id}.{key}", f"{key}: share of records", fmt(c / records, "percent"),
                               c / records * 100, "percent", key, dim, "share of records", derived=True,
                               sentence=f"{key}: {c:,} of {records:,} ({fmt(c / records, 'percent')})."))
        elif ins.kind in ("difference", "change"):
            keys = [k for k, _v, _g in groups]
            a, b = (ins.between[0], ins.between[1]) if len(ins.between) == 2 else (
                (ranked[0][0], ranked[1][0]) if ins.kind == "difference" and len(ranked) > 1 else
                (keys[0], keys[-1]) if len(keys) > 1 else (None, None))
            va = next((v for k, v, _g in groups if k == str(a)), None)
            vb = next((v for k, v, _g in groups if k == str(b)), None)
            if va is None or vb is None:
                continue
            if ins.kind == "difference":
                d = va - vb
                pct = d / abs(vb) if vb else None
                word = "higher" if d >= 0 else "lower"
                tail = f" ({fmt(abs(pct), 'percent')})" if pct is not None else ""
                sentence = f"{a}'s {noun} were {fmt(abs(d), kind)}{tail} {word} than {b}'s."
                measure = "difference"
            else:
                d = vb - va
                pct = d / abs(va) if va else None
                word = "rose" if d >= 0 else "fell"
                tail = f", a change of {'+' if d >= 0 else '-'}{fmt(abs(pct), 'percent')}" if pct is not None else ""
                sentence = f"{noun.capitalize()} {word} from {fmt(va, kind)} ({a}) to {fmt(vb, kind)} ({b}){tail}."
                measure = "change"
            sheet.add(Fact(ins.id, f"{measure.capitalize()} in {noun}, {a} to {b}", fmt(abs(d), kind), abs(d), kind,
                           None, dim, f"{measure} {value}", derived=True, sentence=sentence))
            if pct is not None:
                sheet.add(Fact(f"{ins.id}.percent", f"{measure.capitalize()} in {noun}, {a} to {b}, in percent",
                               fmt(abs(pct), "percent"), abs(pct) * 100, "percent", None, dim, f"{measure} percent",
                               derived=True, shown=False))


def _plural(noun: str) -> str:
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"


def _period(d: dt.date, by: str) -> str:
    if by == "month":
        return f"{d.year}-{d.month:02d}"
    if by == "quarter":
        return f"{d.year} Q{(d.month - 1) // 3 + 1}"
    return str(d.year)


def _trend(sheet: FactSheet, ins: Any, context: Mapping[str, Any], money_columns: Sequence[str] | None) -> None:
    rows = context.get("rows") or []
    if not ins.date or not ins.value:
        return
    sums: dict[str, float] = {}
    for r in rows:
        d, v = r.get(ins.date), r.get(ins.value)
        if isinstance(d, dt.datetime):
            d = d.date()
        if isinstance(d, dt.date) and isinstance(v, int | float) and not isinstance(v, bool):
            key = _period(d, ins.by or "year")
            sums[key] = sums.get(key, 0.0) + float(v)
    if len(sums) < 2:
        return
    kind = "money" if is_money(ins.value, money_columns) else "number"
    noun = ins.label or noun_of(ins.value)
    periods = sorted(sums)
    ups = 0
    for i, p in enumerate(periods):
        sheet.add(Fact(f"{ins.id}.{p}", f"{noun.capitalize()} in {p}", fmt(sums[p], kind), sums[p], kind, p,
                       ins.date, ins.value))
        if i:
            prev = sums[periods[i - 1]]
            d = sums[p] - prev
            ups += d > 0
            sheet.add(Fact(f"{ins.id}.{periods[i - 1]}-{p}", f"Change in {noun}, {periods[i - 1]} to {p}",
                           fmt(abs(d), kind), abs(d), kind, p, ins.date, f"change {ins.value}", derived=True))
            if prev:
                sheet.add(Fact(f"{ins.id}.{periods[i - 1]}-{p}.percent",
                               f"Change in {noun}, {periods[i - 1]} to {p}, in percent", fmt(abs(d / prev), "percent"),
                               abs(d / prev) * 100, "percent", p, ins.date, "change percent", derived=True))
    steps = len(periods) - 1
    unit = {"month": "months", "quarter": "quarters"}.get(ins.by or "year", "years")
    listed = ", ".join(f"{p} {fmt(sums[p], kind)}" for p in periods)
    direction = "rose" if ups > steps / 2 else "fell" if ups < steps / 2 else "moved up and down"
    sheet.add(Fact(ins.id, f"Trend of {noun} by {ins.by or 'year'}", f"rose in {ups} of {steps} {unit}", None,
                   "text", None, ins.date, f"trend {ins.value}", derived=True,
                   sentence=f"{noun.capitalize()} {direction} (up in {ups} of {steps} {unit}): {listed}."))
    sheet.dimensions[ins.date] = tuple(periods)


__all__ = ["KINDS", "add_insights"]
