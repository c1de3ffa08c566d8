"""Template packages and Word files from other programs or from an attacker: LibreOffice-saved files, Word
templates and macro files, parts that inflate to gigabytes, .docgen packages that unpack to gigabytes, manifest
paths leaving the package, plain {% for %} across table cells. Bounds are set small through the environment."""

from __future__ import annotations

import os
import shutil
import time
import zipfile
from pathlib import Path

import docx
import pytest
from docx_strict import assert_valid_docx

from docgen import paths
from docgen.cli import main
from docgen.errors import DataError, ManifestError, TemplateError
from docgen.render import read_back, render_document
from docgen.templates.catalog import load_package, scan

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
DATA = Path(__file__).resolve().parent / "data" / "templates"

REPLY_CONTEXT = {"company": "Northwind", "today": "2024-05-01", "customer_name": "Ann", "signer": "Bo",
                 "support_contact": "help@example.com", "row": {"ticket_id": "T-1", "comment": "Broken."},
                 "template": {"id": "service-reply", "name": "Reply", "version": "1"}}
REPLY_SECTIONS = {"body": ("markdown", "We are sorry.\n\nA new one is on its way.")}


def rewrite_zip(src: Path, dst: Path, *, replace: dict[str, bytes] | None = None,
                add: dict[str, bytes] | None = None) -> Path:
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def simple_docx(path: Path, *paragraphs: str) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(path)
    return path


# --- Word files from other programs ---------------------------------------------------------------------------

def test_a_libreoffice_saved_template_gives_no_duplicate_zip_members(tmp_path):
    # LibreOffice's core-properties relationship type made python-docx add a second docProps/core.xml
    out = render_document(DATA / "libreoffice-saved.docx", REPLY_CONTEXT, REPLY_SECTIONS, tmp_path / "out.docx",
                          provenance={"docgen_version": "test"})
    assert_valid_docx(out)
    assert "We are sorry." in [b.text for b in read_back(out)]
    assert docx.Document(str(out)).core_properties.title is not None


def test_a_word_template_dotx_is_accepted_and_gives_a_plain_docx(tmp_path):
    out = render_document(DATA / "libreoffice-template.dotx", REPLY_CONTEXT, REPLY_SECTIONS, tmp_path / "out.docx")
    assert_valid_docx(out)
    assert "Northwind" in [b.text for b in read_back(out)]


def make_docm(tmp_path: Path, *paragraphs: str) -> Path:
    """A macro-enabled document as Word writes it: macro main content type, vbaProject.bin and its relationship."""
    base = simple_docx(tmp_path / "base.docx", *paragraphs)
    with zipfile.ZipFile(base) as zf:
        types = zf.read("[Content_Types].xml").decode()
        rels = zf.read("word/_rels/document.xml.rels").decode()
    types = types.replace("wordprocessingml.document.main+xml", "PLACEHOLDER")
    types = types.replace("application/vnd.openxmlformats-officedocument.PLACEHOLDER",
                          "application/vnd.ms-word.document.macroEnabled.main+xml")
    types = types.replace("</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                                      "</Types>")
    rels = rels.replace("</Relationships>", '<Relationship Id="rId99" Type="http://schemas.microsoft.com/office/2006/'
                                            'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
    return rewrite_zip(base, tmp_path / "macro.docm",
                       replace={"[Content_Types].xml": types.encode(), "word/_rels/document.xml.rels": rels.encode()},
                       add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 not really VBA, but it must go"})


def test_a_macro_enabled_docm_is_accepted_and_its_macros_dropped(tmp_path):
    src = make_docm(tmp_path, "Dear {{ name }},")
    with pytest.raises(ValueError):  # what python-docx alone does with it
        docx.Document(str(src))
    out = render_document(src, {"name": "Ann"}, {}, tmp_path / "out.docx")
    assert_valid_docx(out)
    assert [b.text for b in read_back(out)] == ["Dear Ann,"]


def test_templates_check_accepts_a_bare_dotx(capsys):
    code = main(["templates", "check", str(DATA / "libreoffice-template.dotx")])
    out = capsys.readouterr().out
    assert "Tags in body:" in out and "{{ company }}" in out, out
    assert code in (0, 1)


def test_a_package_may_hold_template_dotx(tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(TEMPLATES / "service-reply", pkg)
    (pkg / "template.docx").unlink()
    shutil.copy(DATA / "libreoffice-template.dotx", pkg / "template.dotx")
    spec = load_package(pkg)
    assert spec.docx.name == "template.dotx"


# --- parts that inflate to gigabytes ---------------------------------------------------------------------------

def test_a_part_that_inflates_past_the_bound_is_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCGEN_LIMIT_PART_BYTES", "1M")
    base = simple_docx(tmp_path / "base.docx", "Hello {{ name }}")
    bomb = rewrite_zip(base, tmp_path / "bomb.docx", add={"word/webSettings2.xml": b"<a/>" + b" " * (3 << 20)})
    assert bomb.stat().st_size < 100_000  # it compresses to almost nothing
    with pytest.raises(TemplateError, match=r"bomb\.docx: the part 'word/webSettings2\.xml' of the template "
                                            r"inflates to 3\.0 MB, more than the limit of 1 MB; raise it with the "
                                            "environment variable DOCGEN_LIMIT_PART_BYTES"):
        render_document(bomb, {"name": "x"}, {}, tmp_path / "out.docx")
    assert not (tmp_path / "out.docx").exists()


def test_a_workbook_part_that_inflates_past_the_bound_is_a_data_error(tmp_path, monkeypatch):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["a", "b"])
    wb.active.append([1, 2])
    wb.save(tmp_path / "base.xlsx")
    rewrite_zip(tmp_path / "base.xlsx", tmp_path / "bomb.xlsx", add={"xl/junk.xml": b" " * (3 << 20)})
    monkeypatch.setenv("DOCGEN_LIMIT_PART_BYTES", "1M")
    from docgen.sources import load_dataset

    with pytest.raises(DataError, match=r"bomb\.xlsx: the part 'xl/junk\.xml' of the workbook inflates to 3(\.0)? MB"):
        load_dataset(tmp_path / "bomb.xlsx")


# --- .docgen packages ------------------------------------------------------------------------------------------

def zip_package(src: Path, dst: Path, *, top: str | None = None, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                name = p.relative_to(src).as_posix()
                zf.write(p, f"{top}/{name}" if top else name)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return dst


def package_cache() -> Path:
    return paths.user_cache_dir() / "packages"


def test_a_package_unpacks_once_and_leaves_no_temp_folders(tmp_path):
    archive = zip_package(TEMPLATES / "service-reply", tmp_path / "reply.docgen", top="service-reply")
    spec = load_package(archive)
    assert spec.id == "service-reply"
    assert [p.name for p in package_cache().iterdir()] == [spec.root.name]
    assert load_package(archive).root == spec.root


def test_a_package_that_unpacks_past_the_bound_is_refused_and_nothing_stays(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DOCGEN_LIMIT_PACKAGE_BYTES", "1M")
    archive = zip_package(TEMPLATES / "service-reply", tmp_path / "huge.docgen",
                          extra={"sample-big.csv": b"ticket_id,comment\n" + b"T-1,x\n" * 400_000})
    assert archive.stat().st_size < 200_000
    with pytest.raises(TemplateError, match=r"huge\.docgen: the package unpacks to more than the limit of 1 MB; "
                                            r"raise it with the environment variable DOCGEN_LIMIT_PACKAGE_BYTES "
                                            r"\(reached at 'sample-big\.csv'\)"):
        load_package(archive)
    assert list(package_cache().iterdir()) == []
    # in the user folder, `templates list` shows it as invalid instead of unpacking it
    user = paths.user_templates_dir()
    user.mkdir(parents=True)
    shutil.copy(archive, user / "huge.docgen")
    assert main(["templates", "list"]) == 0
    assert "huge.docgen" in capsys.readouterr().out and "DOCGEN_LIMIT_PACKAGE_BYTES" in str(
        [e.error for e in scan() if e.spec is None])
    assert list(package_cache().iterdir()) == []


def test_a_package_with_too_many_files_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCGEN_LIMIT_PACKAGE_FILES", "20")
    archive = zip_package(TEMPLATES / "service-reply", tmp_path / "many.docgen",
                          extra={f"junk/{i}.txt": b"x" for i in range(30)})
    with pytest.raises(TemplateError, match=r"many\.docgen: the package holds \d+ files, more than the limit of 20"):
        load_package(archive)


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil.txt", "C:/evil.txt", "a/../../evil.txt"])
def test_unsafe_member_names_are_refused(tmp_path, name):
    archive = zip_package(TEMPLATES / "service-reply", tmp_path / "bad.docgen", extra={name: b"x"})
    with pytest.raises(TemplateError, match="unsafe path"):
        load_package(archive)
    assert not (tmp_path.parent / "evil.txt").exists()
    assert list(package_cache().iterdir()) == []


def test_stale_temp_folders_from_a_crash_are_removed(tmp_path):
    cache = package_cache()
    stale = cache / "old-0123456789abcdef.abc.tmp"
    (stale / "half").mkdir(parents=True)
    fresh = cache / "busy-0123456789abcdef.def.tmp"  # another docgen unpacking right now
    fresh.mkdir()
    hour_ago = time.time() - 2 * 3600
    os.utime(stale, (hour_ago, hour_ago))
    load_package(zip_package(TEMPLATES / "service-reply", tmp_path / "reply.docgen"))
    assert not stale.exists() and fresh.exists()


# --- manifest paths --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sample", ["/etc/passwd", "../outside.csv", "sub/../../outside.csv", "C:\\\\data\\\\x.csv"])
def test_a_manifest_path_outside_the_package_is_refused(tmp_path, sample, capsys):
    pkg = tmp_path / "pkg"
    shutil.copytree(TEMPLATES / "service-reply", pkg)
    (tmp_path / "outside.csv").write_text("ticket_id,comment\nT,x\n", encoding="utf-8")
    manifest = pkg / "docgen.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        'mode = "rows"', f'mode = "rows"\nsample = "{sample}"'), encoding="utf-8")
    with pytest.raises(ManifestError, match=r"docgen\.toml, line \d+, key 'data\.sample': .* outside the template "
                                            "package"):
        load_package(pkg)
    assert main(["templates", "check", str(pkg)]) == 2
    assert "No problems found" not in capsys.readouterr().out


def test_a_sample_linking_outside_the_package_is_refused(tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(TEMPLATES / "service-reply", pkg)
    for p in pkg.glob("sample.*"):
        p.unlink()
    outside = tmp_path / "secret.csv"
    outside.write_text("ticket_id,comment\nT,x\n", encoding="utf-8")
    try:
        (pkg / "sample.csv").symlink_to(outside)
    except OSError:
        pytest.skip("no symbolic links here")
    with pytest.raises(ManifestError, match="outside the template package"):
        load_package(pkg)


# --- plain {% for %} across table cells -----------------------------------------------------------------------

def table_package(tmp_path: Path, first: str, second: str) -> Path:
    pkg = tmp_path / "pkg"
    shutil.copytree(TEMPLATES / "service-reply", pkg)
    document = docx.Document()
    document.add_paragraph("{{ row.ticket_id }} {{p sections.body }}")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = first
    table.cell(0, 1).text = second
    document.add_paragraph("{{p sections.body }}")
    document.save(pkg / "template.docx")
    return pkg


def test_a_plain_for_spanning_table_cells_is_refused_with_the_tr_hint(tmp_path, capsys):
    pkg = table_package(tmp_path, "{% for c in row.comment %}{{ c }}", "x{% endfor %}")
    assert main(["templates", "check", str(pkg)]) == 1
    out = capsys.readouterr().out
    assert ("the {% for c in row.comment %} in body paragraph 2 (table 1, row 1, cell 1) ends with {% endfor %} in "
            "body paragraph 3 (table 1, row 1, cell 2): a plain {% for %} cannot span table cells") in out, out
    assert "{%tr for ... %}" in out
    data = tmp_path / "t.csv"
    data.write_text("ticket_id,comment\nT-1,Broken.\n", encoding="utf-8")
    code = main(["--template", str(pkg), "--data", str(data), "--out", str(tmp_path / "out"), "--backend", "fake"])
    assert code == 2 and "cannot span table cells" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.docx"))


def test_a_for_within_one_cell_and_tr_loops_are_fine(tmp_path, capsys):
    pkg = table_package(tmp_path, "{% for c in row.comment %}{{ c }}{% endfor %}", "{% if row.comment %}y{% endif %}")
    main(["templates", "check", str(pkg)])
    assert "cannot span" not in capsys.readouterr().out
