"""Typed user settings (``settings.toml`` in the user config dir) and machine policy (``policy.toml`` in the
site config dir).

Resolution order, later wins: built-in defaults -> the user's settings.toml -> policy.toml. Every key the
policy sets is *locked*: :meth:`Settings.with_overrides` (used for command-line options and the GUI) refuses
to change it with a :class:`~docgen.errors.PolicyError`.
"""

from __future__ import annotations

import dataclasses
import logging
import logging.handlers
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from docgen import paths
from docgen.errors import DocgenError, PolicyError

BACKENDS = ("llamacpp", "fake")


@dataclass(frozen=True)
class Settings:
    """docgen's settings.

    - ``model_path``: a GGUF file; empty means "discover" (see :func:`docgen.llm.discovery.find_model`).
    - ``threads``: llama.cpp threads; 0 means the number of physical cores (``os.cpu_count()`` capped at 8:
      beyond the memory-bandwidth limit more threads only slow a CPU decode down).
    - ``n_ctx``: context window in tokens; 4096 covers the bundled templates with SmolLM2 (trained at 8192).
    - ``temperature``/``seed``: defaults for sections that do not set their own.
    - ``output_dir``: where the GUI saves and batch mode writes when ``--out`` is not given.
    - ``backend``: ``llamacpp`` (default) or ``fake`` (scripted, for demos and tests).
    """

    model_path: str = ""
    threads: int = 0
    n_ctx: int = 4096
    temperature: float = 0.3
    seed: int = 42
    output_dir: str = ""
    backend: str = "llamacpp"
    log_level: str = "INFO"
    locked: frozenset[str] = field(default=frozenset(), compare=False)

    def effective_threads(self) -> int:
        """Threads to give llama.cpp: the setting, or the machine's cores capped at 8."""
        return self.threads if self.threads > 0 else max(1, min(8, os.cpu_count() or 1))

    def effective_output_dir(self) -> Path:
        """The output folder: the setting, or ``~/Documents/docgen``."""
        return Path(self.output_dir).expanduser() if self.output_dir else Path.home() / "Documents" / "docgen"

    def with_overrides(self, **values: Any) -> Settings:
        """Return a copy with ``values`` applied (None values are ignored).

        Raises PolicyError if a value would change a key locked by the machine policy.
        """
        changes = {k: v for k, v in values.items() if v is not None}
        for key, value in changes.items():
            if key in self.locked and getattr(self, key) != value:
                raise PolicyError(
                    f"The setting '{key}' is locked by your IT department's policy ({paths.policy_file()}) "
                    f"and cannot be changed to {value!r}."
                )
        return dataclasses.replace(self, **_validated(changes, "override"))


_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "locked"}


def _validated(values: dict[str, Any], origin: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise DocgenError(f"{origin}: unknown setting '{key}'. Known settings: {known}.")
        expected = type(_FIELDS[key].default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise DocgenError(
                f"{origin}: setting '{key}' must be a {expected.__name__}, got {value!r}."
            )
        out[key] = value
    if "backend" in out and out["backend"] not in BACKENDS:
        raise DocgenError(f"{origin}: backend must be one of {', '.join(BACKENDS)}, got {out['backend']!r}.")
    if "n_ctx" in out and not 256 <= out["n_ctx"] <= 131072:
        raise DocgenError(f"{origin}: n_ctx must be between 256 and 131072 tokens, got {out['n_ctx']}.")
    return out


def _read_toml(path: Path, error: type[DocgenError]) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid TOML ({exc}). Fix the file or delete it to use the defaults.") from exc


def load_settings() -> Settings:
    """Read settings.toml and policy.toml.

    Raises DocgenError naming the file and key for a malformed settings.toml, PolicyError for a malformed
    policy (a broken policy never yields an unlocked app).
    """
    user = _read_toml(paths.settings_file(), DocgenError)
    values = _validated(user, paths.settings_file())
    policy = _read_toml(paths.policy_file(), PolicyError)
    try:
        locked_values = _validated(policy.get("settings", policy), paths.policy_file())
    except DocgenError as exc:
        raise PolicyError(str(exc)) from exc
    values.update(locked_values)
    return Settings(**values, locked=frozenset(locked_values))


def save_settings(settings: Settings) -> Path:
    """Write the user's settings.toml (locked keys are not written). Returns its path."""
    target = paths.settings_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {
        k: getattr(settings, k)
        for k in _FIELDS
        if k not in settings.locked and getattr(settings, k) != _FIELDS[k].default
    }
    tmp = target.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(tmp, target)
    return target


def setup_logging(level: str = "INFO") -> Path:
    """Send docgen's log records to a rotating ``docgen.log`` (1 MB x 3) in the user log dir. Returns its path."""
    log_dir = paths.user_log_dir()
    log_path = log_dir / "docgen.log"
    root = logging.getLogger("docgen")
    if any(getattr(h, "baseFilename", None) == str(log_path) for h in root.handlers):
        return log_path
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(log_path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return log_path  # a read-only profile must not stop docgen from working
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    return log_path
