"""Writing files so that a crash never leaves a half-written one: a temp file in the same folder, fsync, then
``os.replace``. Used for documents, reports, provenance sidecars and settings alike.

The temp file gets the permissions an ordinary ``open()`` would give (0666 minus the process umask), not
``mkstemp``'s private 0600, so colleagues on a shared drive can open what docgen writes.
"""

from __future__ import annotations

import contextlib
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
        raise RenderError(
            f"Cannot create the {label} {folder}: {exc.strerror or exc}. Choose a folder you can write to."
        ) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RenderError(f"Cannot write to the {label} {folder}: permission denied. "
                          "Choose a folder you can write to.")


def atomic_write(out_path: Path, write: Callable[[BinaryIO], None], *, label: str = "output folder") -> Path:
    """Call ``write(fileobj)`` on a temp file next to ``out_path`` (``.~docgen-*.tmp``), fsync, then
    ``os.replace`` it onto ``out_path``. On any error the temp file is removed and ``out_path`` is untouched;
    OS errors become RenderError naming the file or folder (``label`` says which kind of folder). Returns
    ``out_path``."""
    folder = out_path.parent
    prepare_folder(folder, label)
    if out_path.is_dir():
        raise RenderError(f"Cannot write {out_path}: it is a folder. Choose another file name.")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise RenderError(f"Cannot write to the {label} {folder}: {exc.strerror or exc}. "
                          "Choose a folder you can write to.") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):  # e.g. a file system without Unix permissions
            os.chmod(tmp, _FILE_MODE)
        try:
            os.replace(tmp, out_path)
        except PermissionError as exc:
            raise RenderError(
                f"Cannot replace {out_path}: {exc.strerror or exc}. "
                "If the file is open in Word, close it and try again."
            ) from exc
        except OSError as exc:
            raise RenderError(f"Cannot write {out_path}: {exc.strerror or exc}.") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return out_path


def atomic_write_text(out_path: Path, text: str, *, label: str = "output folder") -> Path:
    """:func:`atomic_write` for UTF-8 text."""
    return atomic_write(out_path, lambda fh: fh.write(text.encode("utf-8")), label=label)
