"""Work that needs the model, written as *steps*, and the drivers that run them.

A step function is a Python generator that **yields a list of** :class:`~docgen.llm.base.Request` **and
receives the list of** :class:`~docgen.llm.base.Generation` (same length, same order) back, until it returns
its result::

    def write_summary(...) -> Steps[str]:
        [gen] = yield [Request(messages, params)]
        return gen.text

Steps compose with ``yield from``. Writing model work this way separates *what* a document needs from *how*
the model is driven:

- :func:`run_steps` drives one step function: each yielded list goes to
  :func:`~docgen.llm.base.generate_all` (in turn, or decoded together by a backend with ``generate_many``);
- :func:`run_many` drives several at once (the documents of a batch): each round it gathers the pending
  requests of up to ``width`` step functions into one ``generate_all`` call, so a backend that decodes many
  sequences at once (llama.cpp multi-sequence batches, an inference server's parallel slots) gets them
  together. ``width = 1`` is exactly :func:`run_steps` in turn.

Errors: a backend exception is raised *into* the step function that asked (``throw`` at its ``yield``), as a
DocgenError naming the request's ``what`` unless it already is one; the step function may handle it (retry)
or let it end that document. In :func:`run_many`, when a gathered call fails, the round is redone one step
function at a time so the failure reaches only the document it belongs to. Cancelled ends everything.
"""

from __future__ import annotations

from collections.abc import Callable, Generator as PyGenerator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from docgen.cancel import CancelToken
from docgen.errors import Cancelled, DocgenError
from docgen.llm.base import Generation, Generator, Request, generate_all

T = TypeVar("T")
#: A step function's generator object: yields request lists, receives generation lists, returns ``T``.
Steps = PyGenerator[list[Request], list[Generation], T]


def ask(request: Request) -> Steps[Generation]:
    """One request as a step: ``gen = yield from ask(Request(...))``."""
    gens = yield [request]
    return gens[0]


def _call(generator: Generator, requests: Sequence[Request], cancel: CancelToken | None) -> list[Generation]:
    """``generate_all`` with backend failures turned into a DocgenError naming the failing request's ``what``
    (with a backend that decodes requests together, the first request's, as "one of N")."""
    if getattr(generator, "generate_many", None) is None:
        return [_call_one(generator, r, cancel) for r in requests]
    try:
        return generate_all(generator, requests, cancel=cancel)
    except (DocgenError, Cancelled):
        raise
    except Exception as exc:  # noqa: BLE001 - a backend failure must name the section, not crash the batch
        what = next((r.what for r in requests if r.what), "a section")
        where = what if len(requests) == 1 else f"{len(requests)} requests, the first being {what}"
        raise DocgenError(f"The model failed on {where}: {exc}") from exc


def _call_one(generator: Generator, request: Request, cancel: CancelToken | None) -> Generation:
    try:
        return generate_all(generator, [request], cancel=cancel)[0]
    except (DocgenError, Cancelled):
        raise
    except Exception as exc:  # noqa: BLE001 - a backend failure must name the section, not crash the batch
        raise DocgenError(f"The model failed on {request.what or 'a section'}: {exc}") from exc


def run_steps(steps: Steps[T], generator: Generator, cancel: CancelToken | None = None) -> T:
    """Drive one step function to its end; returns its result. Raises what it raises (and Cancelled)."""
    try:
        requests = next(steps)
        while True:
            if cancel:
                cancel.raise_if_cancelled()
            try:
                gens = _call(generator, requests, cancel) if requests else []
            except Cancelled:
                steps.close()
                raise
            except DocgenError as exc:
                requests = steps.throw(exc)
                continue
            requests = steps.send(gens)
    except StopIteration as stop:
        return stop.value


@dataclass
class Outcome:
    """What :func:`run_many` reports for one step function: its ``index`` in the input and either ``value``
    (its return value) or ``error`` (the exception that ended it; never Cancelled)."""

    index: int
    value: Any = None
    error: BaseException | None = None


class _Active:
    __slots__ = ("index", "steps", "pending")

    def __init__(self, index: int, steps: Steps[Any]) -> None:
        self.index, self.steps, self.pending = index, steps, []


def run_many(work: Iterable[Callable[[], Steps[Any]]], generator: Generator, *, width: int = 1,
             cancel: CancelToken | None = None, on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Drive the step functions that ``work`` makes (each a zero-argument callable, started only when there is
    room, so only ``width`` are alive at once), up to ``width`` together, gathering their requests into one
    ``generate_all`` call per round. Returns one :class:`Outcome` per item, in input order; ``on_outcome`` is
    called as each ends (in the order they end). A step function that raises ends with that error; the others go
    on. Cancelled (from ``cancel`` or the backend) closes every live step function and propagates.
    """
    width = max(1, int(width))
    gather = width > 1 and getattr(generator, "generate_many", None) is not None
    source = enumerate(work)
    active: list[_Active] = []
    outcomes: list[Outcome] = []

    def finish(item: _Active, outcome: Outcome) -> None:
        active.remove(item)
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)

    def advance(item: _Active, send: Any = None, throw: BaseException | None = None, first: bool = False) -> None:
        try:
            if first:
                item.pending = next(item.steps)
            elif throw is not None:
                item.pending = item.steps.throw(throw)
            else:
                item.pending = item.steps.send(send)
        except StopIteration as stop:
            finish(item, Outcome(item.index, value=stop.value))
        except Cancelled:
            raise
        except Exception as exc:  # noqa: BLE001 - one document's failure must not end the others
            finish(item, Outcome(item.index, error=exc))

    def refill() -> None:
        while len(active) < width:
            nxt = next(source, None)
            if nxt is None:
                return
            index, make = nxt
            item = _Active(index, None)  # type: ignore[arg-type]
            active.append(item)
            try:
                item.steps = make()
            except Cancelled:
                raise
            except Exception as exc:  # noqa: BLE001
                finish(item, Outcome(index, error=exc))
                continue
            advance(item, first=True)

    try:
        refill()
        while active:
            if cancel:
                cancel.raise_if_cancelled()
            round_items = list(active)
            empty = [it for it in round_items if not it.pending]
            for it in empty:  # a step that yielded nothing gets nothing back at once
                advance(it, send=[])
            round_items = [it for it in round_items if it.pending and it in active]
            if round_items:
                gens = None
                if gather:
                    try:
                        gens = _call(generator, [r for it in round_items for r in it.pending], cancel)
                    except DocgenError:
                        gens = None  # isolate the failure: redo this round one document at a time
                if gens is None:
                    for it in round_items:
                        try:
                            own = _call(generator, it.pending, cancel)
                        except DocgenError as exc:
                            advance(it, throw=exc)
                        else:
                            advance(it, send=own)
                else:
                    at = 0
                    for it in round_items:
                        n = len(it.pending)
                        advance(it, send=gens[at:at + n])
                        at += n
            refill()
    except Cancelled:
        for it in active:
            it.steps.close()
        raise
    return sorted(outcomes, key=lambda o: o.index)


__all__ = ["Steps", "ask", "run_steps", "run_many", "Outcome"]
