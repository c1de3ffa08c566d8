"""``docgen report merge DIR... [-o FILE]``: one report from the reports of a batch's shards (``--shard K/N``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from docgen.cli.common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="docgen report", description="Work with batch reports (docgen-report.json).")
    sub = p.add_subparsers(dest="action", required=True)
    merge = sub.add_parser("merge", help="combine the reports of a batch's shards into one",
                           description="Combine the docgen-report*.json files (and the journal of a shard that was "
                           "killed) found in each DIR into one report, ordered like the full work list. Exit 0 when "
                           "every document is written, 1 when some failed or a shard is missing.")
    merge.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="output folders of the shards")
    merge.add_argument("--out", "-o", type=Path,
                       help="where to write the merged report (default: docgen-report.json in the first DIR)")
    return p


def report_command(argv: Sequence[str]) -> int:
    """``docgen report merge ...``; returns the exit code."""
    from docgen.errors import DocgenError
    from docgen.journal import merge_reports

    args = _parser().parse_args(argv)
    for d in args.dirs:
        if not d.is_dir():
            print(f"docgen: error: {d} is not a folder (give the shards' output folders).", file=sys.stderr)
            return EXIT_USAGE
    out = args.out or args.dirs[0] / "docgen-report.json"
    try:
        merged = merge_reports(args.dirs, out)
    except DocgenError as exc:
        print(f"docgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    shards = ", ".join(str(m["shard"] or "whole run") + (" (killed: from its journal)" if m["unfinished"] else "")
                       for m in merged["merged_from"])
    print(f"Merged {len(merged['merged_from'])} report(s) [{shards}] into {out}: {merged['written']} written, "
          f"{merged['skipped']} kept from earlier runs, {merged['failed']} failed, of {merged['total']}.")
    if merged["missing"]:
        print(f"docgen: {len(merged['missing'])} document(s) are in no report (a shard did not run or was cut "
              f"short), e.g. work-list position {merged['missing'][0] + 1}; run the missing shard again.",
              file=sys.stderr)
    return EXIT_SOME_FAILED if merged["failed"] or merged["missing"] else EXIT_OK
