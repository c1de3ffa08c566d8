"""docgen's curated catalogue of instruct GGUF models (``catalogue.toml`` beside this module): what each is,
who publishes it, its licence, where to download it, and what it is good for, every claim with its source
(the file's header comment says which field comes from where).

:func:`load_catalogue` validates the file and raises DocgenError naming the entry and the key on a mistake,
so a bad edit fails the tests, not a user's download.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from docgen.errors import DocgenError
from docgen.models.estimate import ram_bytes_for

CATALOGUE_FILE = Path(__file__).with_name("catalogue.toml")
_REQUIRED = ("id", "name", "publisher", "quantized_by", "parameters", "quantization", "file", "url", "size_bytes",
             "licence", "licence_url", "context_length", "good_for", "kv_bytes_per_token", "file_page", "model_card")
_OPTIONAL = ("sha256", "revision")
_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class CatalogueEntry:
    """One downloadable model. ``size_bytes``: the file size its page shows (decimal units, rounded: the
    download checks the exact size the server sends); ``sha256``: the file's hash at ``revision`` ("" when the
    catalogue pins none: the server's X-Linked-Etag is used); ``kv_bytes_per_token``: for the RAM estimate."""

    id: str
    name: str
    publisher: str
    quantized_by: str
    parameters: str
    quantization: str
    file: str
    url: str
    size_bytes: int
    licence: str
    licence_url: str
    context_length: int
    good_for: str
    kv_bytes_per_token: int
    file_page: str
    model_card: str
    sha256: str = ""
    revision: str = ""

    def ram_bytes(self, n_ctx: int = 4096) -> int:
        """docgen's estimate of the RAM this model needs at ``n_ctx`` (:mod:`docgen.models.estimate`)."""
        return ram_bytes_for(self.size_bytes, self.kv_bytes_per_token, n_ctx)

    @property
    def sources(self) -> tuple[str, ...]:
        """Where the claims come from: the file's page, the model card, the licence."""
        return (self.file_page, self.model_card, self.licence_url)


def _entry(raw: dict[str, Any], index: int, path: Path) -> CatalogueEntry:
    where = f"{path}, model {index + 1} ({raw.get('id', '?')})"
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise DocgenError(f"{where}: missing {', '.join(missing)}.")
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise DocgenError(f"{where}: unknown key(s) {', '.join(unknown)}.")
    for key in ("url", "licence_url", "file_page", "model_card"):
        if not str(raw[key]).startswith("https://"):
            raise DocgenError(f"{where}: '{key}' must be an https:// address.")
    if not str(raw["url"]).endswith("/" + raw["file"]) or not raw["file"].endswith(".gguf"):
        raise DocgenError(f"{where}: 'url' must end with the .gguf 'file' name.")
    if raw.get("sha256") and not _SHA.match(raw["sha256"]):
        raise DocgenError(f"{where}: 'sha256' must be 64 lower-case hex digits.")
    if raw.get("sha256") and not raw.get("revision"):
        raise DocgenError(f"{where}: a 'sha256' needs the 'revision' it belongs to (files are re-uploaded).")
    if raw.get("revision") and f"/resolve/{raw['revision']}/" not in raw["url"]:
        raise DocgenError(f"{where}: 'url' must point at the pinned revision (/resolve/{raw['revision']}/).")
    for key in ("size_bytes", "context_length", "kv_bytes_per_token"):
        if not isinstance(raw[key], int) or raw[key] <= 0:
            raise DocgenError(f"{where}: '{key}' must be a positive whole number.")
    return CatalogueEntry(**raw)


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE_FILE) -> tuple[CatalogueEntry, ...]:
    """The catalogue's entries, in file order (smallest first). Raises DocgenError for an invalid file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DocgenError(f"The model catalogue {path} cannot be read: {exc}") from exc
    entries = tuple(_entry(raw, i, Path(path)) for i, raw in enumerate(data.get("models", [])))
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise DocgenError(f"{path}: duplicate model ids.")
    return entries


def find_catalogue_entry(name: str) -> CatalogueEntry:
    """The entry whose id (or a unique part of it, or its file name) is ``name``. Raises DocgenError listing the
    ids otherwise."""
    entries = load_catalogue()
    for e in entries:
        if name in (e.id, e.file):
            return e
    part = [e for e in entries if name.lower() in e.id]
    if len(part) == 1:
        return part[0]
    ids = ", ".join(e.id for e in entries)
    if part:
        raise DocgenError(f"'{name}' matches several catalogue models ({', '.join(e.id for e in part)}).")
    raise DocgenError(f"No catalogue model '{name}'. Catalogue: {ids}.")


__all__ = ["CATALOGUE_FILE", "CatalogueEntry", "find_catalogue_entry", "load_catalogue"]
