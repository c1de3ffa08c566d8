"""The template catalog: bundled, site (IT) and user templates, and resolving what ``--template`` names.

A template package is a folder holding ``template.docx`` and ``docgen.toml``, or a zip of such a folder with
the extension ``.docgen`` (unpacked once into the user cache, keyed by the zip's content hash).
Precedence when two packages share an id: user, then site, then bundled (a user can shadow a bundled
template with an edited copy; IT can override the bundled ones for everyone).
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import logging
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from docgen import limits, paths
from docgen.errors import ManifestError, TemplateError, TemplateNotFound
from docgen.model import TemplateSpec
from docgen.templates.manifest import MANIFEST_NAME, WORD_SUFFIXES, load_manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogEntry:
    """A package found in a catalog folder: the spec, or the error that made it unusable."""

    path: Path
    source: str
    spec: TemplateSpec | None
    error: str | None = None


#: Unpacked packages not used for this long are removed from the cache when another package is unpacked.
CACHE_MAX_AGE = 30 * 86400
#: A ``*.tmp`` folder older than this is left over from a crash (an unpack takes seconds) and is removed.
STALE_TMP_AGE = 3600


def _digest(archive: Path) -> str:
    sha = hashlib.sha256()
    with archive.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()[:16]


def _tidy_cache(cache: Path, keep: Path) -> None:
    """Remove leftover ``*.tmp`` folders (crashed unpacks) and packages unused for :data:`CACHE_MAX_AGE`."""
    now = time.time()
    for entry in cache.iterdir():
        if entry == keep:
            continue
        try:
            age = now - entry.stat().st_mtime
        except OSError:
            continue
        if (entry.name.endswith(".tmp") and age > STALE_TMP_AGE) or (entry.is_dir() and age > CACHE_MAX_AGE):
            shutil.rmtree(entry, ignore_errors=True)


def _unpack(archive: Path) -> Path:
    """Unpack a .docgen zip into the user cache once (keyed by its content hash) and return the package folder.

    Refuses, with a TemplateError naming the archive and the member, before writing anything: a zip that is not
    one, absolute or ``..`` member names, and more than the bounds of :mod:`docgen.limits` (``package_files``
    members, ``package_bytes`` unpacked in all, declared by the zip and counted while writing). The files go
    to a ``*.tmp`` folder first and are renamed into place only when complete; a failed unpack leaves nothing.
    """
    digest = _digest(archive)
    cache = paths.user_cache_dir() / "packages"
    target = cache / f"{archive.stem}-{digest}"
    if (target / MANIFEST_NAME).is_file():
        with contextlib.suppress(OSError):
            os.utime(target)  # in use: keep it in the cache
        return target
    lim = limits.current()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{target.name}.", suffix=".tmp", dir=cache))
    except OSError as exc:
        raise TemplateError(f"{archive}: cannot unpack the package into {cache}: {exc.strerror or exc}. Check that "
                            "you may write there.") from exc
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > lim.package_files:
                raise TemplateError(f"{archive}: the package holds {len(infos):,} files, more than the limit of "
                                    f"{limits.describe('package_files', lim)}. Keep only the template's files in it.")
            declared = 0
            for info in infos:
                name = info.filename
                if name.startswith(("/", "\\")) or ".." in Path(name.replace("\\", "/")).parts or ":" in name:
                    raise TemplateError(f"{archive}: unsafe path '{name}' inside the package; rebuild the zip.")
                declared += info.file_size
                if declared > lim.package_bytes:
                    raise _too_big(archive, name, lim)
            written = 0
            for info in infos:
                dest = tmp / info.filename
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, dest.open("wb") as out:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        written += len(block)
                        if written > lim.package_bytes:
                            raise _too_big(archive, info.filename, lim)
                        out.write(block)
        inner = [p.parent for p in tmp.rglob(MANIFEST_NAME)]
        if len(inner) != 1:
            raise TemplateError(f"{archive}: a .docgen package must hold exactly one {MANIFEST_NAME}, found "
                                f"{len(inner)}.")
        try:
            inner[0].rename(target)
        except OSError:
            if not (target / MANIFEST_NAME).is_file():  # not another docgen unpacking the same package at once
                raise
    except zipfile.BadZipFile as exc:
        raise TemplateError(f"{archive}: not a valid .docgen package (zip): {exc}. Rebuild it by zipping the "
                            "template folder.") from exc
    except OSError as exc:
        raise TemplateError(f"{archive}: cannot unpack the package into {cache}: {exc.strerror or exc}. Free some "
                            "disk space or check that you may write there.") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _tidy_cache(cache, target)
    return target


def _too_big(archive: Path, member: str, lim: limits.Limits) -> TemplateError:
    return TemplateError(
        f"{archive}: the package unpacks to more than the limit of {limits.describe('package_bytes', lim)} (reached "
        f"at '{member}'). A template package holds a template, a manifest and a small sample: leave large data "
        "files out of it."
    )


def load_package(path: Path, *, source: str = "path") -> TemplateSpec:
    """Load a template package from a folder, its docgen.toml, or a .docgen zip.

    Raises TemplateNotFound if ``path`` does not exist, ManifestError/TemplateError if it is not valid.
    """
    path = Path(path)
    if not path.exists():
        raise TemplateNotFound(f"Template package {path} does not exist.")
    if path.is_file() and path.name == MANIFEST_NAME:
        path = path.parent
    elif path.is_file() and path.suffix == ".docgen":
        path = _unpack(path)
    elif path.is_file() and path.suffix.lower() in WORD_SUFFIXES:
        raise TemplateError(
            f"{path} is a bare Word file. A docgen template is a folder with template.docx and docgen.toml; "
            f"run 'docgen templates check {path}' to see its tags, then add a docgen.toml beside it."
        )
    return load_manifest(path, source=source)


def catalog_dirs() -> list[tuple[str, Path]]:
    """(source, folder) pairs searched for templates, lowest precedence first: bundled, site, the
    ``template_dirs`` setting (source "site" when the machine policy sets it, else "user"), the user's folder."""
    from docgen.settings import load_settings_for_app

    settings, _ = load_settings_for_app()
    extra_source = "site" if "template_dirs" in settings.locked else "user"
    return [
        ("bundled", paths.bundled_templates_dir()),
        ("site", paths.site_templates_dir()),
        *((extra_source, Path(folder).expanduser()) for folder in settings.template_dirs),
        ("user", paths.user_templates_dir()),
    ]


def scan() -> list[CatalogEntry]:
    """Every package in the catalog folders, valid or not, later sources shadowing earlier ones by id."""
    by_key: dict[str, CatalogEntry] = {}
    for source, folder in catalog_dirs():
        if not folder.is_dir():
            continue
        for item in sorted(folder.iterdir()):
            if not ((item / MANIFEST_NAME).is_file() or item.suffix == ".docgen"):
                continue
            try:
                spec = load_package(item, source=source)
                by_key[spec.id] = CatalogEntry(item, source, spec)
            except (ManifestError, TemplateError) as exc:
                log.warning("Skipping template %s: %s", item, exc)
                by_key[f"!{item}"] = CatalogEntry(item, source, None, str(exc))
    return sorted(by_key.values(), key=lambda e: (e.spec is None, e.spec.id if e.spec else str(e.path)))


def resolve(name: str) -> TemplateSpec:
    """Find the template ``--template`` names: an existing path, else a catalog id.

    Raises TemplateNotFound listing the available ids and the closest one.
    """
    candidate = Path(name).expanduser()
    if candidate.exists():
        return load_package(candidate)
    entries = scan()
    for entry in entries:
        if entry.spec and entry.spec.id == name:
            return entry.spec
    for entry in entries:
        if entry.spec is None and entry.path.name == name:
            raise TemplateError(entry.error or f"Template {name} is invalid.")
    ids = [e.spec.id for e in entries if e.spec]
    close = difflib.get_close_matches(name, ids, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise TemplateNotFound(
        f"No template '{name}' (neither a folder nor a known id).{hint} Available: {', '.join(ids) or 'none'}. "
        f"Run 'docgen templates list' to see them."
    )
