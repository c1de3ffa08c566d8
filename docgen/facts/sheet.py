"""Fact sheets: what a document's prose may say, computed before the model writes.

A :class:`FactSheet` holds :class:`Fact` s, each with an ``id``, a ``label``, its formatted ``value`` and the
``entity`` it belongs to (``None`` for a document-wide fact). :func:`build_fact_sheet` makes one from the
template's declared aggregates in the document's context:

- an aggregate without ``group_by`` (one dict) gives document-wide facts: each summed column (``Total sales``),
  each mean (``Average tip``), the record count, and the ratio of each summed column to each larger one
  (``Profit as a share of sales``, the margin), all with ``entity = None``;
- a grouped aggregate (a list of dicts, one per group) gives the same per group, with the group's key as the
  ``entity`` and the group column as its ``dimension`` (``West`` of ``Region``), plus the group's ``share`` of
  the first summed column and its rank. Groups past the aggregate's ``limit`` are computed too, as evidence
  for the claim check (``shown = False``: they are not on the prompt's sheet).
- declared insights (:mod:`docgen.facts.insights`) add derived facts (largest, change, trend...) with a
  sentence of their own.

Values are formatted with the same filters as template.docx (:mod:`docgen.jinja`): money columns (declared in
``[facts] money``, else a column whose name says money: sales, revenue, profit, price, cost, amount, income,
spend, fee, bill, tip) as ``$1,234.56``; percentages with one decimal; counts and other numbers with
thousands separators (two decimals when the value has a fraction).

Pure Python, no heavy imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from docgen.jinja import money, number, percent

FactKind = str  # "money" | "number" | "percent" | "count" | "text"

_MONEY_NAME = re.compile(r"sales|revenue|profit|price|cost|amount|income|spend|fee|bill|tip|cogs|budget|salary",
                         re.IGNORECASE)


@dataclass(frozen=True)
class Fact:
    """One thing the prose may say.

    ``value`` is the formatted value (``$725,457.82``, ``31.6%``); ``number`` is the value on the scale a
    claim is compared on (money/number as is, percent on the percent scale: 31.6), None for text facts;
    ``entity`` (``West``) and ``dimension`` (``Region``) say whose fact it is (None: the whole document);
    ``measure`` is what was measured (``Sales``, ``share``, ``Profit / Sales``, ``count``); ``derived`` marks
    figures computed from others (ratios, shares, changes, ranks); ``sentence`` is the fact in words (insights
    have their own phrasing); ``shown`` is False for facts kept only as evidence (not on the prompt's sheet).
    """

    id: str
    label: str
    value: str
    number: float | None
    kind: FactKind
    entity: str | None = None
    dimension: str | None = None
    measure: str = ""
    derived: bool = False
    sentence: str = ""
    shown: bool = True


@dataclass
class FactSheet:
    """The facts of one document and the entities they name.

    ``dimensions`` maps a categorical column to its values in the data (``Region`` -> West, East, ...), so the
    claim check knows what is an entity; ``nouns`` maps the column to the noun prose uses for it
    (``region``). ``insights`` are the ids of declared insights, in manifest order.
    """

    facts: list[Fact] = field(default_factory=list)
    dimensions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    nouns: dict[str, str] = field(default_factory=dict)
    insights: list[str] = field(default_factory=list)

    def add(self, fact: Fact) -> None:
        """Append ``fact`` (ids are kept unique: a repeated id replaces nothing and is skipped)."""
        if not any(f.id == fact.id for f in self.facts):
            self.facts.append(fact)

    def shown(self) -> list[Fact]:
        """The facts on the prompt's sheet, in order."""
        return [f for f in self.facts if f.shown]

    def of(self, entity: str | None) -> list[Fact]:
        """Every fact of ``entity`` (None: the document-wide facts)."""
        return [f for f in self.facts if f.entity == entity]

    def entity_values(self) -> dict[str, str]:
        """Every entity value (as written in the data) -> its dimension (column)."""
        out: dict[str, str] = {}
        for dim, values in self.dimensions.items():
            for v in values:
                out.setdefault(v, dim)
        return out

    def insight_facts(self, ids: Sequence[str] | None = None) -> list[Fact]:
        """The facts of the declared insights (``ids``, default all) that have a sentence, in order."""
        wanted = self.insights if ids is None else list(ids)
        return [f for i in wanted for f in self.facts if f.sentence and (f.id == i or f.id.startswith(i + "."))]


def noun_of(column: str) -> str:
    """The noun prose uses for a column: ``Sub-Category`` -> ``sub-category``, ``ship_mode`` -> ``ship mode``."""
    return re.sub(r"[_\s]+", " ", column).strip().lower()


def is_money(column: str, declared: Iterable[str] | None = None) -> bool:
    """True when ``column`` holds money: listed in ``declared`` (the manifest's ``[facts] money``) when given,
    else its name says so (module docstring)."""
    if declared is not None:
        return column in set(declared)
    return bool(_MONEY_NAME.search(column))


def fmt(value: float, kind: FactKind) -> str:
    """Format ``value`` of ``kind`` the way template.docx's filters do (percent: ``value`` is a ratio)."""
    if kind == "money":
        return money(value)
    if kind == "percent":
        return percent(value)
    if kind == "count" or float(value).is_integer():
        return number(value)
    return number(value, 2)


def _pos(who: str) -> str:
    """``West`` -> ``West's``; ``Phones`` -> ``Phones'``."""
    return who + ("'" if who.endswith("s") else "'s")


def _label(column: str) -> str:
    return noun_of(column)


def _measure_facts(sheet: FactSheet, base: str, row: Mapping[str, Any], entity: str | None, dimension: str | None,
                   sums: Sequence[str], means: Sequence[str], money_cols: Iterable[str] | None, shown: bool,
                   who: str) -> None:
    nums: dict[str, float] = {}
    for col in sums:
        v = row.get(col)
        if isinstance(v, int | float) and not isinstance(v, bool):
            kind = "money" if is_money(col, money_cols) else "number"
            label = f"{_pos(who)} {_label(col)}" if entity else f"Total {_label(col)}"
            sheet.add(Fact(f"{base}.{col}", label, fmt(v, kind), float(v), kind, entity, dimension, col,
                           shown=shown))
            nums[col] = float(v)
    for col in means:
        v = row.get(f"mean_{col}")
        if isinstance(v, int | float) and not isinstance(v, bool):
            kind = "money" if is_money(col, money_cols) else "number"
            label = f"{_pos(who)} average {_label(col)}" if entity else f"Average {_label(col)}"
            sheet.add(Fact(f"{base}.mean_{col}", label, fmt(v, kind), float(v), kind, entity, dimension,
                           f"mean {col}", shown=shown))
    count = row.get("count")
    if isinstance(count, int) and not isinstance(count, bool):
        label = f"{_pos(who)} number of records" if entity else "Number of records"
        sheet.add(Fact(f"{base}.count", label, number(count), float(count), "count", entity, dimension, "count",
                       shown=shown))
    share = row.get("share")
    if entity is not None and isinstance(share, int | float) and sums:
        sheet.add(Fact(f"{base}.share", f"{_pos(who)} share of {_label(sums[0])}", percent(share), share * 100,
                       "percent", entity, dimension, "share", derived=True, shown=shown))
    for a, va in nums.items():  # the ratio of a summed column to a larger one (Profit / Sales = the margin)
        for b, vb in nums.items():
            same_unit = is_money(a, money_cols) == is_money(b, money_cols)
            if a != b and vb and abs(vb) >= abs(va) and same_unit:
                ratio = va / vb
                label = f"{_pos(who)} {_label(a)} as a share of {_label(b)}" if entity else \
                    f"{_label(a).capitalize()} as a share of {_label(b)}"
                sheet.add(Fact(f"{base}.{a}_per_{b}", label, percent(ratio), ratio * 100, "percent", entity,
                               dimension, f"{a} / {b}", derived=True, shown=shown))


def group_column(group_by: Any) -> str | None:
    """The one column an aggregate groups by: ``group_by`` as the manifest gives it (a column, a tuple of
    columns, or None). A grouping over several columns has no single entity per group: None (its groups'
    figures are evidence facts of each of their values instead, :func:`_composite_facts`)."""
    if isinstance(group_by, str):
        return group_by or None
    if isinstance(group_by, tuple | list) and len(group_by) == 1 and isinstance(group_by[0], str):
        return group_by[0]
    return None


def build_fact_sheet(template: Any, context: Mapping[str, Any], *, dataset: Any = None,
                     all_groups: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                     money_columns: Iterable[str] | None = None, max_dimension_values: int = 60) -> FactSheet:
    """The fact sheet of one document (module docstring). ``template`` is a TemplateSpec (its ``aggregates``
    name the context values to read); ``context`` is the document's Jinja context after aggregates;
    ``all_groups`` maps an aggregate with a ``limit`` to all its groups (the evidence past the limit);
    ``dataset`` (a Dataset) gives the categorical columns' values: every text column with at most
    ``max_dimension_values`` distinct values, each at most 4 words, and values repeating (at most half as many
    distinct values as rows): a free-text column such as comments is not a category. Raises nothing: values of the wrong shape are skipped."""
    sheet = FactSheet()
    rows = context.get("rows")
    if rows is None and "row" in context:
        rows = [context["row"]]
    if dataset is not None:
        for col in dataset.columns:
            if col.type != "text":
                continue
            name = col.name
            values = dict.fromkeys(v.strip() for r in (rows or dataset.rows)
                                   if isinstance(v := r.get(name), str) and v.strip())
            rows_seen = len(rows or dataset.rows)
            short = all(len(v) <= 40 and len(v.split()) <= 4 for v in values)
            if 0 < len(values) <= max_dimension_values and short and (len(values) <= rows_seen / 2 or len(values) <= 3):
                sheet.dimensions[col.name] = tuple(values)
                sheet.nouns[col.name] = noun_of(col.name)
    for agg in getattr(template, "aggregates", ()):
        value = context.get(agg.name)
        if isinstance(value, Mapping):
            _measure_facts(sheet, agg.name, value, None, None, agg.sum, agg.mean, money_columns, True, "")
        elif isinstance(value, list) and (by := group_column(agg.group_by)):
            groups = list((all_groups or {}).get(agg.name) or value)
            shown_keys = {str(g.get(by)) for g in value if isinstance(g, Mapping)}
            keys = [str(g.get(by)) for g in groups if isinstance(g, Mapping)]
            if by not in sheet.dimensions and keys:
                sheet.dimensions[by] = tuple(dict.fromkeys(keys))
                sheet.nouns[by] = noun_of(by)
            for g in groups:
                if not isinstance(g, Mapping) or g.get(by) in (None, ""):
                    continue
                key = str(g.get(by))
                _measure_facts(sheet, f"{agg.name}.{key}", g, key, by, agg.sum, agg.mean, money_columns,
                               key in shown_keys, key)
        elif isinstance(value, list) and _group_columns(agg.group_by):
            _composite_facts(sheet, agg, list((all_groups or {}).get(agg.name) or value), money_columns)
    return sheet


def _group_columns(group_by: Any) -> tuple[str, ...]:
    """The columns of a grouping over two or more columns, else ()."""
    if isinstance(group_by, tuple | list) and len(group_by) > 1 and all(isinstance(c, str) for c in group_by):
        return tuple(group_by)
    return ()


def _composite_facts(sheet: FactSheet, agg: Any, groups: Sequence[Any], money_columns: Iterable[str] | None) -> None:
    """Evidence facts of a grouping over several columns (``group_by = ["species", "sex"]``): each group's
    figures belong to each of its text values ("Adelie", "female"), labelled with the whole group ("Adelie
    female's average body mass"). So "Adelie females weigh 4.68 kg" is checked against Adelie's figures (4.68 kg
    is Gentoo females'). Not shown in the prompt (``shown=False``): the tables show them."""
    columns = _group_columns(agg.group_by)
    for g in groups:
        if not isinstance(g, Mapping):
            continue
        values = [g.get(c) for c in columns]
        if any(v in (None, "") for v in values):
            continue
        who = " ".join(str(v) for v in values)
        for col, v in zip(columns, values, strict=True):
            if not isinstance(v, str):
                continue  # a year or a number names no entity
            if col not in sheet.dimensions:
                sheet.dimensions[col] = tuple(dict.fromkeys(str(x.get(col)) for x in groups
                                                            if isinstance(x, Mapping) and isinstance(x.get(col), str)))
                sheet.nouns[col] = noun_of(col)
            _measure_facts(sheet, f"{agg.name}.{who}@{col}", g, v, col, agg.sum, agg.mean, money_columns, False, who)




# -- the sheet as prompt text ----------------------------------------------------------------------------------

#: The prompt forms :meth:`FactSheet.text` can write (measured against each other in bench/prompt_forms.py).
FORMS = ("grouped", "facts", "sentences")


def _entity_line(facts: Sequence[Fact]) -> str:
    parts = []
    for f in facts:
        own = _pos(f.entity) + " " if f.entity else ""
        what = f.label[len(own):] if own and f.label.startswith(own) else f.label
        parts.append(f"{what} {f.value}")
    return "; ".join(parts)


def sheet_text(sheet: FactSheet, form: str = "facts", *, max_lines: int = 80) -> str:
    """The shown facts as prompt text, in ``form``:

    - ``grouped``: one line per entity (``- West (region): sales $725,457.82; share of sales 31.6%; ...``),
      document-wide facts first, then each insight's sentence;
    - ``facts``: one fact per line with its full label (``- West's sales: $725,457.82``);
    - ``sentences``: one short sentence per fact (``West's sales are $725,457.82.``).

    Record counts of groups are left out (they rarely matter to prose and lengthen the prompt), and so are
    facts of an aggregate's groups past its ``limit``. At most ``max_lines`` lines."""
    counted = {f.dimension for f in sheet.facts if f.measure == "share of records"}
    shown = [f for f in sheet.shown() if not (f.entity and f.measure == "count"
                                              and (_has_sums(sheet, f) or f.dimension in counted))
             and not f.sentence]
    lines: list[str] = []
    if form == "grouped":
        wide = [f for f in shown if f.entity is None]
        if wide:
            lines.append("- Whole document: " + "; ".join(f"{f.label.lower()} {f.value}" for f in wide))
        seen: dict[tuple[str, str], list[Fact]] = {}
        for f in shown:
            if f.entity is not None:
                seen.setdefault((f.dimension or "", f.entity), []).append(f)
        for (dim, entity), facts in seen.items():
            noun = sheet.nouns.get(dim, noun_of(dim))
            lines.append(f"- {entity} ({noun}): {_entity_line(facts)}")
    elif form == "facts":
        lines = [f"- {f.label}: {f.value}" for f in shown]
    elif form == "sentences":
        lines = [f"{f.label[:1].upper() + f.label[1:]} {'are' if f.label.endswith('s') else 'is'} {f.value}."
                 for f in shown]
    else:
        raise ValueError(f"unknown fact sheet form {form!r}; forms: {', '.join(FORMS)}")
    insights = [f for f in sheet.facts if f.sentence and f.shown]
    lines += [f"- {f.sentence}" if form != "sentences" else f.sentence for f in insights]
    return "\n".join(lines[:max_lines])


def _has_sums(sheet: FactSheet, fact: Fact) -> bool:
    prefix = fact.id.rsplit(".", 1)[0]
    return any(f.id.startswith(prefix + ".") and f.measure not in ("count", "share") and "/" not in f.measure
               for f in sheet.facts)


__all__ = ["Fact", "FactSheet", "build_fact_sheet", "sheet_text", "FORMS", "noun_of", "is_money", "fmt"]
