"""docgen.files under faults: a full disk, a read-only drive, a read-only file, no permission. Each gives a
RenderError that names the file or folder and says what to do, and leaves no temp file behind.

Faults the test machine cannot produce on demand (a full disk, a read-only mount) are simulated at the OS call
that reports them (``os.fsync`` / ``os.statvfs``), with the errno the OS really gives.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from docgen import files
from docgen.cli import main
from docgen.errors import RenderError
from docgen.files import TEMP_PREFIX, atomic_write_text

ROOT = Path(__file__).resolve().parent.parent


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(TEMP_PREFIX))


def full_disk(monkeypatch) -> None:
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", fsync)


def test_full_disk_is_a_clear_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    full_disk(monkeypatch)
    with pytest.raises(RenderError, match=r"Cannot write .*report\.json: the disk is full\. Free some space on that "
                                          "drive, or choose another output folder, and run again. Nothing was written"):
        atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert leftovers(tmp_path) == []


def test_batch_on_a_full_disk_ends_with_a_message_not_a_traceback(tmp_path, monkeypatch, capsys):
    data = tmp_path / "t.csv"
    data.write_text("ticket_id,comment\nT-1,Broken.\n", encoding="utf-8")
    out = tmp_path / "out"
    full_disk(monkeypatch)
    code = main(["--template", "service-reply", "--data", str(data), "--out", str(out), "--backend", "fake", "-q"])
    err = capsys.readouterr().err
    assert code != 0
    assert "docgen-report.json: the disk is full" in err and "Traceback" not in err
    assert leftovers(tmp_path) == [] and not list(out.glob("*.docx"))


def test_read_only_drive_is_named_as_such(tmp_path, monkeypatch):
    real = os.statvfs
    folder = tmp_path / "share"
    folder.mkdir()

    def statvfs(path):
        if Path(path) == folder:
            return SimpleNamespace(f_flag=os.ST_RDONLY)
        return real(path)

    monkeypatch.setattr(files.os, "statvfs", statvfs)
    with pytest.raises(RenderError, match=r"Cannot write to the output folder .*share: it is on a read-only drive"):
        atomic_write_text(folder / "a.txt", "x")
    assert list(folder.iterdir()) == []


def test_read_only_file_is_not_replaced(tmp_path):
    target = tmp_path / "letter.docx"
    target.write_text("edited by hand", encoding="utf-8")
    target.chmod(0o444)
    try:
        with pytest.raises(RenderError, match=r"Cannot replace .*letter\.docx: the file is read-only, and docgen does "
                                              "not overwrite a file someone protected"):
            atomic_write_text(target, "new")
        assert target.read_text(encoding="utf-8") == "edited by hand"
        assert leftovers(tmp_path) == []
    finally:
        target.chmod(0o644)


@pytest.mark.parametrize(("code", "words"), [
    (errno.ENOSPC, "the disk is full"), (errno.EDQUOT, "your disk quota is used up"),
    (errno.EROFS, "the drive is read-only"), (errno.EACCES, "permission denied"),
])
def test_os_problems_in_words(code, words):
    assert files.os_problem(OSError(code, os.strerror(code))) == words
