"""The Jinja environment shared by prompts, output names and template.docx: sandboxed, strict, with
docgen's formatting filters.

Filters (all return ``str``; ``None`` renders as an empty string):

- ``number(value, decimals=0)``: thousands separators, ``1234567.8|number`` -> ``1,234,568``.
- ``money(value, symbol="$", decimals=2)``: ``1234.5|money`` -> ``$1,234.50``; negatives as ``-$1,234.50``.
- ``percent(value, decimals=1)``: a ratio, ``0.123|percent`` -> ``12.3%``.
- ``date(value, fmt="%d %B %Y")``: a ``datetime.date`` (or ISO text) formatted with strftime.

Everything a document shows that can be computed from data is computed here or by declared aggregates,
never by the model (DESIGN.md section 2).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinja2 import StrictUndefined

from docgen.sandbox import BoundedSandbox


def _num(value: Any) -> float | int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None


def number(value: Any, decimals: int = 0) -> str:
    """Format a number with thousands separators and ``decimals`` decimals; non-numbers pass through."""
    n = _num(value)
    if n is None:
        return "" if value is None else str(value)
    return f"{n:,.{decimals}f}"


def money(value: Any, symbol: str = "$", decimals: int = 2) -> str:
    """Format a money amount: ``symbol`` before, thousands separators, minus sign before the symbol."""
    n = _num(value)
    if n is None:
        return "" if value is None else str(value)
    sign = "-" if n < 0 else ""
    return f"{sign}{symbol}{abs(n):,.{decimals}f}"


def percent(value: Any, decimals: int = 1) -> str:
    """Format a ratio (0.123) as a percentage (``12.3%``)."""
    n = _num(value)
    if n is None:
        return "" if value is None else str(value)
    return f"{n * 100:,.{decimals}f}%"


def date(value: Any, fmt: str = "%d %B %Y") -> str:
    """Format a date (``datetime.date`` or ISO ``YYYY-MM-DD`` text) with strftime ``fmt``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.date):
        return value.strftime(fmt)
    return str(value)


def make_environment(*, autoescape: bool = False) -> BoundedSandbox:
    """A sandboxed Jinja environment with StrictUndefined and docgen's filters, whose renders are bounded in
    time, output and value sizes (:mod:`docgen.sandbox`, bounds in :mod:`docgen.limits`).

    ``autoescape=True`` is for template.docx (XML); prompts and file names use plain text.
    A missing value raises ``jinja2.UndefinedError`` instead of rendering blank.
    """
    env = BoundedSandbox(undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=False)
    env.filters.update(number=number, money=money, percent=percent, date=date)
    return env
