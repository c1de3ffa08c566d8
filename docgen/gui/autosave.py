"""In-progress work saved as JSON in the user data folder, so a crash or a restart does not lose it: every
template's draft (:meth:`docgen.draft.DraftBook.to_dict`: template, data file, record, field values, section
texts with their state, lock, seed and marks), written atomically after edits and runs."""

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
VERSION = 2  # 1: one window's work; still read (docgen.draft.DraftBook.saved_drafts)


def autosave_file() -> Path:
    """``<user data dir>/autosave.json``."""
    return paths.user_data_dir() / "autosave.json"


def save(state: dict[str, Any]) -> Path | None:
    """Write ``state`` (plus a timestamp) atomically. Returns the path, or None if the folder is not writable."""
    target = autosave_file()
    data = {"version": VERSION, **state, "saved_at": time.time()}
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
    if not isinstance(data, dict) or data.get("version") not in (1, VERSION):
        return None
    return data


def has_text(draft: dict[str, Any]) -> bool:
    """True when a saved draft holds something worth offering back: the text of at least one section."""
    sections = draft.get("sections") or {}
    return any(str(s.get("text", "")).strip() for s in sections.values() if isinstance(s, dict))


def exported(draft: dict[str, Any]) -> bool:
    """True when a saved draft was exported as it is (nothing to offer back)."""
    if "revision" in draft:
        return draft.get("exported_revision") == draft.get("revision")
    return bool(draft.get("exported"))


def clear() -> None:
    """Forget the saved state (when the user declines to restore it)."""
    try:
        autosave_file().unlink(missing_ok=True)
    except OSError as exc:
        log.warning("Cannot remove %s: %s", autosave_file(), exc)
