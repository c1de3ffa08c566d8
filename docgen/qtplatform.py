"""Can the desktop app open a window here? Checked *before* Qt is started, without importing PySide6.

Qt aborts the whole process (exit 134, "This application failed to start because no Qt platform plugin could
be initialized") when it has no display or when its platform plugin cannot load; the app then never gets to
say what is wrong. :func:`window_problem` finds those cases first and says, in docgen's words, what is missing
and how to fix it. Used by ``docgen gui`` (refuses to start, exit 2) and ``docgen doctor`` (a warning: batch
mode still works).

Rules (Linux and other X11/Wayland systems; Windows and macOS always have their platform plugin):

- ``QT_QPA_PLATFORM`` names the plugin when set (``offscreen``, ``minimal``, ``vnc``, ``eglfs``, ``linuxfb``
  need no display); otherwise Qt picks ``wayland`` in a Wayland session (``WAYLAND_DISPLAY`` set and
  ``XDG_SESSION_TYPE=wayland``) and ``xcb`` (X11) elsewhere.
- ``xcb`` needs ``DISPLAY``, ``wayland`` needs ``WAYLAND_DISPLAY``: without one, there is no screen to show a
  window on (an SSH session without ``-X``, a server, a service).
- The plugin's shared libraries must all be found: ``ldd`` (or, without it, ``dlopen`` through ctypes) on
  PySide6's ``plugins/platforms/libq<name>.so`` lists the missing ones; ``xcb`` also needs ``libxcb-cursor.so.0``,
  which Qt 6.5+ loads at run time. Each missing library is named with its Debian/Ubuntu package
  (:func:`debian_package`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WindowProblem", "debian_package", "missing_libraries", "platform_plugin", "window_problem"]

#: Plugins that draw without any display server.
HEADLESS_PLUGINS = frozenset({"offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb", "vkkhrdisplay"})
#: Debian/Ubuntu packages whose names do not follow the soname rule of :func:`debian_package`.
_PACKAGE_EXCEPTIONS = {
    "libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0", "libgobject-2.0.so.0": "libglib2.0-0",
    "libxcb-util.so.1": "libxcb-util1", "libX11-xcb.so.1": "libx11-xcb1", "libGLX.so.0": "libglx0",
}


@dataclass(frozen=True)
class WindowProblem:
    """Why no window can open: ``message`` for people (what, why, how to fix); ``missing`` the libraries not
    found and ``packages`` the Debian/Ubuntu packages that provide them (both empty when the display is the
    problem)."""

    message: str
    missing: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships ``soname``, by Debian's library packaging rule: the library name
    plus its major version, with a hyphen between when the name ends in a digit, lower case
    (``libxcb-icccm.so.4`` -> ``libxcb-icccm4``, ``libxkbcommon-x11.so.0`` -> ``libxkbcommon-x11-0``)."""
    if soname in _PACKAGE_EXCEPTIONS:
        return _PACKAGE_EXCEPTIONS[soname]
    m = re.match(r"^(.+?)\.so\.(\d+)", soname)
    if not m:
        return soname.split(".so")[0].lower()
    name, major = m.group(1).lower(), m.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def chosen_plugin(environ: dict[str, str] | None = None) -> str:
    """The platform plugin Qt will try first (module docstring rules)."""
    env = os.environ if environ is None else environ
    forced = env.get("QT_QPA_PLATFORM", "").strip()
    if forced:
        return forced.split(";")[0].split(":")[0].strip().lower()
    if env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return "wayland"
    return "xcb"


def platform_plugin(name: str) -> Path | None:
    """PySide6's shared library for platform plugin ``name`` (``libqxcb.so``), found without importing PySide6;
    None when PySide6 or the file is not there."""
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        for sub in ("Qt/plugins/platforms", "plugins/platforms"):
            candidate = Path(root) / sub / f"libq{name}.so"
            if candidate.is_file():
                return candidate
    return None


def missing_libraries(library: Path) -> list[str]:
    """Sonames ``library`` needs that the dynamic loader cannot find (``ldd``; else the first one ``dlopen``
    reports). Empty when everything loads or nothing can be told."""
    ldd = shutil.which("ldd")
    if ldd:
        try:
            out = subprocess.run([ldd, str(library)], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        found = re.findall(r"^\s*(\S+)\s+=>\s+not found", out, re.M)
        if found or out:
            return list(dict.fromkeys(found))
    try:
        ctypes.CDLL(str(library))
    except OSError as exc:
        m = re.match(r"^(\S+?\.so[.\d]*): cannot open shared object file", str(exc))
        return [m.group(1)] if m else []
    return []


def _display_reachable(plugin: str, env: dict[str, str]) -> bool:
    """True unless the display named in the environment certainly has no server: a local X display without its
    socket (``/tmp/.X11-unix/X<n>``), a TCP X display (``ssh -X``: ``localhost:10.0``) refusing connections on
    port 6000 + n, a Wayland socket missing from ``XDG_RUNTIME_DIR``. Unknown forms count as reachable."""
    import socket

    if plugin == "wayland":
        name = env.get("WAYLAND_DISPLAY", "")
        runtime = env.get("XDG_RUNTIME_DIR", "")
        path = Path(name) if name.startswith("/") else Path(runtime) / name if runtime else None
        return path is None or path.exists()
    m = re.match(r"^(?P<host>[^:]*):(?P<number>\d+)(?:\.\d+)?$", env.get("DISPLAY", ""))
    if not m:
        return True
    host, number = m.group("host"), int(m.group("number"))
    if host in ("", "unix"):
        if Path(f"/tmp/.X11-unix/X{number}").exists():
            return True
        try:  # Linux also listens on an abstract socket with the same name
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(2)
                sock.connect(f"\0/tmp/.X11-unix/X{number}")
            return True
        except OSError:
            return False
    try:
        with socket.create_connection((host, 6000 + number), timeout=2):
            return True
    except OSError:
        return False


def window_problem(environ: dict[str, str] | None = None, platform: str | None = None) -> WindowProblem | None:
    """What stops the desktop app from opening a window on this machine, or None (module docstring rules)."""
    platform = platform or sys.platform
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    env = os.environ if environ is None else environ
    plugin = chosen_plugin(env)
    if plugin in HEADLESS_PLUGINS:
        return None
    variable = {"xcb": "DISPLAY", "wayland": "WAYLAND_DISPLAY"}.get(plugin)
    if variable and not env.get(variable):
        return WindowProblem(
            f"the desktop app needs a screen, and there is none here: {variable} is not set (a server, a service, "
            "or an SSH session without X forwarding). Run docgen on a desktop session, connect with 'ssh -X', or use "
            "batch mode: docgen --template ID --data FILE --out DIR (see 'docgen --help').")
    if variable and not _display_reachable(plugin, env):
        return WindowProblem(
            f"the desktop app needs a screen, but nothing answers at {variable}={env[variable]} (the display server "
            "has stopped, or the SSH connection that forwarded it is gone). Log in to the desktop again, or use "
            "batch mode: docgen --template ID --data FILE --out DIR.")
    library = platform_plugin(plugin)
    if library is None:
        return None
    missing = missing_libraries(library)
    if plugin == "xcb" and ctypes.util.find_library("xcb-cursor") is None:
        missing.append("libxcb-cursor.so.0")
    if not missing:
        return None
    packages = tuple(dict.fromkeys(debian_package(m) for m in missing))
    listed = ", ".join(f"{m} ({debian_package(m)})" for m in missing)
    return WindowProblem(
        f"the desktop app cannot start: Qt's '{plugin}' display plugin needs system libraries that are not "
        f"installed: {listed}. Install them (Debian/Ubuntu: sudo apt install {' '.join(packages)}; other systems "
        "have packages of similar names), or use batch mode: docgen --template ID --data FILE --out DIR.",
        tuple(missing), packages)
