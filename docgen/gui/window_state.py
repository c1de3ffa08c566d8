"""Window geometry and layout remembered between sessions, in ``window.json`` in the user config folder (not
QSettings, so that DOCGEN_HOME moves it with everything else)."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray

from docgen import paths
from docgen.errors import DocgenError
from docgen.files import atomic_write_text

log = logging.getLogger(__name__)


def state_file() -> Path:
    """``<user config dir>/window.json``."""
    return paths.user_config_dir() / "window.json"


def encode(data: QByteArray) -> str:
    """QByteArray -> base64 text."""
    return base64.b64encode(bytes(data.data())).decode("ascii")


def decode(text: str) -> QByteArray:
    """base64 text -> QByteArray (empty on bad input)."""
    try:
        return QByteArray(base64.b64decode(text.encode("ascii")))
    except (ValueError, UnicodeError):
        return QByteArray()


def load() -> dict[str, Any]:
    """The saved state ({} if none or unreadable)."""
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(data: dict[str, Any]) -> None:
    """Write the state atomically; a read-only profile only logs a warning."""
    target = state_file()
    try:
        atomic_write_text(target, json.dumps(data, indent=1), label="settings folder")
    except (OSError, DocgenError) as exc:
        log.warning("Cannot save window state to %s: %s", target, exc)
