"""The user documentation in docs/ stays true: the documented manifest keys are the keys the schema accepts,
the worked example gives the document the reference shows, links resolve, and no message cites DESIGN.md."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import docx
import pytest

from docgen.render import Table, read_back
from docgen.templates.manifest import MANIFEST_SCHEMA

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REFERENCE = DOCS / "template-language.md"

_TABLE_HEADING = re.compile(r"^#{2,6}\s+`(\[\[?)([A-Za-z0-9_.]+)\]\]?`")
_KEY_ROW = re.compile(r"^\|\s*`([A-Za-z0-9_]+)`\s*\|")


def documented_keys(text: str) -> dict[str, set[str]]:
    """Heading ``### `[data]``` or ``### `[[sections]]``` followed by a table whose rows start with a key in
    backticks -> {"data": {...}, "sections": {...}}; dotted headings (``[[charts.series]]``) for nested tables."""
    out: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        heading = _TABLE_HEADING.match(line)
        if heading:
            current = heading.group(2)
            out.setdefault(current, set())
            continue
        if line.startswith("#"):
            current = None
            continue
        row = _KEY_ROW.match(line)
        if row and current is not None:
            out[current].add(row.group(1))
    return out


def schema_keys(schema: dict, prefix: str = "") -> dict[str, set[str]]:
    """Every table of the manifest schema (objects, and arrays of objects) -> its accepted keys."""
    out: dict[str, set[str]] = {}
    for name, sub in schema.get("properties", {}).items():
        table = sub.get("items", {}) if sub.get("type") == "array" else sub
        if table.get("type") == "object" and table.get("properties") and table.get("additionalProperties") is False:
            path = f"{prefix}{name}"
            out[path] = set(table["properties"])
            out.update(schema_keys(table, prefix=path + "."))
    return out


def test_documented_manifest_keys_are_exactly_the_accepted_keys():
    documented = documented_keys(REFERENCE.read_text(encoding="utf-8"))
    accepted = schema_keys(MANIFEST_SCHEMA)
    assert set(documented) == set(accepted), "tables documented vs tables the schema has"
    for table, keys in accepted.items():
        assert documented[table] == keys, f"[{table}]: documented {sorted(documented[table] - keys)} not " \
                                          f"accepted; accepted {sorted(keys - documented[table])} not documented"


def _example_blocks(text: str) -> dict[str, str]:
    """``<!-- example-file: NAME -->`` / ``<!-- example-docx -->`` / ``<!-- example-output -->`` + fenced block."""
    out = {}
    for m in re.finditer(r"<!-- (example-[a-z]+)(?::\s*([^ ]+))? -->\n```[a-z]*\n(.*?)```", text, re.S):
        out[m.group(2) or m.group(1)] = m.group(3)
    return out


def _build_docx(lines: str, path: Path) -> None:
    """Paragraph per line; consecutive ``| a | b |`` lines become one Word table."""
    document = docx.Document()
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, cells in enumerate(rows):
                for c, cell in enumerate(cells):
                    table.rows[r].cells[c].text = cell
            rows.clear()

    for line in lines.splitlines():
        if line.startswith("|"):
            inner = line.strip()[1:-1]
            rows.append([c.strip() for c in re.split(r"\|(?![^{]*\})", inner)])  # not the | of a filter
        else:
            flush()
            document.add_paragraph(line)
    flush()
    document.save(str(path))


def test_worked_example_gives_the_documented_document(tmp_path, capsys):
    from docgen.cli import main

    blocks = _example_blocks(REFERENCE.read_text(encoding="utf-8"))
    pkg = tmp_path / "tips-report"
    pkg.mkdir()
    (pkg / "docgen.toml").write_text(blocks["docgen.toml"], encoding="utf-8")
    (pkg / "sample.csv").write_text(blocks["sample.csv"], encoding="utf-8")
    _build_docx(blocks["example-docx"], pkg / "template.docx")
    shutil.copy(pkg / "sample.csv", tmp_path / "tips.csv")
    code = main(["--template", str(pkg), "--data", str(tmp_path / "tips.csv"), "--out", str(tmp_path / "out"),
                 "--backend", "fake"])
    assert code == 0, capsys.readouterr().err
    written = read_back(tmp_path / "out" / "tips-Chez Nous.docx")
    got = []
    for block in written:
        if isinstance(block, Table):
            got.extend("| " + " | ".join(row) + " |" for row in block.rows)
        else:
            got.append(block.text)
    expected = blocks["example-output"].splitlines()
    assert got[: len(expected)] == expected


def test_every_link_between_pages_resolves_and_index_lists_every_page():
    pages = sorted(DOCS.glob("*.md"))
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in pages:
        if page.name != "index.md":
            assert f"({page.name})" in index, f"docs/index.md does not link {page.name}"
        text = page.read_text(encoding="utf-8")
        anchors = {_anchor(h) for h in re.findall(r"^#+\s+(.*)$", text, re.M)}
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://")):
                continue
            file, _, anchor = target.partition("#")
            dest = DOCS / file if file else page
            assert dest.is_file(), f"{page.name}: link to missing {target}"
            if anchor:
                dest_text = dest.read_text(encoding="utf-8")
                assert anchor in {_anchor(h) for h in re.findall(r"^#+\s+(.*)$", dest_text, re.M)}, \
                    f"{page.name}: no heading for #{anchor} in {dest.name}"
        assert anchors  # every page has headings


def _anchor(heading: str) -> str:
    """GitHub's heading anchors: lower case, punctuation removed, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_readme_links_the_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/index.md" in readme and "docs/template-language.md" in readme
    assert "DESIGN.md" not in readme


def _string_constants(tree: ast.AST) -> list[str]:
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


@pytest.mark.parametrize("path", sorted((ROOT / "docgen").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_message_cites_design_md(path):
    strings = _string_constants(ast.parse(path.read_text(encoding="utf-8")))
    assert not [s for s in strings if "DESIGN.md" in s], "user-facing text must point at docs/, not DESIGN.md"


def test_unknown_manifest_key_points_at_the_reference(tmp_path):
    from docgen.errors import ManifestError
    from docgen.templates.catalog import load_package

    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "templates" / "service-reply", pkg)
    text = (pkg / "docgen.toml").read_text(encoding="utf-8").replace('mode = "rows"', 'mode = "rows"\nmodes = 1')
    (pkg / "docgen.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError, match=r"docs/template-language\.md"):
        load_package(pkg)
