"""The command line never shows a traceback: a closed pipe, an OS error or a bug each end in one message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from docgen import paths
from docgen.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_inspect_into_a_closed_pipe_ends_quietly(tmp_path):
    data = tmp_path / "t.csv"
    data.write_text("ticket_id,comment\nT-1,Broken.\n", encoding="utf-8")
    assert main(["--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "o"), "--backend",
                 "fake", "-q"]) == 0
    # `docgen inspect X.docx | head`: the reader is gone before docgen writes
    proc = subprocess.Popen([sys.executable, "-m", "docgen", "inspect", str(tmp_path / "o" / "reply-T-1.docx")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err


def test_a_bug_is_one_line_and_the_traceback_goes_to_the_log(monkeypatch, capsys):
    import docgen.checks

    def broken(path):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(docgen.checks, "check_template", broken)
    assert main(["templates", "check", str(ROOT / "templates" / "service-reply")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("docgen: error: internal error (ZeroDivisionError: division by zero). This is a bug")
    assert "Traceback" not in err
    log = (paths.user_log_dir() / "docgen.log").read_text(encoding="utf-8")
    assert "Traceback" in log and "ZeroDivisionError" in log


def test_an_os_error_is_named_in_words(monkeypatch, capsys):
    import docgen.checks

    def broken(path):
        raise PermissionError(13, "Permission denied", "/srv/templates/reply")

    monkeypatch.setattr(docgen.checks, "check_template", broken)
    assert main(["templates", "check", "whatever"]) == 2
    assert capsys.readouterr().err.startswith("docgen: error: permission denied (/srv/templates/reply).")


def test_debug_shows_the_traceback(monkeypatch):
    import docgen.checks

    monkeypatch.setattr(docgen.checks, "check_template", lambda path: 1 / 0)
    monkeypatch.setenv("DOCGEN_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["templates", "check", "x"])
