"""The Preview tab shows the written document's pages as LibreOffice lays them out (off the GUI thread,
cached by the document's bytes), and the text preview with a note when no office suite is installed."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from docgen.gui import page_preview, preview as preview_module
from docgen.llm.fake import FakeGenerator
from docgen.render import pdf_available

SUMMARY = "Sales grew in every region, led by the West."


def _export(window, prepare, wait_idle, tmp_path, name="report.docx"):
    prepare(window, "sales-report")
    window.start_generate()
    wait_idle(window)
    out = tmp_path / name
    window.start_export(out, confirmed=True)
    wait_idle(window)
    assert out.is_file()
    return out


@pytest.mark.slow
@pytest.mark.skipif(pdf_available() is not None, reason="needs LibreOffice")
def test_pages_as_libreoffice_lays_them_out(qtbot, make_window, prepare, wait_idle, tmp_path):
    window = make_window(FakeGenerator(SUMMARY))
    out = _export(window, prepare, wait_idle, tmp_path)
    panel = window.preview
    assert "laying out the pages" in panel.title.text()  # the text shows at once, the pages follow
    assert window.isEnabled() and panel.rendering
    qtbot.waitUntil(lambda: bool(panel.pages) or not panel.rendering, timeout=240_000)
    assert panel.pages, panel.title.text()
    assert panel.stack.currentWidget() is panel.pages_view
    image = QImage(str(panel.pages[0]))
    assert image.width() > 800 and image.height() > image.width()  # a portrait page at 108 dpi
    dark = sum(1 for x in range(0, image.width(), 4) for y in range(0, image.height() // 3, 4)
               if image.pixelColor(x, y).lightness() < 128)
    assert dark > 200  # text on the page, not a blank image
    assert "page" in panel.title.text() and "LibreOffice" in panel.title.text()
    assert page_preview.cached_pages(out, page_preview.SCALE * panel.ratio) == panel.pages  # cached by its bytes
    panel.text_button.click()
    assert panel.stack.currentWidget() is panel.browser and SUMMARY in panel.text()


def test_without_office_the_text_preview_says_so(qtbot, make_window, prepare, wait_idle, tmp_path, monkeypatch):
    monkeypatch.setattr(preview_module, "pdf_available", lambda: "LibreOffice is not installed")
    window = make_window(FakeGenerator(SUMMARY))
    _export(window, prepare, wait_idle, tmp_path)
    panel = window.preview
    assert panel.thread is None and not panel.pages
    assert "not the page layout" in panel.title.text() and "LibreOffice is not installed" in panel.title.text()
    assert SUMMARY in panel.text()
