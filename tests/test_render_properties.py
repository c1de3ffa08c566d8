"""docgen.render.properties: provenance as custom document properties (docProps/custom.xml), short core properties.

Templates are built with python-docx; custom.xml of a template is added by rewriting the zip (as Word would have
saved it). Results are checked through read_provenance / read_back / python-docx, and the package parts by name."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree

from docgen.render import read_back, read_provenance, render_document
from docgen.render.properties import CT_CUSTOM_PROPERTIES, NS_CUSTOM, NS_VT, RT_CUSTOM_PROPERTIES

SHA = "b5f529ea773560f84cf2cd46dc49fe75d2a6dec2e3a4c6d4a56160d8f094f4cd"
TEMPLATE = {"id": "sales-report", "name": "Sales report", "version": "1.0.0"}


def make_template(path: Path, body: tuple[str, ...] = ("Report for {{ period }}", "End.")) -> Path:
    d = docx.Document()
    for text in body:
        d.add_paragraph(text)
    d.save(str(path))
    return path


def long_provenance() -> dict[str, str]:
    prov = {
        "docgen_version": "0.1.0",
        "template_id": "sales-report",
        "template_version": "1.0.0",
        "model_file": "SmolLM2-135M-Instruct-Q8_0.gguf",
        "model_sha256": SHA,
        "data_file": "sales.csv",
        "data_sha256": SHA[::-1],
        "seed": "42",
        "row": "7",
    }
    for i in range(len(prov), 20):
        prov[f"extra_hash_{i}"] = f"{i:02d}" + SHA[2:]
    return prov


def render(tpl: Path, out: Path, provenance, template=TEMPLATE) -> Path:
    return render_document(tpl, {"period": "Q3", "template": template}, {}, out, provenance=provenance)


def package_rels(path: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("_rels/.rels"))
    return [(r.get("Type"), r.get("Target")) for r in root]


def custom_xml(path: Path):
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read("docProps/custom.xml"))


def add_custom_xml(path: Path, xml: str) -> Path:
    """Put ``xml`` into ``path`` as docProps/custom.xml with its content type and package relationship."""
    with zipfile.ZipFile(path) as z:
        items = {n: z.read(n) for n in z.namelist()}
    items["docProps/custom.xml"] = xml.encode("utf-8")
    items["[Content_Types].xml"] = items["[Content_Types].xml"].replace(
        b"</Types>",
        f'<Override PartName="/docProps/custom.xml" ContentType="{CT_CUSTOM_PROPERTIES}"/></Types>'.encode())
    items["_rels/.rels"] = items["_rels/.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rId99" Type="{RT_CUSTOM_PROPERTIES}" Target="docProps/custom.xml"/>'
        "</Relationships>".encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items.items():
            z.writestr(name, data)
    return path


WORD_CUSTOM = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="{NS_CUSTOM}" xmlns:vt="{NS_VT}">
<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="2" name="Department"><vt:lpwstr>Sales &amp; Marketing</vt:lpwstr></property>
<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="3" name="Approved"><vt:bool>true</vt:bool></property>
<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="5" name="Seed"><vt:i4>7</vt:i4></property>
</Properties>"""


# -- long provenance ------------------------------------------------------------------------------------------------

def test_long_provenance_round_trips_as_custom_properties(tmp_path):
    prov = long_provenance()
    assert len(prov) == 20
    out = render(make_template(tmp_path / "t.docx"), tmp_path / "out" / "r.docx", prov)
    assert read_provenance(out) == prov
    assert list(read_provenance(out)) == list(prov)  # written in the order given
    props = read_back(out).properties
    assert props["model_sha256"] == SHA
    assert props["subject"] == "sales-report 1.0.0"
    assert props["keywords"] == "docgen"
    assert props["title"] == "Sales report"
    assert props["comments"] == ("Written by docgen 0.1.0 from template sales-report 1.0.0 with model "
                                 "SmolLM2-135M-Instruct-Q8_0.gguf (seed 42), row 7 of sales.csv. "
                                 "Details in the custom document properties.")
    assert len(props["comments"]) <= 255


def test_custom_part_is_what_word_writes(tmp_path):
    out = render(make_template(tmp_path / "t.docx"), tmp_path / "r.docx", long_provenance())
    assert (RT_CUSTOM_PROPERTIES, "docProps/custom.xml") in package_rels(out)
    with zipfile.ZipFile(out) as z:
        types = etree.fromstring(z.read("[Content_Types].xml"))
    overrides = {o.get("PartName"): o.get("ContentType") for o in types if o.get("PartName")}
    assert overrides["/docProps/custom.xml"] == CT_CUSTOM_PROPERTIES
    root = custom_xml(out)
    assert root.tag == f"{{{NS_CUSTOM}}}Properties"
    props = list(root)
    assert [int(p.get("pid")) for p in props] == list(range(2, 22))
    assert {p.get("fmtid") for p in props} == {"{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"}
    assert all(len(p) == 1 and p[0].tag == f"{{{NS_VT}}}lpwstr" for p in props)
    docx.Document(str(out))  # python-docx re-opens it


def test_core_properties_stay_under_the_limit(tmp_path):
    prov = long_provenance() | {"model_file": "m" * 300 + ".gguf", "template_id": "t" * 300}
    template = {"id": "i" * 300, "name": "N" * 300, "version": "1.0.0"}
    out = render(make_template(tmp_path / "t.docx"), tmp_path / "r.docx", prov, template)
    props = read_back(out).properties
    for key in ("comments", "title", "subject"):
        assert 0 < len(props[key]) <= 255
    assert props["comments"].endswith("…")
    assert read_provenance(out) == prov  # custom properties are not cut


def test_no_provenance_writes_no_custom_part(tmp_path):
    out = render(make_template(tmp_path / "t.docx"), tmp_path / "r.docx", None)
    assert read_provenance(out) == {}
    assert RT_CUSTOM_PROPERTIES not in [t for t, _ in package_rels(out)]


# -- a template with custom properties of its own ------------------------------------------------------------------

def test_template_custom_properties_are_kept(tmp_path):
    tpl = add_custom_xml(make_template(tmp_path / "t.docx"), WORD_CUSTOM)
    assert read_provenance(tpl)["Department"] == "Sales & Marketing"
    prov = {"docgen_version": "0.1.0", "seed": "42", "row": "3"}
    out = render(tpl, tmp_path / "r.docx", prov)
    got = read_provenance(out)
    assert got == {"Department": "Sales & Marketing", "Approved": "true", "Seed": "42",
                   "docgen_version": "0.1.0", "row": "3"}
    root = custom_xml(out)
    pids = {p.get("name"): int(p.get("pid")) for p in root}
    assert pids == {"Department": 2, "Approved": 3, "Seed": 5, "docgen_version": 6, "row": 7}
    seed = next(p for p in root if p.get("name") == "Seed")
    assert [c.tag for c in seed] == [f"{{{NS_VT}}}lpwstr"]  # same name (Word ignores case): our value
    assert next(p for p in root if p.get("name") == "Approved")[0].tag == f"{{{NS_VT}}}bool"
    rels = [t for t, _ in package_rels(out)]
    assert rels.count(RT_CUSTOM_PROPERTIES) == 1
    with zipfile.ZipFile(out) as z:
        assert [n for n in z.namelist() if n.startswith("docProps/custom")] == ["docProps/custom.xml"]


def test_unreadable_template_custom_part_is_replaced(tmp_path):
    tpl = add_custom_xml(make_template(tmp_path / "t.docx"), "<Properties><broken")
    out = render(tpl, tmp_path / "r.docx", {"seed": "42"})
    assert read_provenance(out) == {"seed": "42"}


# -- special characters ---------------------------------------------------------------------------------------------

def test_special_characters_survive_or_are_sanitized(tmp_path):
    prov = {
        "template_id": "R&D <report> \"q\" 'a'",
        "model_file": "Modèle-Ünïcode-日本語-😀.gguf",
        "data_file": "data\x00\x01\x0b\x1f.csv",
        "note": "line1\r\nline2",
        "ctl\x07key": "v\ufffe\ufffff",
        "]]>": "<![CDATA[x]]>",
    }
    template = {"id": "r&d", "name": "R&D <Bericht> \x02 é", "version": "1"}
    out = render(make_template(tmp_path / "t.docx"), tmp_path / "r.docx", prov, template)
    assert read_provenance(out) == {
        "template_id": "R&D <report> \"q\" 'a'",
        "model_file": "Modèle-Ünïcode-日本語-😀.gguf",
        "data_file": "data\n.csv",  # controls removed; the vertical tab is a line break (render/sanitize.py rule 2)
        "note": "line1\nline2",
        "ctlkey": "vf",
        "]]>": "<![CDATA[x]]>",
    }
    props = read_back(out).properties
    assert props["title"] == "R&D <Bericht>  é"
    assert props["subject"] == "r&d 1"
    assert "Modèle-Ünïcode-日本語-😀.gguf" in props["comments"]
    assert "\n" not in props["comments"]


# -- other readers --------------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_opens_the_document(tmp_path):
    tpl = add_custom_xml(make_template(tmp_path / "t.docx"), WORD_CUSTOM)
    out = render(tpl, tmp_path / "r.docx", long_provenance() | {"odd": "a & b < c ☃"})
    profile = (tmp_path / "lo-profile").as_uri()
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path / "pdf"), str(out)],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "pdf" / "r.pdf").stat().st_size > 0
