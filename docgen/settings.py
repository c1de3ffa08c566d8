"""Typed user settings (``settings.toml`` in the user config dir) and machine policy (``policy.toml`` in the
site config dir).

Resolution order, later wins: built-in defaults -> the user's settings.toml -> policy.toml. Every key the
policy sets is *locked*: :meth:`Settings.with_overrides` (used for command-line options and the GUI) refuses
to change it with a :class:`~docgen.errors.PolicyError`.

A malformed policy fails safe, never open: :func:`load_settings` raises PolicyError naming the file and line
(the command line exits 2), and :func:`load_settings_for_app` (desktop app, read-only commands) runs with
:func:`locked_down` settings: defaults, every key locked, local backend only, saving refused.
"""

from __future__ import annotations

import dataclasses
import logging
import logging.handlers
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from docgen import paths
from docgen.cpu import physical_cores
from docgen.errors import DocgenError, PolicyError
from docgen.files import atomic_write_text

log = logging.getLogger(__name__)

#: Backends that send prompts to another process or machine (the OpenAI-compatible server backend, see
#: docs/scaling.md); ``allow_remote = false`` in the policy removes them from the allowed backends whatever
#: ``allowed_backends`` says.
REMOTE_BACKENDS = ("openai",)
BACKENDS = ("llamacpp", "fake") + REMOTE_BACKENDS
KNOWN_BACKENDS = BACKENDS
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Keys only the machine policy may set (a user's settings.toml cannot grant itself a backend).
POLICY_ONLY = frozenset({"allowed_backends", "allow_remote", "allow_downloads"})
#: Keys whose values are credentials: never shown (doctor, dialogs, logs) and left out of ``repr``.
SECRET_KEYS = frozenset({"server_api_key"})
#: Environment variable holding the inference server's API key when neither settings nor policy set one.
API_KEY_ENV = "DOCGEN_SERVER_API_KEY"
#: The most threads ``threads = 0`` gives llama.cpp: a CPU decode is bound by memory bandwidth, which a few
#: cores saturate, and threads beyond that only add synchronisation (llama.cpp's own guidance; not measurable
#: on the 2-core machine bench/run.py ran on). Set ``threads`` to go past it.
MAX_AUTO_THREADS = 8


@dataclass(frozen=True)
class Settings:
    """docgen's settings.

    - ``model_path``: a GGUF file, or a folder (its first ``*.gguf`` by name); empty means "discover"
      (see :func:`docgen.llm.discovery.find_model`).
    - ``threads``: llama.cpp threads (generation and prompt reading); 0 means the number of physical cores
      (psutil; logical CPUs of one core share its units), capped at :data:`MAX_AUTO_THREADS`.
    - ``n_ctx``: context window in tokens; 4096 covers the bundled templates with SmolLM2 (trained at 8192).
    - ``temperature``/``seed``: defaults for sections that do not set their own.
    - ``output_dir``: where the GUI saves and batch mode writes when ``--out`` is not given. When the policy
      locks it, ``--out`` must be inside it.
    - ``backend``: ``llamacpp`` (default), ``openai`` (an OpenAI-compatible inference server, see
      docs/scaling.md) or ``fake`` (scripted, for demos and tests).
    - ``server_url``: the server's base URL for ``openai`` (``http://127.0.0.1:8080/v1``; ``/v1`` is added to a
      bare host); ``server_model``: the model name to ask it for (empty: the one model it serves);
      ``server_api_key``: its key, sent as ``Authorization: Bearer`` (else :data:`API_KEY_ENV`), never shown
      or written anywhere but settings.toml; ``server_timeout``: seconds to wait for the next byte of an
      answer (a long prompt on a busy CPU server can take minutes before the first one);
      ``server_require_tls``: refuse ``http://`` URLs that are not loopback (IT sets it in the policy).
    - ``jobs``: documents (or rows) in flight at once in batch mode (``--jobs``): requests sent together to a
      server, or sequences a local backend decodes together; 0 (default) lets the backend choose
      (``generator.suggested_jobs``: a server's slot count, the local engine's by cores and context).
    - ``cache``/``cache_mb``: the section cache (:mod:`docgen.cache`, docs/cache.md): a section whose prompt,
      model, parameters and seed are unchanged is read back instead of generated; ``cache_mb`` bounds its size
      in MB (least recently used replies go first); ``cache = false`` or ``cache_mb = 0`` turns it off
      (``--no-cache`` for one run).
    - ``log_level``: level of docgen.log (DEBUG, INFO, WARNING, ERROR, CRITICAL).
    - ``on_unsupported``: what to do with sentences the claim check marks: ``mark`` (a Word comment),
      ``drop`` (remove them) or ``fail`` (do not write the document); empty means the template's choice.
    - ``template_dirs``: extra template folders added to the catalog (after the site folder, before the user's).
    - ``allowed_backends`` / ``allow_remote``: policy only (see :data:`POLICY_ONLY`).
    - ``allow_downloads``: policy only; ``false`` means docgen never downloads a model (``docgen models download``
      and the Models dialog refuse before opening any connection, :mod:`docgen.models.download`).

    ``locked`` holds the keys the machine policy set; ``policy_error`` is set when the policy file is broken and
    these are the locked-down defaults (:func:`locked_down`).
    """

    model_path: str = ""
    threads: int = 0
    n_ctx: int = 4096
    temperature: float = 0.3
    seed: int = 42
    output_dir: str = ""
    backend: str = "llamacpp"
    log_level: str = "INFO"
    on_unsupported: str = ""
    template_dirs: tuple[str, ...] = ()
    server_url: str = ""
    server_model: str = ""
    server_api_key: str = field(default="", repr=False)
    server_timeout: float = 300.0
    server_require_tls: bool = False
    jobs: int = 0
    cache: bool = True
    cache_mb: int = 200
    allowed_backends: tuple[str, ...] = BACKENDS
    allow_remote: bool = True
    allow_downloads: bool = True
    locked: frozenset[str] = field(default=frozenset(), compare=False)
    policy_error: str = field(default="", compare=False)

    def effective_threads(self) -> int:
        """Threads to give llama.cpp, for generation and prompt reading alike: the setting, or the machine's
        physical cores (:func:`docgen.cpu.physical_cores`, psutil) capped at :data:`MAX_AUTO_THREADS`."""
        return self.threads if self.threads > 0 else max(1, min(MAX_AUTO_THREADS, physical_cores()))

    def effective_output_dir(self) -> Path:
        """The output folder: the setting, or ``~/Documents/docgen``."""
        return Path(self.output_dir).expanduser() if self.output_dir else Path.home() / "Documents" / "docgen"

    def api_key(self) -> str:
        """The inference server's API key: the setting (or policy), else the :data:`API_KEY_ENV` variable."""
        return self.server_api_key or os.environ.get(API_KEY_ENV, "")

    def shown(self, key: str) -> str:
        """``key``'s value as it may be shown to a user or written to a log: credentials as ``<set>``/``<not set>``."""
        value = getattr(self, key)
        if key in SECRET_KEYS:
            return "<set>" if value else "<not set>"
        return repr(value)

    def usable_backends(self) -> tuple[str, ...]:
        """The backends this machine allows (``allowed_backends`` less the remote ones when remote is off)."""
        return tuple(b for b in self.allowed_backends if self.allow_remote or b not in REMOTE_BACKENDS)

    def with_overrides(self, **values: Any) -> Settings:
        """Return a copy with ``values`` applied (None values are ignored).

        Raises PolicyError if a value would change a key locked by the machine policy, or names a backend the
        policy does not allow.
        """
        changes = {k: v for k, v in values.items() if v is not None}
        for key, value in changes.items():
            if key in self.locked and getattr(self, key) != value:
                if self.policy_error:
                    raise PolicyError(
                        f"The setting '{key}' cannot be changed: the machine policy is broken, so every setting is "
                        f"locked to its default until IT fixes it. {self.policy_error}"
                    )
                raise PolicyError(
                    f"The setting '{key}' is locked by your IT department's policy ({paths.policy_file()}) "
                    f"and cannot be changed to {value!r}."
                )
            if key in POLICY_ONLY and getattr(self, key) != value:
                raise PolicyError(f"The setting '{key}' can only be set by the machine policy ({paths.policy_file()}).")
        if "backend" in changes and changes["backend"] not in self.usable_backends():
            raise PolicyError(
                f"The backend '{changes['backend']}' is not allowed by your IT department's policy "
                f"({paths.policy_file()}). Allowed: {', '.join(self.usable_backends()) or 'none'}."
            )
        return dataclasses.replace(self, **_validated(changes, "override"))

    def check_output_dir(self, out: Path) -> None:
        """Raise PolicyError when the policy locks ``output_dir`` and ``out`` is not inside it."""
        if "output_dir" not in self.locked or not self.output_dir:
            return
        root = self.effective_output_dir().resolve()
        target = Path(out).expanduser().resolve()
        if target != root and root not in target.parents:
            raise PolicyError(
                f"The output folder is locked by your IT department's policy ({paths.policy_file()}): write inside "
                f"{root}, not {target}."
            )


_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name not in ("locked", "policy_error")}


def _validated(values: dict[str, Any], origin: object, where: Any = None) -> dict[str, Any]:
    """Check names and types; ``where(key)`` adds ", line N" to messages (policy and settings files)."""
    def at(key: str) -> str:
        return f"{origin}{where(key) if where else ''}"

    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise DocgenError(f"{at(key)}: unknown setting '{key}'. Known settings: {known}.")
        expected = type(_FIELDS[key].default)
        if expected is tuple:
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise DocgenError(f"{at(key)}: setting '{key}' must be a list of strings, got {value!r}.")
            value = tuple(value)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise DocgenError(f"{at(key)}: setting '{key}' must be a {expected.__name__}, got {value!r}.")
        out[key] = value
    if "backend" in out and out["backend"] not in BACKENDS:
        raise DocgenError(
            f"{at('backend')}: backend must be one of {', '.join(BACKENDS)}, got {out['backend']!r}.")
    for name in out.get("allowed_backends", ()):
        if name not in KNOWN_BACKENDS:
            raise DocgenError(f"{at('allowed_backends')}: unknown backend {name!r} in allowed_backends; "
                              f"known: {', '.join(KNOWN_BACKENDS)}.")
    if "log_level" in out:
        out["log_level"] = out["log_level"].upper()
        if out["log_level"] not in LOG_LEVELS:
            raise DocgenError(f"{at('log_level')}: log_level must be one of {', '.join(LOG_LEVELS)}, "
                              f"got {values['log_level']!r}.")
    if "jobs" in out and not 0 <= out["jobs"] <= 256:
        raise DocgenError(f"{at('jobs')}: jobs must be between 0 (automatic) and 256, got {out['jobs']}.")
    if "cache_mb" in out and not 0 <= out["cache_mb"] <= 100_000:
        raise DocgenError(f"{at('cache_mb')}: cache_mb must be between 0 (no section cache) and 100000 MB, "
                          f"got {out['cache_mb']}.")
    if "server_timeout" in out and not 1 <= out["server_timeout"] <= 86400:
        raise DocgenError(f"{at('server_timeout')}: server_timeout must be between 1 and 86400 seconds, "
                          f"got {out['server_timeout']}.")
    if out.get("server_url") and not re.match(r"https?://[^/\s]+", out["server_url"]):
        raise DocgenError(f"{at('server_url')}: server_url must start with http:// or https:// and name a host, "
                          f"got {out['server_url']!r} (for example http://127.0.0.1:8080/v1).")
    if out.get("on_unsupported") not in (None, "", "mark", "drop", "fail"):
        raise DocgenError(f"{at('on_unsupported')}: on_unsupported must be mark, drop or fail (or empty for the "
                          f"template's choice), got {out['on_unsupported']!r}.")
    if "n_ctx" in out and not 256 <= out["n_ctx"] <= 131072:
        raise DocgenError(f"{at('n_ctx')}: n_ctx must be between 256 and 131072 tokens, got {out['n_ctx']}.")
    return out


def _line_finder(text: str) -> Any:
    """``where(key)`` -> ", line N" for the first line assigning ``key`` in a TOML text ("" if not found)."""
    def where(key: str) -> str:
        pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""")
        for number, line in enumerate(text.splitlines(), 1):
            if pattern.match(line):
                return f", line {number}"
        return ""
    return where


def _read_toml(path: Path, error: type[DocgenError]) -> tuple[dict[str, Any], str]:
    """(data, text) of a TOML file; ({}, "") when it does not exist."""
    try:
        text = path.read_bytes().decode("utf-8")
        return tomllib.loads(text), text
    except FileNotFoundError:
        return {}, ""
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        if match:
            line = f", line {match.group(1)}"
        else:  # "(at end of document)"
            line = f", line {max(1, len(text.rstrip().splitlines()))}"
        raise error(f"{path}{line}: not valid TOML ({exc}). Fix the file or delete it to use the defaults.") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc}). Save it as UTF-8 or delete it to use the defaults.") from exc
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc}).") from exc


def load_policy() -> dict[str, Any]:
    """The validated values of the machine policy (empty when there is no policy.toml).

    policy.toml holds setting keys at the top level and/or in a ``[settings]`` table. Raises PolicyError naming
    the file and the line for invalid TOML, an unknown key, a wrong type or a contradiction.
    """
    path = paths.policy_file()
    data, text = _read_toml(path, PolicyError)
    where = _line_finder(text)
    flat = {k: v for k, v in data.items() if k != "settings"}
    table = data.get("settings", {})
    if not isinstance(table, dict):
        raise PolicyError(f"{path}{where('settings')}: 'settings' must be a table ([settings]).")
    for key in flat.keys() & table.keys():
        raise PolicyError(f"{path}{where(key)}: '{key}' is set both at the top level and in [settings].")
    for key, value in flat.items():
        if isinstance(value, dict):
            raise PolicyError(f"{path}: unknown table [{key}]; put policy keys at the top level or in [settings].")
    try:
        values = _validated({**flat, **table}, path, where)
    except DocgenError as exc:
        raise PolicyError(str(exc)) from exc
    probe = Settings(**{k: v for k, v in values.items()})
    if not probe.usable_backends():
        raise PolicyError(f"{path}{where('allowed_backends')}: the policy allows no backend at all "
                          f"(allowed_backends = {list(probe.allowed_backends)}, allow_remote = {probe.allow_remote}).")
    if "backend" in values and values["backend"] not in probe.usable_backends():
        raise PolicyError(f"{path}{where('backend')}: backend {values['backend']!r} is not among the allowed "
                          f"backends ({', '.join(probe.usable_backends())}).")
    return values


def load_settings() -> Settings:
    """Read policy.toml and settings.toml (defaults -> user -> policy; policy keys are locked).

    Raises PolicyError (file and line) for a malformed policy (a broken policy never yields an unlocked app),
    DocgenError naming the file and key for a malformed settings.toml.
    """
    policy = load_policy()
    user, text = _read_toml(paths.settings_file(), DocgenError)
    for key in POLICY_ONLY & user.keys():
        raise DocgenError(f"{paths.settings_file()}{_line_finder(text)(key)}: '{key}' can only be set by the machine "
                          f"policy ({paths.policy_file()}); remove it from settings.toml.")
    values = _validated(user, paths.settings_file(), _line_finder(text))
    return _apply_policy(values, policy)


def _apply_policy(values: dict[str, Any], policy: dict[str, Any]) -> Settings:
    values = {**values, **policy}
    locked = set(policy)
    settings = Settings(**values)
    usable = settings.usable_backends()
    if settings.backend not in usable:  # the user's choice is not allowed here: the first allowed one
        log.warning("Backend %r is not allowed by the machine policy; using %r.", settings.backend, usable[0])
        settings = dataclasses.replace(settings, backend=usable[0])
    if len(usable) == 1:
        locked.add("backend")
    return dataclasses.replace(settings, locked=frozenset(locked))


def locked_down(problem: str) -> Settings:
    """The settings used when the machine policy is broken: defaults, local backend only, no remote servers, no
    downloads, every key locked, and the problem recorded (see packaging/README.md, "A broken policy")."""
    return Settings(allowed_backends=("llamacpp",), allow_remote=False, allow_downloads=False, locked=frozenset(_FIELDS),
                    policy_error=problem)


def load_settings_for_app() -> tuple[Settings, str]:
    """Settings for the desktop app and read-only commands, never raising: returns (settings, problem).

    - broken policy.toml -> :func:`locked_down` defaults, and the problem;
    - broken settings.toml -> defaults with the policy still applied, and the problem.
    """
    try:
        return load_settings(), ""
    except PolicyError as exc:
        log.error("Machine policy is broken; every setting is locked to its default: %s", exc)
        return locked_down(str(exc)), (
            f"The machine policy is broken, so every setting is locked to its default until IT fixes it: {exc}")
    except DocgenError as exc:
        return _apply_policy({}, load_policy()), f"Using default settings: {exc}"


def save_settings(settings: Settings) -> Path:
    """Write the user's settings.toml. Returns its path.

    Keys the policy locks keep the value the user's file already had (so lifting a lock later gives the user
    their own setting back); policy-only keys are never written. Raises PolicyError while the policy is broken.
    """
    if settings.policy_error:
        raise PolicyError(f"Settings cannot be saved while the machine policy is broken: {settings.policy_error}")
    target = paths.settings_file()
    try:
        previous, _ = _read_toml(target, DocgenError)
    except DocgenError:
        previous = {}
    data: dict[str, Any] = {}
    for k in _FIELDS:
        if k in POLICY_ONLY:
            continue
        if k in settings.locked:
            if k in previous:
                data[k] = previous[k]
        elif getattr(settings, k) != _FIELDS[k].default:
            value = getattr(settings, k)
            data[k] = list(value) if isinstance(value, tuple) else value
    return atomic_write_text(target, tomli_w.dumps(data), label="settings folder")


def ensure_std_streams() -> None:
    """Give a windowed (no console) process real ``sys.stdout``/``sys.stderr``: when they are None (PyInstaller
    ``console=False``, pythonw), send them to ``console.log`` in the user log dir, or to the null device."""
    if sys.stdout is not None and sys.stderr is not None:
        return
    try:
        log_dir = paths.user_log_dir()
        log_dir.mkdir(parents=True, exist_ok=True)
        stream = open(log_dir / "console.log", "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - process-long
    except OSError:
        stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stdout is None:
        sys.stdout = stream
    if sys.stderr is None:
        sys.stderr = stream


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
