"""The Jinja sandbox with resource bounds: a template cannot hang docgen or exhaust its memory.

Jinja's :class:`~jinja2.sandbox.SandboxedEnvironment` stops attribute walks (``__class__``, ``__globals__``) and
caps ``range()`` at 100,000 items, but ``{{ 'x' * 10**9 }}`` still builds a gigabyte string and two nested
loops run for hours. :class:`BoundedSandbox` adds the bounds of :mod:`docgen.limits`:

- **size, checked before the value is built** where the size can be known: ``*`` on text or lists,
  ``+``, ``**`` and ``*`` on big integers, ``%`` formatting and ``str.format`` with a field width,
  ``center``/``ljust``/``rjust``/``zfill``/``expandtabs``/``replace``, the ``center``/``indent``/``format``/
  ``replace`` filters, ``list.extend``/``append``/``insert``; *after* it is built (so at most about twice the bound
  is ever held) for ``~`` concatenation, every other call and filter, and every attribute or item read
  (which is how a value doubled in a ``namespace`` is caught);
- **output**: the text a render produces (``output_chars``);
- **time**: one render (a whole document when :func:`render_budget` spans its parts) may take
  ``render_seconds``; the clock is checked on every piece of output, call, filter, attribute or item access,
  operator and ``range`` step, so a loop with an empty body over ``range`` is stopped too.
- ``lipsum()`` (Jinja's lorem-ipsum generator, unbounded) is removed from the globals.

Violations raise :class:`LimitExceeded`, a :class:`jinja2.sandbox.SecurityError`, whose message says what was
too big or too slow, the bound and how to raise it; the renderer adds the part and paragraph
(:mod:`docgen.render.errors_map`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2.compiler import CodeGenerator
from jinja2.sandbox import SecurityError, SandboxedEnvironment, safe_range

from docgen import limits

__all__ = ["BoundedSandbox", "LimitExceeded", "render_budget"]


class LimitExceeded(SecurityError):
    """A template went past a bound of :mod:`docgen.limits`. ``limit`` names the bound ("output_chars")."""

    def __init__(self, message: str, limit: str):
        self.limit = limit
        super().__init__(message)


@dataclass
class _Budget:
    limits: limits.Limits
    deadline: float
    output_left: int

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                f"took longer than {limits.describe('render_seconds', self.limits)}. A loop in a tag probably "
                "runs far more often than intended (nested loops over the data, a large range()); simplify the "
                "tag", "render_seconds")


_ACTIVE: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("docgen_render_budget", default=None)


@contextlib.contextmanager
def render_budget() -> Iterator[None]:
    """Make every render inside the ``with`` share one time and output budget (a document's parts: body,
    headers, footers, notes, properties). Renders outside any ``with`` each get their own budget. Nested uses
    keep the outer budget."""
    if _ACTIVE.get() is not None:
        yield
        return
    lim = limits.current()
    token = _ACTIVE.set(_Budget(lim, time.monotonic() + lim.render_seconds, lim.output_chars))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def _budget() -> _Budget:
    b = _ACTIVE.get()
    if b is None:  # a call outside any render (a filter used directly): a fresh, short-lived budget
        lim = limits.current()
        b = _Budget(lim, time.monotonic() + lim.render_seconds, lim.output_chars)
    return b


def _too_big(what: str, size: int, name: str, lim: limits.Limits) -> LimitExceeded:
    unit = "items" if name == "list_items" else "characters"
    return LimitExceeded(
        f"would build {what} of {size:,} {unit}, more than the limit of {limits.describe(name, lim)}. "
        "Check the tag's arithmetic (a repetition such as 'x' * n, a width in a format) and fix it", name)


def _check_text(size: int, what: str = "a text") -> None:
    b = _budget()
    if size > b.limits.output_chars:
        raise _too_big(what, size, "output_chars", b.limits)


def _check_items(size: int) -> None:
    b = _budget()
    if size > b.limits.list_items:
        raise _too_big("a list", size, "list_items", b.limits)


def _check_value(value: Any) -> Any:
    """Raise when ``value`` (a result or a value read) is text or a list over the bounds; return it."""
    if isinstance(value, str):
        if len(value) > _budget().limits.output_chars:
            _check_text(len(value))
    elif isinstance(value, list | tuple):
        if len(value) > _budget().limits.list_items:
            _check_items(len(value))
    return value


def _int_bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) and not isinstance(value, bool) else 0


#: about 20,000 decimal digits: far beyond any real figure (Python prints at most 4,300 by default), cheap to compute
_MAX_INT_BITS = 1 << 16
_MAX_DIGITS = int(_MAX_INT_BITS * 0.30103)

def _huge_number(bits: int) -> LimitExceeded:
    return LimitExceeded(
        f"would compute a number of about {int(bits * 0.30103):,} digits; docgen stops at {_MAX_DIGITS:,} digits "
        "(a fixed bound: no real figure comes near it). Check the tag's arithmetic (a power such as 10 ** n, a "
        "product repeated in a loop) and fix it", "output_chars")


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")


def _percent_width(fmt: str, args: Any) -> int:
    """The largest width or precision a printf-style format string asks for (``*`` takes it from ``args``)."""
    values = list(args) if isinstance(args, tuple) else [args]
    widest = 0
    for m in _PERCENT_SPEC.finditer(fmt):
        for group in (m.group(1), m.group(2)):
            if group == "*":
                arg = values.pop(0) if values else 0
                widest = max(widest, arg if isinstance(arg, int) else 0)
            elif group:
                widest = max(widest, int(group))
    return widest


def _format_width(fmt: str, args: tuple, kwargs: dict) -> int:
    """The largest number in the format specs of a ``str.format`` string, and any int given as an argument
    when a spec is itself a replacement field (``{:>{w}}``)."""
    widest = 0
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return 0  # str.format itself will raise the error
    for _literal, _name, spec, _conversion in fields:
        if not spec:
            continue
        widest = max([widest, *(int(n) for n in re.findall(r"\d+", spec))])
        if "{" in spec:
            widest = max([widest, *(a for a in (*args, *kwargs.values()) if isinstance(a, int))])
    return widest


def _replace_size(s: str, old: Any, new: Any, count: Any = None) -> int:
    if not isinstance(old, str) or not isinstance(new, str) or len(new) <= len(old):
        return len(s)
    hits = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(s) + hits * (len(new) - len(old))


def _precheck_str_method(obj: str, name: str, args: tuple, kwargs: dict) -> None:
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        if isinstance(width, int):
            _check_text(width)
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(size, int):
            _check_text(len(obj) + obj.count("\t") * max(0, size))
    elif name == "replace" and len(args) >= 2:
        _check_text(_replace_size(obj, *args[:3]))


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` (a filter) with the clock checked, known-size arguments checked first and the result after."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        b = _budget()
        b.tick()
        plain = [a for a in args if not _is_jinja_internal(a)]
        if plain:
            value = plain[0]
            rest = plain[1:]
            if name == "center" and rest and isinstance(rest[0], int):
                _check_text(rest[0])
            elif name == "indent" and isinstance(value, str):
                width = rest[0] if rest else kwargs.get("width", 4)
                width = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
                _check_text(len(value) + (value.count("\n") + 1) * max(0, width))
            elif name == "format" and isinstance(value, str):
                _check_text(len(value) + _percent_width(value, tuple(rest) or tuple(kwargs.values())))
            elif name == "replace" and isinstance(value, str) and len(rest) >= 2:
                _check_text(_replace_size(value, *rest[:3]))
        return _check_value(func(*args, **kwargs))

    return wrapper


def _is_jinja_internal(obj: Any) -> bool:
    from jinja2.nodes import EvalContext
    from jinja2.runtime import Context

    return isinstance(obj, EvalContext | Context | SandboxedEnvironment)


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator with ``a ~ b`` checked by the environment (``environment.bounded``)."""

    def visit_Concat(self, node, frame):  # noqa: D102 - Jinja hook
        self.write("environment.bounded(")
        super().visit_Concat(node, frame)
        self.write(")")


class _Range:
    """``range()`` for templates: Jinja's MAX_RANGE cap, and the render clock checked on every step."""

    def __init__(self, *args: int):
        self._range = safe_range(*args)

    def __iter__(self) -> Iterator[int]:
        budget = _budget()
        for i in self._range:
            budget.tick()
            yield i

    def __len__(self) -> int:
        return len(self._range)

    def __getitem__(self, index: Any) -> Any:
        item = self._range[index]
        return _Range(item.start, item.stop, item.step) if isinstance(item, range) else item

    def __contains__(self, value: Any) -> bool:
        return value in self._range

    def __reversed__(self) -> Iterator[int]:
        budget = _budget()
        for i in reversed(self._range):
            budget.tick()
            yield i

    def __repr__(self) -> str:
        return repr(self._range)


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox plus the bounds of :mod:`docgen.limits` (module docstring). Same constructor."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _Range
        self.globals.pop("lipsum", None)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    # -- output and time
    def concat(self, pieces: Any) -> str:  # type: ignore[override]
        """Join a render's output (Jinja calls this once per ``Template.render``), within the budget."""
        with render_budget():
            budget = _budget()
            out: list[str] = []
            for piece in pieces:
                budget.tick()
                budget.output_left -= len(piece)
                if budget.output_left < 0:
                    raise LimitExceeded(
                        f"produces more text than the limit of {limits.describe('output_chars', budget.limits)}. "
                        "A loop in a tag probably repeats far more often than intended; fix the tag",
                        "output_chars")
                out.append(piece)
            return "".join(out)

    def bounded(self, value: Any) -> Any:
        """The result of ``a ~ b``, checked (called by the generated code)."""
        _budget().tick()
        return _check_value(value)

    # -- operators
    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:  # noqa: D102
        _budget().tick()
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and not isinstance(n, bool):
                    size = len(seq) * max(0, n)
                    _check_text(size) if isinstance(seq, str) else _check_items(size)
            if _int_bits(left) + _int_bits(right) > _MAX_INT_BITS:
                raise _huge_number(_int_bits(left) + _int_bits(right))
        elif operator == "**":
            if (_int_bits(left) > 1 and isinstance(right, int) and not isinstance(right, bool)
                    and right > 0 and _int_bits(left) * right > _MAX_INT_BITS):
                raise _huge_number(_int_bits(left) * right)
        elif operator == "+":
            if isinstance(left, str) and isinstance(right, str):
                _check_text(len(left) + len(right))
            elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
                _check_items(len(left) + len(right))
        elif operator == "%" and isinstance(left, str):
            _check_text(len(left) + _percent_width(left, right))
        return _check_value(super().call_binop(context, operator, left, right))

    # -- attribute and item access
    def getattr(self, obj: Any, attribute: str) -> Any:  # noqa: D102
        _budget().tick()
        return _check_value(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:  # noqa: D102
        _budget().tick()
        return _check_value(super().getitem(obj, argument))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:  # noqa: D102
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        fmt = value.__self__

        @functools.wraps(wrapper)
        def checked(*args: Any, **kwargs: Any) -> str:
            mapping = args[0] if value.__name__ == "format_map" and args else {}
            values = tuple(mapping.values()) if isinstance(mapping, dict) else ()
            _check_text(len(fmt) + _format_width(fmt, args + values, kwargs))
            return _check_value(wrapper(*args, **kwargs))

        return checked

    # -- calls
    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805, D102
        _budget().tick()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            _precheck_str_method(owner, name, args, kwargs)
        elif isinstance(owner, list):
            if name == "extend" and args and hasattr(args[0], "__len__"):
                _check_items(len(owner) + len(args[0]))
            elif name in ("append", "insert"):
                _check_items(len(owner) + 1)
        return _check_value(super().call(__context, __obj, *args, **kwargs))
