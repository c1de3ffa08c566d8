"""In-app preview of a written .docx: :func:`docgen.render.read_back` blocks rendered as simple HTML
(headings, paragraphs with bold/italic, bulleted and numbered lists, tables, headers and footers)."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from docgen.render import Heading, ListItem, Paragraph, Table, read_back


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
    """The exported document as text, with buttons to open it or its folder in the desktop's default apps."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self.blocks: list = []
        self.title = QLabel("Export the document (Ctrl+E) to preview it here.")
        self.title.setWordWrap(True)
        self.title.setAccessibleName("Preview status")
        self.open_button = QPushButton("Open in &Word")
        self.open_button.setAccessibleName("Open the document in the default app")
        self.open_button.setEnabled(False)
        self.folder_button = QPushButton("Show in &folder")
        self.folder_button.setAccessibleName("Open the folder of the document")
        self.folder_button.setEnabled(False)
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("Document preview")
        self.browser.setOpenExternalLinks(False)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.open_button)
        top.addWidget(self.folder_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.browser, 1)

    def show_document(self, path: Path) -> None:
        """Read ``path`` back and show it. python-docx errors propagate (the caller shows them)."""
        doc = read_back(path)
        self.path = path
        self.blocks = list(doc)
        self.browser.setHtml(blocks_to_html(doc, getattr(doc, "headers", ()), getattr(doc, "footers", ())))
        self.title.setText(f"Preview of {path.name} (text, headings, lists and tables; open it in Word for the "
                           "exact layout)")
        self.open_button.setEnabled(True)
        self.folder_button.setEnabled(True)

    def text(self) -> str:
        """The preview as plain text (for tests and screen readers)."""
        return self.browser.toPlainText()
