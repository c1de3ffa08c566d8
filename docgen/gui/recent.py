"""Template packages the user opened from disk, remembered between sessions in ``recent.json`` in the user
config folder (beside ``window.json``; DOCGEN_HOME moves it), so they are in the gallery after a restart."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from docgen import paths
from docgen.errors import DocgenError
from docgen.files import atomic_write_text
from docgen.model import TemplateSpec
from docgen.templates.catalog import load_package

log = logging.getLogger(__name__)
MAX_TEMPLATES = 20


def recent_file() -> Path:
    """``<user config dir>/recent.json``."""
    return paths.user_config_dir() / "recent.json"


def _load() -> dict:
    try:
        data = json.loads(recent_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def template_paths() -> list[Path]:
    """Remembered package folders (or .docgen files), newest first."""
    return [Path(p) for p in _load().get("templates", []) if isinstance(p, str)]


def remember_template(root: Path) -> None:
    """Put ``root`` first in the list (at most :data:`MAX_TEMPLATES`); a read-only profile only logs."""
    root = Path(root).resolve()
    items = [root, *(p for p in template_paths() if p != root)][:MAX_TEMPLATES]
    data = {**_load(), "templates": [str(p) for p in items]}
    try:
        atomic_write_text(recent_file(), json.dumps(data, indent=1), label="settings folder")
    except (OSError, DocgenError) as exc:
        log.warning("Cannot remember the template %s: %s", root, exc)


def load_templates() -> list[TemplateSpec]:
    """The remembered packages that still load (one that moved or broke is skipped and logged)."""
    out: list[TemplateSpec] = []
    for path in template_paths():
        if not path.exists():
            continue
        try:
            out.append(load_package(path))
        except DocgenError as exc:
            log.warning("Remembered template %s cannot be used: %s", path, exc)
    return out
