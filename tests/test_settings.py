"""Settings and machine policy: defaults, the user's file, locked keys, DOCGEN_HOME."""

from __future__ import annotations

import pytest

from docgen import paths
from docgen.errors import DocgenError, PolicyError
from docgen.settings import Settings, load_settings, save_settings, setup_logging


def test_defaults_without_files():
    s = load_settings()
    assert s == Settings() and s.locked == frozenset()
    assert s.effective_threads() >= 1


def test_automatic_threads_are_the_physical_cores_capped_at_8(monkeypatch):
    """threads = 0: one llama.cpp thread per physical core (psutil), not per logical CPU; at most 8; the
    logical count when psutil cannot tell; a set value is kept."""
    import psutil

    counts = {True: 16, False: 4}
    monkeypatch.setattr(psutil, "cpu_count", lambda logical=True: counts[logical])
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert Settings().effective_threads() == 4  # 4 cores with 2 hyper-threads each (16 logical CPUs)
    counts[False] = 12
    assert Settings().effective_threads() == 8
    counts[False] = None  # psutil cannot tell (some VMs, BSDs)
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    assert Settings().effective_threads() == 3
    assert Settings(threads=6).effective_threads() == 6


def test_docgen_home_moves_every_user_directory(docgen_home):
    for folder in (paths.user_config_dir(), paths.user_data_dir(), paths.user_cache_dir(), paths.user_log_dir()):
        assert str(folder).startswith(str(docgen_home))


def test_round_trip_through_settings_toml():
    saved = save_settings(Settings(n_ctx=2048, temperature=0.5, model_path="/models/qwen.gguf"))
    assert saved == paths.settings_file()
    loaded = load_settings()
    assert (loaded.n_ctx, loaded.temperature, loaded.model_path) == (2048, 0.5, "/models/qwen.gguf")
    assert "seed" not in saved.read_text(encoding="utf-8")  # defaults are not written


def test_bad_settings_file_names_file_and_key():
    paths.settings_file().parent.mkdir(parents=True)
    paths.settings_file().write_text('n_ctx = "big"\n', encoding="utf-8")
    with pytest.raises(DocgenError, match="settings.toml.*n_ctx"):
        load_settings()
    paths.settings_file().write_text("n_ctx = [\n", encoding="utf-8")
    with pytest.raises(DocgenError, match="not valid TOML"):
        load_settings()


def test_policy_locks_keys_against_user_and_command_line():
    paths.settings_file().parent.mkdir(parents=True)
    paths.settings_file().write_text('model_path = "/mine.gguf"\nseed = 3\n', encoding="utf-8")
    paths.policy_file().parent.mkdir(parents=True)
    paths.policy_file().write_text('[settings]\nmodel_path = "/it/approved.gguf"\n', encoding="utf-8")
    s = load_settings()
    assert s.model_path == "/it/approved.gguf" and s.seed == 3 and s.locked == {"model_path"}
    with pytest.raises(PolicyError, match="locked"):
        s.with_overrides(model_path="/other.gguf")
    assert s.with_overrides(seed=9).seed == 9


def test_malformed_policy_fails_closed():
    paths.policy_file().parent.mkdir(parents=True)
    paths.policy_file().write_text("[settings\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="policy.toml"):
        load_settings()


def test_log_file_is_created_in_the_log_dir():
    import logging

    path = setup_logging()
    logging.getLogger("docgen.test").warning("hello log")
    for handler in logging.getLogger("docgen").handlers:
        handler.flush()
    assert path.parent == paths.user_log_dir() and "hello log" in path.read_text(encoding="utf-8")
    for handler in list(logging.getLogger("docgen").handlers):
        logging.getLogger("docgen").removeHandler(handler)
        handler.close()
