"""Batch runs from the command line are logged to docgen.log (start, end with the exit code, each document
not written, and runs refused before any work), like the desktop app's events."""

from __future__ import annotations

import logging

import pytest

from docgen import paths
from docgen.cli import main



@pytest.fixture(autouse=True)
def _drop_log_handlers():
    yield
    root = logging.getLogger("docgen")
    for handler in list(root.handlers):
        if getattr(handler, "baseFilename", None):
            root.removeHandler(handler)
            handler.close()


def _log() -> str:
    return (paths.user_log_dir() / "docgen.log").read_text(encoding="utf-8")


def test_batch_run_is_logged(tmp_path):
    from docgen.templates.catalog import resolve

    sample = resolve("service-reply").sample_data
    out = tmp_path / "out"
    assert main(["--template", "service-reply", "--data", str(sample), "--out", str(out), "--backend", "fake",
                 "-q"]) == 0
    text = _log()
    assert "Batch run: template service-reply, data" in text and "backend fake" in text
    assert f"Batch run ended (exit 0): {len(list(out.glob('*.docx')))} written, 0 failed" in text


def test_refused_run_is_logged(tmp_path):
    assert main(["--template", "service-reply", "--data", str(tmp_path / "missing.csv"), "--out",
                 str(tmp_path / "out"), "--backend", "fake"]) == 2
    assert "Batch run not started" in _log() and "missing.csv" in _log()
