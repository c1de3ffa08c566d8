"""The section editor: Markdown in, Markdown out.

:class:`MarkdownEditor` holds a section's Markdown. ``rich=False`` shows it as source (plain text);
:meth:`MarkdownEditor.markdown` returns the text the editor was given until the user changes it.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import QTextEdit

_INLINE = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough"])


def plain_sentence(markdown: str) -> str:
    """The text a sentence written in Markdown shows (``**Tables** lost $17,725.`` -> ``Tables lost
    $17,725.``): emphasis, code and link markup removed, link text kept."""
    tokens = _INLINE.parseInline(markdown)
    parts: list[str] = []
    for tok in tokens:
        for child in tok.children or ():
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
            elif child.type == "image":
                parts.append("".join(c.content for c in child.children or ()))
    return "".join(parts)


class MarkdownEditor(QTextEdit):
    """A QTextEdit over one section's Markdown. ``set_markdown`` shows it; ``markdown`` gives it back (the very
    text given, until the user edits)."""

    def __init__(self, *, rich: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.rich = False
        self.setAcceptRichText(False)
        self._source = ""
        self._clean = True
        self.textChanged.connect(self._changed)
        self._setting = False

    def _changed(self) -> None:
        if not self._setting:
            self._clean = False

    def set_markdown(self, text: str) -> None:
        """Show ``text`` (Markdown)."""
        self._setting = True
        try:
            self.setPlainText(text)
        finally:
            self._setting = False
        self._source, self._clean = text, True

    def markdown(self) -> str:
        """The section's Markdown: the text last given if the user did not change it, else the editor's."""
        if self._clean:
            return self._source
        return self.toPlainText()

    def find_sentence(self, sentence: str) -> QTextCursor | None:
        """A cursor selecting ``sentence`` (Markdown) as the editor shows it, or None if it is not shown."""
        for needle in dict.fromkeys((sentence, plain_sentence(sentence))):
            if needle:
                cursor = self.document().find(needle, 0, QTextDocument.FindFlag.FindCaseSensitively)
                if not cursor.isNull():
                    return cursor
        return None
