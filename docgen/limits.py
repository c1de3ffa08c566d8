"""Every resource bound docgen enforces, in one place.

A hostile or broken template, package or data file must not hang docgen or exhaust the machine's memory, and
an ordinary one must never meet a limit. The defaults below are far above what real documents need (a
50-million-character document is some ten thousand pages) and far below what would take an office PC
down. Each bound can be raised (or, for tests, lowered) with an environment variable
``DOCGEN_LIMIT_<NAME>`` (``DOCGEN_LIMIT_RENDER_SECONDS=600``); byte and character counts accept a ``K``,
``M`` or ``G`` suffix (powers of 1024: ``DOCGEN_LIMIT_CELL_BYTES=64M``). The user documentation is
``docs/limits.md``.

======================  ====================  =====================================================================
bound                   default               what it bounds (and who enforces it)
======================  ====================  =====================================================================
``render_seconds``      300 s                 rendering one document's template (all its parts), or one prompt /
                                              output name; checked on every tag output, call, attribute access
                                              and loop step (:mod:`docgen.sandbox`)
``output_chars``        50 M characters       the text one render produces, and any one value a tag builds
                                              (``'x' * 10**9``, ``~``, ``|center``, ``format``) - checked
                                              *before* the value is built where Python allows it
``list_items``          10 M items            a list a tag builds by ``*`` or ``+``
``package_bytes``       512 MB                the unpacked size of a ``.docgen`` package (sum of its files)
``package_files``       10,000                the number of files in a ``.docgen`` package
``part_bytes``          64 MB                 the inflated size of one part of a .docx/.dotx/.docm template or
                                              .xlsx workbook (zip headers, checked before anything is inflated)
``cell_bytes``          16 MB                 one value (cell) of a CSV/TSV file
``nesting_depth``       100 levels            nesting of objects/lists in a JSON data file
``chart_points``        5,000 points          the records one chart shows (a bound ``[[charts]]`` or a
                                              ``chart(...)`` tag; :mod:`docgen.render.charts`)
``image_bytes``         50 MB                 one picture file an ``image(...)`` tag reads
                                              (:mod:`docgen.render.images`)
``image_pixels``        100 M pixels          one picture's width x height, checked before it is decoded
                                              (a decompression bomb; :mod:`docgen.render.images`)
======================  ====================  =====================================================================

Read the bounds in force with :func:`current` (environment read on every call, so tests can set the variables
with ``monkeypatch.setenv``); :func:`describe` formats one for a message ("16 MB, DOCGEN_LIMIT_CELL_BYTES").
"""

from __future__ import annotations

import dataclasses
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from docgen.errors import DocgenError

KB, MB, GB = 1 << 10, 1 << 20, 1 << 30
ENV_PREFIX = "DOCGEN_LIMIT_"

__all__ = ["Limits", "check_zip", "current", "describe", "env_name", "human", "GB", "KB", "MB"]


@dataclass(frozen=True)
class Limits:
    """The resource bounds (module docstring table: units, defaults, who enforces each)."""

    render_seconds: float = 300.0
    output_chars: int = 50_000_000
    list_items: int = 10_000_000
    package_bytes: int = 512 * MB
    package_files: int = 10_000
    part_bytes: int = 64 * MB
    cell_bytes: int = 16 * MB
    nesting_depth: int = 100
    chart_points: int = 5000
    image_bytes: int = 50 * MB
    image_pixels: int = 100_000_000


DEFAULTS = Limits()
_UNITS = {
    "render_seconds": "s", "output_chars": "characters", "list_items": "items", "package_bytes": "bytes",
    "package_files": "files", "part_bytes": "bytes", "cell_bytes": "bytes", "nesting_depth": "levels",
    "chart_points": "points", "image_bytes": "bytes", "image_pixels": "pixels",
}
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?)i?B?\s*$", re.I)
_SUFFIX = {"": 1, "K": KB, "M": MB, "G": GB}


def env_name(name: str) -> str:
    """The environment variable that overrides bound ``name``: ``cell_bytes`` -> ``DOCGEN_LIMIT_CELL_BYTES``."""
    return ENV_PREFIX + name.upper()


def _parse(name: str, raw: str) -> float | int:
    m = _NUMBER.match(raw)
    if not m or float(m.group(1)) <= 0:
        raise DocgenError(
            f"The environment variable {env_name(name)} is set to {raw!r}; it must be a positive number "
            f"(of {_UNITS[name]}, optionally with K, M or G), e.g. {env_name(name)}={_show_raw(name)}. Fix or unset it."
        )
    value = float(m.group(1)) * _SUFFIX[m.group(2).upper()]
    return value if name == "render_seconds" else max(1, int(value))


def _show_raw(name: str) -> str:
    value = getattr(DEFAULTS, name)
    if _UNITS[name] == "bytes" and value % MB == 0:
        return f"{value // MB}M"
    return f"{value:g}" if isinstance(value, float) else str(value)


def current() -> Limits:
    """The bounds in force: :data:`DEFAULTS` with every ``DOCGEN_LIMIT_<NAME>`` variable applied.

    Raises DocgenError naming the variable when one is set to something other than a positive number.
    """
    changes = {}
    for f in dataclasses.fields(Limits):
        raw = os.environ.get(env_name(f.name))
        if raw is not None and raw.strip():
            changes[f.name] = _parse(f.name, raw)
    return dataclasses.replace(DEFAULTS, **changes) if changes else DEFAULTS


def human(name: str, value: float | int) -> str:
    """``value`` of bound ``name`` for people: "16 MB", "300 s", "100,000,000 characters"."""
    unit = _UNITS[name]
    if unit == "bytes":
        for size, label in ((GB, "GB"), (MB, "MB"), (KB, "KB")):
            if value >= size:
                shown = value / size
                return f"{shown:.0f} {label}" if shown == int(shown) else f"{shown:.1f} {label}"
        return f"{int(value)} bytes"
    if unit == "s":
        return f"{value:g} s"
    return f"{int(value):,} {unit}"


def describe(name: str, limits: Limits | None = None) -> str:
    """Bound ``name`` as shown in messages: "16 MB; raise it with DOCGEN_LIMIT_CELL_BYTES"."""
    value = getattr(limits or current(), name)
    return f"{human(name, value)}; raise it with the environment variable {env_name(name)}"


def check_zip(zf: zipfile.ZipFile, what: str, error: Callable[[str], Exception]) -> None:
    """Raise ``error(message)`` (the message names the part, not the file: the caller adds it) when a zip (a Word or Excel file) passes
    ``package_files``, ``part_bytes`` or, in all, ``package_bytes``. ``what`` names the file for people ("the
    template", "the workbook"). Reads only the zip's central directory. The declared size is an
    upper bound on what :mod:`zipfile` inflates (it stops there and checks the CRC), so nothing bigger is read."""
    lim = current()
    infos = zf.infolist()
    if len(infos) > lim.package_files:
        raise error(f"{what} holds {len(infos):,} parts, more than the limit of "
                    f"{describe('package_files', lim)}. Save it again from the program that made it.")
    total = 0
    for info in infos:
        if info.file_size > lim.part_bytes:
            raise error(
                f"the part '{info.filename}' of {what} inflates to {human('part_bytes', info.file_size)}, "
                f"more than the limit of {describe('part_bytes', lim)}. Such a part is broken or hostile "
                "(a real one is far smaller): save the file again from the program that made it, or remove what is in that part.")
        total += info.file_size
    if total > lim.package_bytes:
        raise error(f"{what} inflates to {human('package_bytes', total)} in all, more than the limit "
                    f"of {describe('package_bytes', lim)}. Remove large pictures or embedded files.")
