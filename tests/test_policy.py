"""Machine policy (policy.toml in the site config dir): locked keys win over the user's settings and the command
line; IT's keys (model file or folder, allowed backends, remote off, output folder, template folders, log level);
a malformed policy fails safe (CLI exit 2 naming file and line; app locked to defaults), never open."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from docgen import cli, paths
from docgen.errors import DocgenError, PolicyError
from docgen.settings import (Settings, load_policy, load_settings, load_settings_for_app, save_settings)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "templates" / "service-reply" / "sample.csv"


def write_policy(text: str) -> Path:
    policy = paths.policy_file()
    policy.parent.mkdir(parents=True, exist_ok=True)
    policy.write_text(text, encoding="utf-8")
    return policy


def write_user(text: str) -> None:
    paths.settings_file().parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text(text, encoding="utf-8")


def batch(tmp_path, *extra: str) -> list[str]:
    return ["--template", "service-reply", "--data", str(SAMPLE), "--out", str(tmp_path / "out"), "-q", *extra]


# ---------------------------------------------------------------- locked keys win


def test_policy_keys_at_top_level_win_over_user_settings_and_are_locked():
    write_user('seed = 3\nlog_level = "DEBUG"\nthreads = 4\n')
    write_policy('seed = 11\nlog_level = "warning"\n')
    s = load_settings()
    assert (s.seed, s.log_level, s.threads) == (11, "WARNING", 4)
    assert {"seed", "log_level"} <= s.locked and "threads" not in s.locked
    with pytest.raises(PolicyError, match="'seed' is locked"):
        s.with_overrides(seed=12)
    assert s.with_overrides(seed=11, threads=2).threads == 2  # same value or an unlocked key: fine


@pytest.mark.parametrize("policy, option, needle", [
    ('seed = 11\n', ["--seed", "12"], "'seed' is locked"),
    ('[settings]\nmodel_path = "/it/models"\n', ["--model", "/mine.gguf"], "'model_path' is locked"),
    ('backend = "llamacpp"\n', ["--backend", "fake"], "'backend' is locked"),
    ('allowed_backends = ["llamacpp"]\n', ["--backend", "fake"], "backend"),
])
def test_command_line_cannot_override_a_locked_key(tmp_path, capsys, policy, option, needle):
    write_policy(policy)
    code = cli.main(batch(tmp_path, *option))
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert needle in err and str(paths.policy_file()) in err
    assert not (tmp_path / "out").exists()


def test_allowed_backends_limit_the_choice_and_lock_a_single_one():
    write_user('backend = "fake"\n')
    write_policy('allowed_backends = ["llamacpp"]\n')
    s = load_settings()
    assert s.backend == "llamacpp" and "backend" in s.locked and s.usable_backends() == ("llamacpp",)
    with pytest.raises(PolicyError, match="not allowed|locked"):
        s.with_overrides(backend="fake")


def test_allow_remote_false_removes_remote_backends():
    write_policy('allowed_backends = ["llamacpp", "fake", "openai"]\nallow_remote = false\n')
    s = load_settings()
    assert s.usable_backends() == ("llamacpp", "fake") and not s.allow_remote
    assert Settings(allowed_backends=("llamacpp", "openai")).usable_backends() == ("llamacpp", "openai")


def test_policy_only_keys_cannot_come_from_the_user():
    write_user('allow_remote = true\n')
    with pytest.raises(DocgenError, match="only be set by the machine policy"):
        load_settings()
    with pytest.raises(PolicyError, match="only be set by the machine policy"):
        Settings().with_overrides(allowed_backends=("openai",))


def test_model_folder_from_policy_is_used(tmp_path, monkeypatch):
    from docgen.llm import discovery

    folder = tmp_path / "it-models"
    folder.mkdir()
    (folder / "approved.gguf").write_bytes(b"GGUF" + bytes(64))
    write_policy(f'model_path = "{folder.as_posix()}"\n')
    s = load_settings()
    assert discovery.find_model(s.model_path) == folder / "approved.gguf"


def test_locked_output_dir_confines_out(tmp_path, capsys):
    allowed = tmp_path / "share"
    write_policy(f'output_dir = "{allowed.as_posix()}"\n')
    s = load_settings()
    s.check_output_dir(allowed / "reports")  # inside: fine
    with pytest.raises(PolicyError, match="output folder is locked"):
        s.check_output_dir(tmp_path / "elsewhere")
    assert cli.main(batch(tmp_path, "--backend", "fake")) == cli.EXIT_USAGE
    assert "output folder is locked" in capsys.readouterr().err


def test_template_dirs_from_policy_join_the_catalog(tmp_path):
    from docgen.templates.catalog import catalog_dirs, scan

    it_dir = tmp_path / "it-templates"
    shutil.copytree(ROOT / "templates" / "service-reply", it_dir / "service-reply")
    write_policy(f'template_dirs = ["{it_dir.as_posix()}"]\n')
    assert ("site", it_dir) in catalog_dirs()
    entry = next(e for e in scan() if e.spec and e.spec.id == "service-reply")
    assert entry.source == "site" and entry.path == it_dir / "service-reply"


def test_user_template_dirs_are_user_sourced(tmp_path):
    from docgen.templates.catalog import catalog_dirs

    write_user(f'template_dirs = ["{tmp_path.as_posix()}"]\n')
    assert ("user", tmp_path) in catalog_dirs()


def test_save_keeps_the_users_own_value_of_a_locked_key():
    write_user('seed = 3\n')
    write_policy('seed = 11\n')
    s = load_settings().with_overrides(threads=2)
    save_settings(s)
    text = paths.settings_file().read_text(encoding="utf-8")
    assert "seed = 3" in text and "threads = 2" in text and "allowed_backends" not in text


# ---------------------------------------------------------------- malformed policy fails safe


@pytest.mark.parametrize("text, line, needle", [
    ('seed = 1\nthreads = [\n', 2, "not valid TOML"),
    ('seed = 1\nthreads = = 2\nlog_level = "INFO"\n', 2, "not valid TOML"),
    ('seed = 1\n\nmodle_path = "/x.gguf"\n', 3, "unknown setting 'modle_path'"),
    ('[settings]\nthreads = "four"\n', 2, "must be a int"),
    ('allowed_backends = ["llamacpp", "gpt"]\n', 1, "unknown backend"),
    ('log_level = "LOUD"\n', 1, "log_level"),
    ('allowed_backends = ["openai"]\nallow_remote = false\n', 1, "allows no backend"),
    ('backend = "fake"\nallowed_backends = ["llamacpp"]\n', 1, "not among the allowed"),
])
def test_malformed_policy_names_file_and_line_and_the_cli_refuses(tmp_path, capsys, text, line, needle):
    policy = write_policy(text)
    with pytest.raises(PolicyError) as info:
        load_policy()
    assert f"{policy}, line {line}" in str(info.value) and needle in str(info.value)
    assert cli.main(batch(tmp_path, "--backend", "fake")) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert str(policy) in err and f"line {line}" in err
    assert not (tmp_path / "out").exists()


def test_malformed_policy_gives_the_app_every_setting_locked_to_defaults():
    write_user('seed = 3\nbackend = "fake"\n')
    write_policy("seed = \n")
    s, problem = load_settings_for_app()
    assert "policy" in problem and str(paths.policy_file()) in problem
    assert s.policy_error and s.seed == Settings().seed and s.backend == "llamacpp"
    assert s.locked >= {"model_path", "seed", "backend", "output_dir", "template_dirs", "log_level"}
    assert s.usable_backends() == ("llamacpp",) and not s.allow_remote
    with pytest.raises(PolicyError, match="broken"):
        s.with_overrides(seed=4)
    with pytest.raises(PolicyError, match="cannot be saved"):
        save_settings(s)
    assert "seed = 3" in paths.settings_file().read_text(encoding="utf-8")  # the user's file is untouched


def test_broken_user_settings_still_get_the_policy():
    write_user("seed = [\n")
    write_policy('seed = 11\n')
    s, problem = load_settings_for_app()
    assert "settings.toml" in problem and s.seed == 11 and "seed" in s.locked


def test_gui_shows_locked_keys_and_a_broken_policy_locks_everything(qtbot):
    pytest.importorskip("PySide6")
    from docgen.gui.app import load_settings_for_gui
    from docgen.gui.settings_dialog import SettingsDialog

    write_policy('allowed_backends = ["llamacpp"]\nseed = 5\n')
    settings, problem = load_settings_for_gui()
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert not problem and dialog.is_locked("seed") and dialog.is_locked("backend")
    assert not dialog.is_locked("threads")
    assert [dialog.backend.itemText(i) for i in range(dialog.backend.count())] == ["llamacpp"]

    write_policy("seed = = 5\n")
    settings, problem = load_settings_for_gui()
    assert "policy" in problem
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert all(dialog.is_locked(key) for key in dialog.rows)
    dialog.accept()
    assert dialog.result_settings is None and "broken" in dialog.error.text()
