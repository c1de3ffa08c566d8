"""Shared test fixtures: every test gets its own DOCGEN_HOME, and paths to real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture(autouse=True)
def docgen_home(tmp_path_factory, monkeypatch) -> Path:
    """Point every user and site directory at a fresh temp folder, so tests never touch the real profile."""
    home = tmp_path_factory.mktemp("docgen-home")
    monkeypatch.setenv("DOCGEN_HOME", str(home / "user"))
    monkeypatch.setenv("DOCGEN_SITE_HOME", str(home / "site"))
    return home


@pytest.fixture
def realdata() -> Path:
    """../shared/realdata (real files made outside the project); tests using it skip if it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"{REALDATA} is not present")
    return REALDATA
