"""``docgen doctor``: what docgen sees on this machine, for users and IT, without loading a model.

Prints the version, the folders in use, the machine policy in force, the model that would be used and its size,
the CPU features llama.cpp needs, the llama.cpp library, the office suite used for PDF export, and whether the
desktop app can open a window (a display, and the system libraries Qt's platform plugin needs, named with their
packages when missing). Exit code 0
when docgen can work (warnings allowed), 1 when it cannot: no model, a malformed policy, an unwritable user
folder, or llama.cpp missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from docgen import paths
from docgen.errors import DocgenError
from docgen.render.pdf import find_soffice, word_available
from docgen.settings import Settings, load_settings, load_settings_for_app
from docgen.version import __version__

OK, WARN, FAIL, INFO = "ok", "warning", "FAIL", "info"
#: CPU features the llama.cpp x86 build uses; AVX2 (with FMA, F16C) is the one that matters for speed.
X86_FEATURES = ("avx", "avx2", "fma", "f16c")


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    topic: str
    status: str
    detail: str


# ---------------------------------------------------------------- CPU


def cpu_features() -> dict[str, bool] | None:
    """{feature: present} for :data:`X86_FEATURES`, or None when this OS/CPU gives no cheap answer."""
    if sys.platform.startswith("linux"):
        try:
            text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return _flags_from_cpuinfo(text)
    if sys.platform == "win32":
        return _windows_features()
    if sys.platform == "darwin":
        return _mac_features()
    return None


def _flags_from_cpuinfo(text: str) -> dict[str, bool] | None:
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags = set(value.split())
            return {f: f in flags for f in X86_FEATURES}
    return None


def _windows_features() -> dict[str, bool] | None:  # pragma: no cover - Windows only
    import ctypes

    try:
        present = ctypes.windll.kernel32.IsProcessorFeaturePresent
    except AttributeError:
        return None
    # PF_AVX_INSTRUCTIONS_AVAILABLE = 39, PF_AVX2_INSTRUCTIONS_AVAILABLE = 40 (Windows 10+); FMA and F16C have no
    # flag of their own, every AVX2 CPU has them.
    avx, avx2 = bool(present(39)), bool(present(40))
    return {"avx": avx, "avx2": avx2, "fma": avx2, "f16c": avx2}


def _mac_features() -> dict[str, bool] | None:  # pragma: no cover - macOS only
    import subprocess

    try:
        out = subprocess.run(["sysctl", "-n", "machdep.cpu.features", "machdep.cpu.leaf7_features"],
                             capture_output=True, text=True, timeout=5).stdout.lower()
    except (OSError, subprocess.SubprocessError):
        return None
    flags = set(out.replace(".", "_").split())
    if not flags:
        return None
    return {"avx": "avx1_0" in flags or "avx" in flags, "avx2": "avx2" in flags, "fma": "fma" in flags,
            "f16c": "f16c" in flags}


def check_cpu(features: dict[str, bool] | None = None, machine: str | None = None) -> Check:
    """CPU features llama.cpp needs, with a plain warning when AVX2 is missing."""
    machine = (machine or platform.machine()).lower()
    if machine in ("arm64", "aarch64", "armv8l"):
        return Check("CPU", OK, f"{machine} (llama.cpp uses NEON; no AVX needed)")
    if machine not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return Check("CPU", INFO, f"{machine}: features not checked")
    features = cpu_features() if features is None else features
    if features is None:
        return Check("CPU", INFO, f"{machine}: CPU features could not be read on this system")
    listed = " ".join(f"{name}{'' if ok else ' (missing)'}" for name, ok in features.items())
    if not features.get("avx2"):
        return Check("CPU", WARN, f"{listed}. This processor has no AVX2: the local model will run several times "
                     "slower, and a build of docgen made for AVX2 processors may not start at all. Ask IT for a "
                     "build made without AVX2, or use a newer PC.")
    return Check("CPU", OK, listed)


# ---------------------------------------------------------------- office suite


def check_office() -> Check:
    """The office suite PDF export would use (:func:`docgen.render.pdf.find_soffice`, then Word)."""
    office = find_soffice()
    if office:
        return Check("Office suite", OK, f"{office} (PDF export available)")
    if word_available():
        return Check("Office suite", OK, "Microsoft Word (PDF export available)")
    return Check("Office suite", WARN, "no LibreOffice (soffice) on PATH or in the usual places: PDF export is "
                 "disabled, .docx works. Install LibreOffice to enable PDF.")


# ---------------------------------------------------------------- folders, policy, model


def _writable(folder: Path) -> str | None:
    """None if docgen can create and write files in ``folder`` (creating it), else the reason."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-", delete=True):
            pass
    except OSError as exc:
        return str(exc)
    return None


def check_folders(settings: Settings) -> list[Check]:
    checks = []
    for name, folder in (("config", paths.user_config_dir()), ("data", paths.user_data_dir()),
                         ("cache", paths.user_cache_dir()), ("log", paths.user_log_dir())):
        problem = _writable(folder)
        checks.append(Check(f"user {name}", FAIL if problem else OK,
                            f"{folder}" + (f": NOT WRITABLE ({problem})" if problem else "")))
    checks.append(Check("site config", INFO, str(paths.site_config_dir())))
    checks.append(Check("site data", INFO, str(paths.site_data_dir())))
    bundled = paths.bundled_templates_dir()
    count = sum(1 for p in bundled.iterdir() if p.is_dir()) if bundled.is_dir() else 0
    checks.append(Check("bundled templates", OK if count else WARN, f"{bundled} ({count} templates)"))
    for folder in settings.template_dirs:
        exists = Path(folder).expanduser().is_dir()
        checks.append(Check("template folder", OK if exists else WARN,
                            folder + ("" if exists else ": does not exist or cannot be reached")))
    out = settings.effective_output_dir()
    existing = next((p for p in (out, *out.parents) if p.exists()), None)
    writable = existing is not None and os.access(existing, os.W_OK)
    checks.append(Check("output folder", OK if writable else WARN,
                        f"{out}" + ("" if writable else ": not writable; choose another in Settings")))
    return checks


def check_policy() -> tuple[Settings, list[Check]]:
    """The settings in force and the policy lines; a malformed policy is a FAIL."""
    policy = paths.policy_file()
    try:
        settings = load_settings()
        problem = ""
    except DocgenError as exc:
        settings, problem = load_settings_for_app()
        problem = problem or str(exc)
    if settings.policy_error:
        return settings, [Check("policy", FAIL, f"{policy} is malformed: {settings.policy_error} "
                                "Until it is fixed the command line refuses to run and the desktop app runs "
                                "with every setting locked to its default.")]
    checks = []
    if problem:
        checks.append(Check("settings", WARN, problem))
    if not policy.is_file():
        checks.append(Check("policy", INFO, f"none ({policy} does not exist)"))
    else:
        locked = ", ".join(f"{k}={settings.shown(k)}" for k in sorted(settings.locked)) or "no keys"
        checks.append(Check("policy", OK, f"{policy} locks: {locked}"))
    checks.append(Check("backends", INFO, f"allowed: {', '.join(settings.usable_backends())}; "
                        f"remote servers {'allowed' if settings.allow_remote else 'off'}; "
                        f"model downloads {'allowed' if settings.allow_downloads else 'off'}; "
                        f"in use: {settings.backend}"))
    return settings, checks


def check_model(settings: Settings) -> list[Check]:
    """The model docgen would load (found and its size; never loaded) and the llama.cpp library."""
    from docgen.llm.discovery import embedded_model, find_model

    needed = settings.backend == "llamacpp"
    bad = FAIL if needed else WARN
    checks = []
    try:
        model = find_model(settings.model_path or None)
    except DocgenError as exc:
        checks.append(Check("model", bad, str(exc)))
    else:
        size = model.stat().st_size
        kind = "embedded default" if model == embedded_model() else (
            "policy" if "model_path" in settings.locked else "settings" if settings.model_path else "models folder")
        checks.append(Check("model", OK, f"{model} ({size / 1e6:.1f} MB, {kind})"))
        checks.append(check_chat_template(model))
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        checks.append(Check("llama.cpp", bad, "llama-cpp-python is not installed (pip install llama-cpp-python)"))
    else:
        lib = Path(spec.origin).parent / "lib"
        libs = sorted(p.name for p in lib.glob("*llama*")) if lib.is_dir() else []
        checks.append(Check("llama.cpp", OK if libs else bad,
                            f"{lib}" + ("" if libs else ": no llama library found; reinstall llama-cpp-python")))
    return checks


def check_server(settings: Settings) -> Check:
    """The inference server of ``backend = "openai"`` (docs/scaling.md): asked for its models and one token
    (:func:`docgen.llm.openai.test_connection`, no retries). FAIL when it is the backend in use, else WARN."""
    from docgen.llm.openai import test_connection

    bad = FAIL if settings.backend == "openai" else WARN
    if not settings.server_url:
        return Check("server", bad, "backend openai needs server_url (Settings -> Inference server, or --base-url)")
    try:
        return Check("server", OK, test_connection(settings.server_url, model=settings.server_model,
                                                   api_key=settings.api_key(),
                                                   require_tls=settings.server_require_tls))
    except DocgenError as exc:
        return Check("server", bad, str(exc))


def check_desktop() -> Check:
    """Whether the desktop app can open a window here: a display, and every library Qt's platform plugin needs
    (the dynamic loader is asked to load the plugin; :mod:`docgen.qtplatform`). A warning, not a failure: batch
    mode works without a screen."""
    from docgen.qtplatform import chosen_plugin, platform_plugin, window_problem

    problem = window_problem()
    if problem is not None:
        return Check("desktop app", WARN, problem.message[0].upper() + problem.message[1:])
    plugin = chosen_plugin()
    library = platform_plugin(plugin)
    where = f" ({library.name} loads)" if library else ""
    return Check("desktop app", OK, f"Qt platform '{plugin}'{where}")


def check_chat_template(model: Path) -> Check:
    """Whether the model's GGUF header has a chat template (read without loading the weights); a model without
    one is a base model docgen cannot use well (:func:`docgen.llm.discovery.base_model_warning`)."""
    from docgen.models import base_model_warning, read_gguf

    try:
        info = read_gguf(model)
    except DocgenError as exc:
        return Check("chat template", FAIL, str(exc))
    warning = base_model_warning(info)
    if warning:
        return Check("chat template", WARN, warning)
    return Check("chat template", OK, f"present ({info.architecture}, {info.quantization}, trained context "
                 f"{info.context_length or '?'} tokens)")


def run_checks() -> list[Check]:
    """Every check, in report order."""
    frozen = " (frozen app)" if paths.is_frozen() else ""
    checks = [Check("docgen", INFO, f"{__version__}{frozen}, Python {platform.python_version()}, "
                    f"{platform.system()} {platform.release()} {platform.machine()}")]
    settings, policy_checks = check_policy()
    checks += check_folders(settings)
    checks += policy_checks
    checks.append(Check("log", INFO, f"{paths.user_log_dir() / 'docgen.log'} (level {settings.log_level})"))
    checks += check_model(settings)
    if settings.backend == "openai" or settings.server_url:
        checks.append(check_server(settings))
    checks.append(check_cpu())
    checks.append(check_office())
    checks.append(check_desktop())
    return checks


def report(checks: Sequence[Check], out: TextIO) -> int:
    """Print the checks; return 0 when docgen can work, 1 when a check failed."""
    width = max(len(c.topic) for c in checks) + 1
    for c in checks:
        mark = {OK: "  ", INFO: "  ", WARN: "! ", FAIL: "X "}[c.status]
        print(f"{mark}{c.topic + ':':<{width}} {c.detail}", file=out)
    failed = [c for c in checks if c.status == FAIL]
    warned = [c for c in checks if c.status == WARN]
    if failed:
        print(f"\ndocgen cannot work on this machine: {'; '.join(c.topic for c in failed)} (see X above).",
              file=out)
        return 1
    print(f"\ndocgen can work on this machine{f' ({len(warned)} warning(s), see ! above)' if warned else ''}.",
          file=out)
    return 0


def main(argv: Sequence[str] = ()) -> int:
    """``docgen doctor``: print the report; exit 0 (works), 1 (cannot work)."""
    argparse.ArgumentParser(prog="docgen doctor", description="Check docgen's installation on this machine: "
                            "folders, policy, model, CPU, office suite. Exit 1 when docgen cannot work.",
                            ).parse_args(list(argv))
    return report(run_checks(), sys.stdout)
