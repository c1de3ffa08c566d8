"""Settings -> Inference server: the server keys round-trip, Test connection reports the server's model (or the
reason it failed) without freezing the dialog, and the policy's server, model and key are shown locked."""

from __future__ import annotations

from docgen import paths
from docgen.gui.settings_dialog import SettingsDialog
from docgen.settings import load_settings
from tests.openai_servers import fault_server


def test_server_settings_round_trip_and_test_connection(qtbot):
    with fault_server() as srv:
        dialog = SettingsDialog(load_settings())
        qtbot.addWidget(dialog)
        server = dialog.server
        server.url.setText(srv.url)
        server.jobs.setValue(4)
        dialog.backend.setCurrentText("openai")
        with qtbot.waitSignal(server.tested, timeout=15000) as got:
            server.test_connection()
        assert got.args[0] is True and "model test-model" in server.result.text()
        dialog.accept()
    saved = load_settings()
    assert (saved.backend, saved.server_url, saved.jobs) == ("openai", srv.url, 4)


def test_failed_connection_says_why(qtbot):
    with fault_server() as srv:
        port = srv.server_address[1]
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    dialog.server.url.setText(f"http://127.0.0.1:{port}/v1")
    with qtbot.waitSignal(dialog.server.tested, timeout=15000) as got:
        dialog.server.test_connection()
    assert got.args[0] is False and "cannot connect" in dialog.server.result.text()
    assert dialog.server.test_button.isEnabled()


def test_policy_server_is_locked_and_its_key_not_shown(qtbot):
    policy = paths.policy_file()
    policy.parent.mkdir(parents=True, exist_ok=True)
    policy.write_text('server_url = "https://llm.example.internal/v1"\nserver_api_key = "sk-it-only"\n',
                      encoding="utf-8")
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    assert not dialog.server.url.isEnabled() and not dialog.server.key.isEnabled()
    assert dialog.server.key.text() == "" and dialog.server.key.placeholderText() == "set by IT"
    assert "server_url" not in dialog.values() and "server_api_key" not in dialog.values()
