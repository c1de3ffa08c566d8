"""In-app preview of a written .docx: its pages as LibreOffice lays them out (:mod:`.page_preview`, off the GUI
thread, cached) when an office suite is installed; meanwhile, and otherwise, :func:`docgen.render.read_back`
blocks rendered as simple HTML (headings, paragraphs with bold/italic, bulleted and numbered lists, tables,
headers and footers) with a note saying it is not the page layout."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QScrollArea, QStackedWidget, QTextBrowser,
                               QVBoxLayout, QWidget)

from docgen.gui.page_preview import MAX_PAGES, SCALE, PageThread
from docgen.render import Heading, ListItem, Paragraph, Table, pdf_available, read_back


def _runs_html(block: Paragraph | ListItem) -> str:
    if not block.runs:
        return html.escape(block.text).replace("\n", "<br>")
    parts = []
    for run in block.runs:
        text = html.escape(run.text).replace("\n", "<br>").replace("\t", "&emsp;")
        if run.code:
            text = f"<code>{text}</code>"
        if run.bold:
            text = f"<b>{text}</b>"
        if run.italic:
            text = f"<i>{text}</i>"
        parts.append(text)
    return "".join(parts)


def blocks_to_html(blocks, headers=(), footers=()) -> str:
    """HTML for a read-back document (a list of blocks), with header/footer text in grey."""
    out: list[str] = []
    for text in headers:
        if text.strip():
            out.append(f"<p style='color:gray'>{html.escape(text)}</p><hr>")
    open_list: str | None = None
    for block in blocks:
        if isinstance(block, ListItem):
            indent = 18 * block.level
            marker = f"{block.number}." if block.kind == "number" and block.number is not None else "•"
            out.append(f"<p style='margin-left:{indent + 12}px; margin-top:0; margin-bottom:2px'>"
                       f"{marker}&nbsp;{_runs_html(block)}</p>")
            open_list = block.kind
            continue
        open_list = None
        if isinstance(block, Heading):
            level = min(max(block.level, 1), 6)
            out.append(f"<h{level}>{html.escape(block.text)}</h{level}>")
        elif isinstance(block, Table):
            rows = []
            for i, row in enumerate(block.rows):
                tag = "th" if i == 0 else "td"
                cells = "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row)
                rows.append(f"<tr>{cells}</tr>")
            out.append("<table border='1' cellspacing='0' cellpadding='4'>" + "".join(rows) + "</table>")
        elif isinstance(block, Paragraph):
            if block.style.lower() == "title":
                out.append(f"<h1>{html.escape(block.text)}</h1>")
            elif block.text.strip():
                out.append(f"<p>{_runs_html(block)}</p>")
    del open_list
    for text in footers:
        if text.strip():
            out.append(f"<hr><p style='color:gray'>{html.escape(text)}</p>")
    return "\n".join(out)


class PreviewPanel(QWidget):
    """The exported document: its pages (with an office suite) or its text, and buttons to open it or its
    folder in the desktop's default apps."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self.blocks: list = []
        self.pages: list[Path] = []
        self.thread: PageThread | None = None
        self.ratio = 1.0
        self.title = QLabel("Export the document (Ctrl+E) to preview it here.")
        self.title.setWordWrap(True)
        self.title.setAccessibleName("Preview status")
        self.open_button = QPushButton("Open in &Word")
        self.open_button.setAccessibleName("Open the document in the default app")
        self.open_button.setEnabled(False)
        self.folder_button = QPushButton("Show in f&older")
        self.folder_button.setAccessibleName("Open the folder of the document")
        self.folder_button.setEnabled(False)
        self.text_button = QPushButton("Show &text")
        self.text_button.setCheckable(True)
        self.text_button.setAccessibleName("Show the text instead of the pages")
        self.text_button.setToolTip("Switch between the pages as laid out and the document's text")
        self.text_button.hide()
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("Document preview")
        self.browser.setOpenExternalLinks(False)
        self.pages_body = QWidget()
        self.pages_layout = QVBoxLayout(self.pages_body)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.pages_layout.setSpacing(12)
        self.pages_view = QScrollArea()
        self.pages_view.setAccessibleName("Document pages")
        self.pages_view.setWidgetResizable(True)
        self.pages_view.setWidget(self.pages_body)
        self.pages_view.setStyleSheet("QScrollArea { background: #808080; }")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.browser)
        self.stack.addWidget(self.pages_view)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.text_button)
        top.addWidget(self.open_button)
        top.addWidget(self.folder_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self.text_button.toggled.connect(self._toggle_text)

    def show_document(self, path: Path) -> None:
        """Show ``path``: its text at once, then its pages once LibreOffice laid them out (when installed).
        python-docx errors propagate (the caller shows them)."""
        doc = read_back(path)
        self.path = path
        self.blocks = list(doc)
        self.pages = []
        self.browser.setHtml(blocks_to_html(doc, getattr(doc, "headers", ()), getattr(doc, "footers", ())))
        self.stack.setCurrentWidget(self.browser)
        self.text_button.hide()
        self.open_button.setEnabled(True)
        self.folder_button.setEnabled(True)
        reason = pdf_available()
        if reason is not None:
            self.title.setText(f"Preview of {path.name}: the text, headings, lists and tables, not the page layout "
                               f"({reason}). Open it in Word for the exact layout.")
            return
        self.title.setText(f"Preview of {path.name}: laying out the pages with LibreOffice… (the text is shown "
                           "meanwhile)")
        self.ratio = max(1.0, self.devicePixelRatioF())  # crisp pages on a 150 % screen: more pixels, same size
        thread = PageThread(path, SCALE * self.ratio, self)
        thread.done.connect(self._pages_done)
        thread.failed.connect(self._pages_failed)
        thread.finished.connect(thread.deleteLater)
        self.thread = thread
        thread.start()

    @property
    def rendering(self) -> bool:
        """True while pages are being laid out."""
        return self.thread is not None and not self.thread.isFinished()

    def _pages_done(self, path: Path, pages: list, count: int) -> None:
        if path != self.path:
            return  # an older export's pages
        self.thread = None
        self.pages = list(pages)
        while self.pages_layout.count():
            item = self.pages_layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        for number, png in enumerate(self.pages, 1):
            label = QLabel()
            pixmap = QPixmap(str(png))
            pixmap.setDevicePixelRatio(self.ratio)
            label.setPixmap(pixmap)
            label.setAccessibleName(f"Page {number} of {count}")
            label.setStyleSheet("QLabel { background: white; }")
            self.pages_layout.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
        more = f" (the first {MAX_PAGES} shown)" if count > len(self.pages) else ""
        self.title.setText(f"{path.name}: {count} page{'s' if count != 1 else ''} as LibreOffice lays them out"
                           f"{more}. Word may differ slightly in line breaks.")
        self.text_button.show()
        self.text_button.setChecked(False)
        self.stack.setCurrentWidget(self.pages_view)

    def _pages_failed(self, path: Path, message: str) -> None:
        if path != self.path:
            return
        self.thread = None
        self.title.setText(f"Preview of {path.name}: the text only; the pages could not be laid out ({message}).")

    def _toggle_text(self, text: bool) -> None:
        self.stack.setCurrentWidget(self.browser if text or not self.pages else self.pages_view)
        self.text_button.setText("Show &pages" if text else "Show &text")

    def text(self) -> str:
        """The preview as plain text (for tests and screen readers)."""
        return self.browser.toPlainText()
