"""Property-based fuzzing (hypothesis) of what takes outside input: the data readers, the Markdown-to-Word
mapper, the model-output cleanup, template text and file-name sanitizing.

The property everywhere: any input either gives a .docx that python-docx opens and whose every XML part
parses strictly (no duplicate zip members, no macros), or raises a DocgenError. No other exception type
escapes. Documents made from data never show the word None where a value was empty or missing.

Time is bounded for CI by the ``ci`` profile (few examples per test, fixed seed so a run is reproducible,
no example database written); ``HYPOTHESIS_PROFILE=fuzz`` runs many random examples locally.
"""

from __future__ import annotations

import io
import json
import os
import string
import zipfile
from pathlib import Path

import docx
import pytest
from docx_strict import assert_valid_docx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docgen.batch import CONTROL, MAX_NAME, safe_filename
from docgen.errors import DocgenError
from docgen.llm.cleanup import clean_text
from docgen.render import read_back, render_document
from docgen.render.sanitize import sanitize_text
from docgen.sources import load_dataset

settings.register_profile("ci", max_examples=12, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("fuzz", max_examples=2000, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent

#: text with everything that breaks things: XML-forbidden characters, surrogates, bidi and zero-width marks,
#: ANSI escapes, CSV and Markdown syntax, Jinja-looking braces, long lines
HOSTILE_CHARS = st.one_of(
    st.characters(codec="utf-8"),
    st.characters(min_codepoint=0, max_codepoint=0x1F),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from(list('\u202e\u200b\ufeff\ufffe\uffff\x7f\x85\u2028,;"\'\t\n\r|*_#`[]()<>&{}%~\\-+.!')),
)
HOSTILE_TEXT = st.text(HOSTILE_CHARS, max_size=200)
MARKDOWN_LINES = st.lists(st.one_of(
    HOSTILE_TEXT,
    st.sampled_from(["# Heading", "## **Bold** heading", "- item", "  - nested", "1. one", "3) three", "> quote",
                     "```", "| a | b |", "|---|:-:|", "| 1 | 2 |", "***", "[link](https://example.com)",
                     "![img](x.png)", "<b>html</b>", "**unbalanced", "* * *", "    code", "- [ ] task", ""]),
), max_size=25).map("\n".join)


def _section_template(tmp_path: Path) -> Path:
    path = tmp_path / "sections.docx"
    if not path.exists():
        d = docx.Document()
        d.add_paragraph("{{ title }}")
        d.add_paragraph("{{p sections.body }}")
        d.add_paragraph("Inline: {{ sections.body }}")
        d.save(path)
    return path


def render_or_docgen_error(template: Path, context: dict, sections: dict, out: Path) -> None:
    """The property: a valid .docx, or a DocgenError (and then no file)."""
    try:
        render_document(template, context, sections, out)
    except DocgenError:
        assert not out.exists()
        return
    assert_valid_docx(out)


# --------------------------------------------------------------------------------------------- Markdown mapper


@given(text=MARKDOWN_LINES, fmt=st.sampled_from(["markdown", "text", "choice", "json"]))
def test_any_section_text_gives_a_valid_document(tmp_path_factory, text, fmt):
    tmp = tmp_path_factory.mktemp("md")
    render_or_docgen_error(_section_template(tmp), {"title": "T"}, {"body": (fmt, text)}, tmp / "out.docx")


@given(value=st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), HOSTILE_TEXT),
                          lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE_TEXT, inner, max_size=4),
                          max_leaves=12))
def test_any_value_in_a_tag_gives_a_valid_document(tmp_path_factory, value):
    tmp = tmp_path_factory.mktemp("val")
    render_or_docgen_error(_section_template(tmp), {"title": value}, {"body": ("markdown", "x")}, tmp / "out.docx")


# --------------------------------------------------------------------------------------------- model output cleanup


@given(text=MARKDOWN_LINES, prompt=HOSTILE_TEXT, title=HOSTILE_TEXT,
       finish=st.sampled_from(["stop", "length"]))
def test_cleanup_of_any_model_output_gives_a_valid_document(tmp_path_factory, text, prompt, title, finish):
    try:
        cleaned = clean_text(text, prompt=prompt, title=title, finish_reason=finish)
    except DocgenError:
        return
    assert isinstance(cleaned.text, str) and all(isinstance(n, str) for n in cleaned.notes)
    tmp = tmp_path_factory.mktemp("clean")
    render_or_docgen_error(_section_template(tmp), {"title": title}, {"body": ("markdown", cleaned.text)},
                           tmp / "out.docx")


# --------------------------------------------------------------------------------------------- template text


JINJA_BITS = st.sampled_from([
    "{{ name }}", "{{ name|upper }}", "{{ rows|length }}", "{% for r in rows %}", "{% endfor %}", "{% if name %}",
    "{% else %}", "{% endif %}", "{{ r.a }}", "{{ 'x' * 3 }}", "{{ 10 ** 3 }}", "{{ name.__class__ }}", "{{",
    "}}", "{%", "%}", "{#", "#}", "{{ undefined_name }}", "{{ rows[0].a|money }}", "{{ 1 / 0 }}", "{{p name }}",
    "{{r name }}", "{%p if name %}", "{%p endif %}", "{{ range(5)|list }}", "{% set x = name %}{{ x }}",
    "{{ '%s' % name }}", "{{ name.format(1) }}", "{{ lipsum(3) }}", "{% macro m() %}x{% endmacro %}{{ m() }}",
])


@given(paragraphs=st.lists(st.lists(st.one_of(JINJA_BITS, HOSTILE_TEXT), max_size=6).map("".join), min_size=1,
                           max_size=6))
def test_any_template_text_gives_a_valid_document_or_a_docgen_error(tmp_path_factory, paragraphs):
    tmp = tmp_path_factory.mktemp("tpl")
    d = docx.Document()
    for text in paragraphs:
        try:
            d.add_paragraph(text)
        except ValueError:  # python-docx refuses XML-forbidden characters: Word could not have saved them
            d.add_paragraph(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
                            .translate({c: None for c in range(32) if c not in (9, 10, 13)}))
    template = tmp / "t.docx"
    d.save(template)
    context = {"name": "Ann", "rows": [{"a": 1}, {"a": 2.5}]}
    render_or_docgen_error(template, context, {}, tmp / "out.docx")


# --------------------------------------------------------------------------------------------- data readers


def _render_dataset(tmp: Path, path: Path) -> None:
    """Read ``path``; a DataError is fine; a dataset is rendered into a table and must give a valid .docx."""
    try:
        dataset = load_dataset(path)
    except DocgenError:
        return
    d = docx.Document()
    d.add_paragraph("{% for r in rows %}")
    d.add_paragraph("{% for c in columns %}{{ c }}={{ r[c] }}; {% endfor %}")
    d.add_paragraph("{% endfor %}")
    d.save(tmp / "t.docx")
    rows = [dict(r) for r in dataset.rows]
    render_or_docgen_error(tmp / "t.docx", {"rows": rows, "columns": list(dataset.column_names)}, {}, tmp / "o.docx")
    if (tmp / "o.docx").exists():
        # no None where a value was missing: the word appears exactly as often as the names and values hold it
        expected = sum(sanitize_text(str(name)).count("None") + sanitize_text(str(row[name])).count("None")
                       for row in rows for name in dataset.column_names if row[name] is not None) + sum(
            sanitize_text(str(name)).count("None") for row in rows for name in dataset.column_names
            if row[name] is None)
        assert read_back(tmp / "o.docx").text.count("None") == expected


CELLS = st.lists(st.lists(st.one_of(HOSTILE_TEXT, st.sampled_from(["1,234.50", "(12)", "$5", "12%", "2024-03-31",
                                                                    "31/03/2024", "NA", "", " ", "00123", "1e9"])),
                          min_size=1, max_size=5), min_size=1, max_size=8)


@given(raw=st.binary(max_size=400), ext=st.sampled_from([".csv", ".tsv", ".txt", ".json", ".xlsx"]))
def test_any_bytes_as_a_data_file_give_a_dataset_or_a_data_error(tmp_path_factory, raw, ext):
    tmp = tmp_path_factory.mktemp("bytes")
    path = tmp / f"data{ext}"
    path.write_bytes(raw)
    _render_dataset(tmp, path)


@given(rows=CELLS, delimiter=st.sampled_from([",", ";", "\t", "|"]), quote=st.booleans(),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
def test_any_table_written_as_csv_reads_back_or_is_a_data_error(tmp_path_factory, rows, delimiter, quote, encoding):
    import csv

    tmp = tmp_path_factory.mktemp("csv")
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL if quote else csv.QUOTE_MINIMAL).writerows(rows)
    path = tmp / "data.csv"
    try:
        path.write_bytes(buffer.getvalue().encode(encoding))
    except UnicodeEncodeError:
        path.write_bytes(buffer.getvalue().encode(encoding, "replace") if encoding == "cp1252" else
                         buffer.getvalue().encode("utf-8", "surrogatepass"))
    _render_dataset(tmp, path)


MISSING = st.sampled_from(["", " ", "NA", "N/A", "null", "NaN"])
SAFE_TEXT = st.text(string.ascii_letters + string.digits + " .,-", max_size=12).filter(lambda t: "None" not in t)
MISSING_TABLES = st.integers(1, 4).flatmap(lambda width: st.lists(
    st.lists(st.one_of(MISSING, SAFE_TEXT, st.sampled_from(["12", "3.5", "1,234.50", "2024-03-31"])),
             min_size=width, max_size=width), min_size=1, max_size=6))


@given(rows=MISSING_TABLES, ext=st.sampled_from([".csv", ".xlsx", ".json"]))
def test_documents_from_data_with_missing_cells_never_print_none(tmp_path_factory, capsys, rows, ext):
    """Every cell of every row is printed by a tag, and the row's first cell names the file: wherever a cell was
    empty or a missing-value marker, the document (and its file name) holds nothing, never the word None."""
    import csv

    from docgen.cli import main

    tmp = tmp_path_factory.mktemp("missing")
    header = [f"c{i}" for i in range(len(rows[0]))]
    path = tmp / f"data{ext}"
    if ext == ".csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([header, *rows])
    elif ext == ".xlsx":
        openpyxl = pytest.importorskip("openpyxl")
        wb = openpyxl.Workbook()
        for record in [header, *rows]:
            wb.active.append([None if c == "" else c for c in record])
        wb.save(path)
    else:
        path.write_text(json.dumps([{h: (None if c == "" else c) for h, c in zip(header, r, strict=True)}
                                    for r in rows]), encoding="utf-8")
    pkg = tmp / "pkg"
    pkg.mkdir()
    d = docx.Document()
    d.add_paragraph("".join(f"{h}=[{{{{ row.{h} }}}}] " for h in header))
    d.add_paragraph("{{p sections.body }}")
    d.save(pkg / "template.docx")
    (pkg / "docgen.toml").write_text(f"""[template]
id = "missing"
name = "Missing"

[data]
mode = "rows"
output_name = "doc-{{{{ row.c0 }}}}.docx"

[[sections]]
id = "body"
prompt = "Write about {' '.join(f'{{{{ row.{h} }}}}' for h in header)}."
""", encoding="utf-8")
    out = tmp / "out"
    code = main(["--template", str(pkg), "--data", str(path), "--out", str(out), "--backend", "fake", "-q"])
    err = capsys.readouterr().err
    if code == 2:  # the file is not a table docgen reads (e.g. no data rows): a clear message, no documents
        assert "docgen: error:" in err and not list(out.glob("*.docx"))
        return
    assert code == 0, err
    written = sorted(out.glob("*.docx"))
    kept = [r for r in rows if any(c.strip() for c in r)]  # rows of only empty cells are skipped
    assert len(written) == len(kept)
    empty = 0
    for document in written:
        assert "None" not in document.name
        text = read_back(document).text
        assert "None" not in text, text
        empty += text.count("=[]")
    assert empty == sum(c.strip() in ("", "NA", "N/A", "null", "NaN") for r in kept for c in r)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), HOSTILE_TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3), max_leaves=15)


@given(document=st.one_of(JSON_VALUES, st.lists(st.dictionaries(HOSTILE_TEXT, JSON_VALUES, max_size=4), max_size=4)),
       depth=st.integers(0, 150))
def test_any_json_document_reads_or_is_a_data_error(tmp_path_factory, document, depth):
    tmp = tmp_path_factory.mktemp("json")
    for _ in range(depth % 7 if depth < 140 else depth):  # now and then far deeper than any table
        document = {"k": document}
    path = tmp / "data.json"
    path.write_text(json.dumps(document, ensure_ascii=bool(depth % 2)), encoding="utf-8", errors="surrogatepass")
    _render_dataset(tmp, path)


@given(cuts=st.lists(st.integers(0, 10_000), max_size=3), flips=st.lists(st.integers(0, 10_000), max_size=8))
def test_a_damaged_workbook_reads_or_is_a_data_error(tmp_path_factory, cuts, flips):
    openpyxl = pytest.importorskip("openpyxl")
    tmp = tmp_path_factory.mktemp("xlsx")
    wb = openpyxl.Workbook()
    wb.active.append(["name", "amount", "date"])
    wb.active.append(["Ann", 1234.5, "2024-03-31"])
    buffer = io.BytesIO()
    wb.save(buffer)
    data = bytearray(buffer.getvalue())
    for f in flips:
        data[f % len(data)] ^= 0x5A
    for c in cuts:
        data = data[: max(1, c % len(data))]
    path = tmp / "data.xlsx"
    path.write_bytes(bytes(data))
    _render_dataset(tmp, path)


# --------------------------------------------------------------------------------------------- file names


WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


@given(name=st.text(HOSTILE_CHARS, max_size=400))
def test_any_output_name_becomes_a_safe_file_name(tmp_path_factory, name):
    safe = safe_filename(name)
    assert safe.endswith(".docx") and len(safe) <= MAX_NAME + 5
    stem = safe[:-5]
    assert stem and stem == stem.strip(" .")
    assert not set(stem) & set('<>:"/\\|?*') and not CONTROL.search(stem)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in stem)  # no file system stores a lone surrogate
    assert stem.split(".")[0].upper() not in WINDOWS_RESERVED
    tmp = tmp_path_factory.mktemp("names")
    try:
        (tmp / safe).write_bytes(b"x")
    except UnicodeEncodeError:
        pytest.fail(f"{safe!r} cannot be a file name on this system")
    assert [p.name for p in tmp.iterdir()] == [safe]
