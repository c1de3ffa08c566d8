"""``docgen eval [--model NAME ...] [--template ID ...] [--rows N] [--json]``: which model to trust, measured on
your own templates on this machine (:mod:`docgen.evaluation`).

Models: ``--model`` takes a file name or part of one from ``docgen models list``, or a path; repeat it to compare
several (default: the model in use). Templates: ``--template`` ids or folders (default: the bundled ones).
Prints one row per model; each model's figures are stored for ``docgen models list`` and the Models dialog.
Exit codes: 0 done, 2 a model, template or data problem, 130 cancelled.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence

from docgen.cli.common import EXIT_CANCELLED, EXIT_OK, EXIT_USAGE, error
from docgen.errors import Cancelled, DocgenError


def eval_command(argv: Sequence[str]) -> int:
    """Run ``docgen eval``; returns the exit code."""
    p = argparse.ArgumentParser(prog="docgen eval", description="Measure models on your templates: speed, "
                                "problems the claim check finds, format adherence, choice accuracy, peak RAM.")
    p.add_argument("--model", "-m", action="append", default=[], help="model file name, part of one, or path; "
                   "repeat to compare (default: the model in use)")
    p.add_argument("--template", "-t", action="append", default=[], help="template id or folder; repeat "
                   "(default: the bundled templates)")
    p.add_argument("--rows", type=int, default=8, help="rows of the sample data for rows-mode and per-row "
                   "templates (default 8; 0 = all)")
    p.add_argument("--json", action="store_true", help="machine-readable output, with per-template detail")
    p.add_argument("--no-save", action="store_true", help="do not store the figures for 'docgen models list'")
    args = p.parse_args(list(argv))
    from docgen import evaluation
    from docgen.cancel import CancelToken
    from docgen.settings import load_settings, setup_logging

    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        settings = load_settings()
        setup_logging(settings.log_level)
        models = _models(settings, args.model)
        templates = _templates(args.template)
        results = []
        for path in models:
            results.append(evaluation.evaluate_model(
                path, templates, rows=args.rows, n_ctx=settings.n_ctx, threads=settings.effective_threads(),
                cancel=cancel, on_status=lambda s: print(f"docgen eval: {s}", file=sys.stderr)))
            for warning in results[-1].warnings:
                print(f"docgen: warning: {warning}", file=sys.stderr)
            if not args.no_save:
                evaluation.record(results[-1])
    except Cancelled:
        error("cancelled.")
        return EXIT_CANCELLED
    except DocgenError as exc:
        error(exc)
        return EXIT_USAGE
    finally:
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print(json.dumps([{"model": r.model, "path": str(r.path), "metrics": r.metrics, "templates": r.templates,
                           "warnings": list(r.warnings)} for r in results], indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"docgen eval: templates {', '.join(t.id for t in templates)}; rows {args.rows or 'all'}; "
          f"n_ctx {settings.n_ctx}; {settings.effective_threads()} threads")
    print(evaluation.format_table(results))
    errors = [f"{r.model} / {tid}: {e}" for r in results for tid, d in r.templates.items() for e in d["errors"]]
    for line in errors[:10]:
        print(f"  failed: {line}", file=sys.stderr)
    return EXIT_OK


def _models(settings, names: Sequence[str]) -> list:
    from docgen.llm.discovery import find_model
    from docgen.models.library import find_entry

    if not names:
        return [find_model(settings.model_path or None)]
    out = []
    for name in names:
        entry = find_entry(settings, name)
        if entry.info is None:
            raise DocgenError(f"{entry.name} cannot be evaluated: {entry.problem}")
        out.append(entry.path)
    return out


def _templates(ids: Sequence[str]) -> list:
    from docgen.templates.catalog import resolve, scan

    if ids:
        return [resolve(i) for i in ids]
    return [e.spec for e in scan() if e.spec is not None and e.source == "bundled"]
