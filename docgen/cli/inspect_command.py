"""``docgen inspect FILE.docx [--json]``: the provenance docgen wrote into a document."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from docgen.cli.common import EXIT_OK, EXIT_USAGE


def inspect_command(argv: Sequence[str]) -> int:
    """``docgen inspect FILE.docx [--json]``: print a document's provenance; exit 2 if there is none."""
    parser = argparse.ArgumentParser(prog="docgen inspect", description="Show how docgen wrote a document.")
    parser.add_argument("path", type=Path, help="a .docx written by docgen")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    from docgen import provenance
    from docgen.render import read_provenance

    if not args.path.is_file():
        print(f"docgen: error: {args.path} does not exist.", file=sys.stderr)
        return EXIT_USAGE
    from docgen.errors import DocgenError

    try:
        props = read_provenance(args.path)
    except DocgenError as exc:
        print(f"docgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - python-docx raises several types for a file that is not a .docx
        print(f"docgen: error: {args.path} is not a Word document (.docx): {exc}", file=sys.stderr)
        return EXIT_USAGE
    if "docgen_version" not in props:
        print(f"docgen: error: {args.path}: this document was not written by docgen (it has no docgen "
              "provenance).", file=sys.stderr)
        return EXIT_USAGE
    info = provenance.inspection(args.path, props, provenance.read_sidecar(args.path))
    if args.json:
        import json

        print(json.dumps(info, indent=2, ensure_ascii=False))
    else:
        print(provenance.format_inspection(info))
    return EXIT_OK
