"""Byte-identical output: the same template, values and section texts give the same .docx bytes.

What would otherwise vary, and what docgen does instead:

- **zip entry times**: python-docx stamps every entry with the current local time. :func:`normalized_zip`
  rewrites the package with one fixed time for every entry, (1980, 1, 1, 0, 0, 0) - the zip format's
  epoch - or ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention; seconds since 1970, UTC) when set;
  entry order, deflate compression, "created on" system (0 = MS-DOS, so Linux and Windows agree) and
  permissions are fixed too. Entry order is python-docx's (``[Content_Types].xml``, then parts reached from
  the package relationships, depth first) and does not depend on time or hashing.
- **core properties ``created`` / ``modified``**: *reproducibility beats "modified = now"*. They are set
  from ``SOURCE_DATE_EPOCH`` when set, else from the provenance's ``modified`` value when the caller gives one
  (ISO 8601, e.g. "2024-05-01T12:00:00Z"); otherwise both are *removed* (the template's dates would be wrong
  and an invented date is worse than none). Word shows them empty and fills them in when the user saves.
- no random ids: python-docx and docxtpl create none (docxtpl renumbers ``wp:docPr`` ids from 1000 in order;
  relationship ids are the next free ``rIdN``; list ``numId``/``abstractNumId`` are the next free numbers);
  lxml keeps attribute order as created.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from collections.abc import Mapping

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_NS_DCTERMS = "http://purl.org/dc/terms/"


def source_date() -> dt.datetime | None:
    """``SOURCE_DATE_EPOCH`` as a naive UTC datetime, or None when unset or not a number."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw.isdigit():
        return None
    return dt.datetime.fromtimestamp(int(raw), dt.timezone.utc).replace(tzinfo=None)


def zip_date_time() -> tuple[int, int, int, int, int, int]:
    """The time given to every zip entry: ``SOURCE_DATE_EPOCH`` (not before 1980) or 1980-01-01 00:00:00."""
    when = source_date()
    if when is None or when.year < 1980:
        return ZIP_EPOCH
    return (when.year, when.month, when.day, when.hour, when.minute, when.second - when.second % 2)


def normalized_zip(data: bytes, date_time: tuple[int, int, int, int, int, int] | None = None) -> bytes:
    """The zip ``data`` rewritten with fixed entry metadata (module docstring), same entries in the same order."""
    date_time = date_time or zip_date_time()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0
            dst.writestr(entry, src.read(info.filename), compresslevel=6)
    return out.getvalue()


class _FixedZip:
    """python-docx's physical package writer interface (``write(pack_uri, blob)``, ``close()``) writing each
    entry with the fixed metadata of :func:`normalized_zip`."""

    def __init__(self, out: io.BytesIO, date_time: tuple[int, int, int, int, int, int]) -> None:
        self._zip = zipfile.ZipFile(out, "w")
        self._date_time = date_time

    def write(self, pack_uri, blob: bytes) -> None:
        entry = zipfile.ZipInfo(pack_uri.membername, self._date_time)
        entry.compress_type = zipfile.ZIP_DEFLATED
        entry.create_system = 0
        entry.external_attr = 0
        self._zip.writestr(entry, blob, compresslevel=6)

    def close(self) -> None:
        self._zip.close()


def package_bytes(package, date_time: tuple[int, int, int, int, int, int] | None = None) -> bytes:
    """A python-docx package (``Document.part.package``) as .docx bytes, in one pass: the same entries, order and
    bytes as ``normalized_zip`` of python-docx's own save (which compresses every part, and
    :func:`normalized_zip` then inflates and compresses it all again). Raises what python-docx's save raises."""
    from docx.opc.pkgwriter import PackageWriter

    out = io.BytesIO()
    writer = _FixedZip(out, date_time or zip_date_time())
    parts = package.parts
    for part in parts:
        part.before_marshal()
    PackageWriter._write_content_types_stream(writer, parts)
    PackageWriter._write_pkg_rels(writer, package.rels)
    PackageWriter._write_parts(writer, parts)
    writer.close()
    return out.getvalue()


def document_date(provenance: Mapping[str, str] | None) -> dt.datetime | None:
    """The created/modified date for the core properties (module docstring), naive UTC; None = leave out."""
    when = source_date()
    if when is not None:
        return when
    raw = (provenance or {}).get("modified", "").strip()
    if raw:
        try:
            parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return parsed.replace(microsecond=0)
    return None


def set_core_dates(core_properties, when: dt.datetime | None) -> None:
    """Set ``created`` and ``modified`` to ``when``, or remove both when it is None."""
    if when is not None:
        core_properties.created = when
        core_properties.modified = when
        return
    root = core_properties._element
    for name in ("created", "modified"):
        for el in root.findall(f"{{{_NS_DCTERMS}}}{name}"):
            root.remove(el)
