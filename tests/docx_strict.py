"""Checks the tests use on every written .docx: python-docx opens it, every XML part parses strictly (no
recovery), no zip member name occurs twice."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from lxml import etree


def assert_valid_docx(path: Path) -> None:
    """Fail when ``path`` is not a .docx Word and python-docx would accept without complaint."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        duplicates = sorted({n for n in names if names.count(n) > 1})
        assert not duplicates, f"duplicate zip members {duplicates}"
        assert zf.testzip() is None
        parser = etree.XMLParser(recover=False, resolve_entities=False)
        for name in names:
            if name.endswith((".xml", ".rels")):
                etree.fromstring(zf.read(name), parser)
        types = zf.read("[Content_Types].xml").decode("utf-8")
        assert "wordprocessingml.document.main+xml" in types
        assert "vbaProject" not in types and not any("vbaproject" in n.lower() for n in names)
    docx.Document(str(path))
