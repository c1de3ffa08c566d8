"""In-progress work (template, data file, field values, section texts and their lock/edit state) saved as JSON
in the user data folder, so a crash or a restart does not lose it. Written atomically; cleared after export."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from docgen import paths
from docgen.errors import DocgenError
from docgen.files import atomic_write_text

log = logging.getLogger(__name__)
VERSION = 1


def autosave_file() -> Path:
    """``<user data dir>/autosave.json``."""
    return paths.user_data_dir() / "autosave.json"


def save(state: dict[str, Any]) -> Path | None:
    """Write ``state`` (plus a timestamp) atomically. Returns the path, or None if the folder is not writable."""
    target = autosave_file()
    data = {"version": VERSION, "saved_at": time.time(), **state}
    try:
        atomic_write_text(target, json.dumps(data, ensure_ascii=False, indent=1, default=str),
                          label="user data folder")
    except (OSError, DocgenError) as exc:
        log.warning("Cannot autosave to %s: %s", target, exc)
        return None
    return target


def load() -> dict[str, Any] | None:
    """The saved state, or None when there is none (or it is unreadable, which is logged and ignored)."""
    target = autosave_file()
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("Ignoring unreadable autosave %s: %s", target, exc)
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return None
    return data


def has_work(state: dict[str, Any] | None) -> bool:
    """True when ``state`` holds something worth offering back: the text of at least one section."""
    if not state:
        return False
    sections = state.get("sections") or {}
    return any(str(s.get("text", "")).strip() for s in sections.values() if isinstance(s, dict))


def clear() -> None:
    """Forget the saved state (after an export, or when the user declines to restore it)."""
    try:
        autosave_file().unlink(missing_ok=True)
    except OSError as exc:
        log.warning("Cannot remove %s: %s", autosave_file(), exc)
