"""Writing files so that a crash never leaves a half-written one: a temp file in the same folder, fsync, then
``os.replace``. Used for documents, reports, provenance sidecars and settings alike.

The temp file gets the permissions an ordinary ``open()`` would give (0666 minus the process umask), not
``mkstemp``'s private 0600, so colleagues on a shared drive can open what docgen writes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from docgen.errors import RenderError

TEMP_PREFIX = ".~docgen-"
TEMP_SUFFIX = ".tmp"


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()  # read once at import, before any worker thread exists


def os_problem(exc: OSError) -> str:
    """An OS error in words a user acts on: "the disk is full", "the drive is read-only", "permission denied"..."""
    problems = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "your disk quota is used up",
        errno.EROFS: "the drive is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENAMETOOLONG: "the file name is too long for this system",
        errno.EIO: "the drive reported an input/output error (is it still connected?)",
    }
    return problems.get(exc.errno, exc.strerror or str(exc))


def _advice(exc: OSError, label: str) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"Free some space on that drive, or choose another {label}, and run again."
    if exc.errno == errno.EROFS:
        return "Choose a folder on a drive you can write to."
    return "Choose a folder you can write to, or ask whoever manages it for write access."


def read_only_drive(folder: Path) -> bool:
    """True when ``folder`` (existing) is on a file system mounted read-only (POSIX ``statvfs``; False where
    that cannot be told, e.g. Windows)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):
        return False


def prepare_folder(folder: Path, label: str = "output folder") -> None:
    """Create ``folder`` (and parents) if needed. Raises RenderError naming it (as ``label``: "output folder",
    "settings folder"...) when that is impossible (a file is in the way, no permission) or it cannot be
    written."""
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise RenderError(
            f"Cannot write to the {label} {folder}: {blocker} is a file, not a folder. "
            "Choose another output folder or move the file."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"Cannot create the {label} {folder}: {os_problem(exc)}. {_advice(exc, label)}") from exc
    if read_only_drive(folder):
        raise RenderError(f"Cannot write to the {label} {folder}: it is on a read-only drive (or share). "
                          "Choose a folder on a drive you can write to.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RenderError(f"Cannot write to the {label} {folder}: you do not have permission to write there "
                          "(the folder is read-only for you). Choose a folder you can write to, or ask whoever "
                          "manages it for write access.")


def _read_only_file(path: Path) -> bool:
    """True when ``path`` exists and nobody may write it (mode without any write bit; Windows' read-only
    attribute shows the same way). Root could replace it anyway; docgen does not."""
    try:
        return path.is_file() and not path.stat().st_mode & 0o222
    except OSError:
        return False


def atomic_write(out_path: Path, write: Callable[[BinaryIO], None], *, label: str = "output folder") -> Path:
    """Call ``write(fileobj)`` on a temp file next to ``out_path`` (``.~docgen-*.tmp``), fsync, then
    ``os.replace`` it onto ``out_path``. On any error the temp file is removed and ``out_path`` is untouched;
    OS errors (a full disk, a read-only drive, no permission, the file open in Word) become RenderError naming the
    file or folder in plain words (:func:`os_problem`; ``label`` says which kind of folder). An existing
    ``out_path`` that is read-only is not replaced (RenderError). Returns ``out_path``."""
    folder = out_path.parent
    prepare_folder(folder, label)
    if out_path.is_dir():
        raise RenderError(f"Cannot write {out_path}: it is a folder. Choose another file name.")
    if _read_only_file(out_path):
        raise RenderError(f"Cannot replace {out_path}: the file is read-only, and docgen does not overwrite a file "
                          "someone protected. Make it writable (clear 'Read-only' in its properties) or move it away, "
                          "then run again.")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise RenderError(f"Cannot write to the {label} {folder}: {os_problem(exc)}. {_advice(exc, label)}") from exc
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise RenderError(f"Cannot write {out_path}: {os_problem(exc)}. {_advice(exc, label)} Nothing was "
                              "written.") from exc
        with contextlib.suppress(OSError):  # e.g. a file system without Unix permissions
            os.chmod(tmp, _FILE_MODE)
        try:
            os.replace(tmp, out_path)
        except PermissionError as exc:
            raise RenderError(
                f"Cannot replace {out_path}: {os_problem(exc)}. If the file is open in Word (or another program), "
                "close it and try again; if it is read-only, make it writable."
            ) from exc
        except OSError as exc:
            raise RenderError(f"Cannot write {out_path}: {os_problem(exc)}. {_advice(exc, label)}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return out_path


def atomic_write_text(out_path: Path, text: str, *, label: str = "output folder") -> Path:
    """:func:`atomic_write` for UTF-8 text."""
    return atomic_write(out_path, lambda fh: fh.write(text.encode("utf-8")), label=label)
