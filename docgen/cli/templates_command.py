"""``docgen templates list`` and ``docgen templates check PATH``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from docgen.cli.common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from docgen.errors import DocgenError


def templates_command(argv: Sequence[str]) -> int:
    """``docgen templates list`` and ``docgen templates check PATH``."""
    parser = argparse.ArgumentParser(prog="docgen templates", description="List or check template packages.")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="list bundled, site and user templates")
    check = sub.add_parser("check", help="check a template package (or a bare .docx)")
    check.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    from docgen.templates.catalog import scan

    if args.action == "list":
        for entry in scan():
            if entry.spec:
                s = entry.spec
                print(f"{s.id:<20} {s.version:<8} {entry.source:<8} {s.mode:<6} {s.name}")
                if s.description:
                    print(f"{'':<20} {s.description}")
            else:
                print(f"{entry.path.name:<20} {'':<8} {entry.source:<8} INVALID: {entry.error}")
        return EXIT_OK
    from docgen.checks import check_template

    try:
        lines, problems = check_template(args.path)
    except DocgenError as exc:
        print(f"docgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(lines))
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        return EXIT_SOME_FAILED
    print("\nNo problems found.")
    return EXIT_OK
