"""The template catalog: bundled, site (IT) and user templates, and resolving what ``--template`` names.

A template package is a folder holding ``template.docx`` and ``docgen.toml``, or a zip of such a folder with
the extension ``.docgen`` (unpacked once into the user cache, keyed by the zip's content hash).
Precedence when two packages share an id: user, then site, then bundled (a user can shadow a bundled
template with an edited copy; IT can override the bundled ones for everyone).
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

from docgen import paths
from docgen.errors import ManifestError, TemplateError, TemplateNotFound
from docgen.model import TemplateSpec
from docgen.templates.manifest import MANIFEST_NAME, load_manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogEntry:
    """A package found in a catalog folder: the spec, or the error that made it unusable."""

    path: Path
    source: str
    spec: TemplateSpec | None
    error: str | None = None


def _unpack(archive: Path) -> Path:
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    target = paths.user_cache_dir() / "packages" / f"{archive.stem}-{digest}"
    if (target / MANIFEST_NAME).is_file():
        return target
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            for name in names:
                if name.startswith("/") or ".." in Path(name).parts:
                    raise TemplateError(f"{archive}: unsafe path '{name}' inside the package; rebuild the zip.")
            tmp = target.with_name(target.name + ".tmp")
            zf.extractall(tmp)
    except zipfile.BadZipFile as exc:
        raise TemplateError(f"{archive}: not a valid .docgen package (zip): {exc}.") from exc
    inner = [p.parent for p in tmp.rglob(MANIFEST_NAME)]
    if len(inner) != 1:
        raise TemplateError(f"{archive}: a .docgen package must hold exactly one {MANIFEST_NAME}, found {len(inner)}.")
    inner[0].rename(target)
    return target


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
    elif path.is_file() and path.suffix.lower() == ".docx":
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
