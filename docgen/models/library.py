"""The models docgen can use on this machine: the user's and IT's models folders, the model the settings or
the policy name, and the embedded default; adding a file, removing one and choosing which one is used.

Which model is *in use* is :func:`docgen.llm.discovery.find_model`'s answer for the settings (the
``model_path`` setting, else the first ``*.gguf`` by name in the user folder, then the site folder, else the
embedded model). :func:`use_model` writes ``model_path`` to settings.toml, so the choice does not depend on
file names. Only files in the user's models folder can be removed: the site folder is IT's and the embedded
model is part of docgen.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from docgen import paths
from docgen.errors import DocgenError, ModelError, ModelNotFound, PolicyError
from docgen.llm.discovery import embedded_model, find_model
from docgen.models.gguf_info import ModelInfo, read_gguf
from docgen.settings import Settings, save_settings

#: Where a listed model comes from.
SOURCES = ("user", "site", "policy", "settings", "embedded")


@dataclass(frozen=True)
class LibraryEntry:
    """One model file: ``source`` (one of :data:`SOURCES`), its header (``info``, None when unreadable, then
    ``problem`` says why), and whether it is the model docgen uses now."""

    path: Path
    source: str
    info: ModelInfo | None
    problem: str = ""
    in_use: bool = False

    @property
    def name(self) -> str:
        """The file name (what ``docgen models use`` takes)."""
        return self.path.name

    @property
    def removable(self) -> bool:
        """Only files in the user's own models folder can be removed."""
        return self.source == "user"


@lru_cache(maxsize=64)
def _header(path: str, size: int, mtime_ns: int) -> ModelInfo:
    """:func:`read_gguf`, remembered per (path, size, modification time): the Models dialog refreshes often."""
    return read_gguf(path)


def read_cached(path: Path) -> ModelInfo:
    """The header of ``path`` (:func:`read_gguf`), read again only when the file changed."""
    try:
        stat = path.stat()
    except OSError:
        return read_gguf(path)  # raises ModelNotFound with the path
    return _header(str(path), stat.st_size, stat.st_mtime_ns)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def in_use(settings: Settings) -> Path | None:
    """The model file docgen would load with ``settings`` (None when there is none or it is broken)."""
    try:
        return find_model(settings.model_path or None)
    except DocgenError:
        return None


def list_models(settings: Settings) -> list[LibraryEntry]:
    """Every model docgen can see, in the order: user folder, site folder, the policy's or settings' model
    file when it lies elsewhere, the embedded default. Unreadable files are listed with their ``problem``."""
    current = in_use(settings)
    found: list[tuple[Path, str]] = []
    for source, folder in (("user", paths.user_models_dir()), ("site", paths.site_models_dir())):
        if folder.is_dir():
            found += [(p, source) for p in sorted(folder.glob("*.gguf")) if p.is_file()]
    embedded = embedded_model()
    if settings.model_path:
        pinned = Path(settings.model_path).expanduser()
        if pinned.is_dir():
            pinned = next(iter(sorted(pinned.glob("*.gguf"))), pinned)
        if not any(_same(pinned, p) for p, _ in found) and not (embedded and _same(pinned, embedded)):
            found.append((pinned, "policy" if "model_path" in settings.locked else "settings"))
    if embedded is not None and not any(_same(embedded, p) for p, _ in found):
        found.append((embedded, "embedded"))
    out = []
    for path, source in found:
        try:
            info, problem = read_cached(path), ""
        except ModelError as exc:
            info, problem = None, str(exc)
        out.append(LibraryEntry(path, source, info, problem, in_use=current is not None and _same(path, current)))
    return out


def find_entry(settings: Settings, name: str) -> LibraryEntry:
    """The listed model ``name`` names: a path, an exact file name, or a unique case-insensitive part of one.

    Raises ModelNotFound listing the models when nothing or several match.
    """
    entries = list_models(settings)
    as_path = Path(name).expanduser()
    if as_path.is_file():
        for e in entries:
            if _same(e.path, as_path):
                return e
    exact = [e for e in entries if e.name == name or e.path.stem == name]
    if len(exact) == 1:
        return exact[0]
    part = [e for e in entries if name.lower() in e.name.lower()]
    if len(part) == 1:
        return part[0]
    names = ", ".join(e.name for e in entries) or "none"
    if not part:
        raise ModelNotFound(f"No model named '{name}'. Models: {names}. Add a file with 'docgen models add FILE'.")
    raise ModelNotFound(f"'{name}' matches several models ({', '.join(e.name for e in part)}); give the full "
                        "file name.")


def add_model(source: str | Path, *, move: bool = False) -> Path:
    """Copy (or with ``move``, move) the GGUF file ``source`` into the user's models folder; returns the new
    path. The copy goes to a temp file in that folder first and is renamed when complete, so an interrupted
    copy leaves no half file that looks like a model.

    Raises ModelNotFound/ModelLoadError when ``source`` is not a readable GGUF file, DocgenError when a
    different file of that name is already there or the folder cannot be written.
    """
    src = Path(source).expanduser()
    info = read_gguf(src)
    folder = paths.user_models_dir()
    target = folder / src.name
    if target.exists():
        if _same(src, target):
            return target
        if target.stat().st_size == info.size:
            return target  # the same file added twice: nothing to do
        raise DocgenError(f"{target} already exists and is a different file. Remove it first "
                          f"('docgen models remove {target.name}') or rename the new file.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(folder).free < info.size and not move:
            raise DocgenError(f"Not enough free space in {folder} for {src.name} ({info.size / 1e9:.2f} GB).")
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".~docgen-", suffix=".part")
        os.close(fd)
        try:
            if move:
                shutil.move(str(src), tmp)
            else:
                shutil.copyfile(src, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError as exc:
        raise DocgenError(f"Cannot add {src.name} to {folder}: {exc.strerror or exc}.") from exc
    return target


def remove_model(settings: Settings, name: str) -> tuple[Path, Settings]:
    """Delete a model from the user's models folder. Returns (removed path, settings): when the settings named
    that file, ``model_path`` is cleared (and saved) so docgen falls back to discovery.

    Raises ModelNotFound for an unknown name, DocgenError for a model outside the user folder (IT's site
    folder, the embedded model, a file named in settings) or one that cannot be deleted.
    """
    entry = find_entry(settings, name)
    if not entry.removable:
        where = {"site": "IT's models folder (ask IT to remove it)", "embedded": "docgen itself (the embedded "
                 "default model cannot be removed)", "policy": "the machine policy", "settings": "a file outside "
                 "the models folders (delete it yourself; 'docgen models use' another model first)"}[entry.source]
        raise DocgenError(f"{entry.name} comes from {where}; only models in your own models folder "
                          f"({paths.user_models_dir()}) can be removed.")
    if settings.model_path and _same(Path(settings.model_path).expanduser(), entry.path):
        settings = settings.with_overrides(model_path="")  # PolicyError if IT pinned it
        save_settings(settings)
    try:
        entry.path.unlink()
    except OSError as exc:
        raise DocgenError(f"Cannot remove {entry.path}: {exc.strerror or exc}.") from exc
    return entry.path, settings


def use_model(settings: Settings, name: str) -> tuple[LibraryEntry, Settings]:
    """Make the model ``name`` (see :func:`find_entry`) the one docgen uses: writes ``model_path`` to
    settings.toml (for the embedded default: cleared, unless a file in a models folder would win discovery). Returns the entry and the saved settings.

    Raises ModelNotFound, ModelLoadError for an unreadable file, PolicyError when the policy locks the model.
    """
    entry = find_entry(settings, name)
    if entry.info is None:
        raise ModelNotFound(f"{entry.name} cannot be used: {entry.problem}")
    value = str(entry.path)
    if entry.source == "embedded" and _same(find_model(None), entry.path):
        value = ""  # discovery finds it anyway; an empty setting keeps following the installed package
    if "model_path" in settings.locked and settings.model_path != value:
        raise PolicyError(f"The model is chosen by your IT department's policy ({paths.policy_file()}): "
                          f"{settings.model_path or 'the embedded default'}.")
    new = settings.with_overrides(model_path=value)
    save_settings(new)
    return entry, new


__all__ = ["LibraryEntry", "SOURCES", "add_model", "find_entry", "in_use", "list_models", "remove_model",
           "use_model"]
