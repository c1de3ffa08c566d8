"""PDF export through an installed office suite: LibreOffice (any platform) or Microsoft Word (Windows).

docgen ships no PDF renderer; a .docx is only laid out faithfully by an office suite. Tried in order:

1. LibreOffice: ``soffice`` / ``libreoffice`` on PATH, else the usual install paths (Windows
   ``C:\\Program Files\\LibreOffice\\program\\soffice.exe``, macOS ``/Applications/LibreOffice.app``).
   Run as ``soffice --headless --norestore -env:UserInstallation=<temp profile> --convert-to pdf`` with a
   fresh profile folder per conversion, so it works while the user has LibreOffice open (a second instance
   sharing the user's profile would just hand the job to the running one, or fail), and with a timeout
   (:data:`TIMEOUT_SECONDS`); the process group is killed when it is exceeded.
2. Word on Windows, through COM (``win32com``, from pywin32, only if it is importable - docgen does not
   depend on it): ``Documents.Open`` read-only, ``ExportAsFixedFormat`` (PDF), close, quit.

The PDF is written next to the .docx (or into ``out_dir``) under the same name with ``.pdf``, through a
temp name and a rename, so a failed conversion never leaves a half-written PDF. Failures raise RenderError
with what to do; :func:`pdf_available` tells the GUI/CLI beforehand (None = available, else the reason).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from docgen.errors import RenderError

TIMEOUT_SECONDS = 180
INSTALL_HINT = ("PDF export needs LibreOffice or Microsoft Word; install LibreOffice from "
                "https://www.libreoffice.org/download/ (free) or export .docx only.")


def known_office_paths() -> list[Path]:
    """Where LibreOffice's ``soffice`` is usually installed when it is not on PATH (per platform)."""
    if sys.platform == "win32":
        roots = [os.environ.get(v) for v in ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432")]
        return [Path(r) / "LibreOffice" / "program" / "soffice.exe" for r in roots if r]
    if sys.platform == "darwin":
        return [Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")]
    return [Path("/usr/bin/soffice"), Path("/usr/local/bin/soffice"), Path("/usr/lib/libreoffice/program/soffice"),
            Path("/opt/libreoffice/program/soffice"), *sorted(Path("/opt").glob("libreoffice*/program/soffice")),
            Path("/snap/bin/libreoffice"), Path("/var/lib/flatpak/exports/bin/org.libreoffice.LibreOffice")]


def find_soffice() -> Path | None:
    """The LibreOffice executable (PATH, then :func:`known_office_paths`), or None. ``docgen doctor`` reports
    what this finds, so the report and the converter always agree."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return Path(found)
    for candidate in known_office_paths():
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def word_available() -> bool:
    """True on Windows when pywin32 is importable and Word is registered for automation (not started)."""
    if sys.platform != "win32":
        return False
    try:
        import win32com.client  # noqa: F401
        import winreg
    except ImportError:
        return False
    try:
        winreg.CloseKey(winreg.OpenKey(winreg.HKEY_CLASSES_ROOT, r"Word.Application\CLSID"))
    except OSError:
        return False
    return True


def pdf_available() -> str | None:
    """None when PDF export can work here; otherwise the reason (for a disabled option's tooltip)."""
    if find_soffice() is not None or word_available():
        return None
    return INSTALL_HINT


def convert_to_pdf(docx_path: Path, out_dir: Path | None = None, *, timeout: float = TIMEOUT_SECONDS) -> Path:
    """Convert ``docx_path`` to ``<out_dir or its folder>/<stem>.pdf``; returns the PDF's path.

    Raises RenderError when no office suite is installed (:data:`INSTALL_HINT`), the conversion fails or takes
    longer than ``timeout`` seconds. The .docx is never changed."""
    docx_path = Path(docx_path)
    if not docx_path.is_file():
        raise RenderError(f"Cannot convert {docx_path} to PDF: the file does not exist.")
    out_dir = Path(out_dir) if out_dir is not None else docx_path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / (docx_path.stem + ".pdf")
    soffice = find_soffice()
    if soffice is not None:
        return _with_libreoffice(soffice, docx_path, target, timeout)
    if word_available():
        return _with_word(docx_path, target)
    raise RenderError(f"Cannot convert {docx_path.name} to PDF. {INSTALL_HINT}")


def _with_libreoffice(soffice: Path, docx_path: Path, target: Path, timeout: float) -> Path:
    profile = Path(tempfile.mkdtemp(prefix="docgen-lo-profile-"))
    work = Path(tempfile.mkdtemp(prefix=".~docgen-pdf-", dir=target.parent))
    cmd = [str(soffice), "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
           f"-env:UserInstallation={profile.as_uri()}", "--convert-to", "pdf", "--outdir", str(work),
           str(docx_path.resolve())]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, **_new_group())
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill(proc)
            raise RenderError(f"Converting {docx_path.name} to PDF took longer than {timeout:.0f} s and was "
                              "stopped; the .docx was kept. Try again, or open it in Word or LibreOffice and "
                              "save it as PDF there.") from exc
        produced = work / (docx_path.stem + ".pdf")
        if proc.returncode != 0 or not produced.is_file() or produced.stat().st_size == 0:
            detail = (err or out or b"").decode("utf-8", "replace").strip().splitlines()
            raise RenderError(f"LibreOffice could not convert {docx_path.name} to PDF (exit code "
                              f"{proc.returncode}{': ' + detail[-1] if detail else ''}); the .docx was kept.")
        os.replace(produced, target)
        return target
    except OSError as exc:
        raise RenderError(f"Could not run LibreOffice ({soffice}) to convert {docx_path.name}: "
                          f"{exc.strerror or exc}. {INSTALL_HINT}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)


def _new_group() -> dict:
    if sys.platform == "win32":
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    return {"start_new_session": True}


def _kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        if sys.platform == "win32":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.communicate(timeout=10)


def _with_word(docx_path: Path, target: Path) -> Path:  # pragma: no cover - needs Windows and Word
    import pythoncom
    import win32com.client

    tmp = target.with_name(f".~docgen-{target.stem}.pdf")
    pythoncom.CoInitialize()
    word = None
    try:
        word = win32com.client.DispatchEx("Word.Application")
        word.Visible = False
        word.DisplayAlerts = 0  # wdAlertsNone
        doc = word.Documents.Open(str(docx_path.resolve()), ConfirmConversions=False, ReadOnly=True,
                                  AddToRecentFiles=False, Visible=False)
        try:
            doc.ExportAsFixedFormat(str(tmp.resolve()), 17)  # wdExportFormatPDF
        finally:
            doc.Close(0)  # wdDoNotSaveChanges
        os.replace(tmp, target)
        return target
    except Exception as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise RenderError(f"Microsoft Word could not convert {docx_path.name} to PDF ({exc}); the .docx was "
                          "kept.") from exc
    finally:
        if word is not None:
            with contextlib.suppress(Exception):
                word.Quit()
        pythoncom.CoUninitialize()
