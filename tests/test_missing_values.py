"""Missing values (empty cells, missing-value markers, fields without a value) never print as ``None``.

The reproductions are those of the hardening issue: an empty comment in the bundled service-reply, a blank
cell under ``{{ row.city }}``, a blank value in the column the output name uses, a declared field with no value.
Documents are written through the command line with the scripted fake backend and read back.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import docx

from docgen.cli import main
from docgen.render import read_back

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def package(tmp_path: Path, manifest: str, *paragraphs: str) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(pkg / "template.docx")
    (pkg / "docgen.toml").write_text(manifest, encoding="utf-8")
    return pkg


ROWS = """[template]
id = "letters"
name = "Letters"

[data]
mode = "rows"
output_name = "{output_name}"

[[fields]]
name = "signer"

[[sections]]
id = "body"
prompt = "Write to {{{{ row.name }}}} in {{{{ row.city }}}}."
"""


def test_empty_comment_in_service_reply_prints_nothing(tmp_path, capsys):
    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,comment\nT-9,\n", encoding="utf-8")
    code, _out, err = run(capsys, "--template", "service-reply", "--data", str(data), "--out",
                          str(tmp_path / "out"), "--backend", "fake")
    assert code == 0, err
    letter = read_back(tmp_path / "out" / "reply-T-9.docx").text
    assert "None" not in letter
    assert "\u201c\u201d" in letter  # the quoted comment is empty: “”


def test_blank_cell_in_a_tag_prints_nothing(tmp_path, capsys):
    pkg = package(tmp_path, ROWS.format(output_name="{{ row.name }}.docx"),
                  "Name: {{ row.name }}", "City: {{ row.city }}.", "{{p sections.body }}")
    data = tmp_path / "people.csv"
    data.write_text("name,city\nAnn,Leeds\nBob,\n", encoding="utf-8")
    code, _out, err = run(capsys, "--template", str(pkg), "--data", str(data), "--out", str(tmp_path / "out"),
                          "--backend", "fake")
    assert code == 0, err
    text = read_back(tmp_path / "out" / "Bob.docx").text
    assert "City: ." in text and "None" not in text
    assert "City: Leeds." in read_back(tmp_path / "out" / "Ann.docx").text


def test_blank_value_in_the_output_name_column_never_gives_none_docx(tmp_path, capsys):
    pkg = package(tmp_path, ROWS.format(output_name="letter-{{ row.name }}.docx"),
                  "Dear {{ row.name }},", "{{p sections.body }}")
    data = tmp_path / "people.csv"
    data.write_text("name,city\n,Leeds\nBob,York\n", encoding="utf-8")
    code, out, err = run(capsys, "--template", str(pkg), "--data", str(data), "--out", str(tmp_path / "out"),
                         "--backend", "fake")
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "out").glob("*.docx"))
    assert names == ["letter-.docx", "letter-Bob.docx"]
    assert not any("None" in n for n in names)


def test_declared_field_without_a_value_prints_nothing(tmp_path, capsys):
    pkg = package(tmp_path, ROWS.format(output_name="{{ row.name }}.docx"),
                  "Signed: [{{ signer }}]", "{{p sections.body }}")
    data = tmp_path / "people.csv"
    data.write_text("name,city\nAnn,Leeds\n", encoding="utf-8")
    code, _out, err = run(capsys, "--template", str(pkg), "--data", str(data), "--out", str(tmp_path / "out"),
                          "--backend", "fake")
    assert code == 0, err
    assert "Signed: []" in read_back(tmp_path / "out" / "Ann.docx").text


def test_missing_value_does_not_reach_the_prompt_as_none(tmp_path):
    from docgen.jinja import make_environment

    env = make_environment()
    assert env.from_string("Write to {{ name }} in {{ row.city }}.").render(name="Bob", row={"city": None}) \
        == "Write to Bob in ."
    assert env.from_string('{{ row.city|default("unknown", true) }}').render(row={"city": None}) == "unknown"
