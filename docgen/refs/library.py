"""Which reference files a document is written from.

In this order (duplicates, by resolved path, kept once):

1. the template's own: its package's ``references/`` folder (or ``[references] folder``);
2. the site's (IT): ``references/`` in the site data folder, and ``references/<template id>/`` there;
3. the user's: ``references/`` in the user data folder (``docgen refs add FILE``), and
   ``references/<template id>/`` there (``docgen refs add FILE --template ID``);
4. the run's: files or folders given with ``--refs`` or dropped on the GUI's References pane.

Folders are read recursively; hidden files, Office lock files (``~$...``) and unsupported extensions are skipped.
A template uses references when its manifest or package says so (:class:`docgen.model.ReferencesSpec`) or when the
run adds some; the user's and site's general folders then apply to it as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from docgen.model import ReferencesSpec, TemplateSpec
from docgen.refs.readers import supported


def user_references_dir(template_id: str | None = None) -> Path:
    """The user's references folder (for every template), or its subfolder for ``template_id``."""
    from docgen.paths import user_data_dir

    base = user_data_dir() / "references"
    return base / template_id if template_id else base


def site_references_dir(template_id: str | None = None) -> Path:
    """IT's references folder (for every template on this machine), or its subfolder for ``template_id``."""
    from docgen.paths import site_data_dir

    base = site_data_dir() / "references"
    return base / template_id if template_id else base


def files_in(path: Path, *, recursive: bool = True) -> list[Path]:
    """The reference files at ``path``: the file itself if supported, or the supported files in a folder (sorted;
    hidden and ``~$`` lock files skipped; subfolders only when ``recursive``)."""
    path = Path(path)
    if path.is_file():
        return [path] if supported(path) else []
    if not path.is_dir():
        return []
    found = path.rglob("*") if recursive else path.iterdir()
    return sorted(p for p in found if p.is_file() and supported(p) and not p.name.startswith((".", "~$"))
                  and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1]))


def spec_for(template: TemplateSpec, extra: Sequence[Path] = ()) -> ReferencesSpec | None:
    """The template's references spec; the defaults when it has none but the run adds files (``extra``) or the
    user/site has a folder for this template; None when the template uses no references."""
    if template.references is not None:
        return template.references
    if extra or files_in(user_references_dir(template.id)) or files_in(site_references_dir(template.id)):
        return ReferencesSpec()
    return None


def reference_files(template: TemplateSpec, extra: Iterable[Path] = ()) -> list[Path]:
    """Every reference file for documents of ``template`` (module docstring for the order); empty when the
    template uses none. ``extra`` paths that do not exist are kept (the index reports them as unreadable)."""
    extra = [Path(p) for p in extra]
    spec = spec_for(template, extra)
    if spec is None:
        return []
    groups: list[list[Path]] = [files_in(spec.folder) if spec.folder else []]
    for base in (site_references_dir, user_references_dir):
        groups.append(files_in(base(), recursive=False))
        groups.append(files_in(base(template.id)))
    groups.append([q for p in extra for q in (files_in(p) if p.exists() else [p])])
    out: list[Path] = []
    seen: set[Path] = set()
    for group in groups:
        for p in group:
            key = p.resolve() if p.exists() else p.absolute()
            if key not in seen:
                seen.add(key)
                out.append(key)
    return out


__all__ = ["reference_files", "spec_for", "files_in", "user_references_dir", "site_references_dir"]
