"""CSV / TSV / delimited .txt files -> :class:`docgen.model.Dataset`.

Encoding: a byte-order mark decides (UTF-8, UTF-16, UTF-32; the BOM is removed); otherwise strict UTF-8 is
tried first (it almost never decodes text in another encoding by accident), then ``charset-normalizer`` guesses;
among the code pages it finds about equally plausible, Windows-1252 wins (the "ANSI" code page of Western
Windows, where most non-UTF-8 CSV files come from; it is a superset of latin-1's printable characters), so
cp1251 Cyrillic, Shift-JIS, etc. are still recognized while a short French or German file is not misread.
(Limit: a short cp1250 Polish/Czech file can still be taken for cp1252; no detector can tell them apart on a
few words.) Delimiter: one of ``,`` ``;`` tab ``|``, chosen by :func:`detect_delimiter`.
Records follow RFC 4180 as Python's :mod:`csv` reads it: quoted fields may hold delimiters, quotes ("") and
line breaks; CRLF, LF and CR line ends are all fine. The header is the first non-empty line. Row numbers count *records* as a spreadsheet
shows them (the header is row 1, the first record row 2; a blank line is a row too), so a value with line breaks
inside quotes does not shift the rows after it; messages also give the file line where a record starts when
that differs. One value may hold up to :attr:`docgen.limits.Limits.cell_bytes` characters (16 M; Python's
``csv`` stops at 128 K by default).
Numbers prefer the decimal comma when the delimiter is ``;`` (see :mod:`docgen.data.columns`).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from docgen import limits
from docgen.data import DEFAULT_MISSING
from docgen.errors import DataError
from docgen.model import Dataset
from docgen.data.columns import COMMA, POINT
from docgen.sources.table import build_dataset

DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SAMPLE_CHARS = 64 * 1024
#: charset-normalizer cannot tell related single-byte code pages apart on a few accented words (it calls a short
#: French cp1252 file cp775); Windows-1252 is preferred when it is within this much "chaos" of the best guess.
_CP1252_MARGIN = 0.05
_SAMPLE_RECORDS = 200


@dataclass(frozen=True)
class FileScan:
    """What one streaming pass over a file's bytes gives, without holding them: ``size`` (bytes), ``sha256``
    (hex), ``head`` (the first :data:`_NATIVE_SAMPLE` + 4 bytes), the counts of ``\n``, ``\r`` and ``\r\n``, and
    whether the last byte is ``\n``. The engine's CSV reader then reads the file itself, so a large file is
    never a Python bytes object as well (on 1M rows, 111 MB less at the peak)."""

    size: int
    sha256: str
    head: bytes
    lf: int
    cr: int
    crlf: int
    ends_lf: bool


#: Bytes read at a time by :func:`scan_file`.
_CHUNK = 1 << 22


def scan_file(path: Path) -> FileScan:
    """One pass over ``path`` in 4 MB chunks (:class:`FileScan`). Raises OSError when it cannot be read."""
    digest = hashlib.sha256()
    size = lf = cr = crlf = 0
    head = b""
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            if len(head) < _NATIVE_SAMPLE + 4:
                head += chunk[:_NATIVE_SAMPLE + 4 - len(head)]
            size += len(chunk)
            lf += chunk.count(b"\n")
            cr += chunk.count(b"\r")
            crlf += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
            last = chunk[-1:]
    return FileScan(size, digest.hexdigest(), head, lf, cr, crlf, last == b"\n")


def read_csv(path: Path, data: bytes | FileScan, sha256: str, *, missing: Sequence[str] = DEFAULT_MISSING
             ) -> Dataset:
    """Read a delimited text file whose bytes are ``data`` (not empty), or of which ``data`` is the
    :class:`FileScan` (the file's bytes are then read only when the engine's reader cannot take the file).

    Returns a Dataset with ``encoding`` (Python codec name) and ``delimiter`` set.
    Raises :class:`DataError` when the encoding cannot be determined, the text is not a table (NUL bytes, a
    malformed record), or for any of the checks of :func:`docgen.sources.table.build_dataset`; OSError when a
    scanned file cannot be read again.
    """
    scan = data if isinstance(data, FileScan) else _scan_bytes(data, sha256)
    native = _read_natively(path, scan, sha256=sha256, missing=missing)
    if native is not None:
        return native
    if isinstance(data, FileScan):
        data = path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()  # the file as read now
    text, encoding = decode(path, data)
    delimiter = detect_delimiter(text)
    hint = (
        f"A value probably contains a {_DELIMITER_NAMES[delimiter]} ({delimiter!r}) without being in double "
        'quotes: put such values in "quotes", or check that every row has as many values as the header.'
    )
    records = _records(path, text, delimiter)
    first = next(records, None)
    if first is None:
        raise DataError(path, "the file holds only blank lines. Save the table again with a header row and data.")
    header_row, header = first
    return build_dataset(
        path,
        header,
        header_row,
        records,
        sha256=sha256,
        kind="file",
        hint_extra_cells=hint,
        prefer=COMMA if delimiter == ";" else POINT,
        encoding=encoding,
        delimiter=delimiter,
        missing=missing,
        text_cells=True,
    )


#: Records compared between the engine's reading and Python's before the engine's is trusted.
_CROSS_CHECK = 200
#: Bytes at the start of a file decoded in Python on the fast path (the delimiter and the cross-check).
_NATIVE_SAMPLE = 1 << 20


def _scan_bytes(data: bytes, sha256: str) -> FileScan:
    """The :class:`FileScan` of bytes already read."""
    return FileScan(len(data), sha256, data[:_NATIVE_SAMPLE + 4], data.count(b"\n"), data.count(b"\r"),
                    data.count(b"\r\n"), data.endswith(b"\n"))


def _read_natively(path: Path, scan: FileScan, *, sha256: str, missing: Sequence[str]) -> Dataset | None:
    """The fast path for the common file: the table engine reads it by itself
    (:meth:`docgen.data.RawTable.read_csv`), many times faster than record by record and without decoding the
    whole file into Python. Taken only for UTF-8 text (the first MB is checked here, the rest by the engine)
    whose header is on line 1 with every name present and unique, with CRLF or LF line ends, when the engine
    finds exactly one record per line after the header, each with the header's number of values, and the same
    values as Python's :mod:`csv` for the first 200 records. The delimiter is detected as for every file
    (:func:`detect_delimiter`, which reads the first 64 KB). Anything else (blank lines, line breaks inside
    values, short or long rows, stray quotes, other encodings, R's row names) returns None and the file is read
    record by record, with the exact messages of :func:`docgen.sources.table.build_dataset`."""
    encoding = "utf-8"
    start = scan.head
    if start.startswith(codecs.BOM_UTF8):
        encoding, start = "utf-8-sig", start[len(codecs.BOM_UTF8):]
    elif any(start.startswith(bom) for bom, _codec in _BOMS):
        return None
    body_size = scan.size - (len(scan.head) - len(start))  # the bytes after the BOM
    head = start[:_NATIVE_SAMPLE]
    if body_size > _NATIVE_SAMPLE:
        if b"\n" not in head:
            return None
        head = head[: head.rindex(b"\n") + 1]
    try:
        sample = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if b"\x00" in head or scan.cr != scan.crlf:
        return None
    delimiter = detect_delimiter(sample)
    parsed = _records(path, sample, delimiter)
    try:
        header_row, header = next(parsed)
        expected = [cells for _row, cells in itertools.islice(parsed, _CROSS_CHECK)]
    except (StopIteration, DataError):
        return None
    names = [cell.strip() for cell in header]
    if header_row != 1 or not all(names) or len(set(names)) != len(names):
        return None
    records = scan.lf + (0 if scan.ends_lf else 1) - 1
    if records < 1 or len(expected) < min(records, _CROSS_CHECK) and body_size <= _NATIVE_SAMPLE:
        return None
    from docgen.data import RawTable

    raw = RawTable.read_csv(path, delimiter=delimiter, width=len(names), records=records, missing=missing)
    if raw is None:
        return None
    markers = {"", *missing}
    wanted = [tuple(None if c.strip() in markers else c.strip() for c in cells) for cells in expected]
    if raw.head(len(wanted)) != wanted:
        return None
    from docgen.sources.table import dataset_of

    table = raw.finish(names, list(range(len(names))), prefer=COMMA if delimiter == ";" else POINT)
    return dataset_of(path, table, sha256=sha256, encoding=encoding, delimiter=delimiter)


def decode(path: Path, data: bytes) -> tuple[str, str]:
    """Bytes -> (text without BOM, codec name). Rules: module docstring. Raises :class:`DataError`."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec).lstrip("\ufeff"), codec
            except UnicodeDecodeError as exc:
                raise _encoding_error(path, f"it starts with a {codec} byte-order mark but is not valid {codec} "
                                            f"(byte {exc.start})") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" not in data:
        from charset_normalizer import from_bytes

        matches = list(from_bytes(data))
        if matches:
            best = min(matches, key=lambda m: m.chaos)
            for match in matches:
                if "cp1252" in match.could_be_from_charset and match.chaos <= best.chaos + _CP1252_MARGIN:
                    return data.decode("cp1252"), "cp1252"
            return str(best), best.encoding
    raise _encoding_error(path, "its text encoding could not be recognized (is it really a text file?)")


def _encoding_error(path: Path, why: str) -> DataError:
    return DataError(
        path,
        f"cannot read the file: {why}. Save it as 'CSV UTF-8' (Excel: File > Save As > CSV UTF-8) and try again.",
    )


def detect_delimiter(text: str) -> str:
    """The delimiter of a table in ``text``: one of :data:`DELIMITERS`.

    ``csv.Sniffer`` proposes one from the first 64 KB; every candidate is then scored by parsing up to 200
    records of that sample: the share of records with as many fields as the header, then the number of header
    fields (more is better), with the sniffer's pick winning ties. A candidate that splits the header into one
    field only scores nothing. With no candidate scoring (a one-column file), the answer is ``,``.
    """
    sample = text[:_SAMPLE_CHARS]
    if len(text) > _SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    best, best_score = ",", (0.0, 0, False)
    for candidate in DELIMITERS:
        rows = [r for r in _parse_sample(sample, candidate) if r]
        if len(rows) > 2:
            rows = rows[:-1]  # the last record of a cut sample may be incomplete
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:] or rows
        consistent = sum(1 for r in body if len(r) == width) / len(body)
        score = (round(consistent, 2), width, candidate == sniffed)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _set_cell_limit() -> int:
    """Let :mod:`csv` read values up to the cell bound (process-wide; only docgen reads CSV here). Returns it."""
    bound = limits.current().cell_bytes
    csv.field_size_limit(bound)
    return bound


def _parse_sample(sample: str, delimiter: str) -> list[list[str]]:
    rows: list[list[str]] = []
    _set_cell_limit()
    try:
        for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) >= _SAMPLE_RECORDS:
                break
    except csv.Error:
        pass
    return rows


def _records(path: Path, text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, fields) for each non-blank record; rows count records (module docstring)."""
    _set_cell_limit()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 0
    row_number = 0
    while True:
        start = line + 1
        row_number += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            where = _line_note(row_number, start)
            if "field larger than field limit" in str(exc):
                raise DataError(
                    path,
                    f"a value in this row{where} is longer than the limit of {limits.describe('cell_bytes')}. Such a "
                    'value is usually a double quote (") that is never closed and swallows the rest of the file: '
                    "close or remove it. If the value really is that long, raise the limit.",
                    row=row_number,
                ) from None
            raise DataError(
                path,
                f"cannot split this row{where} into values ({exc}). Check the quotes on that line, or save the file "
                "again from the program that made it.",
                row=row_number,
            ) from None
        line = reader.line_num
        if delimiter in "\t|" and any("\n" in cell and delimiter in cell for cell in row):
            # A quoted value spanning lines *and* holding the delimiter is almost always a stray quote that
            # swallowed the following records (tab and pipe are not typed inside a cell).
            raise DataError(
                path,
                f'a double quote (") opens a value in this row{_line_note(row_number, start)} that only closes '
                f'on line {line}, swallowing the lines in between. Remove the stray quote, or double it ("") if it '
                "belongs to the text.",
                row=row_number,
            )
        if row and "".join(row).strip():
            yield row_number, row


def _line_note(row_number: int, line: int) -> str:
    """" (it starts on line 7 of the file)" when quoted line breaks make the row number and the line differ."""
    return "" if row_number == line else f" (it starts on line {line} of the file)"
