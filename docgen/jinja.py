"""The Jinja environment shared by prompts, output names and template.docx: sandboxed, strict, with
docgen's formatting filters.

Filters (all return ``str``; ``None`` renders as an empty string):

Rounding is half away from zero, as Excel's ROUND and its number formats do (``4.85|number(1)`` -> ``4.9``,
``3.175|money`` -> ``$3.18``), applied to the shortest decimal form of the value (``repr``), so a float that
reads 4.85 rounds as 4.85 although its binary value is a hair below (Python's own ``format`` gives 4.8).

- ``number(value, decimals=0)``: thousands separators, ``1234567.8|number`` -> ``1,234,568``.
- ``money(value, symbol="$", decimals=2)``: ``1234.5|money`` -> ``$1,234.50``; negatives as ``-$1,234.50``.
- ``percent(value, decimals=1)``: a ratio, ``0.123|percent`` -> ``12.3%``.
- ``date(value, fmt="%d %B %Y")``: a ``datetime.date`` (or ISO text) formatted with strftime.

Missing values: every ``{{ }}`` output goes through :func:`finalize`, so a missing value (``None``: an empty
cell, a missing-value marker, a field without a value) prints as an empty string, never as the word ``None``.
A template chooses a stand-in with Jinja's ``default`` filter: ``{{ row.city|default("unknown", true) }}``.

Everything a document shows that can be computed from data is computed here or by declared aggregates,
never by the model. The user documentation of these rules is docs/template-language.md ("Filters").
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import threading
from collections import OrderedDict
from typing import Any

from jinja2 import StrictUndefined, Template

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


_HALF_UP = decimal.Context(prec=400, rounding=decimal.ROUND_HALF_UP)


def fixed(n: float | int | decimal.Decimal, decimals: int) -> str:
    """``n`` with thousands separators and exactly ``decimals`` decimals, rounded half away from zero as Excel
    does (module docstring). ``-0.00`` is written ``0.00``. Non-finite floats are written as Python does."""
    decimals = max(0, int(decimals))
    if isinstance(n, float) and not math.isfinite(n):
        return f"{n:,.{decimals}f}"
    exact = n if isinstance(n, decimal.Decimal) else decimal.Decimal(repr(n) if isinstance(n, float) else int(n))
    rounded = exact.quantize(decimal.Decimal(1).scaleb(-decimals), context=_HALF_UP)
    if rounded.is_zero():
        rounded = abs(rounded)
    return f"{rounded:,.{decimals}f}"


def number(value: Any, decimals: int = 0) -> str:
    """Format a number with thousands separators and ``decimals`` decimals (rounded half up, as Excel);
    non-numbers pass through."""
    n = _num(value)
    if n is None:
        return "" if value is None else str(value)
    return fixed(n, decimals)


def money(value: Any, symbol: str = "$", decimals: int = 2) -> str:
    """Format a money amount: ``symbol`` before, thousands separators, minus sign before the symbol."""
    n = _num(value)
    if n is None:
        return "" if value is None else str(value)
    text = fixed(n, decimals)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    return f"{sign}{symbol}{digits}"


def percent(value: Any, decimals: int = 1) -> str:
    """Format a ratio (0.123) as a percentage (``12.3%``)."""
    n = _num(value)
    if n is None:
        return "" if value is None else str(value)
    if isinstance(n, float) and not math.isfinite(n):
        return f"{fixed(n, decimals)}%"
    exact = decimal.Decimal(repr(n) if isinstance(n, float) else int(n))
    return f"{fixed(exact * 100, decimals)}%"


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


def finalize(value: Any) -> Any:
    """What a ``{{ expression }}`` prints: ``None`` (a missing value) becomes ``""``; anything else is unchanged
    (Jinja then turns it into text as usual)."""
    return "" if value is None else value


def make_environment(*, autoescape: bool = False) -> BoundedSandbox:
    """A sandboxed Jinja environment with StrictUndefined and docgen's filters, whose renders are bounded in
    time, output and value sizes (:mod:`docgen.sandbox`, bounds in :mod:`docgen.limits`).

    ``autoescape=True`` is for template.docx (XML); prompts and file names use plain text.
    A name that does not exist raises ``jinja2.UndefinedError`` instead of rendering blank; a value that exists
    but is missing (``None``) prints as ``""`` (:func:`finalize`).
    """
    env = BoundedSandbox(undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=False,
                         finalize=finalize)
    env.filters.update(number=number, money=money, percent=percent, date=date)
    return env


#: Compiled templates kept per environment by :func:`compiled`: at most this many sources, and at most this
#: many characters of source in all (a document part of a few hundred KB compiles to a few MB of code, so the
#: bound keeps the cache to tens of MB); a bigger source is compiled each time and not kept.
COMPILED_ENTRIES = 64
COMPILED_CHARS = 8_000_000
_compile_lock = threading.Lock()


def compiled(env: BoundedSandbox, source: str) -> Template:
    """``env.from_string(source)``, compiled once per environment and source: a batch renders the same prompt,
    output name and template.docx part for every document, and compiling (parsing Jinja, generating and
    compiling Python) costs more than rendering. Least recently used sources are dropped past
    :data:`COMPILED_ENTRIES` / :data:`COMPILED_CHARS`. Raises what ``from_string`` raises
    (``jinja2.TemplateSyntaxError``; nothing is kept then). Thread-safe; the template is shared, which Jinja
    allows (a render keeps its state in its own context)."""
    cache: OrderedDict[str, Template] | None = getattr(env, "_docgen_compiled", None)
    if cache is None:
        with _compile_lock:
            cache = getattr(env, "_docgen_compiled", None)
            if cache is None:
                cache = OrderedDict()
                env._docgen_compiled = cache  # type: ignore[attr-defined]
    with _compile_lock:
        found = cache.get(source)
        if found is not None:
            cache.move_to_end(source)
            return found
    template = env.from_string(source)
    if len(source) <= COMPILED_CHARS // 4:
        with _compile_lock:
            cache[source] = template
            total = sum(len(k) for k in cache)
            while len(cache) > COMPILED_ENTRIES or total > COMPILED_CHARS:
                old, _ = cache.popitem(last=False)
                total -= len(old)
    return template
