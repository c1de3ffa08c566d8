"""``docgen refs``: the reference documents sections are written from, and their index.

    docgen refs list [--template ID]             the reference files in scope, with passages and state
    docgen refs add PATH... [--template ID]      copy files into the user's references folder and index them
    docgen refs rebuild [--template ID]          read every file in scope again
    docgen refs search QUERY [--template ID] [-n N]   the best passages for QUERY, as a section would get them

Without ``--template`` the scope is the user's and the site's general references; with it, every file a document
of that template reads (its own ``references/``, the site's, the user's, see :mod:`docgen.refs.library`).
Exit codes: 0 done, 1 some file could not be read, 2 usage error.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from docgen.cli.common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from docgen.errors import DocgenError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="docgen refs", description="Reference documents (policies, FAQs, price lists) "
                                "that sections are written from and cite.")
    sub = p.add_subparsers(dest="action", required=True)
    for name, help_ in (("list", "the reference files in scope"), ("rebuild", "read every file in scope again")):
        a = sub.add_parser(name, help=help_)
        a.add_argument("--template", "-t", help="a template id or folder: its references, the site's and yours")
    a = sub.add_parser("add", help="copy files into your references folder and index them")
    a.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    a.add_argument("--template", "-t", help="add them for this template only")
    a = sub.add_parser("search", help="the best passages for a query")
    a.add_argument("query")
    a.add_argument("--template", "-t", help="search this template's references (default: yours and the site's)")
    a.add_argument("-n", type=int, default=5, help="how many passages (default 5)")
    return p


def _scope(template_id: str | None) -> list[Path]:
    from docgen.refs import files_in, reference_files, site_references_dir, user_references_dir

    if template_id:
        from docgen.model import ReferencesSpec
        from docgen.templates.catalog import resolve
        import dataclasses

        template = resolve(template_id)
        if template.references is None:  # list what it would use if references were added
            template = dataclasses.replace(template, references=ReferencesSpec())
        return reference_files(template)
    return files_in(site_references_dir(), recursive=False) + files_in(user_references_dir(), recursive=False)


def refs_command(argv: Sequence[str]) -> int:
    """``docgen refs ...``; returns the exit code."""
    args = _parser().parse_args(list(argv))
    try:
        from docgen.refs import Index

        index = Index()
        if args.action == "add":
            return _add(index, args.paths, args.template)
        files = _scope(args.template)
        if args.action == "search":
            return _search(index, files, args.query, args.n)
        report = index.update(files, force=args.action == "rebuild")
    except DocgenError as exc:
        print(f"docgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "rebuild":
        print(f"Read {len(report.indexed)} file(s) again in {report.seconds:.2f} s.")
    if not files:
        print("No reference files in scope." + ("" if args.template else " Add some with 'docgen refs add FILE', "
                                                "or give a template with --template."))
    infos = {i.path: i for i in index.files(files)}
    for f in files:
        info = infos.get(Path(f))
        state = f"unreadable: {report.failed[Path(f)]}" if Path(f) in report.failed else (
            f"{info.passages} passages, {info.size / 1024:.1f} KB" if info else "not indexed")
        print(f"  {f}  ({state})")
    stats = index.stats()
    print(f"Index: {index.path} ({stats['files']} files, {stats['passages']} passages, "
          f"{stats['bytes'] / 1024:.0f} KB)")
    return EXIT_SOME_FAILED if report.failed else EXIT_OK


def _add(index, paths: Sequence[Path], template_id: str | None) -> int:
    from docgen.refs import files_in, supported, user_references_dir

    if template_id:
        from docgen.templates.catalog import resolve

        template_id = resolve(template_id).id
    target = user_references_dir(template_id)
    chosen = []
    for p in paths:
        if not p.exists():
            print(f"docgen: error: {p} does not exist.", file=sys.stderr)
            return EXIT_USAGE
        found = files_in(p)
        if not found:
            why = "is not a supported file" if p.is_file() and not supported(p) else "holds no supported file"
            print(f"docgen: error: {p} {why}; references can be .docx .pdf .md .txt .html .csv .xlsx.",
                  file=sys.stderr)
            return EXIT_USAGE
        chosen.extend(found)
    target.mkdir(parents=True, exist_ok=True)
    copies = []
    for f in chosen:
        dest = target / f.name
        if dest.resolve() != f.resolve():
            shutil.copy2(f, dest)
        copies.append(dest)
    report = index.update(copies)
    for c in copies:
        state = f"unreadable: {report.failed[c.resolve()]}" if c.resolve() in report.failed else "indexed"
        print(f"  {c}  ({state})")
    where = f"for template '{template_id}'" if template_id else "for every template that uses references"
    print(f"Added {len(copies) - len(report.failed)} reference file(s) {where}.")
    return EXIT_SOME_FAILED if report.failed else EXIT_OK


def _search(index, files: Sequence[Path], query: str, n: int) -> int:
    report = index.update(files)
    hits = index.search(query, [f for f in files if Path(f) not in report.failed], limit=max(1, n))
    if not hits:
        print("No passage matches." if files else "No reference files in scope.")
    for rank, h in enumerate(hits, 1):
        label = ", ".join(x for x in (h.file.name, h.passage.section, h.passage.location) if x)
        text = " ".join(h.passage.text.split())
        print(f"{rank}. {label}  (score {h.score:.2f})\n   {text[:300]}{'...' if len(text) > 300 else ''}")
    return EXIT_SOME_FAILED if report.failed else EXIT_OK


__all__ = ["refs_command"]
