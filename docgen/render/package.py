"""The zip package of a Word file, checked and normalized before python-docx / docxtpl open it.

Checks (bounds from :mod:`docgen.limits`, read from the zip's central directory, before anything is inflated):

- every part inflates to at most ``part_bytes`` (an 800 KB template whose ``webSettings.xml`` inflates to
  768 MB is refused, naming the part), the parts together to at most ``package_bytes``, and there are at most
  ``package_files`` parts;
- the file is a zip at all, and holds ``[Content_Types].xml``.

Normalizations (only when needed; an ordinary .docx is passed on byte for byte):

- **Word templates and macro-enabled files** (``.dotx``, ``.dotm``, ``.docm``): the main part's content type
  becomes the plain document's, and the macros (``vbaProject.bin``, its data and relationships, keyboard
  customizations bound to macros) are dropped, so the output is a plain ``.docx`` that never carries code.
- **LibreOffice's core-properties relationship**: LibreOffice writes the package relationship to
  ``docProps/core.xml`` with the ECMA-376 1st-edition type (``.../officedocument/2006/relationships/metadata/
  core-properties``). python-docx does not recognize it, creates a second ``docProps/core.xml`` and every output
  then holds the name twice (a "Duplicate name" warning; Word reports the file as damaged). The relationship
  gets the standard type (``.../package/2006/relationships/metadata/core-properties``), so the existing part is
  used.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from docgen import limits
from docgen.errors import TemplateError

#: Word's main-part content types that docgen accepts; all become :data:`DOCUMENT_MAIN`.
DOCUMENT_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MAIN_TYPES = {
    DOCUMENT_MAIN: "Word document (.docx)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "Word template (.dotx)",
    "application/vnd.ms-word.document.macroEnabled.main+xml": "macro-enabled Word document (.docm)",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": "macro-enabled Word template (.dotm)",
}
#: File extensions of Word files docgen opens as templates.
WORD_EXTENSIONS = (".docx", ".dotx", ".docm", ".dotm")

_CORE_OLD = "http://schemas.openxmlformats.org/officedocument/2006/relationships/metadata/core-properties"
_CORE_STD = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
#: Relationship types (suffixes) and content types that carry macros or bind keys to them.
_MACRO_REL = re.compile(r"/(vbaProject|wordVbaData|keyMapCustomizations)\"")
_MACRO_TYPES = ("application/vnd.ms-office.vbaProject", "application/vnd.ms-word.vbaData+xml",
                "application/vnd.ms-word.keyMapCustomizations+xml")
_REL = re.compile(r"<Relationship\b[^>]*?/>", re.S)


def word_package(path: Path) -> io.BytesIO | str:
    """What to hand python-docx for the Word file at ``path``: the path itself when the package needs no change,
    else the normalized package in memory (module docstring).

    Raises TemplateError (naming the file and how to fix it) when it is not a zip, has no content types, its
    main part is not a Word document/template, or a bound is passed.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise TemplateError(
            f"{path} is not a Word document (.docx): it is not a zip package ({exc}). Save it from Word as "
            "'Word Document (*.docx)'."
        ) from None
    with zf:
        limits.check_zip(zf, "the template", lambda message: TemplateError(f"{path}: {message}"))
        names = set(zf.namelist())
        if "[Content_Types].xml" not in names:
            raise TemplateError(f"{path} is not a Word document (.docx): it has no [Content_Types].xml. Save it "
                                "from Word as 'Word Document (*.docx)'.")
        types = zf.read("[Content_Types].xml").decode("utf-8", "replace")
        main_type = _main_type(types)
        if main_type is None:
            found = re.search(r'ContentType="([^"]+\.main\+xml)"', types)
            kind = f" (its main part is {found.group(1)})" if found else ""
            raise TemplateError(f"{path} is not a Word document{kind}. Save it from Word as 'Word Document (*.docx)'.")
        rels = zf.read("_rels/.rels").decode("utf-8", "replace") if "_rels/.rels" in names else ""
        macros = [n for n in names if n.lower().endswith(("vbaproject.bin", "vbadata.xml"))]
        if main_type == DOCUMENT_MAIN and _CORE_OLD not in rels and not macros and not any(
                t in types for t in _MACRO_TYPES):
            return str(path)
        return io.BytesIO(_normalized(zf, types, rels, main_type))


def _main_type(types: str) -> str | None:
    for ctype in MAIN_TYPES:
        if f'ContentType="{ctype}"' in types:
            return ctype
    return None


def _normalized(zf: zipfile.ZipFile, types: str, rels: str, main_type: str) -> bytes:
    drop = {n for n in zf.namelist() if re.search(r"(^|/)(vbaProject\.bin|vbaData\.xml|keyMapCustomizations\.xml)"
                                                   r"(\.rels)?$", n, re.I)}
    drop |= {n for n in zf.namelist() if re.search(r"_rels/(vbaProject\.bin|vbaData\.xml)\.rels$", n, re.I)}
    types = types.replace(f'ContentType="{main_type}"', f'ContentType="{DOCUMENT_MAIN}"')
    for ctype in _MACRO_TYPES:
        types = re.sub(r'<(Default|Override)\b[^>]*ContentType="%s"[^>]*/>' % re.escape(ctype), "", types)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in zf.infolist():
            if info.filename in drop:
                continue
            data = zf.read(info)
            if info.filename == "[Content_Types].xml":
                data = types.encode("utf-8")
            elif info.filename == "_rels/.rels":
                data = rels.replace(_CORE_OLD, _CORE_STD).encode("utf-8")
            elif info.filename.endswith(".rels"):
                text = data.decode("utf-8", "replace")
                kept = _REL.sub(lambda m: "" if _MACRO_REL.search(m.group(0)) else m.group(0), text)
                data = kept.encode("utf-8") if kept != text else data
            dst.writestr(info.filename, data)
    return out.getvalue()
