"""The Models dialog (Settings -> Models…) and the first-run model banner: the models on this PC with their
facts, one click to switch, add and remove; the catalogue with a verified download (loopback server) and
downloads disabled by policy; the banner while the embedded model is in use."""

from __future__ import annotations

import pytest

from docgen import paths
from docgen.gui.models_dialog import EMBEDDED_NOTICE, ModelsDialog
from docgen.llm.discovery import embedded_model, find_model
from docgen.models import catalogue
from docgen.settings import Settings, load_settings
from loopback_server import NAME, serve
from tiny_gguf import write_tiny_llama


def row_of(dialog: ModelsDialog, name: str) -> int:
    return next(i for i, e in enumerate(dialog.entries) if e.name == name)


def cell(table, row: int, col: int) -> str:
    return table.item(row, col).text()


def test_lists_models_and_switches_with_one_click(qtbot, tmp_path):
    dialog = ModelsDialog(load_settings())
    qtbot.addWidget(dialog)
    smol = row_of(dialog, embedded_model().name)
    assert cell(dialog.table, smol, 0) == "✔" and cell(dialog.table, smol, 2) == "embedded"
    assert cell(dialog.table, smol, 6) == "yes" and cell(dialog.table, smol, 4) == "Q4_1"
    assert cell(dialog.table, smol, 10) == "not evaluated"

    # a file in the user's models folder wins discovery, so adding one switches to it: the dialog says so
    dialog.add_file(write_tiny_llama(tmp_path / "tiny-base.gguf"))
    base = row_of(dialog, "tiny-base.gguf")
    assert cell(dialog.table, base, 6) == "NO (base model)" and cell(dialog.table, base, 2) == "user"
    assert cell(dialog.table, base, 0) == "✔" and "docgen uses it now" in dialog.message.text()
    assert "no chat template; it looks like a base model" in dialog.message.text()

    smol = row_of(dialog, embedded_model().name)
    dialog.table.selectRow(smol)
    assert dialog.use_button.isEnabled() and not dialog.remove_button.isEnabled()  # the embedded one stays
    dialog.use_button.click()  # one click to switch back
    assert find_model(load_settings().model_path) == embedded_model()
    assert dialog.chosen == str(embedded_model()) and "docgen now uses SmolLM2" in dialog.message.text()
    assert cell(dialog.table, row_of(dialog, embedded_model().name), 0) == "✔"

    dialog.table.selectRow(row_of(dialog, "tiny-base.gguf"))
    assert dialog.remove_button.isEnabled()
    dialog.remove("tiny-base.gguf")
    assert not (paths.user_models_dir() / "tiny-base.gguf").exists()
    assert [e.name for e in dialog.entries] == [embedded_model().name]


def test_policy_off_disables_download_with_the_reason(qtbot):
    dialog = ModelsDialog(Settings(allow_downloads=False))
    qtbot.addWidget(dialog)
    dialog.cat_table.selectRow(0)
    assert not dialog.download_button.isEnabled()
    assert "turned off by your IT department's policy" in dialog.download_note.text()
    thread = dialog.start_download()  # even when called directly, the download itself refuses
    assert thread is not None
    qtbot.waitUntil(lambda: dialog.download is None, timeout=10_000)
    assert "turned off by your IT department's policy" in dialog.message.text()


@pytest.mark.slow
def test_download_from_the_catalogue_with_progress(qtbot, monkeypatch):
    with serve() as server:
        real = catalogue.load_catalogue()[0]
        entry = catalogue.CatalogueEntry(**{**real.__dict__, "url": server.url, "file": NAME, "sha256": "",
                                            "revision": "", "size_bytes": len(server.data)})
        monkeypatch.setattr(catalogue, "load_catalogue", lambda *a: (entry,))
        dialog = ModelsDialog(load_settings())
        qtbot.addWidget(dialog)
        dialog.tabs.setCurrentIndex(1)
        dialog.cat_table.selectRow(0)
        assert dialog.download_button.isEnabled()
        values = []
        dialog.download_progress.valueChanged.connect(values.append)
        thread = dialog.start_download()
        assert thread is not None, dialog.message.text()
        assert not dialog.download_button.isEnabled() and dialog.cancel_button.isVisibleTo(dialog)
        qtbot.waitUntil(lambda: dialog.download is None, timeout=120_000)
        thread.wait()
        assert "Downloaded and verified served-model.gguf" in dialog.message.text()
        assert (paths.user_models_dir() / NAME).is_file() and values and max(values) >= 98
        assert cell(dialog.cat_table, 0, 6) == "installed"
        assert any(e.name == NAME for e in dialog.entries)


def test_banner_while_the_embedded_model_is_in_use(qtbot, make_window, tmp_path):
    window = make_window(settings=Settings(backend="llamacpp"))
    assert window.model_banner.isVisibleTo(window) and window.model_banner.text.text() == EMBEDDED_NOTICE
    model = write_tiny_llama(tmp_path / "chat.gguf", chat_template="{{ messages }}")
    window.apply_settings(Settings(backend="llamacpp", model_path=str(model)))
    assert not window.model_banner.isVisibleTo(window)
    window.model_banner.show_warnings(("tiny.gguf: this model has no chat template",))
    assert window.model_banner.isVisibleTo(window) and "no chat template" in window.model_banner.text.text()
