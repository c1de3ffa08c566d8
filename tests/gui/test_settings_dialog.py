"""Settings dialog: values round-trip through settings.toml; keys locked by the machine policy are shown locked
and are not changed; a changed model setting makes the session reload the model."""

from __future__ import annotations

from docgen import paths
from docgen.gui.settings_dialog import SettingsDialog
from docgen.settings import Settings, load_settings


def test_settings_round_trip(qtbot, tmp_path):
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    dialog.threads.setValue(3)
    dialog.n_ctx.setValue(2048)
    dialog.temperature.setValue(0.55)
    dialog.seed.setValue(1234)
    dialog.output_dir.setText(str(tmp_path / "docs"))
    dialog.backend.setCurrentText("fake")
    dialog.accept()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    saved = load_settings()
    assert (saved.threads, saved.n_ctx, saved.temperature, saved.seed) == (3, 2048, 0.55, 1234)
    assert saved.output_dir == str(tmp_path / "docs") and saved.backend == "fake"
    again = SettingsDialog(saved)
    qtbot.addWidget(again)
    assert again.values() == dialog.values()


def test_locked_keys_are_shown_locked(qtbot):
    policy = paths.policy_file()
    policy.parent.mkdir(parents=True, exist_ok=True)
    policy.write_text('[settings]\nthreads = 2\nmodel_path = ""\n', encoding="utf-8")
    settings = load_settings()
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.is_locked("threads") and dialog.is_locked("model_path")
    assert not dialog.is_locked("seed")
    assert "🔒" in dialog.rows["threads"][0].text()
    dialog.seed.setValue(7)
    dialog.accept()
    assert dialog.result_settings is not None
    saved = load_settings()
    assert saved.seed == 7 and saved.threads == 2
    assert "threads" not in paths.settings_file().read_text(encoding="utf-8")


def test_invalid_value_is_shown_in_the_dialog(qtbot, monkeypatch):
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    monkeypatch.setattr(dialog, "values", lambda: {"n_ctx": 10})
    dialog.accept()
    assert dialog.result_settings is None
    assert "n_ctx must be between" in dialog.error.text()


def test_window_applies_settings_and_reloads_model(qtbot, make_window, prepare, wait_idle):
    window = make_window()
    prepare(window, "sales-report")
    window.start_generate()
    wait_idle(window)
    assert window.factory_calls == [1]
    window.apply_settings(window.settings.with_overrides(seed=5))
    assert window.session.loaded  # sampling defaults do not need a reload
    window.apply_settings(window.settings.with_overrides(n_ctx=2048))
    assert not window.session.loaded
    window.start_generate()
    wait_idle(window)
    assert window.factory_calls == [1, 1]
